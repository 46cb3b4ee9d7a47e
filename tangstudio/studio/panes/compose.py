"""Compose pane: write a poem one character at a time and watch every choice.

Space samples the next character and the panel beside the poem shows the ten best candidates of
that step (the sampled one highlighted) and how much probability the constraints removed; a number
key takes another candidate instead, Backspace undoes, `p` plays the rest at a visible pace. Each
character keeps the tint of the probability it had; under each line its 平仄 and rhyme group.
Loading the model (torch) runs in a worker; steps are milliseconds and run on the UI thread.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, Input, Label, Select, Static

from tangstudio.studio.composing import (
    FORMS, TONES, ComposeSettings, Step, as_step, composer_available, default_model_available, list_models,
)
from tangstudio.studio.panes.base import Pane
from tangstudio.studio.widgets.poem_view import PoemView
from tangstudio.studio.widgets.prob_bars import KEYS, ProbBars

__all__ = ["ComposePane", "default_model_available"]

PLAY_INTERVAL_S = 0.12  # fast enough to finish a 七律 in ~8 s, slow enough to watch it happen
NO_MODEL = ("No model yet. Train one: F2 (Model) → t, wait for a checkpoint, then choose it here. "
            "Or open a run: tangstudio --run NAME.")


class ComposePane(Pane):
    BINDINGS = [
        Binding("space", "step", "Next char"),
        *[Binding(key, f"pick({n})", f"Pick {key}", show=False) for n, key in enumerate(KEYS)],
        Binding("backspace", "undo", "Undo"),
        Binding("p", "play", "Play"),
        Binding("n", "new", "New"),
        Binding("w", "save", "Save"),
        Binding("c", "copy", "Copy"),
        Binding("escape", "focus_poem", "Poem", show=False),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.loaded = None
        self.model_target: str | None = None
        self.composer = None
        self.history: list[Step] = []
        self._play_timer = None

    def compose(self) -> ComposeResult:
        models = list_models()
        with Vertical(id="compose-settings"):
            with Horizontal(classes="settings-row"):
                yield Label("model", classes="field-label")
                yield Select(models, value=models[0][1] if models else Select.NULL, allow_blank=True,
                             prompt="no model yet", id="cp-model", compact=True)
                yield Label("form", classes="field-label")
                yield Select(FORMS, value="qijue", allow_blank=False, id="cp-form", compact=True)
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
        with Horizontal(id="compose-main"):
            with VerticalScroll(id="poem-scroll"):
                yield PoemView(id="poem")
            yield ProbBars(id="candidates")
        yield Static(id="compose-status")

    def on_mount(self) -> None:
        self.query_one("#poem-scroll").can_focus = True
        self.query_one("#candidates", ProbBars).clear("loading …")

    def when_shown(self, first: bool) -> None:
        if first:
            self._load_selected()
        else:  # runs may have produced checkpoints since
            self._refresh_models()
        self.query_one("#poem-scroll").focus()

    def focus_first(self) -> None:
        self.query_one("#poem-scroll").focus()

    def action_focus_poem(self) -> None:
        self.query_one("#poem-scroll").focus()

    # Settings and model ----------------------------------------------------------------------

    def _refresh_models(self) -> None:
        select = self.query_one("#cp-model", Select)
        models = list_models()
        current = select.value
        with self.prevent(Select.Changed):
            select.set_options(models)
            if any(target == current for _, target in models):
                select.value = current
        if self.loaded is None and models and select.is_blank():
            select.value = models[0][1]

    def settings(self) -> tuple[ComposeSettings, list[str]]:
        problems = []
        values = {}
        for name, cast, low, high in (("temperature", float, 0.01, 5.0), ("top_k", int, 0, 100_000), ("top_p", float, 0.0, 1.0)):
            raw = self.query_one(f"#cp-{name}", Input).value.strip()
            try:
                value = cast(raw)
                if not low <= value <= high:
                    raise ValueError
                values[name] = value
            except ValueError:
                problems.append(f"{name.replace('_', '-')} must be a number from {low} to {high}")
        settings = ComposeSettings(
            form=str(self.query_one("#cp-form", Select).value),
            acrostic=self.query_one("#cp-acrostic", Input).value.strip(),
            prefix=self.query_one("#cp-prefix", Input).value.strip(),
            rhyme=self.query_one("#cp-rhyme", Checkbox).value,
            tones=str(self.query_one("#cp-tones", Select).value), **values)
        return settings, problems

    @on(Select.Changed, "#cp-model")
    def _model_changed(self, event: Select.Changed) -> None:
        event.stop()
        if self._seen:
            self._load_selected()

    @on(Select.Changed, "#cp-form, #cp-tones")
    @on(Checkbox.Changed)
    @on(Input.Submitted)
    def _settings_changed(self, event) -> None:
        event.stop()
        if self.loaded is not None:
            self.action_new()
            self.query_one("#poem-scroll").focus()

    def _load_selected(self) -> None:
        select = self.query_one("#cp-model", Select)
        if select.is_blank():
            self.loaded, self.composer = None, None
            self.query_one("#candidates", ProbBars).clear(NO_MODEL)
            self._redraw()
            return
        self.query_one("#candidates", ProbBars).clear("loading the model …")
        self._load(str(select.value))

    @work(thread=True, exclusive=True, group="compose-load")
    def _load(self, target: str) -> None:
        from tangstudio.engine.errors import TangError
        from tangstudio.studio.composing import load_model

        try:
            loaded = load_model(target)
        except TangError as exc:
            self.app.call_from_thread(self._load_failed, f"{exc} — choose another model, or train one (F2 → t).")
            return
        except Exception as exc:  # noqa: BLE001 — a corrupt checkpoint must not take the studio down
            self.app.call_from_thread(self._load_failed, f"could not load {target}: {exc}")
            return
        self.app.call_from_thread(self._loaded, target, loaded)

    def _load_failed(self, message: str) -> None:
        self.loaded, self.composer = None, None
        self.query_one("#candidates", ProbBars).clear(message)
        self.notify(message, title="Compose", severity="error", timeout=10)
        self._redraw()

    def _loaded(self, target: str, loaded) -> None:
        self.loaded, self.model_target = loaded, target
        self.action_new()

    # Composing -------------------------------------------------------------------------------

    @property
    def script(self) -> str:
        meta = getattr(self.loaded, "meta", None) or {}
        return str(meta.get("script", "simplified"))

    def action_new(self) -> None:
        self._stop_play()
        if self.loaded is None:
            self.notify(NO_MODEL, title="Compose", severity="warning", timeout=8)
            return
        if not composer_available():
            self.composer = None
            self.query_one("#candidates", ProbBars).clear("The composer engine is not installed in this build yet.")
            return
        settings, problems = self.settings()
        if problems:
            self.notify("; ".join(problems), title="Compose", severity="error")
            return
        from tangstudio.engine.errors import TangError
        from tangstudio.studio.composing import make_composer

        try:
            self.composer = make_composer(self.loaded, settings)
        except TangError as exc:
            self.composer = None
            self.notify(f"{exc}", title="Compose settings", severity="error", timeout=10)
            return
        self.history = []
        self.query_one("#candidates", ProbBars).show_step(None, [], None)
        self._redraw()

    def _ready(self) -> bool:
        if self.composer is None:
            self.notify(NO_MODEL if self.loaded is None else "press n for a new poem", title="Compose",
                        severity="warning", timeout=8)
            return False
        return True

    def action_step(self) -> bool:
        """Sample the next character; False when the poem is complete or the step failed."""
        if not self._ready():
            return False
        if self.composer.done:
            self._stop_play()
            self.notify("the poem is complete: w saves it, c copies it, n starts another.", title="Compose")
            return False
        from tangstudio.engine.errors import TangError

        try:
            info = as_step(self.composer.step())
        except TangError as exc:
            self._stop_play()
            self.notify(str(exc), title="Compose", severity="error", timeout=10)
            return False
        self.history.append(info)
        self._redraw()
        return True

    def action_pick(self, index: int) -> None:
        if not self._ready():
            return
        if not self.history:
            self.notify("press Space first: then 1–0 replace the sampled character.", title="Compose")
            return
        last = self.history[-1]
        if index >= len(last.candidates):
            return
        char, prob = last.candidates[index]
        from tangstudio.engine.errors import TangError

        try:
            self.composer.undo(1)
            info = self.composer.choose(char)
        except TangError as exc:
            self.notify(str(exc), title="Compose", severity="error")
            return
        self.history[-1] = as_step(info) if info is not None else Step(last.position, last.candidates,
                                                                        last.removed_mass, char, prob)
        self._redraw()

    def action_undo(self) -> None:
        if not self._ready() or not self.history:
            return
        self._stop_play()
        self.composer.undo(1)
        self.history.pop()
        self._redraw()

    def action_play(self) -> None:
        if self._play_timer is not None:
            self._stop_play()
            return
        if not self._ready():
            return
        self._play_timer = self.set_interval(PLAY_INTERVAL_S, self._play_tick)

    def _play_tick(self) -> None:
        if self.composer is None or self.composer.done or not self.action_step():
            self._stop_play()

    def _stop_play(self) -> None:
        if self._play_timer is not None:
            self._play_timer.stop()
            self._play_timer = None

    # Output ----------------------------------------------------------------------------------

    def poem_text(self) -> str:
        return str(self.composer.text) if self.composer is not None else ""

    def _redraw(self) -> None:
        text = self.poem_text()
        chars = list(text)
        picked = [s for s in self.history if s.chosen in text and len(s.chosen) == 1]
        probs: list[float | None] = [None] * max(0, len(chars) - len(picked)) + [s.chosen_prob for s in picked][-len(chars):]
        settings, _ = self.settings()
        done = bool(self.composer is not None and self.composer.done)
        self.query_one(PoemView).show_poem(chars, probs, settings.form, self.script, done=done)
        if self.history:
            last = self.history[-1]
            self.query_one("#candidates", ProbBars).show_step(last.position, last.candidates, last.chosen, last.removed_mass)
        status = Text()
        if self.loaded is not None:
            status.append(f"{_model_label(self.model_target)} · ", style="dim")
        if self.history:
            mean = sum(s.chosen_prob for s in self.history) / len(self.history)
            status.append(f"{len(self.history)} steps · mean p {mean:.2f}", style="dim")
        if done:
            status.append(" · complete: w save · c copy · n new", style="bold green")
        self.query_one("#compose-status", Static).update(status)

    def action_save(self) -> None:
        text = self.poem_text()
        if not text:
            self.notify("nothing to save yet: Space writes the first character.", title="Compose")
            return
        from tangstudio.studio.composing import save_poem

        settings, _ = self.settings()
        check = None
        try:
            from tangstudio.engine.prosody import check_poem

            check = check_poem(text, form="auto", script=self.script).to_dict()
        except Exception:  # noqa: BLE001 — an unfinished poem has no verdict; save it anyway
            check = None
        try:
            path = save_poem(text, self.history, settings, self.model_target or "", self.script, check)
        except OSError as exc:
            self.notify(f"could not save: {exc}", title="Compose", severity="error")
            return
        self.notify(f"saved to {path}", title="Poem saved")

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
