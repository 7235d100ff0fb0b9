"""The error every command-line entry point turns into one line and exit status 2."""

from __future__ import annotations


class BadInput(Exception):
    """One line for stderr; exit status 2."""
