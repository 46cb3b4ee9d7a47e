"""Compose pane: write a poem one character at a time and watch every choice.

Space samples the next character and the panel beside the poem shows the ten best candidates of
that step (the sampled one highlighted) and how much probability the constraints removed; a number
key takes another candidate instead, Backspace undoes, `p` plays the rest at a visible pace.
Punctuation, acrostic and prefix characters are forced by the form and follow on their own.
Each character keeps the tint of the probability it had; under each line its 平仄 and rhyme group.

BiLSTM models fill instead: ← → select a position, the panel shows its candidates given both
sides, a number key sets it, Space fills every empty position, `p` refines them all.
Loading the model (torch) runs in a worker; a step is milliseconds and runs on the UI thread.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive, var
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Checkbox, Input, Label, Select, Static

from tangstudio.studio.composing import (
    FORM_NAMES,
    FORMS,
    TONES,
    Session,
    Step,
    default_model_available,
    list_models,
)
from tangstudio.studio.panes.base import Pane
from tangstudio.studio.widgets.poem_view import PoemState, PoemView
from tangstudio.studio.widgets.prob_bars import KEYS, PanelState, ProbBars

__all__ = ["ComposePane", "default_model_available"]

FOOTER_ROOM = 120  # columns the footer needs for the compose keys and the app's
PLAY_INTERVAL_S = 0.12  # a 七律 in about 8 s: fast enough to finish, slow enough to watch
NO_MODEL = (
    "No model yet. Train one: F2 (Model) → t, wait for its first checkpoint, then choose it "
    "here. Or open a run: tangstudio --run NAME."
)


class PoemScroll(VerticalScroll):
    """The poem area takes the focus, so Space, digits and Backspace reach the composer, not a field."""

    can_focus = True


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
            yield Label("Pin a unit: h<layer>:<index> or c<layer>:<index> (0-based), e.g. h1:37.")
            yield Label("`tangstudio inspect RUN` lists the telling ones. Empty: none.", classes="dim")
            yield Input(self.value, id="unit-input", placeholder="h1:37")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class StatusLine(Static):
    """One line under the poem: the model, the mean probability, what to do next."""

    line: reactive[Text] = reactive(Text)

    def watch_line(self, line: Text) -> None:
        self.update(line)


class ComposePane(Pane):
    """Settings on top, the poem and its candidates below; the writing itself is a Session's.

    The pane turns keys into calls on `session` (composing.CausalSession or FillSession) and then
    publishes what they changed in three reactives (`poem`, `panel`, `status`); the widgets are
    bound to them and redraw themselves.
    """

    DEFAULT_CSS = """
    #cp-form-name { padding: 0 0 0 1; }
    #cp-theme { width: 1fr; max-width: 34; }
    #cp-primer { width: 1fr; }
    """

    BINDINGS = [
        Binding("space", "step", "Next char"),
        *[Binding(key, f"pick({n})", f"Pick {key}", show=False) for n, key in enumerate(KEYS)],
        Binding("backspace", "undo", "Undo"),
        Binding("u", "bring_back", "Previous poem", show=False),
        Binding("p", "play", "Play"),
        Binding("n", "new", "New"),
        Binding("w", "save", "Save"),
        Binding("W", "screenshot", "SVG", show=False),
        Binding("c", "copy", "Copy"),
        Binding("g", "gates", "Gates"),
        Binding("l", "lock", "Lock line", show=False),
        Binding("r", "reroll", "Reroll line", show=False),
        Binding("number_sign", "pin", "Pin unit", show=False),
        Binding("left", "move(-1)", "←", show=False),
        Binding("right", "move(1)", "→", show=False),
        Binding("up", "move_line(-1)", "↑", show=False),
        Binding("down", "move_line(1)", "↓", show=False),
        Binding("escape", "focus_poem", "Poem", show=False),
    ]

    poem: var[PoemState] = var(PoemState)
    panel: var[PanelState] = var(PanelState)
    status: var[Text] = var(Text)

    def __init__(self, run: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.preferred_run = run  # `tangstudio --run NAME`: compose with that run's model when it has one
        self.loaded = None
        self.novelty = None
        self.model_target: str | None = None
        self.session: Session | None = None
        self._previous: tuple | None = None  # the poem a new one replaced: `u` brings it back
        self._session_target: str | None = None  # the model the current poem is written with
        self.seed: int | None = None  # fixed by tests and snapshots; None samples differently each poem
        self.loading = False
        self._play_timer: Timer | None = None
        self._footer_wide: bool | None = None
        self.show_gates = False  # `g`: heat strips of the gates under each line, values in the panel
        self.pinned: str | None = None  # `#`: colour the poem by one unit (h1:37, c0:5)
        self._trace_key: tuple | None = None
        self._trace = None  # engine.models.gates.GateTrace of the poem as written, or None

    def compose(self) -> ComposeResult:
        models = list_models()
        preferred = [
            target for label, target in models if self.preferred_run and label == f"run {self.preferred_run}"
        ]
        if preferred:
            models.sort(key=lambda m: m[1] != preferred[0])
        with Vertical(id="compose-settings"):
            with Horizontal(classes="settings-row"):
                yield Label("model", classes="field-label")
                yield Select(
                    models,
                    value=models[0][1] if models else Select.NULL,
                    allow_blank=not models,  # "no model yet" only when there is none
                    prompt="no model yet",
                    id="cp-model",
                    compact=True,
                )
                yield Label("form", classes="field-label")
                yield Select(FORMS, value="qijue", allow_blank=False, id="cp-form", compact=True)
                yield Label(FORM_NAMES["qijue"], id="cp-form-name")
                yield Select(TONES, value="loose", allow_blank=False, id="cp-tones", compact=True)
                yield Checkbox("rhyme", True, id="cp-rhyme", compact=True)
            with Horizontal(classes="settings-row"):
                yield Label("temp", classes="field-label")
                yield Input("0.8", id="cp-temperature", type="number", compact=True)
                yield Label("top-k", classes="field-label")
                yield Input("0", id="cp-top_k", type="integer", compact=True)
                yield Label("top-p", classes="field-label")
                yield Input("0.95", id="cp-top_p", type="number", compact=True)
                yield Label("藏头", classes="field-label")
                yield Input("", id="cp-acrostic", placeholder="春夏秋冬", compact=True)
                yield Label("prefix", classes="field-label")
                yield Input("", id="cp-prefix", compact=True)
            with Horizontal(classes="settings-row"):
                yield Label("藏字", classes="field-label")
                yield Input("", id="cp-theme", placeholder="月,秋 (the poem must hold them)", compact=True)
                yield Label("primer", classes="field-label")
                yield Input("", id="cp-primer", placeholder="read before the poem, not shown", compact=True)
        with Horizontal(id="compose-main"):
            with PoemScroll(id="poem-scroll"):
                yield PoemView(id="poem").data_bind(state=ComposePane.poem)
            yield ProbBars(id="candidates").data_bind(panel=ComposePane.panel)
        yield StatusLine(id="compose-status").data_bind(line=ComposePane.status)

    def on_resize(self) -> None:
        self._fit_footer()

    def _fit_footer(self) -> None:
        """Below FOOTER_ROOM columns the footer keeps the app's keys (F1–F4, ?) and the compose keys
        move to the status line; otherwise the app's keys would be cut off (issue 16, item 11)."""
        wide = self.app.size.width >= FOOTER_ROOM
        if wide == self._footer_wide:
            return
        self._footer_wide = wide
        from dataclasses import replace

        shown = {b.key for b in self.BINDINGS if isinstance(b, Binding) and b.show}
        for key, bindings in self._bindings.key_to_bindings.items():
            self._bindings.key_to_bindings[key] = [replace(b, show=wide and key in shown) for b in bindings]
        self.refresh_bindings()
        self.status = self._status_line()

    def when_shown(self, first: bool) -> None:
        if first:
            self._load_selected()
        else:  # runs may have written checkpoints since
            self._refresh_models()

    def focus_first(self) -> None:
        self.query_one("#poem-scroll").focus()

    def action_focus_poem(self) -> None:
        self.focus_first()

    # What tests and the app read -------------------------------------------------------------

    @property
    def composer(self):
        """The engine object writing the poem (Composer or Filler), or None."""
        return self.session.engine if self.session is not None else None

    @property
    def filling(self) -> bool:
        return self.session is not None and self.session.filling

    @property
    def selected(self) -> int | None:
        return self.session.selected if self.session is not None else None

    def steps(self) -> list[Step]:
        """Every written position with its candidates and probability, in order."""
        return self.session.steps() if self.session is not None else []

    def poem_text(self) -> str:
        return self.session.text if self.session is not None else ""

    @property
    def script(self) -> str:
        vocab = self.loaded.vocab if self.loaded is not None else None
        return str(vocab.script) if vocab is not None else "simplified"

    # Settings and model ----------------------------------------------------------------------

    def _refresh_models(self) -> None:
        select = self.query_one("#cp-model", Select)
        models = list_models()
        current = select.value
        with self.prevent(Select.Changed):
            select._allow_blank = not models  # Textual has no public setter; the blank means "no model"
            select.set_options(models)
            if any(target == current for _, target in models):
                select.value = current
        if self.loaded is None and not self.loading and models:  # never override a load under way
            select.value = models[0][1]  # posts Changed: loads it

    def settings(self):
        """The engine's ComposeSettings from the fields (raises TangError with the bad field)."""
        from tangstudio.engine.compose import ComposeSettings
        from tangstudio.engine.errors import TangError

        values = {}
        for name, cast in (("temperature", float), ("top_k", int), ("top_p", float)):
            raw = self.query_one(f"#cp-{name}", Input).value.strip()
            try:
                values[name] = cast(raw)
            except ValueError:
                raise TangError(f"{name.replace('_', '-')} must be a number, got {raw!r}") from None
        return ComposeSettings(
            form=str(self.query_one("#cp-form", Select).value),
            acrostic=self.query_one("#cp-acrostic", Input).value.strip(),
            prefix=self.query_one("#cp-prefix", Input).value.strip(),
            theme=self.query_one("#cp-theme", Input).value.strip(),
            primer=self.query_one("#cp-primer", Input).value.strip(),
            rhyme=self.query_one("#cp-rhyme", Checkbox).value,
            tones=str(self.query_one("#cp-tones", Select).value),
            seed=self.seed,
            **values,
        )

    @on(Select.Changed, "#cp-model")
    def _model_changed(self, event: Select.Changed) -> None:
        event.stop()
        if self._seen:
            self._load_selected()

    @on(Select.Changed, "#cp-form")
    @on(Input.Submitted, "#cp-acrostic, #cp-prefix, #cp-theme, #cp-primer")
    def _shape_changed(self, event) -> None:
        """Form, acrostic, prefix, theme and primer shape the whole poem: start a new one."""
        event.stop()
        self.query_one("#cp-form-name", Label).update(FORM_NAMES.get(self._form(), ""))
        if self.loaded is not None:
            self.action_new()
            self.focus_first()

    @on(Select.Changed, "#cp-tones")
    @on(Checkbox.Changed)
    @on(Input.Submitted, "#cp-temperature, #cp-top_k, #cp-top_p")
    def _sampling_changed(self, event) -> None:
        """Sampling knobs and the rhyme/tone switches apply from the next character, mid-poem."""
        event.stop()
        if self.loaded is None:  # also the widgets' own Changed messages while mounting
            return
        if self.session is None or self.session.filling:
            self.action_new()
            self.focus_first()
            return
        from tangstudio.engine.errors import TangError

        try:
            self.session.apply_sampling(self.settings())
        except TangError as exc:
            self._error(str(exc), "Compose settings")
            return
        self.notify("applies from the next character.", title="Compose")
        self.focus_first()

    def _load_selected(self) -> None:
        select = self.query_one("#cp-model", Select)
        self._stop_play()
        if select.is_blank():
            self.loaded, self.session = None, None
            self._show(NO_MODEL)
            return
        self._show("loading the model …")
        self.loading = True
        self._load(str(select.value))

    @work(thread=True, exclusive=True, group="compose-load")
    def _load(self, target: str) -> None:
        from tangstudio.engine.errors import TangError
        from tangstudio.studio.composing import load_model

        try:
            loaded, novelty = load_model(target)
        except TangError as exc:
            self.app.call_from_thread(
                self._load_failed, f"{exc} — choose another model, or train one (F2 → t)."
            )
            return
        except Exception as exc:
            self.app.call_from_thread(self._load_failed, f"could not load {target}: {exc}")
            return
        self.app.call_from_thread(self._loaded, target, loaded, novelty)

    def _load_failed(self, message: str) -> None:
        self.loading = False
        self.loaded, self.session = None, None
        self.notify(message, title="Compose", severity="error", timeout=10)
        self._show(message)

    def _loaded(self, target: str, loaded, novelty) -> None:
        self.loading = False
        self.loaded, self.novelty, self.model_target = loaded, novelty, target
        self.action_new()

    # Composing -------------------------------------------------------------------------------

    def _error(self, message: str, title: str = "Compose") -> None:
        self._stop_play()
        self.notify(message, title=title, severity="error", timeout=10)

    def action_new(self) -> None:
        self._stop_play()
        if self.loaded is None:
            self.notify(NO_MODEL, title="Compose", severity="warning", timeout=8)
            return
        from tangstudio.engine.errors import TangError
        from tangstudio.studio.composing import make_session

        try:
            session = make_session(self.loaded, self.settings(), self.novelty)
        except TangError as exc:
            self.session = None
            self._error(f"{exc}", "Compose settings")
            self._show(f"{exc}")
            return
        self._keep_previous()
        self.session = session
        self._session_target = self.model_target
        self._publish()

    def _keep_previous(self) -> None:
        """Keep the poem being replaced (if anything was chosen in it) so `u` can bring it back."""
        old = self.session
        if old is None or not any(not s.forced for s in old.steps()):
            return
        # The old poem's own model: when a new model has just loaded, self.loaded is already the new one.
        target = self._session_target
        self._previous = (old, old.engine.loaded, old.engine.novelty, target, old.settings.form, target)
        self.notify("the previous poem is kept: u brings it back.", title="Compose")

    def action_bring_back(self) -> None:
        """Swap the current poem with the one the last new poem replaced (form and model included)."""
        if self._previous is None:
            self.notify("no earlier poem to bring back.", title="Compose")
            return
        self._stop_play()
        session, loaded, novelty, target, form, model = self._previous
        current = self.session
        if current is not None:
            here = self._session_target
            self._previous = (current, self.loaded, self.novelty, here, current.settings.form, here)
        else:
            self._previous = None
        self.session, self.loaded, self.novelty, self.model_target = session, loaded, novelty, target
        self._session_target = target
        with self.prevent(Select.Changed):
            self.query_one("#cp-form", Select).value = form if form in FORM_NAMES else "qijue"
            self.query_one("#cp-form-name", Label).update(FORM_NAMES.get(form, ""))
            select = self.query_one("#cp-model", Select)
            if any(value == model for _, value in list_models()):
                select.value = model
        self._publish()

    def _ready(self) -> bool:
        if self.loading:
            self.notify("the model is still loading …", title="Compose")
            return False
        if self.session is None:
            self.notify(
                NO_MODEL if self.loaded is None else "fix the settings, then n starts a poem",
                title="Compose",
                severity="warning",
                timeout=8,
            )
            return False
        return True

    def _do(self, change, typed: bool = False) -> bool:
        """Run one change on the session; a message it returns is shown, a TangError too. True: done."""
        from tangstudio.engine.errors import TangError

        if not typed and self.session is not None:
            self.session.clear_marks()
        try:
            message = change(self.session)
        except TangError as exc:
            self._error(str(exc))
            self._publish()
            return False
        if message:
            self._stop_play()
            self.notify(message, title="Compose")
            return False
        self._publish()
        return True

    def action_step(self) -> bool:
        """Sample the next character (fill mode: every empty position); False when there is nothing to do."""
        return self._ready() and self._do(lambda s: s.advance())

    def action_pick(self, index: int) -> None:
        if self._ready():
            self._do(lambda s: s.pick(index))

    def action_undo(self) -> None:
        if self._ready():
            assert self.session is not None  # _ready() says so
            self._stop_play()
            nothing = not any(not s.forced for s in self.session.steps())
            if nothing and self._previous is not None:  # a fresh poem: Backspace brings the last one back
                self.action_bring_back()
                return
            self._do(lambda s: s.undo())

    def action_move(self, delta: int) -> None:
        if self.session is not None:
            self._do(lambda s: s.move(delta))

    def action_lock(self) -> None:
        """Lock or unlock the line under the cursor (a reroll keeps locked lines)."""
        if self._ready():
            session = self.session
            assert session is not None  # _ready() says so
            self.notify(session.toggle_lock(), title="Compose")
            self._publish()

    def action_reroll(self) -> None:
        """Sample the line under the cursor again (a causal model: that line and the rest, locks kept)."""
        if not self._ready():
            return
        self._stop_play()
        notice: list[str] = []

        def reroll(session) -> None:
            notice.append(session.reroll())

        if self._do(reroll) and notice:
            self.notify(notice[0], title="Compose")

    def write(self, text: str) -> bool:
        """Write characters a person typed (or an IME delivered) at the cursor; False if refused."""
        if not self._ready():
            return False
        self._stop_play()
        return self._do(lambda s: s.write(text), typed=True)

    def on_key(self, event) -> None:
        """Chinese characters typed into the poem area are written there (an IME sends them as keys)."""
        char = event.character
        if not char or len(char) != 1 or self.app.focused is not self.query_one("#poem-scroll"):
            return
        if "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" or char >= "\U00020000":
            event.stop()
            event.prevent_default()
            self.write(char)

    def on_paste(self, event) -> None:
        """Pasted text (or what some IMEs deliver as a paste) goes into the poem when the poem has focus."""
        if self.app.focused is not self.query_one("#poem-scroll"):
            return
        text = "".join(c for c in event.text if not c.isspace())
        if text:
            event.stop()
            self.write(text)

    def action_move_line(self, delta: int) -> None:
        if self.session is not None:
            self._do(lambda s: s.move_line(delta))

    def action_gates(self) -> None:
        """Show or hide what the network does at each character (causal models)."""
        if self.session is not None and self.session.filling:
            self.notify("the gate view reads left-to-right models (rnn, lstm, gru).", title="Compose")
            return
        self.show_gates = not self.show_gates
        self.notify(
            "gate view on (← → pick a character)." if self.show_gates else "gate view off.",
            title="Compose",
        )
        self._publish()

    def action_pin(self) -> None:
        """Ask which unit to colour the poem by (empty: none)."""

        def pinned(unit: str | None) -> None:
            if unit is None:
                return
            unit = unit.strip()
            if unit:
                from tangstudio.engine.models.gates import parse_unit

                try:
                    which, _layer, _index = parse_unit(unit)
                except ValueError as exc:
                    self._error(str(exc))
                    return
                if which == "c" and self.loaded is not None and self.loaded.meta.get("arch") != "lstm":
                    self._error("only an LSTM has a cell state c; pin an h unit, e.g. h0:5")
                    return
            self.pinned = unit or None
            self._publish()

        self.app.push_screen(UnitPrompt(self.pinned or ""), pinned)

    def _traced_view(self, session) -> tuple:
        """(gates per character, gate names, pinned values) for the poem view; computed off the UI thread."""
        if session.filling or not (self.show_gates or self.pinned) or not session.text or self.loaded is None:
            return None, (), None
        if self._play_timer is not None:
            return None, (), None
        key = (id(self.loaded), session.settings.form, session.text)
        if key != self._trace_key:
            self._trace_key = key
            self._trace = None
            self._read_gates(key, session.text, session.settings.form)
            return None, (), None
        found = self._trace
        if found is None:
            return None, (), None
        gates = tuple(tuple(tuple(layer) for layer in per) for per in found.values[0, 1:].tolist())
        pin = None
        if self.pinned:
            from tangstudio.engine.models.gates import unit_series

            try:
                pin = tuple(unit_series(found, self.pinned))
            except ValueError as exc:
                self.pinned = None
                self.notify(str(exc), title="Compose", severity="error")
        return (gates if self.show_gates else None), found.names, pin

    @work(thread=True, exclusive=True, group="compose-gates")
    def _read_gates(self, key: tuple, text: str, form: str) -> None:
        from tangstudio.engine.models.gates import poem_trace

        try:
            found = poem_trace(self.loaded, text, form)
        except Exception as exc:  # a model whose gates cannot be read: say so once, keep composing
            self.app.call_from_thread(self._error, f"could not read the gates: {exc}")
            return
        self.app.call_from_thread(self._gates_read, key, found)

    def _gates_read(self, key: tuple, found) -> None:
        if key == self._trace_key:
            self._trace = found
            self._publish()

    def action_play(self) -> None:
        if self._play_timer is not None:
            self._stop_play()
            return
        if not self._ready():
            return
        continuous = [False]

        def play(session) -> None:
            continuous[0] = session.play()

        if self._do(play) and continuous[0]:
            self._play_timer = self.set_interval(PLAY_INTERVAL_S, self._play_tick)

    def _play_tick(self) -> None:
        if self.session is None or self.session.done or not self.action_step():
            self._stop_play()

    def _stop_play(self) -> None:
        if self._play_timer is not None:
            self._play_timer.stop()
            self._play_timer = None
            if self.show_gates or self.pinned:
                self._publish()  # the gates wait for the end of play (a trace per character is wasted)

    # What the widgets show -------------------------------------------------------------------

    def _show(self, message: str) -> None:
        """No poem to show: a message in the panel, an empty poem and the status line."""
        self.panel = PanelState(message=message)
        self.poem = PoemState(form=self._form())
        self.status = self._status_line()

    def _form(self) -> str:
        return str(self.query_one("#cp-form", Select).value)

    def _publish(self) -> None:
        """Hand the session's state to the reactives the widgets are bound to."""
        session = self.session
        if session is None:
            return
        done = session.done or session.filling  # a grid shows no "next character" cursor
        gates, names, pin = self._traced_view(session)
        self.poem = PoemState(
            tuple(session.text),
            tuple(session.probs()),
            self._form(),
            self.script,
            done,
            session.selected,
            gates=gates,
            gate_names=names,
            pin=pin,
            pin_label=self.pinned or "",
            locked=tuple(sorted(session.locked)),
        )
        notes = self._gate_notes(session, gates, names) if gates else ()
        if session.typed is not None:
            j = session.typed
            notes = (
                (f"\nyou typed {j.char}", "bold"),
                (f"p {j.model_prob:.2%} · {j.surprisal_bits:.1f} bits · rank {j.rank}", ""),
                ("fits 平仄 and rhyme ✓" if j.fits else f"✗ {j.reason}", "green" if j.fits else "bold red"),
                *notes,
            )
        step = session.panel()
        if step is None:
            self.panel = PanelState(None, (), None, None, message=None, notes=notes)
        else:
            self.panel = PanelState(
                step.position,
                tuple(step.candidates),
                step.chosen or None,
                None if session.filling else step.removed_mass,
                message=None,
                notes=notes,
                limit=5 if notes else 10,  # room for the notes at 80×24
            )
        self.status = self._status_line()

    def _gate_notes(self, session, gates: tuple, names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
        """The gate values of the character under the cursor (the last one when the cursor follows)."""
        at = session.selected if session.selected is not None else len(gates) - 1
        if not 0 <= at < len(gates):
            return ()
        lines = [(f"\ngates at {session.text[at]} (character {at + 1})", "bold")]
        for layer, values in enumerate(gates[at]):
            shown = "  ".join(
                f"{n} {v:.2f}".replace(" 0.", " .") if not n.startswith("‖") else f"{n} {v:.1f}"
                for n, v in zip(names, values)
            )
            lines.append((f"L{layer + 1} {shown}", ""))
        return tuple(lines)

    def _status_line(self) -> Text:
        parts: list[tuple[str, str]] = []
        if self.loaded is not None:
            parts.append((_model_label(self.model_target), "dim"))
        session = self.session
        chosen = [s for s in session.steps() if not s.forced] if session is not None else []
        if chosen:
            mean = sum(s.chosen_prob for s in chosen) / len(chosen)
            parts.append((f"{len(chosen)} chosen · mean p {mean:.2f}", "dim"))
        if session is not None and session.hint:
            parts.append((session.hint, "dim"))
        elif session is not None and session.done:
            parts.append(("complete: w save · c copy · n new", "bold green"))
            shared = self._longest_shared()
            if shared:
                parts.append((f"longest span shared with the corpus: {shared}", "dim"))
        if self._footer_wide is False:
            parts.append(("Space next · ⌫ undo · ? keys", "dim"))
        backoffs = session.backoffs if session is not None else []
        if backoffs:
            parts.append((f"relaxed: {backoffs[-1]}", "yellow"))
        status = Text()
        for i, (text, style) in enumerate(parts):
            if i:
                status.append(" · ", style="dim")
            status.append(text, style=style)
        return status

    def _longest_shared(self) -> str | None:
        if self.novelty is None or not self.poem_text():
            return None
        try:
            return self.novelty.longest_shared(self.poem_text()) or None
        except Exception:
            return None

    # Output ----------------------------------------------------------------------------------

    def action_save(self) -> None:
        text = self.poem_text()
        if not text or self.session is None:
            self.notify("nothing to save yet: Space writes the first character.", title="Compose")
            return
        from tangstudio.engine.errors import TangError
        from tangstudio.studio.composing import save_poem

        check = None
        try:
            from tangstudio.engine.prosody import check_poem

            check = check_poem(text, form="auto", script=self.script).to_dict()
        except TangError:
            check = None  # an unfinished poem has no verdict; save it anyway
        try:
            path = save_poem(
                text, self.steps(), self.session.settings, self.model_target or "", self.script, check
            )
        except OSError as exc:
            self.notify(f"could not save: {exc}", title="Compose", severity="error")
            return
        self.notify(f"saved to {path.with_suffix('.md')} (and .json beside it)", title="Poem saved")

    def action_screenshot(self) -> None:
        """Save the screen as SVG under `<home>/poems/` (Textual's save_screenshot)."""
        from datetime import datetime

        from tangstudio.engine import paths

        folder = paths.home() / "poems"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{datetime.now().strftime('%Y%m%d-%H%M%S')}-compose.svg"
            path = self.app.save_screenshot(name, str(folder))
        except OSError as exc:
            self.notify(f"could not save the screenshot: {exc}", title="Compose", severity="error")
            return
        self.notify(f"screenshot saved to {path}", title="Compose")

    def action_copy(self) -> None:
        text = self.poem_text()
        if not text:
            self.notify("nothing to copy yet.", title="Compose")
            return
        self.app.copy_to_clipboard(text)
        self.notify("poem copied to the clipboard.", title="Compose")


def _model_label(target: str | None) -> str:
    if not target:
        return ""
    from pathlib import Path

    path = Path(target)
    return "default model" if path.name == "default" else f"run {path.name}"
