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
from textual.widgets import Checkbox, Input, Label, Select, Static

from tangstudio.studio.composing import (
    FORMS,
    TONES,
    Step,
    as_step,
    default_model_available,
    is_causal,
    list_models,
)
from tangstudio.studio.panes.base import Pane
from tangstudio.studio.widgets.poem_view import PoemView
from tangstudio.studio.widgets.prob_bars import KEYS, ProbBars

__all__ = ["ComposePane", "default_model_available"]

PLAY_INTERVAL_S = 0.12  # a 七律 in about 8 s: fast enough to finish, slow enough to watch
EOS_MARK = "<eos>"
MASKED = "□"
NO_MODEL = (
    "No model yet. Train one: F2 (Model) → t, wait for its first checkpoint, then choose it "
    "here. Or open a run: tangstudio --run NAME."
)


class PoemScroll(VerticalScroll):
    """The poem area takes the focus, so Space, digits and Backspace reach the composer, not a field."""

    can_focus = True


class ComposePane(Pane):
    BINDINGS = [
        Binding("space", "step", "Next char"),
        *[Binding(key, f"pick({n})", f"Pick {key}", show=False) for n, key in enumerate(KEYS)],
        Binding("backspace", "undo", "Undo"),
        Binding("p", "play", "Play"),
        Binding("n", "new", "New"),
        Binding("w", "save", "Save"),
        Binding("c", "copy", "Copy"),
        Binding("left", "move(-1)", "←", show=False),
        Binding("right", "move(1)", "→", show=False),
        Binding("escape", "focus_poem", "Poem", show=False),
    ]

    def __init__(self, run: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.preferred_run = run  # `tangstudio --run NAME`: compose with that run's model when it has one
        self.loaded = None
        self.novelty = None
        self.model_target: str | None = None
        self.composer = None  # engine Composer (causal) or Filler (bilstm)
        self.selected = 0  # fill mode: the position the panel describes
        self.seed: int | None = None  # fixed by tests and snapshots; None samples differently each poem
        self.loading = False
        self._play_timer = None

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
                    allow_blank=True,
                    prompt="no model yet",
                    id="cp-model",
                    compact=True,
                )
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
            with PoemScroll(id="poem-scroll"):
                yield PoemView(id="poem")
            yield ProbBars(Text("loading …", style="dim"), id="candidates")
        yield Static(id="compose-status")

    def when_shown(self, first: bool) -> None:
        if first:
            self._load_selected()
        else:  # runs may have written checkpoints since
            self._refresh_models()

    def focus_first(self) -> None:
        self.query_one("#poem-scroll").focus()

    def action_focus_poem(self) -> None:
        self.focus_first()

    @property
    def filling(self) -> bool:
        return self.loaded is not None and not is_causal(self.loaded)

    # Settings and model ----------------------------------------------------------------------

    def _refresh_models(self) -> None:
        select = self.query_one("#cp-model", Select)
        models = list_models()
        current = select.value
        with self.prevent(Select.Changed):
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
    @on(Input.Submitted, "#cp-acrostic, #cp-prefix")
    def _shape_changed(self, event) -> None:
        """Form, acrostic and prefix shape the whole poem: start a new one."""
        event.stop()
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
        if self.composer is None or self.filling:
            self.action_new()
            self.focus_first()
            return
        from tangstudio.engine.errors import TangError

        try:
            new = self.settings()
        except TangError as exc:
            self._error(str(exc), "Compose settings")
            return
        for name in ("temperature", "top_k", "top_p", "rhyme", "tones"):
            setattr(self.composer.settings, name, getattr(new, name))
        self.notify("applies from the next character.", title="Compose")
        self.focus_first()

    def _load_selected(self) -> None:
        select = self.query_one("#cp-model", Select)
        self._stop_play()
        if select.is_blank():
            self.loaded, self.composer = None, None
            self.query_one("#candidates", ProbBars).clear(NO_MODEL)
            self._redraw()
            return
        self.query_one("#candidates", ProbBars).clear("loading the model …")
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
        self.loaded, self.composer = None, None
        self.query_one("#candidates", ProbBars).clear(message)
        self.notify(message, title="Compose", severity="error", timeout=10)
        self._redraw()

    def _loaded(self, target: str, loaded, novelty) -> None:
        self.loading = False
        self.loaded, self.novelty, self.model_target = loaded, novelty, target
        self.action_new()

    # Composing -------------------------------------------------------------------------------

    @property
    def script(self) -> str:
        vocab = getattr(self.loaded, "vocab", None)
        return str(
            getattr(vocab, "script", None)
            or (getattr(self.loaded, "meta", None) or {}).get("script", "simplified")
        )

    def _error(self, message: str, title: str = "Compose") -> None:
        self._stop_play()
        self.notify(message, title=title, severity="error", timeout=10)

    def action_new(self) -> None:
        self._stop_play()
        if self.loaded is None:
            self.notify(NO_MODEL, title="Compose", severity="warning", timeout=8)
            return
        from tangstudio.engine.errors import TangError
        from tangstudio.studio.composing import make_composer

        try:
            self.composer = make_composer(self.loaded, self.settings(), self.novelty)
        except TangError as exc:
            self.composer = None
            self.query_one("#candidates", ProbBars).clear(f"{exc}")
            self._error(f"{exc}", "Compose settings")
            self._redraw()
            return
        self.selected = self._free_positions()[0] if self.filling and self._free_positions() else 0
        self._redraw()

    def _ready(self) -> bool:
        if self.loading:
            self.notify("the model is still loading …", title="Compose")
            return False
        if self.composer is None:
            self.notify(
                NO_MODEL if self.loaded is None else "fix the settings, then n starts a poem",
                title="Compose",
                severity="warning",
                timeout=8,
            )
            return False
        return True

    def steps(self) -> list[Step]:
        """Every written position with its candidates and probability, in order."""
        if self.composer is None:
            return []
        if not self.filling:
            return [as_step(s) for s in self.composer.history]
        out = []
        for p, token_char in enumerate(self.composer.text):
            info = self.composer.info.get(p)
            if info is not None:
                out.append(as_step(info))
            elif token_char != MASKED:
                out.append(Step(p, [(token_char, 1.0)], 0.0, token_char, 1.0, forced=True))
        return out

    def _last_choice(self) -> int | None:
        """Index in the history of the last step a person or the sampler chose (not forced)."""
        history = self.composer.history
        for i in range(len(history) - 1, getattr(self.composer, "prefix_len", 0) - 1, -1):
            if not history[i].forced:
                return i
        return None

    def _follow_forced(self) -> None:
        """Write the characters the form forces (punctuation, acrostic) right after a choice."""
        while not self.composer.done:
            if not self.composer.preview().forced:
                return
            self.composer.choose()

    def action_step(self) -> bool:
        """Sample the next character (fill mode: every empty position); False when there is nothing to do."""
        if not self._ready():
            return False
        from tangstudio.engine.errors import TangError

        try:
            if self.filling:
                if self.composer.done:
                    self.notify(
                        "every position is filled: p refines them, ← → and 1–0 change one.", title="Compose"
                    )
                    return False
                self.composer.sample()
            else:
                if self.composer.done:
                    self._stop_play()
                    self.notify(
                        "the poem is complete: w saves it, c copies it, n starts another.", title="Compose"
                    )
                    return False
                self.composer.step()
                self._follow_forced()
        except TangError as exc:
            self._error(str(exc))
            return False
        self._redraw()
        return True

    def action_pick(self, index: int) -> None:
        if not self._ready():
            return
        from tangstudio.engine.errors import TangError

        try:
            if self.filling:
                candidates = self.composer.candidates(self.selected)
                if index < len(candidates):
                    self.composer.set(self.selected, candidates[index][0])
                    self._remember_fill(self.selected, candidates, index)
                self._redraw()
                return
            last = self._last_choice()
            if last is None:
                self.notify("press Space first: then 1–0 replace the sampled character.", title="Compose")
                return
            candidates = self.composer.history[last].candidates
            if index >= len(candidates):
                return
            self.composer.undo(len(self.composer.history) - last)
            self.composer.choose(candidates[index][0])
            self._follow_forced()
        except TangError as exc:
            self._error(str(exc))
        self._redraw()

    def _remember_fill(self, position: int, candidates: list, index: int) -> None:
        """A fill position set by hand keeps the probability it had among its candidates."""
        from tangstudio.engine.compose import StepInfo

        char, prob = candidates[index]
        self.composer.info[position] = StepInfo(position, list(candidates), 0.0, char, float(prob))

    def action_undo(self) -> None:
        if not self._ready():
            return
        self._stop_play()
        if self.filling:
            self.composer.unset(self.selected)
            self.composer.info.pop(self.selected, None)
        else:
            last = self._last_choice()
            if last is None:
                return
            self.composer.undo(len(self.composer.history) - last)
        self._redraw()

    def action_move(self, delta: int) -> None:
        if not self.filling or self.composer is None:
            return
        free = self._free_positions()
        if not free:
            return
        here = free.index(self.selected) if self.selected in free else 0
        self.selected = free[(here + delta) % len(free)]
        self._redraw()

    def _free_positions(self) -> list[int]:
        return list(self.composer.free_positions()) if self.filling and self.composer is not None else []

    def action_play(self) -> None:
        if self._play_timer is not None:
            self._stop_play()
            return
        if not self._ready():
            return
        if self.filling:
            from tangstudio.engine.errors import TangError

            try:
                self.composer.refine(2)
            except TangError as exc:
                self._error(str(exc))
            self._redraw()
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
        done = bool(self.composer is not None and self.composer.done)
        form = str(self.query_one("#cp-form", Select).value)
        bars = self.query_one("#candidates", ProbBars)
        if self.filling and self.composer is not None:
            probs = []
            for p, char in enumerate(text):
                info = self.composer.info.get(p)
                probs.append(info.chosen_prob if info is not None else (None if char == MASKED else 1.0))
            self.query_one(PoemView).show_poem(
                list(text), probs, form, self.script, done=True, selected=self.selected
            )
            try:
                candidates = self.composer.candidates(self.selected)
            except Exception:
                candidates = []
            current = text[self.selected] if self.selected < len(text) else None
            bars.show_step(self.selected, candidates, current, None)
        else:
            steps = self.steps()
            probs = [s.chosen_prob for s in steps if s.chosen != EOS_MARK]
            self.query_one(PoemView).show_poem(list(text), probs, form, self.script, done=done)
            if self.composer is not None:
                last = self._last_choice()
                if last is not None:
                    s = steps[last]
                    bars.show_step(s.position, s.candidates, s.chosen, s.removed_mass)
                else:
                    bars.show_step(None, [], None)
        self._status(done)

    def _status(self, done: bool) -> None:
        parts: list[tuple[str, str]] = []
        if self.loaded is not None:
            parts.append((_model_label(self.model_target), "dim"))
        steps = [s for s in self.steps() if not s.forced]
        if steps:
            mean = sum(s.chosen_prob for s in steps) / len(steps)
            parts.append((f"{len(steps)} chosen · mean p {mean:.2f}", "dim"))
        if self.filling:
            parts.append(("fill mode: ← → select · 1–0 set · Space fill · p refine", "dim"))
        elif done:
            parts.append(("complete: w save · c copy · n new", "bold green"))
            shared = self._longest_shared()
            if shared:
                parts.append((f"longest span shared with the corpus: {shared}", "dim"))
        backoffs = getattr(self.composer, "backoffs", None) if self.composer is not None else None
        if backoffs:
            parts.append((f"relaxed: {backoffs[-1]}", "yellow"))
        status = Text()
        for i, (text, style) in enumerate(parts):
            if i:
                status.append(" · ", style="dim")
            status.append(text, style=style)
        self.query_one("#compose-status", Static).update(status)

    def _longest_shared(self) -> str | None:
        if self.novelty is None or not self.poem_text():
            return None
        try:
            return self.novelty.longest_shared(self.poem_text()) or None
        except Exception:
            return None

    def action_save(self) -> None:
        text = self.poem_text()
        if not text:
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
                text, self.steps(), self.composer.settings, self.model_target or "", self.script, check
            )
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
