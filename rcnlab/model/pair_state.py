"""Pair states (SPEC.md section 2) as explicit transition tables.

Four parties hold a state for each pair: source storage, source edge, target
edge, target storage. Each moves by the same table; the devices decide when an
event reaches them and carry out the effects (sending RIOs, copying blocks).
Operator commands are checked here too, so an illegal one is refused with the
state and the commands that are legal now, and nothing changes.
"""

from __future__ import annotations

import enum

from rcnlab.model.kinds import Party


class PairState(enum.Enum):
    SIMPLEX = "Simplex"  # X
    INITIAL_COPYING = "Initial-Copying"  # IC
    DUPLEX = "Duplex"  # D
    SUSPEND = "Suspend"  # S
    FAILURE_SUSPEND = "failure Suspend"
    DUPLEX_PENDING = "Duplex-Pending"  # DP
    SUSPENDING = "Suspending"  # SI, asynchronous copy only

    def __str__(self) -> str:
        return self._value_


class Event(enum.Enum):
    """What moves a party's pair state."""

    CREATE = "create"  # pair creation reached this party (1005, 1007, 1009/1711, 1011)
    DUPLEX = "duplex"  # copy done, Duplex transition reached this party (1104, 1106, 1108, 1110)
    SUSPEND = "suspend"  # planned suspend, synchronous copy (910)
    SUSPEND_ASYNC = "suspend-async"  # planned suspend of an asynchronous pair: drain first
    SUSPENDED = "suspended"  # the drain is over (SOK)
    FAIL = "fail"  # remote copy cannot go on (908, 1310)
    RESYNC = "resync"  # 1206, 1207, 1210, 1212
    SWAP = "swap"  # failback: the pair's direction is reversed and resynchronized (beyond the patent)
    DELETE = "delete"


S = PairState
_ACTIVE = (S.INITIAL_COPYING, S.DUPLEX, S.DUPLEX_PENDING, S.SUSPENDING)

TRANSITIONS: dict[tuple[PairState, Event], PairState] = {
    (S.SIMPLEX, Event.CREATE): S.INITIAL_COPYING,
    (S.INITIAL_COPYING, Event.DUPLEX): S.DUPLEX,
    (S.DUPLEX_PENDING, Event.DUPLEX): S.DUPLEX,
    (S.DUPLEX, Event.SUSPEND): S.SUSPEND,
    (S.INITIAL_COPYING, Event.SUSPEND): S.SUSPEND,
    (S.DUPLEX_PENDING, Event.SUSPEND): S.SUSPEND,
    (S.SUSPENDING, Event.SUSPEND): S.SUSPEND,
    (S.DUPLEX, Event.SUSPEND_ASYNC): S.SUSPENDING,
    (S.INITIAL_COPYING, Event.SUSPEND_ASYNC): S.SUSPENDING,
    (S.DUPLEX_PENDING, Event.SUSPEND_ASYNC): S.SUSPENDING,
    (S.SUSPENDING, Event.SUSPENDED): S.SUSPEND,
    # the copy finished (DOK) while a planned suspend overtook it: the suspend wins
    (S.SUSPENDING, Event.DUPLEX): S.SUSPENDING,
    (S.SUSPEND, Event.DUPLEX): S.SUSPEND,
    (S.SUSPEND, Event.RESYNC): S.DUPLEX_PENDING,
    (S.FAILURE_SUSPEND, Event.RESYNC): S.DUPLEX_PENDING,
    **{(state, Event.FAIL): S.FAILURE_SUSPEND for state in (*_ACTIVE, S.SUSPEND, S.FAILURE_SUSPEND)},
    **{(state, Event.DELETE): S.SIMPLEX for state in PairState},
    # Failback (pairresync -swaps): the party that was the source may not have heard of the
    # failover (it was down), so whatever it last knew, the swap brings it to Duplex-Pending.
    **{(state, Event.SWAP): S.DUPLEX_PENDING for state in (*_ACTIVE, S.SUSPEND, S.FAILURE_SUSPEND)},
}


class IllegalTransition(Exception):
    """An event that the party's table has no row for."""


def step(state: PairState, event: Event) -> PairState:
    """The pure transition function: the new state, or IllegalTransition."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(f"no transition from {state} on {event.value}") from None


class Command(enum.Enum):
    """Operator commands, as a host or the operator issues them."""

    CREATE = "pair-create"
    SUSPEND = "suspend"
    RESYNC = "resync"
    FAILOVER = "failover"
    FAILBACK = "failback"
    FETCH = "fetch-remaining"
    DELETE = "delete-pair"

    def __str__(self) -> str:
        return self._value_


#: Which commands each state allows, as seen from the storage the command is given to.
#: failover is given at the target storage; the others at the source storage;
#: failback at the old target after a failover (the target then stands in failure Suspend).
LEGAL: dict[PairState, tuple[Command, ...]] = {
    S.SIMPLEX: (Command.CREATE,),
    S.INITIAL_COPYING: (Command.SUSPEND, Command.DELETE),
    S.DUPLEX: (Command.SUSPEND, Command.FAILOVER, Command.DELETE),
    S.SUSPENDING: (Command.FAILOVER, Command.DELETE),
    S.SUSPEND: (Command.RESYNC, Command.FAILOVER, Command.FAILBACK, Command.DELETE),
    S.FAILURE_SUSPEND: (Command.RESYNC, Command.FAILOVER, Command.FAILBACK, Command.FETCH, Command.DELETE),
    S.DUPLEX_PENDING: (Command.SUSPEND, Command.DELETE),
}


class IllegalCommand(Exception):
    """An operator command refused in the pair's current state; nothing changed."""


def check_command(command: Command, state: PairState, where: str) -> None:
    """Refuse ``command`` unless ``state`` allows it, naming the state and what is legal now."""
    legal = LEGAL[state]
    if command not in legal:
        allowed = ", ".join(str(c) for c in legal) or "none"
        raise IllegalCommand(f"{command} refused: pair is {state} at {where}; legal now: {allowed}")


_OPERATOR = {
    S.SIMPLEX: "SMPL",
    S.INITIAL_COPYING: "COPY",
    S.DUPLEX: "PAIR",
    S.DUPLEX_PENDING: "COPY",
    S.FAILURE_SUSPEND: "PSUE",
}


def operator_name(state: PairState, party: Party, takeover: bool = False) -> str:
    """The name operators of real arrays use (SMPL, COPY, PAIR, PSUS/SSUS, PSUE, SSWS)."""
    target = party in (Party.TARGET_EDGE, Party.TARGET_STORAGE)
    if state in (S.SUSPEND, S.FAILURE_SUSPEND) and target and takeover:
        return "SSWS"
    if state is S.SUSPEND:
        return "SSUS" if target else "PSUS"
    if state is S.SUSPENDING:
        return "SSUS*" if target else "PSUS*"  # suspending: what is in flight is still reflected
    return _OPERATOR[state]
