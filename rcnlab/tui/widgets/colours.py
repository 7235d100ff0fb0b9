"""Colours from the app's theme, so that what a widget draws by hand reads in light and
dark themes alike (a fixed "bright_white" or "grey85" vanishes on a light background)."""

from __future__ import annotations

from textual.widget import Widget

#: The pair's four parties (SS, SE, TE, TS), as theme variables.
PARTY_ROLES = ("text-primary", "text-error", "text-warning", "text-success")


def theme_colour(widget: Widget, name: str, fallback: str = "default") -> str:
    """The theme variable ``name`` (e.g. "text-success") as a colour Rich can use."""
    try:
        value = widget.app.theme_variables.get(name)
    except Exception:  # not mounted in an app yet
        return fallback
    return value if value and value.startswith("#") else fallback
