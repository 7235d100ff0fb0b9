"""Edge devices (104, 105), one module per concern.

FC side: the virtual storage provision program 403 presents virtual storage
(106, 107) that impersonates the opposite storage, under access control 405.
The log entry creation/reflection program 406 turns RIOs into log entries 211 in
the log storage area 413 and back, keeping the order assurance information 412.
IP side: the log entry transfer program 407 sends entries along the route 408.

Modules: ``state`` (the tables), ``log`` (413), ``front`` (FC and IP fronts),
``source`` (sequencing, resend), ``target`` (in-order reflection), ``failure``
(908), ``failover`` (Fig. 13, failback, fetch 501), ``crash``; ``device`` composes
them into ``EdgeDevice``.
"""

from rcnlab.devices.edge.device import EdgeDevice
from rcnlab.devices.edge.log import Held, HeldLog, Inbound
from rcnlab.devices.edge.state import Failover

__all__ = ["EdgeDevice", "Failover", "Held", "HeldLog", "Inbound"]
