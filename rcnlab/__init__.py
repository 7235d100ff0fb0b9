"""rcnlab: a terminal lab that emulates a storage Remote Copy Network (RCN).

A program opens a session and drives it (rcnlab.run)::

    import rcnlab
    session = rcnlab.open_session("fig1", overrides={"lab.block_size": 4096}, seed=1)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["BlockDevice", "CommandHandle", "Session", "Ticket", "open_session"]

if TYPE_CHECKING:
    from rcnlab.lab import CommandHandle
    from rcnlab.run.blockdev import BlockDevice, Ticket
    from rcnlab.run.opening import open_session
    from rcnlab.run.session import Session


def __getattr__(name: str) -> Any:
    """The public API, imported on first use (``import rcnlab`` alone stays light)."""
    if name == "open_session":
        from rcnlab.run.opening import open_session
        return open_session
    if name == "Session":
        from rcnlab.run.session import Session
        return Session
    if name in ("BlockDevice", "Ticket"):
        from rcnlab.run import blockdev
        return getattr(blockdev, name)
    if name == "CommandHandle":
        from rcnlab.lab import CommandHandle
        return CommandHandle
    raise AttributeError(f"module 'rcnlab' has no attribute {name!r}")
