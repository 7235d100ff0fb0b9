"""Issue 12: an entry that waits its turn at the target edge is not lost. The source edge
resends an entry whose answer is overdue (908 after ``resend_limit`` resends); the target
edge reflects one entry at a time, so behind a slow target storage (or a small reorder
window) entries wait there far longer than the resend timeout. A resent entry the target
edge keeps queued is receipted (RioKind.RECEIPT), one it refuses for now as beyond its
window too: neither counts as lost, and the pair stays Duplex."""

from __future__ import annotations

from rcnlab.fuzz.gen import run_texts

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
