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
    from rcnlab.run import BlockDevice, Session, Ticket, open_session


def __getattr__(name: str) -> Any:
    """The public API, imported on first use (``import rcnlab`` alone stays light)."""
    if name == "CommandHandle":
        from rcnlab.lab import CommandHandle
        return CommandHandle
    if name in __all__:
        from rcnlab import run
        return getattr(run, name)
    raise AttributeError(f"module 'rcnlab' has no attribute {name!r}")
