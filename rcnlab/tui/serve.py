"""A classroom: ``rcnlab serve`` serves the lab to web browsers with textual-serve.
Each browser tab that opens the page starts a lab of its own (its own process, network
and clock), so a class can work side by side on one machine.

    rcnlab serve --host 0.0.0.0 --port 8000       # then open http://THIS-MACHINE:8000
"""

from __future__ import annotations

import shlex
import socket
import sys

from rcnlab.errors import BadInput

NEEDS = "rcnlab serve needs textual-serve: pip install 'rcnlab[serve]'"


def lab_command(topology: str | None = None, seed: int = 0) -> str:
    """The shell command that opens one lab (textual-serve runs it once per browser tab)."""
    return shlex.join([sys.executable, "-m", "rcnlab", "tui", *([topology] if topology else []), "--seed", str(seed)])


def public_url(host: str, port: int) -> str:
    """Where browsers reach the server: the host as given, or this machine's name when the
    server listens on every address (0.0.0.0, ::)."""
    if host in ("", "0.0.0.0", "::"):
        host = socket.getfqdn()
    return f"http://{host}:{port}"


def serve(host: str = "localhost", port: int = 8000, topology: str | None = None, seed: int = 0,
          url: str | None = None) -> int:
    """Serve the lab until interrupted (Ctrl+C); returns the exit status."""
    try:
        from textual_serve.server import Server
    except ImportError:
        raise BadInput(NEEDS) from None
    server = Server(lab_command(topology, seed), host=host, port=port, title="rcnlab",
                    public_url=url or public_url(host, port))
    try:
        server.serve()
    except OSError as exc:  # the port is taken, the host is not ours ...
        raise BadInput(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    return 0
