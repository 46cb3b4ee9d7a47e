"""The gate view (`g`) and the pinned unit (`#`): what the network does at each character.

The trace of the poem as written (engine.models.gates.poem_trace: torch and the readable cells)
is read in a worker thread once per (model, form, text) and cached here; until it arrives, and
while the poem plays, the poem shows without gates. Causal models only: a BiLSTM reads both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

if TYPE_CHECKING:
    from tangstudio.studio.panes.compose.pane import ComposePane
    from tangstudio.studio.sessions import Session

Gates = tuple[tuple[tuple[float, ...], ...], ...]  # per character, per layer: the gate values


@dataclass(frozen=True)
class GateView:
    """What the poem view draws: gates per character (None: off), their names, the pinned unit's values."""

    gates: Gates | None = None
    names: tuple[str, ...] = ()
    pin: tuple[float, ...] | None = None


class UnitPrompt(ModalScreen[str | None]):
    """Which unit colours the poem: h<layer>:<index> or c<layer>:<index>; empty clears it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    UnitPrompt { align: center middle; }
    UnitPrompt > Vertical { width: 56; height: auto; padding: 1 2; background: $panel; }
    """

    def __init__(self, value: str) -> None:
        super().__init__()
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical():
            # Static, not Label: a Label keeps its one line and the dialog cut it ("(0-", "Emp").
            yield Static("Pin a unit: h<layer>:<index> or c<layer>:<index> (0-based), e.g. h1:37.")
            yield Static("`tangstudio inspect RUN` lists the telling ones. Empty: none.", classes="dim")
            yield Input(self.value, id="unit-input", placeholder="h1:37")
        yield Footer()  # esc Cancel, not the pane's keys under the dialog

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class GateLens:
    """The gate view's switch, the pinned unit and the cached trace, for one compose pane."""

    def __init__(self, pane: ComposePane) -> None:
        self.pane = pane
        self.on = False  # `g`: heat strips of the gates under each line, values in the panel
        self.pinned: str | None = None  # `#`: colour the poem by one unit (h1:37, c0:5)
        self._key: tuple | None = None
        self._trace: Any = None  # engine.models.gates.GateTrace of the poem as written, or None

    def toggle(self, session: Session | None) -> str:
        """Switch the gate view; the message to show."""
        if session is not None and session.filling:
            return "the gate view reads left-to-right models (rnn, lstm, gru)."
        self.on = not self.on
        return "gate view on (← → pick a character)." if self.on else "gate view off."

    def ask_pin(self, loaded: Any) -> None:
        """Ask which unit to colour the poem by (empty: none); a unit the model lacks is refused."""

        def pinned(unit: str | None) -> None:
            if unit is None:
                return
            unit = unit.strip()
            if unit:
                from tangstudio.engine.models.gates import out_of_range, parse_unit

                try:
                    which, layer, index = parse_unit(unit)
                except ValueError as exc:
                    self.pane.error(str(exc))
                    return
                if which == "c" and loaded is not None and loaded.meta.get("arch") != "lstm":
                    self.pane.error("only an LSTM has a cell state c; pin an h unit, e.g. h0:5")
                    return
                shape = (loaded.meta.get("model") or {}) if loaded is not None else {}
                layers, hidden = shape.get("layers"), shape.get("hidden")
                # Refused here, the unit pinned before stays; found later, it was dropped with it.
                refused = (
                    out_of_range(layer, index, layers, hidden)
                    if isinstance(layers, int) and isinstance(hidden, int)
                    else None
                )
                if refused is not None:
                    self.pane.error(refused)
                    return
            self.pinned = unit or None
            self.pane.publish()

        self.pane.app.push_screen(UnitPrompt(self.pinned or ""), pinned)

    def view(self, session: Session, loaded: Any, playing: bool) -> GateView:
        """What to draw now; starts reading the trace when the poem changed since the last one."""
        if session.filling or not (self.on or self.pinned) or not session.text or loaded is None or playing:
            return GateView()
        # what the model read while writing: the title and each line's keyword as well as the poem
        read = session.engine.read_ids() if hasattr(session.engine, "read_ids") else None
        key = (id(loaded), session.settings.form, session.text, None if read is None else tuple(read[0]))
        if key != self._key:
            self._key, self._trace = key, None
            text, form = session.text, session.settings.form
            self.pane.run_worker(
                lambda: self._read(key, loaded, text, form, read),
                thread=True,
                exclusive=True,
                group="compose-gates",
            )
            return GateView()
        found = self._trace
        if found is None:
            return GateView()
        gates = tuple(tuple(tuple(layer) for layer in per) for per in found.values[0, 1:].tolist())
        pin = None
        if self.pinned:
            from tangstudio.engine.models.gates import unit_series

            try:
                pin = tuple(unit_series(found, self.pinned))
            except ValueError as exc:
                self.pinned = None
                self.pane.notify(str(exc), title="Compose", severity="error")
        return GateView(gates if self.on else None, found.names, pin)

    def _read(self, key: tuple, loaded: Any, text: str, form: str, read: Any) -> None:
        """In a worker thread: the trace, handed back to the UI thread."""
        from tangstudio.engine.models.gates import poem_trace

        app = self.pane.app
        try:
            found = poem_trace(loaded, text, form, read)
        except Exception as exc:  # a model whose gates cannot be read: say so once, keep composing
            app.call_from_thread(self.pane.error, f"could not read the gates: {exc}")
            return
        app.call_from_thread(self._arrived, key, found)

    def _arrived(self, key: tuple, found: Any) -> None:
        if key == self._key:
            self._trace = found
            self.pane.publish(went_on=False)  # not a key: drafts shown or being drawn stay
