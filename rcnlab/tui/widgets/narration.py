"""The narration panel of walkthrough mode: the current step's figure and steps, its
title and what happens and why, the checkpoints' results (✓ held, ✗ with the one-line
problem, in red) and the step counter ("step 3 of 9")."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from rcnlab.tui.walk import WalkSession


def narration(session: WalkSession) -> tuple[RenderableType, str, bool]:
    """(what the panel shows, the step counter, failed)."""
    wt, p = session.wt, session.player
    parts: list[Any] = []
    counter = session.counter()
    failed = False
    if session.index < 0:
        parts.append(Text(wt.title, style="bold"))
        parts.append(Text(counter, style="bold cyan"))
        parts.append(Text(" ".join(wt.summary.split()) if wt.summary else ""))
        parts.append(Text(f"\n> plays step 1 of {session.total}.", style="dim"))
        return Group(*parts), counter, False
    step = wt.steps[session.index]
    head = Text(counter, style="bold cyan")
    if step.steps or step.figures:
        head.append(f" · {step.heading()}", style="bold")
    parts.append(head)
    if step.title:
        parts.append(Text(step.title, style="bold"))
    parts.append(Text(" ".join(step.say.split())))
    if session.busy:
        parts.append(Text("\nreplaying ...", style="dim"))
    elif session.running:
        parts.append(Text("\nplaying ... (space pauses, > finishes the step at once)", style="yellow"))
    result = session.result()
    if result is not None:
        lines = Text()
        lines.append("\n")
        if result.refused:
            lines.append(f"refused: {result.refused}\n", style="yellow")
        for line in result.passed:
            lines.append(f"✓ {line}\n", style="green")
        for line in result.problems:
            lines.append(f"✗ {line}\n", style="bold red")
        if not result.passed and not result.problems:
            lines.append("(no checkpoints in this step)\n", style="dim")
        parts.append(lines)
        failed = not result.ok
        msgs = session.messages()
        devices, links = session.involved()
        shown = ", ".join(sorted(devices | links)) or "none"
        parts.append(Text(f"◆ {shown} · {len(msgs)} messages · t = {result.t_start:.6f} .. {result.t_end:.6f} s",
                          style="dim"))
        if p.done:
            ok = sum(1 for r in p.results if r.ok)
            style = "bold green" if ok == len(p.results) else "bold red"
            parts.append(Text(f"\nThe end: {ok} of {len(p.results)} steps passed. < back, R restart, L leave.",
                              style=style))
    return Group(*parts), counter, failed


class NarrationPanel(VerticalScroll):
    """Shows a WalkSession's current step; ``show(session)`` after every change."""

    DEFAULT_CSS = """
    NarrationPanel { border: round $accent; padding: 0 1; height: 1fr; }
    NarrationPanel.-failed { border: heavy $error; }
    NarrationPanel > #narration { height: auto; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.counter = ""
        self.failed = False
        self.plain = ""  # what it shows, as plain text (the tests read it)

    def compose(self) -> ComposeResult:
        yield Static("", id="narration")

    def show(self, session: WalkSession) -> None:
        body, counter, failed = narration(session)
        self.counter, self.failed = counter, failed
        self.border_title = f"Walkthrough: {session.wt.name}"
        result = session.result()
        if result is None or not (result.passed or result.problems):
            self.border_subtitle = counter
        elif failed:
            self.border_subtitle = f"{counter} · ✗ checkpoint failed"
        else:
            n = len(result.passed)
            self.border_subtitle = f"{counter} · ✓ {n} check{'s' if n > 1 else ''} held"
        self.set_class(failed, "-failed")
        self.plain = "\n".join(_plain(part) for part in body.renderables) if isinstance(body, Group) else ""
        self.query_one("#narration", Static).update(body)


def _plain(part: Any) -> str:
    return part.plain if isinstance(part, Text) else str(part)
