"""Flow control at the edge (not in the patent; what arrays call journal inflow
control): as the log storage area 413 fills, the edge tells its storages what must
wait (``rcnlab.model.pace``).

Two marks on the bytes in 413. Above the copy mark the copy engines wait: a copy
never puts more into the RCN than its routes carry (twice the bandwidth times the
round trip of the widest, at least ``PIPE_FLOOR``, at most the high-water mark), and
413 keeps room above it for what the storages have on their way when they hear
(each its window of WRs): a copy waits, it never fills 413 (908).
Above the high-water mark (``log_high_water`` of ``log_capacity``) an edge whose
``log_policy`` is ``throttle`` holds its hosts' writes too; with ``suspend`` they go on
until 413 is full and the group goes to failure Suspend (908). What waits goes again
once 413 is below ``RESUME`` of its mark.

A notice holds for ``PACE_LEASE``; the edge repeats it every ``PACE_RENEW`` while it
stands, and looks at 413 again each time: 413 emptied by any means (reflection,
908, a crash) lets what waits go.
"""

from __future__ import annotations

import math

from rcnlab.devices.edge.state import EdgeState, Lane
from rcnlab.model.kinds import LogPolicy
from rcnlab.model.log_entry import LOG_ENTRY_HEADER_BYTES, LogEntry
from rcnlab.model.pace import GO, PACE_BYTES, PACE_RENEW, Pace, write_window
from rcnlab.model.rio import RIO_HEADER_BYTES

#: What waits goes again once 413 holds less than this share of its mark.
RESUME = 0.75
#: The copy mark is never below this many bytes (unless the high-water mark is).
PIPE_FLOOR = 256 << 10
#: No mark is this high: nothing more to watch on the way up.
NEVER = 1 << 62


class FlowMixin(EdgeState):
    __slots__ = ()

    @property
    def high_water(self) -> int:
        """Bytes in 413 above which the log policy acts on host writes."""
        return int(self.spec.log_capacity * self.spec.log_high_water)

    def copy_mark(self) -> int:
        """Bytes in 413 above which copies wait."""
        channels = self.net.channels
        pipe = 0.0
        for route in self.routes.values():
            hops = list(zip(route.devices, route.devices[1:]))
            if self.name not in route.devices or not hops or any(h not in channels for h in hops):
                continue
            bandwidth = min(channels[h].bandwidth for h in hops)
            round_trip = 2 * sum(channels[h].latency + channels[h].jitter for h in hops)
            pipe = max(pipe, bandwidth * round_trip)
        return min(self.high_water, self.spec.log_capacity - self._inflow_room(), max(PIPE_FLOOR, int(2 * pipe)))

    def _inflow_room(self) -> int:
        """Bytes of 413 the WRs the attached storages may have on their way take (each storage
        its window, ``rcnlab.model.pace``), at most half of 413."""
        capacity, block = self.spec.log_capacity, self.net.topo.block_size
        entry = LOG_ENTRY_HEADER_BYTES + RIO_HEADER_BYTES + block
        return min(capacity // 2, len(self.attached) * write_window(capacity, block) * entry)

    def _flow_check(self, renew: bool = False) -> None:
        """413 crossed a mark (or the notice is due again): work out what waits, and tell
        the storages if that changed (or ``renew``)."""
        held = self.log_bytes
        old = self.pace
        copy = self.copy_mark()
        high = self.high_water if self.spec.log_policy is LogPolicy.THROTTLE else NEVER
        copies = held >= copy or (old.copies and held > copy * RESUME)
        hosts = held >= high or (old.hosts and held > high * RESUME)
        self._flow_up = min(NEVER if copies else copy, NEVER if hosts else high)
        self._flow_down = int(max(copy * RESUME if copies else -1, high * RESUME if hosts else -1))
        pace = Pace(copies=copies, hosts=hosts)
        if pace != old:
            self.pace = pace
            self.emit("log-pacing", None, copies=copies, hosts=hosts, bytes=held,
                      policy=str(self.spec.log_policy))
        elif not renew:
            return
        for storage in self.attached.values():
            self.send(storage, pace, PACE_BYTES)
        if pace != GO and self._pace_timer is None:
            self._pace_timer = self.net.kernel.timer(PACE_RENEW, self._pace_renew, daemon=True)

    def _pace_renew(self) -> None:
        self._pace_timer = None
        if self.up and self.pace != GO:
            self._flow_check(renew=True)

    def _leaves(self, entry: LogEntry, departs: float) -> float:
        """When ``entry``, put on the wire at ``departs``, starts over the slowest link of its
        route, behind what this edge sent that way before it: its answer is due counting
        from then (the queue may be at a core, out of the edge's sight)."""
        key = (entry.source.wwn, entry.target.wwn)
        lane = self._lanes.get(key)
        if lane is None:  # pairs whose entries go the same way share its queue (widened fuzz seed 9842)
            path = self.path_of(key) or ()
            hops = zip(path[path.index(self.name):], path[path.index(self.name) + 1:]) if self.name in path else ()
            channels = tuple(self.net.channels[hop] for hop in hops)
            lane = self._lanes[key] = next((ln for ln in self._lanes.values() if ln.channels == channels),
                                           None) or Lane(channels)
        if not lane.channels or not lane.channels[0].up:  # nothing left: it takes no bandwidth
            return departs
        bandwidth = math.inf
        for ch in lane.channels:  # read each time: set-link may have changed one
            if ch.bandwidth < bandwidth:
                bandwidth = ch.bandwidth
        start = lane.free if lane.free > departs else departs
        lane.free = start + entry.size / bandwidth
        return start
