"""Issue 12: an entry that waits its turn at the target edge is not lost. The source edge
resends an entry whose answer is overdue (908 after ``resend_limit`` resends); the target
edge reflects one entry at a time, so behind a slow target storage (or a small reorder
window) entries wait there far longer than the resend timeout. A resent entry the target
edge keeps queued is receipted (RioKind.RECEIPT), one it refuses for now as beyond its
window too: neither counts as lost, and the pair stays Duplex."""

from __future__ import annotations

from collections import Counter

from rcnlab.emu.journal import Journal
from rcnlab.fuzz.gen import run_texts
from rcnlab.run import Session
from rcnlab.scenario.steps import parse_scenario
from rcnlab.topo.load import parse_topology

TOPOLOGY = """
[lab]
name = "queue"
order_assurance = "A-1"

[[customer]]
id = "C1"

[[host]]
name = "H11"
customer = "C1"
site = "source"
storage = "S11"

[[storage]]
name = "S11"
attach = "fc"
wwn = "50:06:0e:80:00:00:01:01"
customer = "C1"
site = "source"
edge = "E1"
volumes = [{{ "lun" = 0, "blocks" = 64 }}]

[[host]]
name = "H12"
customer = "C1"
site = "target"
storage = "S12"

[[storage]]
name = "S12"
attach = "fc"
wwn = "50:06:0e:80:00:00:01:02"
customer = "C1"
site = "target"
edge = "E2"
volumes = [{{ "lun" = 0, "blocks" = 64 }}]

[[edge]]
name = "E1"
ip = "192.0.2.1"
site = "source"

[[edge]]
name = "E2"
ip = "192.0.2.2"
site = "target"
{edge}

[[link]]
a = "H11"
b = "S11"
kind = "scsi"

[[link]]
a = "S11"
b = "E1"
kind = "fc"

[[link]]
a = "E2"
b = "S12"
kind = "fc"
{fc}

[[link]]
a = "H12"
b = "S12"
kind = "scsi"

[[link]]
a = "E1"
b = "E2"
kind = "gbe"
distance_km = 100.0
"""

SCENARIO = """
[scenario]
name = "queue"

[[step]]
at = 0.0
do = "pair-create"
source = "S11:0"
target = "S12:0"
mode = "{mode}"

[[step]]
at = 0.2
do = "workload"
volume = "S11:0"
rate = {rate}
count = 400
blocks = [0, 64]

[[step]]
at = "end"
do = "expect"
pair = "S11:0"
state = "Duplex"

[[step]]
at = "end"
do = "expect"
invariants = true
"""


def _run(edge: str = "", fc: str = "", mode: str = "async", rate: float = 1000.0) -> tuple[str, ...]:
    return run_texts(TOPOLOGY.format(edge=edge, fc=fc), SCENARIO.format(mode=mode, rate=rate), 127).problems


def test_entries_queued_behind_a_slow_target_storage_are_not_lost() -> None:
    """Fuzz seeds 127 and 89 (widened): a target storage 12.5 ms away over FC reflects 40
    entries a second; 1,000 writes a second queue at the target edge for seconds."""
    assert _run(fc="latency_ms = 12.5") == ()
    assert _run(fc="latency_ms = 12.5", mode="sync", rate=200.0) == ()


def test_entries_beyond_the_target_reorder_window_wait_at_the_source_edge() -> None:
    """Fuzz seed 144 (widened): the target edge refuses entries beyond reflection counter +
    ``reorder_window``; the source edge learns the window from the receipt and holds the
    entries beyond it until the one a window before is answered."""
    assert _run(edge="reorder_window = 4", rate=20000.0) == ()


CRASH = """
[[step]]
at = 0.6
do = "crash"
device = "E2"

[[step]]
at = 0.61
do = "restart"
device = "E2"
"""


def test_entries_receipted_before_the_target_edge_lost_its_queue_are_resent_together() -> None:
    """Widened fuzz seed 439 (2.3 million events, 150 s, against 300,000 and 5 s before the
    receipts): the target edge, its log volatile, crashed after it had receipted queued
    entries. The source edge woke its resend timer once per receipted entry per round (their
    send times were spread), and resent them one a round, each only once the one before it
    was answered. Now they wake one round together, an entry's answer is due a resend
    wait after its turn came, and one found lost voids the receipts after it: the stall
    lasts as long as the slow target storage needs, with fewer resends than without receipts."""
    topo = parse_topology(TOPOLOGY.format(edge="log_durable = false", fc="latency_ms = 12.5"), "<queue>")
    scenario = parse_scenario(SCENARIO.format(mode="async", rate=1000.0) + CRASH, "<queue>", topo)
    journal = Journal()
    seen: Counter[str] = Counter()
    journal.subscribe(lambda ev: seen.update((ev.event,)))
    session = Session.open(topo, scenario, 127, journal=journal)
    session.play()
    assert session.runner.failed == []
    writes, stall = seen["log-created"] / 2, session.kernel.now - 0.6
    assert stall < 400 / 40 + 2  # the target storage reflects 40 entries a second
    assert (seen["resent"] + seen["receipt"]) / stall < 200  # without receipts: 1,400 resends a second, then 908
    assert session.kernel.events_run / writes < 20  # (one timer per receipted entry: over 100)
