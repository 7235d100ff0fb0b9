"""Modal dialogs: pair create, workload, link degradation; and the help screen.
Each returns the operator's command it was filled in for, checked (or None when
cancelled); a value the command refuses is explained in the dialog."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Select, Static

from rcnlab.formats.fields import Bad
from rcnlab.model.kinds import CopyMode
from rcnlab.ops.commands import Command, CreatePair, SetLink, Workload
from rcnlab.tui.actions import ACTIONS
from rcnlab.tui.screens.modal import Modal

#: Rows below which a dialog drops the blank rows between its fields (80x24 holds it whole).
SHORT_ROWS = 30
DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 70; max-width: 100%; height: auto; max-height: 100%; overflow-y: auto;
                    border: thick $accent; background: $surface; padding: 1 2; }}
{name} .row {{ height: auto; margin-bottom: 1; }}
{name}.-short .row {{ margin-bottom: 0; }}
{name} .error {{ color: $error; height: auto; }}
{name} Horizontal {{ height: auto; align-horizontal: right; }}
{name} Button {{ margin-left: 1; }}
"""


def build(cls: type[Command], **fields: Any) -> Any:
    """The command, or a ValueError naming the field and its problem."""
    try:
        return cls(**fields)
    except Bad as exc:
        raise ValueError(f"{exc.key}: {exc.problem}") from None


def chosen(select: Select[str]) -> str | None:
    """The select's value, or None while its blank entry is chosen."""
    return None if select.is_blank() else str(select.value)


class Dialog(Modal[Any]):
    """A dialog, whole at 80x24 and up (on a short screen without blank rows between fields;
    on a smaller one it scrolls rather than lose its buttons)."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (SHORT_ROWS, "-tall")]

    def action_cancel(self) -> None:
        self.close(None)

    def buttons(self, ok: str) -> ComposeResult:
        yield Label("", classes="error", id="error")
        with Horizontal():
            yield Button(ok, variant="primary", id="ok")
            yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.close(None)

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted)
    def _ok(self) -> None:
        try:
            values = self.values()
        except ValueError as exc:
            self.query_one("#error", Label).update(Text(str(exc)))  # it may quote what was typed: no markup
            return
        self.close(values)

    def values(self) -> Any:  # pragma: no cover - subclasses override
        return None


class PairCreateDialog(Dialog):
    DEFAULT_CSS = DIALOG_CSS.format(name="PairCreateDialog")

    def __init__(self, volumes: list[str], source: str | None, target: str | None) -> None:
        super().__init__()
        self.volumes = volumes
        self.source, self.target = source, target

    def compose(self) -> ComposeResult:
        options = [(v, v) for v in self.volumes]
        with Vertical():
            yield Static("[b]Create a pair[/b] (Fig. 10): the host asks its storage to copy a volume "
                         "to a volume at the other site.", classes="row")
            yield Label("Source volume")
            yield Select(options, value=self.source or Select.NULL, id="source", classes="row")
            yield Label("Target volume")
            yield Select(options, value=self.target or Select.NULL, id="target", classes="row")
            with RadioSet(id="mode", classes="row"):
                yield RadioButton("asynchronous (the host never waits for the network)", value=True, id=CopyMode.ASYNC)
                yield RadioButton("synchronous (the host waits for the source edge's WROK)", id=CopyMode.SYNC)
            yield from self.buttons("Create")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def values(self) -> CreatePair:
        source, target = chosen(self.query_one("#source", Select)), chosen(self.query_one("#target", Select))
        if source is None or target is None:
            raise ValueError("choose a source and a target volume")
        pressed = self.query_one("#mode", RadioSet).pressed_button
        mode = CopyMode.SYNC if pressed is not None and pressed.id == CopyMode.SYNC else CopyMode.ASYNC
        return build(CreatePair, source=source, target=target, mode=mode)


class WorkloadDialog(Dialog):
    DEFAULT_CSS = DIALOG_CSS.format(name="WorkloadDialog")

    def __init__(self, volumes: list[str], volume: str | None, rate: float, title: str = "Start a workload") -> None:
        super().__init__()
        self.volumes, self.volume, self.rate, self.title_text = volumes, volume, rate, title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"[b]{self.title_text}[/b]: the volume's host writes random blocks at this rate "
                         "(writes per virtual second).", classes="row")
            yield Label("Volume")
            yield Select([(v, v) for v in self.volumes], value=self.volume or Select.NULL, id="volume",
                         classes="row")
            yield Label("Writes per second")
            yield Input(f"{self.rate:g}", id="rate", classes="row")
            yield from self.buttons("Start")

    def on_mount(self) -> None:
        self.query_one("#rate", Input).focus()

    def values(self) -> Workload:
        volume = chosen(self.query_one("#volume", Select))
        if volume is None:
            raise ValueError("choose a volume")
        text = self.query_one("#rate", Input).value.strip()
        try:
            rate = float(text)
        except ValueError:
            raise ValueError(f"rate must be a number, not {text!r}") from None
        return build(Workload, volume=volume, rate=rate)


class DegradeDialog(Dialog):
    DEFAULT_CSS = DIALOG_CSS.format(name="DegradeDialog")

    def __init__(self, link: str, loss: float, jitter_ms: float, latency_ms: float) -> None:
        super().__init__()
        self.link, self.loss, self.jitter_ms, self.latency_ms = link, loss, jitter_ms, latency_ms

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"[b]Degrade link {self.link}[/b] (both directions).", classes="row")
            yield Label("Frame loss, percent (0 .. 99.9)")
            yield Input(f"{self.loss * 100:g}", id="loss", classes="row")
            yield Label("Jitter, ms")
            yield Input(f"{self.jitter_ms:g}", id="jitter", classes="row")
            yield Label("Latency, ms (one way)")
            yield Input(f"{self.latency_ms:g}", id="latency", classes="row")
            yield from self.buttons("Apply")

    def on_mount(self) -> None:
        self.query_one("#loss", Input).focus()

    def values(self) -> SetLink:
        out = {}
        for key, name in (("loss", "loss"), ("jitter", "jitter"), ("latency", "latency")):
            text = self.query_one(f"#{key}", Input).value.strip()
            try:
                out[name] = float(text)
            except ValueError:
                raise ValueError(f"{name} must be a number, not {text!r}") from None
        if not 0 <= out["loss"] < 100:
            raise ValueError("loss must be in [0, 100) percent")
        return build(SetLink, link=self.link, loss=out["loss"] / 100, jitter_ms=out["jitter"],
                     latency_ms=out["latency"])


HELP_TEXT = """\
[b]rcnlab[/b] emulates the Remote Copy Network of the Hitachi patent: a source site (host H111,
storage ST112, edge E104), the network (core C202) and a target site (edge E105, storage ST122,
host H121). Every write to a paired volume becomes a log entry 211 that the edges carry in order.

