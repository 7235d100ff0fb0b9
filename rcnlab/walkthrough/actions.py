"""The handler of the step kind the walkthroughs add (`rcnlab.ops.commands.ForgeWrite`).

``forge-write``: a storage puts a hand-made RIO (WR) on its FC link, addressed to the
virtual storage that stands for another customer's volume on the same edge. The edge's
access control 405 must refuse it ("access-denied"); nothing is logged or copied.
"""

from __future__ import annotations

from rcnlab.devices.storage import ExternalStorage
from rcnlab.lab import LabError
from rcnlab.model.ids import VolumeRef, port_id
from rcnlab.model.rio import Rio, RioKind
from rcnlab.scenario.runner import Runner, action


@action("forge-write")
def _forge_write(r: Runner, device: str, volume: str, block: int = 0) -> None:
    intruder = r.lab.device(device)
    if not isinstance(intruder, ExternalStorage):
        raise LabError(f"{device} is not a storage (only a storage speaks FC to an edge)")
    victim, ref = r.lab.volume(volume)
    edge = r.net.devices[intruder.edge]
    # the virtual storage 404 on the intruder's edge that stands for the victim's storage
    addressed = next((v.virtual_wwn for v in edge.virtual.values() if v.corresponding_wwn == victim.wwn),
                     victim.wwn)
    rio = Rio(kind=RioKind.WR, source=VolumeRef(intruder.wwn, 0), target=VolumeRef(addressed, ref.lun),
              block=block, data=b"forged".ljust(r.net.topo.block_size, b"\0"), xid=0)
    r.net.management.emit("note", None, text=f"{device} forges a RIO (WR) to {volume} via {edge.name}")
    r.net.send(intruder.name, edge.name, rio, rio.size, None, src_addr=port_id(intruder.wwn),
               dst_addr=port_id(addressed))
