"""The errors a program (and every command-line entry point) sees: each one line.

`BadInput` is what the command line turns into exit status 2; the others are what
a program driving a session (rcnlab.run) catches."""

from __future__ import annotations


class BadInput(Exception):
    """One line for stderr; exit status 2."""


class IOFailed(Exception):
    """A read or write through a block device failed: the storage refused or never
    answered it, or the host could not issue it. The line names the volume and block."""


class CommandFailed(Exception):
    """A pair command was answered with an error, or not answered in time (the line is
    the command's, as the run summary gives it)."""


class Refused(BadInput):
    """A command the lab refuses in the current state (nothing changed); one line."""