[b]Try this[/b]: c creates a pair and it copies to Duplex; w starts a workload; select the link
E104-C202 with ] (or click it) and press f to cut it; the resends give up and the pair goes to
failure Suspend; u restores the link; r resyncs back to Duplex.

[b]Panels[/b]: the map (links: ═ FC/SCSI, ─ GbE; x down, ~ degraded, >n frames in flight;
boxes: ≡n log entries held, »n frames relayed); the pair panel (the state machine, the four
parties SS SE TE TS marked, copy progress and bitmaps); the log storage area 413 of the selected
edge or core; order assurance counters 412 with sparklines; the sequence chart (Fig. 16); the
event log with step tags (fig19:1902).
The status line shows virtual time, speed, seed, workload, RPO and the invariants.

[b]Walkthroughs[/b]: l picks one of the patent's flows (failover, a write, resync ...); the lab
switches to its topology and seed, a narration panel says what each step does and why (figure and
steps, checkpoints ✓/✗), and the map (◆, bold) and the sequence chart show that step's devices and
messages. > plays the next step, < goes back one, R restarts, L leaves (back to the lab as it was).
Commands that would leave the script (pairs, workloads, faults, single steps) wait until then; the
invariants are checked where the walkthrough's checkpoints say (the status line shows n/a before).
"""


def reflow(text: str) -> str:
    """Paragraphs (blank-line separated) each on one line, for the screen to wrap once:
    the source's own line breaks would leave orphan words on a narrower screen."""
    return "\n\n".join(" ".join(par.split()) for par in text.strip().split("\n\n"))


def help_text() -> Text:
    """The help: HELP_TEXT, then every key by group. The keys are plain text, not markup
    (``[`` is a key)."""
    out = Text.from_markup(reflow(HELP_TEXT))
    out.append("\n\n")
    out.append("Keys", style="bold")
    out.append(" (also in the command palette, ctrl+p)")
    group = None
    for a in ACTIONS:
        if a.group != group:
            group = a.group
            out.append(f"\n\n{group}", style="bold underline")
        out.append("\n  ")
        out.append(f"{a.display:>6}", style="bold")
        out.append(f"  {a.title}: {a.help}")
    out.append("\n\nPress escape to close.")
    return out


class HelpScreen(Modal[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 100; max-width: 95%; height: 90%; border: thick $accent;
                                  background: $surface; padding: 1 2; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "close", "close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(help_text())

    def action_close(self) -> None:
        self.close(None)
