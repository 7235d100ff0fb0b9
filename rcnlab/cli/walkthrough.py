"""``rcnlab walkthrough``: list the walkthroughs, or play one step by step.

Interactive: after each step the narration, the patent's figure and steps, the
messages and the checkpoints are shown; Enter goes on, ``b`` goes back a step,
``q`` quits. Without a terminal (CI) or at end of input it runs straight on, as
``--auto`` does. Exit 0: every checkpoint held; 1: one did not (one line on stderr
naming the step, what was expected and what was found), or a pair command failed
(answered with an error, or never answered: one line on stderr each); 2: bad input.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from rcnlab import flags
from rcnlab.errors import BadInput
from rcnlab.export import Window
from rcnlab.lab import CommandHandle
from rcnlab.walkthrough.engine import Player, StepResult
from rcnlab.walkthrough.export import export_walkthrough
from rcnlab.walkthrough.model import Walkthrough, WalkthroughError, available, load_walkthrough, resolve

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
#: Messages listed per step on screen (the exports have them all).
SHOWN = 14


def add_parser(subparsers: Any) -> None:
    w = subparsers.add_parser("walkthrough", help="list the walkthroughs, or play one step by step",
                              description="Without NAME, list the walkthroughs. With NAME (a file stem in "
                              "topologies/walkthroughs, or a path), play it: each step shows what happens "
                              "and why, the patent's figure and steps, the messages, and checks its "
                              "checkpoints. Enter: next step, b: back, q: quit.")
    w.add_argument("name", nargs="?", help="walkthrough name or file")
    w.add_argument("--auto", action="store_true", help="run straight through without waiting")
    w.add_argument("--seed", type=flags.seed, help="random seed (default: the walkthrough's)")
    w.add_argument("--mermaid", metavar="FILE", type=flags.output,
                   help="write the message sequence as a Mermaid sequence diagram")
    w.add_argument("--svg", metavar="FILE", type=flags.output,
                   help="write the message sequence as an SVG swimlane diagram")
    w.add_argument("--trace", metavar="FILE", type=flags.output, help="write every trace event as a JSON line to FILE")
    add_window(w)
    w.add_argument("--steps", metavar="N[-M]", type=step_span,
                   help="export only these steps (1-based: 3, or 2-4), every message of them up to 1000")
    w.add_argument("--tui", action="store_true", help="play it in the lab (TUI), in walkthrough mode")
    w.set_defaults(func=cmd_walkthrough)


def add_window(parser: Any) -> None:
    """``--from`` and ``--to``: the part of the run the Mermaid and SVG exports draw."""
    parser.add_argument("--from", dest="start", metavar="T", type=flags.non_negative, default=0.0,
                        help="export the messages sent from virtual time T on (default 0)")
    parser.add_argument("--to", dest="end", metavar="T", type=flags.non_negative, default=math.inf,
                        help="export the messages sent up to virtual time T (default: the end)")


def window_of(args: argparse.Namespace) -> Window:
    """The export window the flags give (bad input if ``--from`` is after ``--to``)."""
    if args.start > args.end:
        raise BadInput(f"{args.command} --from: {args.start:g} is after --to {args.end:g}")
    return Window(start=args.start, end=args.end)


def step_span(text: str) -> tuple[int, int]:
    """'3' or '2-4' (1-based, inclusive)."""
    first, _, last = text.partition("-")
    try:
        span = (int(first), int(last or first))
    except ValueError:
        span = (0, 0)
    if not 1 <= span[0] <= span[1]:
        raise argparse.ArgumentTypeError(f"expected a step number or a range like 2-4, got {text!r}")
    return span


def _bad(line: str) -> Exception:
    return BadInput(line)


def load(name: str) -> Walkthrough:
    path = resolve(name)
    if not path.exists():
        known = ", ".join(p.stem for p in available()) or "none"
        raise _bad(f"no walkthrough {name!r} (known: {known}; or give a path to a .toml file)")
    try:
        return load_walkthrough(path)
    except WalkthroughError as exc:
        raise _bad(str(exc)) from None


def cmd_walkthrough(args: argparse.Namespace) -> int:
    console = Console(highlight=False, soft_wrap=False)
    if not args.name:
        if args.tui:
            raise _bad("--tui needs a walkthrough NAME (rcnlab walkthrough lists them)")
        return list_walkthroughs(console)
    wt = load(args.name)
    window_of(args)  # bad input before the run, not after it
    if args.steps is not None and args.steps[1] > len(wt.steps):
        raise _bad(f"walkthrough --steps: {wt.name} has {len(wt.steps)} steps, got {args.steps[1]}")
    if args.tui:
        from rcnlab.tui.launch import open_tui  # Textual loads only when the lab opens

        return open_tui(None, walkthrough=wt, walk_seed=args.seed)
    for opt in ("mermaid", "svg", "trace"):
        target = getattr(args, opt)
        if target:
            try:
                open(target, "a", encoding="utf-8").close()
            except OSError as exc:
                raise _bad(f"{target}: cannot write the {opt} export ({exc.strerror})") from None
    interactive = not args.auto and sys.stdin.isatty()
    player = Player(wt, args.seed)
    console.print(Panel(Text(wt.summary or "", style=""), title=f"[bold]{wt.title}[/]",
                        subtitle=f"{wt.name} · {len(wt.steps)} steps · seed {player.seed} · "
                                 f"{wt.topology.name}", expand=True))
    status = EXIT_OK
    piped = not args.auto and not interactive  # answers may come from a pipe; EOF means go on
    auto = args.auto
    reported = 0  # failed commands already told
    while not player.done:
        result = player.advance()
        failed = player.lab.failed_commands()
        show_step(console, player, result, failed[reported:])
        for handle in failed[reported:]:
            print(f"rcnlab: {wt.path}: step[{result.index}]{_title(player)}: command {handle.line()}", file=sys.stderr)
            status = EXIT_FAILED
        reported = len(failed)
        if not result.ok:
            for problem in result.problems:
                print(f"rcnlab: {wt.path}: step[{result.index}]{_title(player)}: {problem}", file=sys.stderr)
            status = EXIT_FAILED
            break
        if auto or player.done:
            continue
        answer = _ask(console, interactive or piped)
        if answer is None:
            auto = True
        elif answer == "q":
            console.print("[dim]quit[/]")
            _export(args, player)
            return EXIT_OK
        elif answer == "b":
            back = max(0, player.current - 1)
            # runs are deterministic: replay steps before `back` silently; the loop plays and shows `back`
            player = Player.replayed(wt, back - 1, args.seed)
            reported = len(player.lab.failed_commands())
            console.print(f"[dim]back to step {back + 1}[/]")
    for handle in player.lab.failed_commands(final=True)[reported:]:  # never answered
        print(f"rcnlab: {wt.path}: command {handle.line()}", file=sys.stderr)
        status = EXIT_FAILED
    _export(args, player)
    passed = sum(1 for r in player.results if r.ok)
    checks = sum(len(r.passed) for r in player.results)
    if status == EXIT_OK:
        console.print(f"[bold green]{wt.name}: {passed} steps, {checks} checks passed[/] "
                      f"(virtual time {player.net.kernel.now:.6f} s)")
    return status


def _title(player: Player) -> str:
    t = player.step.title
    return f" {t!r}" if t else f" ({player.step.do or 'narration'})"


def _ask(console: Console, prompt: bool) -> str | None:
    """Enter/b/q from stdin; None at end of input (then the rest runs straight on)."""
    try:
        if prompt:
            console.print("[dim]Enter: next · b: back · q: quit[/] ", end="")
        line = input()
    except EOFError:
        if prompt:
            console.print()
        return None
    return line.strip().lower()[:1]


def _export(args: argparse.Namespace, player: Player) -> None:
    if args.trace:
        with open(args.trace, "w", encoding="utf-8") as f:
            f.writelines(ev.to_json() + "\n" for ev in player.events)
    steps = None if args.steps is None else range(args.steps[0] - 1, args.steps[1])
    for target in (args.mermaid, args.svg):
        if target:
            n = export_walkthrough(player, target, window=window_of(args), steps=steps)
            print(f"wrote {target} ({n} messages)", file=sys.stderr)


def list_walkthroughs(console: Console) -> int:
    table = Table(title="Walkthroughs (topologies/walkthroughs)", title_justify="left")
    for col in ("name", "title", "steps", "figures", "topology"):
        table.add_column(col, no_wrap=col in ("name", "topology"))  # names are typed: never cut
    for path in available():
        try:
            wt = load_walkthrough(path)
        except WalkthroughError as exc:
            table.add_row(path.stem, f"[red]{exc}[/]", "", "", "")
            continue
        figs = sorted({f for s in wt.steps for f in s.figures})
        table.add_row(wt.name, wt.title, str(len(wt.steps)), " ".join(str(f) for f in figs), wt.topology.name)
    console.print(table)
    console.print("play one: rcnlab walkthrough NAME [--auto] [--seed N] [--mermaid FILE] [--svg FILE]")
    return EXIT_OK


def show_step(console: Console, player: Player, result: StepResult, failed: Sequence[CommandHandle] = ()) -> None:
    step = player.steps[result.index]
    parts: list[Any] = []
    if step.title:
        parts.append(Text(step.title, style="bold"))
    parts.append(Text(step.say))
    if result.refused:
        parts.append(Text(f"refused: {result.refused}", style="yellow"))
    msgs = player.messages_of(result.index)
    if msgs:
        lines = Text()
        for m in msgs[:SHOWN]:
            style = {"sent": "", "resent": "dark_orange"}[m.kind] if not m.dropped else "red"
            arrow = {"sent": "->", "resent": "~>"}[m.kind] if not m.dropped else "-x"
            lines.append(f"  {m.t * 1000:10.3f} ms  {m.src} {arrow} {m.dst}: {m.label(with_step=False)}", style=style)
            if m.step:
                lines.append(f"  {m.step}", style="cyan")
            lines.append("\n")
        if len(msgs) > SHOWN:
            kinds = Counter(m.what.split("[")[0] if m.what.startswith("log[") else m.what for m in msgs[SHOWN:])
            top = ", ".join(f"{n} {w}" for w, n in kinds.most_common(4))
            lines.append(f"  ... and {len(msgs) - SHOWN} more messages ({top})\n", style="dim")
        devices = list(dict.fromkeys(n for m in msgs for n in (m.src, m.dst)))
        parts.append(Text(f"devices: {', '.join(devices)}", style="dim"))
        parts.append(lines)
    states = _pair_states(player)
    if states:
        parts.append(states)
    for line in result.passed:
        parts.append(Text(f"✓ {line}", style="green"))
    for line in result.problems:
        parts.append(Text(f"✗ {line}", style="bold red"))
    for handle in failed:
        parts.append(Text(f"✗ command {handle.line()}", style="bold red"))
    heading = f" · {step.heading()}" if step.steps or step.figures else ""
    console.print(Panel(Group(*parts), title=f"[bold]Step {result.index + 1}/{len(player.steps)}[/]{heading}",
                        subtitle=f"t = {result.t_start:.6f} .. {result.t_end:.6f} s", title_align="left",
                        border_style="green" if result.ok and not failed else "red", expand=True))


def _pair_states(player: Player) -> Table | None:
    views = player.net.pair_views()
    if not views:
        return None
    t = Table(box=None, pad_edge=False, show_edge=False)
    for col in ("pair", "src storage", "src edge", "tgt edge", "tgt storage"):
        t.add_column(col, style="dim" if col == "pair" else "", no_wrap=True)
    for view in views:
        t.add_row(view.name, *(str(state) for state in view.states))
    return t
