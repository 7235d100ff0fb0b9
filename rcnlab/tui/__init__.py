"""The Textual lab (``rcnlab`` / ``rcnlab tui``).

Only :mod:`rcnlab.tui.bridge` touches both trio and Textual: it hosts the
emulation's trio run inside Textual's asyncio loop through trio's guest mode.
The widgets read the network's state on a throttled timer; commands go through
the :class:`rcnlab.lab.Lab` facade, run inside trio through the trio token.
"""
