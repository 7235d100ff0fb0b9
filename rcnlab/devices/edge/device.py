"""The edge device (104, 105), composed of its concerns.

One device is source edge for some pairs and target edge for others; which role
it plays for a message follows from whether the storage the message comes from
(or goes to) is attached to it.
"""

from __future__ import annotations

import attrs

from rcnlab.devices.edge.crash import CrashMixin
from rcnlab.devices.edge.failover import FailoverMixin
from rcnlab.devices.edge.failure import FailureMixin
from rcnlab.devices.edge.flow import FlowMixin
from rcnlab.devices.edge.front import FrontMixin
from rcnlab.devices.edge.source import SourceMixin
from rcnlab.devices.edge.target import TargetMixin


@attrs.define(eq=False)
class EdgeDevice(FrontMixin, SourceMixin, TargetMixin, FailureMixin, FailoverMixin, CrashMixin, FlowMixin):
    """An edge: the FC front (``front``), the source side (``source``), the target
    side (``target``), giving up on a group (``failure``, 908), failover and failback
    (``failover``), crash and restart (``crash``), flow control (``flow``); their state
    is ``EdgeState``."""
