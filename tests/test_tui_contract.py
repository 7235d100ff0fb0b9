"""The contract (901) and customer configuration (902) from the lab's screen: keys C and Y
act on the selected host's or storage's customer, through the same operations as the
scenario steps, and before both the customer's pairs are refused."""

from __future__ import annotations

from pathlib import Path

from helpers import act, notes, run_app, topology
from rcnlab.tui.app import RcnLabApp


def test_contract_and_configuration_keys_open_the_customer_to_pairs(tmp_path: Path) -> None:
    later = topology("fig1", {'contract = "at-start"': 'contract = "later"'})
    app = RcnLabApp(later, out_dir=tmp_path, seed=7, paused=True)
    app.NOTIFICATION_TIMEOUT = 3600
    mgmt = app.net.management

    async def body(pilot) -> None:
        app.select("C202")
        await act(pilot, "C")
        assert any("belongs to no customer" in n for n in notes(app)), notes(app)
        assert "C1" not in mgmt.contracts
        app.select("ST112")
        await act(pilot, "C")
        assert "C1" in mgmt.contracts and "C1" not in mgmt.configured_customers
        await act(pilot, "C")
        assert any("already" in n for n in notes(app)), notes(app)  # a second contract is refused
        await act(pilot, "Y")
        assert "C1" in mgmt.configured_customers

    run_app(app, body)


def test_a_device_key_with_a_link_selected_says_a_link_is_selected(tmp_path: Path) -> None:
    """With a link selected, C used to say "nothing selected"."""
    app = RcnLabApp(topology("fig1"), out_dir=tmp_path, seed=7, paused=True)
    app.NOTIFICATION_TIMEOUT = 3600

    async def body(pilot) -> None:
        app.select("H111-ST112")
        await act(pilot, "C")
        assert any("H111-ST112 is a link" in n and "needs a device" in n for n in notes(app)), notes(app)
        assert not any("nothing selected" in n for n in notes(app))

    run_app(app, body)
