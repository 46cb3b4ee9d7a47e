"""Compose pane: write a poem one character at a time and watch every choice.

Space samples the next character and the panel beside the poem shows the ten best candidates of
that step (the sampled one highlighted) and how much probability the constraints removed; a number
key takes another candidate instead, Backspace undoes, `p` plays the rest at a visible pace
(each line the best of its drafts, as `generate` writes it; `b` lists whole drafts to take).
Punctuation, acrostic and prefix characters are forced by the form and follow on their own.
Each character keeps the tint of the probability it had; under each line its 平仄 and rhyme group.

BiLSTM models fill instead: ← → select a position, the panel shows its candidates given both
sides, a number key sets it, Space fills every empty position, `p` refines them all.
Loading the model and drawing `b`'s drafts run in workers; a step is milliseconds and runs on the
UI thread (drafting a line at `p`, tens of milliseconds).

This module is the pane: keys become calls on a `Session` (sessions.py), and what they changed is
published to three reactives (`poem`, `panel`, `status`) that the widgets are bound to. The rest
lives beside it: the fields (settings_bar.py), the side panel (panel.py), the status line
(status.py), the gate view (gates.py), the swapped-out poem (previous.py), and output (export.py).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import var
from textual.widgets import Checkbox, Input, Select

from tangstudio.studio.panes.base import Pane
from tangstudio.studio.panes.compose import drafts, export
from tangstudio.studio.panes.compose.gates import GateLens
from tangstudio.studio.panes.compose.loading import load_in_background
from tangstudio.studio.panes.compose.panel import gloss_tones, group_listing, panel_state
from tangstudio.studio.panes.compose.plan_keys import PlanDesk
from tangstudio.studio.panes.compose.playback import Player
from tangstudio.studio.panes.compose.poem_area import PoemScroll
from tangstudio.studio.panes.compose.previous import Kept, worth_keeping
from tangstudio.studio.panes.compose.readout import PoemReadout
from tangstudio.studio.panes.compose.settings_bar import SettingsBar, UnknownGroup
from tangstudio.studio.panes.compose.status import (
    FOOTER_ROOM,
    StatusLine,
    longest_shared,
    show_keys,
    status_text,
)
from tangstudio.studio.sessions import COMPLETE, Session
from tangstudio.studio.widgets.poem_view import PoemState, PoemView
from tangstudio.studio.widgets.prob_bars import KEYS, PanelState, ProbBars

NO_MODEL = (
    "No model yet. Train one: F2 (Model) → t, wait for its first checkpoint, then choose it "
    "here. Or open a run: tangstudio --run NAME."
)


class ComposePane(PoemReadout, Pane):
    """Settings on top, the poem and its candidates below; the writing itself is a Session's."""

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
        Binding("k", "new_keyword", "New keyword", show=False),
        Binding("b", "best_of", "Best of K", show=False),
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
        self.loaded: Any = None  # the engine's loaded model (numpy FastLoaded, or torch)
        self.novelty: Any = None  # its corpus index (novelty.BackgroundIndex)
        self.model_target: str | None = None
        self.session: Session | None = None
        self.previous: Kept | None = None  # the poem a new one replaced: `u` brings it back
        self._session_target: str | None = None  # the model the current poem is written with
        self.seed: int | None = None  # fixed by tests and snapshots; None samples differently each poem
        self.loading = False
        self._loads = 0  # loads asked: only the last one's model is taken (loaded_model)
        self.player = Player(self, self._play_step, self._play_stopped)  # `p`
        self._footer_wide: bool | None = None
        self.lens = GateLens(self)  # `g` and `#`: the gate view and the pinned unit
        self.plan_desk = PlanDesk(self)  # 题, 纲 and `k`: the poem's title and plan
        self.drafts: drafts.Drafts | None = None  # `b`: best-of-K drafts shown in the panel
        self._drafts_shown = 0  # how many of them fit the panel: the keys that take one
        self._kept_texts: set[str] = set()  # poems as saved or copied: quitting loses none of them
        self._saved_to: dict[str, Path] = {}  # each poem saved, and where
        self.kept_count = 0  # saves and copies so far (Ctrl+Q asks again after one)
        self._drawing = 0  # which `b` the drafts being drawn answer (a key that goes on moves it on)
        self._drafts_busy = False  # drafts are being drawn: the panel says so until they come
        # The shaping fields (bar.shape()) as the current poem began, and the last change told about:
        # typed fields apply at Enter or `n`, so Space, `p` and 1–0 check them first (fields_first).
        self.begun_with: tuple[str, ...] | None = None
        self._told: tuple[str, ...] | None = None
        self._told_sampling: tuple[str, ...] = ()  # sampling fields typed without Enter, told once
        self._title_told: str | None = None  # the long title last said to be cut (once per title)
        self._converted_told = ""  # the last "read in the model's script" note (once per note)
        # Poems with characters written while the rhyme was off, and each poem's text as last shown.
        self._unrhymed: weakref.WeakKeyDictionary[Session, int] = weakref.WeakKeyDictionary()
        self._published: weakref.WeakKeyDictionary[Session, str] = weakref.WeakKeyDictionary()

    def compose(self) -> ComposeResult:
        yield SettingsBar(self.preferred_run, id="compose-settings")
        with Horizontal(id="compose-main"):  # best-of-K drafts show in the side panel (drafts.py)
            with PoemScroll(id="poem-scroll"):
                yield PoemView(id="poem").data_bind(state=ComposePane.poem)
            yield ProbBars(id="candidates").data_bind(panel=ComposePane.panel)
        yield StatusLine(id="compose-status").data_bind(line=ComposePane.status)

    @property
    def bar(self) -> SettingsBar:
        return self.query_one(SettingsBar)

    def on_resize(self) -> None:
        self._fit_footer()
        if self.drafts is not None:  # the keys take what fits the panel now
            self.call_after_refresh(self._show_drafts)

    def _fit_footer(self) -> None:
        wide = self.app.size.width >= FOOTER_ROOM
        if wide != self._footer_wide:
            self._footer_wide = wide
            show_keys(self, self.BINDINGS, wide)

    def when_shown(self, first: bool) -> None:
        if first:
            self._load_selected()
        else:  # runs may have written checkpoints since
            self.bar.refresh_models(may_choose=self.loaded is None and not self.loading)

    def focus_first(self) -> None:
        self.query_one("#poem-scroll").focus()

    def action_focus_poem(self) -> None:
        self.focus_first()

    def settings(self, entered: str | None = None):
        """The engine's ComposeSettings from the fields (raises TangError with the bad field);
        `entered`: the field Enter was pressed in, checked first (SettingsBar.read)."""
        return self.bar.read(self.seed, entered)

    # Settings and model ----------------------------------------------------------------------

    @on(Select.Changed, "#cp-model")
    def _model_changed(self, event: Select.Changed) -> None:
        event.stop()
        if self._seen:
            self._load_selected()

    @on(Select.Changed, "#cp-form")
    @on(
        Input.Submitted,
        "#cp-acrostic, #cp-prefix, #cp-theme, #cp-primer, #cp-title, #cp-plan, #cp-rhyme_group",
    )
    def _shape_changed(self, event: Message) -> None:
        """Form, acrostic, prefix, theme, primer and 韵 shape the whole poem: start a new one (题 and 纲: PlanDesk)."""
        event.stop()
        if isinstance(event, Input.Submitted) and event.input.id in ("cp-title", "cp-plan"):
            return self.plan_desk.submitted(str(event.input.id))
        self.bar.show_form()
        if self.loaded is not None and self.action_new(_entered(event)):
            self.focus_first()  # refused, the focus stays in the field to mend (10–15 Tabs away)

    @on(Select.Changed, "#cp-tones")
    @on(Checkbox.Changed)
    @on(Input.Submitted, "#cp-temperature, #cp-top_k, #cp-top_p, #cp-line_drafts")
    def _sampling_changed(self, event: Message) -> None:
        """Sampling knobs and the rhyme/tone switches apply from the next character, mid-poem."""
        event.stop()
        if self.loaded is None:  # also the widgets' own Changed messages while mounting
            return
        if self.session is None or self.session.filling:
            if self.action_new(_entered(event)):
                self.focus_first()
            return
        from tangstudio.engine.errors import TangError

        try:
            self.session.apply_sampling(self.settings(_entered(event)))
        except TangError as exc:
            self.refused(exc)
            return
        self.notify(f"{_applied(event)}applies from the next character.", title="Compose")
        self.publish(went_on=False)  # the verdict says whether the rhyme is on (drafts shown stay)
        self.focus_first()

    def _load_selected(self) -> None:
        self.player.stop()
        target = self.bar.model
        if target is None:
            self.loaded, self.session = None, None
            return self._show(NO_MODEL)
        self._show("loading the model …")
        self.loading, self._loads = True, self._loads + 1
        load_in_background(self, target, self._loads)

    def load_failed(self, load: int, message: str) -> None:
        if load != self._loads:  # another model chosen, or a kept poem brought back, since: see loaded_model
            return
        self.loading = False
        self.loaded, self.session = None, None
        self.notify(message, title="Compose", severity="error", timeout=10)
        self._show(message)

    def loaded_model(self, load: int, target: str, loaded: Any, novelty: Any) -> None:
        """`load`: which load this is. A thread worker runs on when replaced: a model that arrived after
        another was chosen, or after `u` brought back a kept poem, took the pane (a review)."""
        if load != self._loads:
            return
        self.loading = False
        self.loaded, self.novelty, self.model_target = loaded, novelty, target
        self.bar.script = self.script
        self.bar.show_form()
        self.action_new()

    # Composing -------------------------------------------------------------------------------

    def error(self, message: str, title: str = "Compose") -> None:
        """A refusal or failure: stop playing and say it (one line, as the CLI would)."""
        self.player.stop()
        self.notify(gloss_tones(message), title=title, severity="error", timeout=10)

    def refused(self, exc: Exception, title: str = "Compose settings") -> None:
        """A setting refused: the error, and for a 韵 that names no group, the groups in the panel."""
        self.error(str(exc), title)
        if isinstance(exc, UnknownGroup):
            self.drafts, self._drafts_busy = None, False  # the panel shows them no more: keys take none
            self._drawing += 1
            self.panel = PanelState(message=group_listing(exc.asked, self.script))

    def action_new(self, entered: str | None = None) -> bool:
        """A new poem with the fields as they are; False when there is none (no model, or a
        setting refused: the poem in progress stays, and the error says which field). `entered`:
        the field whose Enter asked for it, checked first."""
        self.player.stop()
        if self.loaded is None:
            self.notify(NO_MODEL, title="Compose", severity="warning", timeout=8)
            return False
        from tangstudio.engine.errors import TangError
        from tangstudio.studio.sessions import make_session

        try:
            settings = self._readable(self.settings(entered))
            session = make_session(self.loaded, settings, self.novelty)
        except TangError as exc:  # a refused setting leaves the poem in progress as it was
            if self.session is None:
                self._show(f"{exc}")
            self.refused(exc)
            return False
        self._keep_previous()
        self.session = session
        self._session_target = self.model_target
        self.plan_desk.show()
        self.remember_fields()
        self.publish()
        return True

    def _readable(self, asked: Any) -> Any:
        """The settings as this model reads them, and said: rows it cannot read set aside (a
        warning), typed fields read in its script (once per note: it came with every `n`)."""
        from tangstudio.engine.compose.settings import in_model_script
        from tangstudio.studio.composing import readable_settings

        settings, set_aside = readable_settings(self.loaded, asked)
        settings, converted = in_model_script(settings, self.loaded.vocab)
        if set_aside:
            self.notify(set_aside, title="Compose", severity="warning", timeout=8)
        if converted and converted != self._converted_told:
            self.notify(converted, title="Compose", timeout=8)
        self._converted_told = converted
        self._tell_title_cut(settings)
        return settings

    def _tell_title_cut(self, settings: Any) -> None:
        """A title longer than the model reads is cut to its start: say so, once per title typed
        (the CLI prints the same engine note), so the end of a long 题 never vanishes silently."""
        from tangstudio.engine.compose.notes import title_note

        note = title_note(settings)
        if note and settings.title != self._title_told:
            self.notify(note, title="Compose", timeout=8)
        self._title_told = settings.title if note else None

    def remember_fields(self) -> None:
        """The current poem now goes with the fields as they are (a new poem, a plan taken mid-poem)."""
        self.begun_with, self._told = self.bar.shape(), None

    def fields_first(self) -> bool:
        """Fields typed without Enter since this poem began: a poem with nothing written yet starts
        again with them (as `n` would), one under way is left alone and the person told once.
        False when the new poem was refused (the error is shown; the key does nothing)."""
        if self.session is None or self.loading or self.loaded is None:
            return True
        typed = self.bar.sampling_not_in_effect(self.session.settings)
        if typed and tuple(typed) != self._told_sampling:
            from tangstudio.engine.errors import TangError

            self._told_sampling = tuple(typed)
            try:  # a value Enter already refused: say why again, not "Enter applies it" (a TUI review)
                self.settings()
                how = "Enter in a field applies it."
            except TangError as exc:
                how = f"not applied: {exc}"
            self.notify(f"{', '.join(typed)}: {how}", title="Compose")
        now = self.bar.shape()
        if now == self.begun_with:
            return True
        if not worth_keeping(self.session):
            return self.action_new()
        if now != self._told:
            self._told = now
            self.notify("the fields changed since this poem began: n starts one with them.", title="Compose")
        return True

    def _keep_previous(self) -> None:
        """Keep the poem being replaced (if anything was chosen in it) so `u` can bring it back."""
        if not worth_keeping(self.session):
            return
        assert self.session is not None  # worth_keeping says so
        # The old poem's own model: when a new model has just loaded, self.loaded is already the new one.
        self.previous = Kept(self.session, self._session_target, self.begun_with)
        self.notify("the previous poem is kept: u brings it back.", title="Compose")

    def action_bring_back(self) -> None:
        """Swap the current poem with the one the last new poem replaced (form and model included)."""
        kept = self.previous
        if kept is None:
            self.notify("no earlier poem to bring back.", title="Compose")
            return
        self.player.stop()
        self.loading, self._loads = False, self._loads + 1  # a model still loading is dropped on arrival
        current = self.session
        self.previous = Kept(current, self._session_target, self.begun_with) if current is not None else None
        self.session, self.loaded, self.novelty = kept.session, kept.loaded, kept.novelty
        self.model_target = self._session_target = kept.target
        self.bar.script = self.script
        if kept.fields is not None:  # its form, 题, 纲 and the rest as typed, not the replacing poem's
            self.bar.show_fields(kept.fields)
        self.plan_desk.show()
        self.bar.select_model(kept.target)
        self.remember_fields()
        self.publish()

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

    def _do(self, change: Callable[[Session], str | None], typed: bool = False) -> bool:
        """Run one change on the session; a message it returns is shown, a TangError too. True: done."""
        from tangstudio.engine.errors import TangError

        session = self.session
        assert session is not None  # every caller checked
        if not typed:
            session.clear_marks()
        try:
            message = change(session)
        except TangError as exc:
            self.error(str(exc))
            self.publish()
            return False
        if message:
            self.player.stop()
            self.notify(message, title="Compose")
            return False
        self.publish()
        return True

    def action_step(self) -> bool:
        """Sample the next character (fill mode: every empty position); False when there is nothing to do."""
        return self._ready() and self.fields_first() and self._do(lambda s: s.advance())

    def action_pick(self, index: int) -> None:
        if self.drafts is not None:  # the panel lists best-of-K drafts: the key takes one
            self._take_draft(index)
            return
        shown = self.query_one(ProbBars).shown
        if (
            self.session is not None
            and not self.session.filling
            and self.panel.message is None
            and 0 < shown <= index
        ):
            # `8` took 岭 while five were listed, the notes below them (a review)
            self.notify(
                f"candidate {KEYS[index]} is not shown (the notes took its row): 1–{KEYS[shown - 1]} are",
                title="Compose",
                severity="warning",
            )
            return
        if self._ready() and self.fields_first():
            self._do(lambda s: s.pick(index))

    def action_best_of(self) -> None:
        """K drafts with these settings, ranked by the critic, in the panel (drafts.py). Drawn in a
        worker thread: 5 drafts of a 七律, each line the best of its drafts, take about 1.4 s."""
        from tangstudio.engine.errors import TangError

        if self.loaded is None or self.loading:
            self._ready()
            return
        try:
            settings = self._readable(self.settings())
        except TangError as exc:
            self.refused(exc, "Compose")
            return
        loaded, novelty = self.loaded, self.novelty
        self.player.stop()  # `b` during `p`: the drafts, not the next tick, answer it
        self.drafts = None
        self.panel = PanelState(message=f"drawing {drafts.STUDIO_K} drafts …")
        self._drawing += 1  # a key that goes on with the poem moves it on: later drafts are dropped
        self._drafts_busy = True
        drawing = self._drawing
        self.run_worker(
            lambda: self._draw_drafts(loaded, settings, novelty, drawing),
            thread=True,
            exclusive=True,
            group="compose-drafts",
        )

    def _draw_drafts(self, loaded: Any, settings: Any, novelty: Any, drawing: int) -> None:
        """In a worker thread: the drafts, handed back to the UI thread (or why there are none)."""
        from tangstudio.engine.errors import TangError

        try:
            found: drafts.Drafts | str = drafts.draw(loaded, settings, novelty)
        except TangError as exc:
            found = str(exc)
        self.app.call_from_thread(self._drafts_drawn, found, loaded, drawing)

    def _drafts_drawn(self, found: drafts.Drafts | str, loaded: Any, drawing: int) -> None:
        # Not for a model swapped meanwhile, nor after a key that went on with the poem: a number
        # key would then take a draft in place of the step's candidate it was meant for.
        if loaded is not self.loaded or drawing != self._drawing:
            return
        self._drafts_busy = False
        if isinstance(found, str):  # why there are none
            self.error(found)
            return
        self.drafts = found
        self._show_drafts()

    def _show_drafts(self) -> None:
        """The drafts that fit the panel as it is now; the number keys take those."""
        if self.drafts is not None:
            rows = self.query_one("#compose-main").content_size.height
            width = self.query_one(ProbBars).content_size.width
            self.panel, self._drafts_shown = drafts.drafts_panel(self.drafts, rows, width)

    def _take_draft(self, index: int) -> None:
        found = self.drafts
        assert found is not None
        if self._drafts_shown <= index < len(found.ranked):
            self.notify(f"draft {index + 1} is not shown: the window is too short for it", title="Compose")
            return
        self.drafts = None
        session = drafts.take(self.loaded, found, index, self.novelty)
        if session is not None:
            self._keep_previous()
            self.session, self._session_target = session, self.model_target
            self.remember_fields()
        self.publish()

    def action_undo(self) -> None:
        if self._ready():
            self.player.stop()
            if not worth_keeping(self.session) and self.previous is not None:
                self.action_bring_back()  # a fresh poem: Backspace brings the last one back
                return
            self._do(lambda s: s.undo())

    def action_move(self, delta: int) -> None:
        if self.session is not None:
            self._do(lambda s: s.move(delta))

    def action_move_line(self, delta: int) -> None:
        if self.session is not None:
            self._do(lambda s: s.move_line(delta))

    def action_lock(self) -> None:
        """Lock or unlock the line under the cursor (a reroll keeps locked lines)."""
        if self._ready():
            assert self.session is not None  # _ready() says so
            self.notify(self.session.toggle_lock(), title="Compose")
            self.publish()

    def action_reroll(self) -> None:
        """Sample the line under the cursor again (a causal model: that line and the rest, locks kept)."""
        if not self._ready():
            return
        self.player.stop()
        self._noted(lambda s: s.reroll())

    def _noted(self, change: Callable[[Session], str]) -> bool:
        """A change that always happens and says what it did (a reroll): its words as a notice.
        False when it was refused (the error is shown)."""
        notice: list[str] = []
        done = self._do(lambda s: notice.append(change(s)))
        if done and notice:
            self.notify(notice[0], title="Compose")
        return done

    def action_new_keyword(self) -> None:
        """`k`: the line under the cursor gets a new keyword from the planner and is written again."""
        if self._ready():
            self.plan_desk.new_keyword()

    def write(self, text: str) -> bool:
        """Write characters a person typed (or an IME delivered) at the cursor; False if refused."""
        if not self._ready():
            return False
        self.player.stop()
        return self._do(lambda s: s.write(text), typed=True)

    @on(PoemScroll.Typed)
    def _typed(self, event: PoemScroll.Typed) -> None:
        if not self.too_small:  # as the pane's keys (Pane.check_action): nothing written unseen
            self.write(event.text)

    def action_gates(self) -> None:
        """Show or hide what the network does at each character (causal models)."""
        self.notify(self.lens.toggle(self.session), title="Compose")
        self.publish()

    def action_pin(self) -> None:
        """Ask which unit to colour the poem by (empty: none)."""
        self.lens.ask_pin(self.loaded)

    def action_play(self) -> None:
        if self.player.playing:
            self.player.stop()
            return
        if not self._ready() or not self.fields_first():
            return
        continuous = [False]

        def play(session: Session) -> None:
            continuous[0] = session.play()

        if self._do(play) and continuous[0]:
            self.player.start()

    def _play_step(self) -> bool:
        """One tick of `p`: the next character of the best of the line's drafts."""
        return (
            self.session is not None
            and not self.session.done
            and self._ready()
            and self._do(lambda s: s.advance(drafted=True))
        )

    def _play_stopped(self) -> None:
        if self.lens.on or self.lens.pinned:
            # The gates wait for the end of play (a trace per character is wasted); not a key.
            self.publish(went_on=False)

    # What the widgets show -------------------------------------------------------------------

    def _show(self, message: str) -> None:
        """No poem to show: a message in the panel, an empty poem and the status line."""
        self.panel = PanelState(message=message)
        self.poem = PoemState(form=self.bar.form)
        self.status = self._status_line()

    def publish(self, went_on: bool = True) -> None:
        """Hand the session's state to the reactives the widgets are bound to.

        `went_on`: a key went on with the poem, so drafts shown or being drawn are dropped. A gate
        trace that arrives, or the end of play, publishes with False: the drafts panel stays.
        """
        keep_drafts = not went_on and (self.drafts is not None or self._drafts_busy)
        if not keep_drafts:
            self.drafts, self._drafts_busy = None, False
            self._drawing += 1
        session = self.session
        if session is None:
            return
        drop_notes = getattr(self.app, "drop_notes", None)
        if drop_notes is not None and not session.done:  # it stayed over a poem taken back or begun anew
            drop_notes(lambda note: note.message.startswith(COMPLETE))
        view = self.lens.view(session, self.loaded, playing=self.player.playing)
        self.poem = PoemState(
            tuple(session.text),
            tuple(session.probs()),
            self.bar.form,
            self.script,
            session.done or session.filling,  # a grid shows no "next character" cursor
            session.selected,
            gates=view.gates,
            gate_names=view.names,
            pin=view.pin,
            pin_label=self.lens.pinned or "",
            locked=tuple(sorted(session.locked)),
            rhyme_note=self._rhyme_note(session),
        )
        if not keep_drafts:
            pin = (self.lens.pinned, view.pin) if self.lens.pinned and view.pin else None
            self.panel = panel_state(session, view.gates, view.names, pin)
        self.status = self._status_line()

    def _rhyme_note(self, session: Session) -> str:
        """What the rhyme's verdict says beside it: "rhyme off" when the constraint is off, "rhyme
        was off" when characters were written without it and it is on again, else "". A checkbox
        toggled by a stray Enter left "rhyme ✗" under the poem with nothing saying why."""
        text = session.text
        before = self._published.get(session)  # None: first shown (a prefix, a grid: nobody wrote it)
        if not session.settings.rhyme and before is not None and len(text) > len(before):
            self._unrhymed.setdefault(session, len(before))  # where the writing without it began
        if len(text) <= self._unrhymed.get(session, len(text)):
            self._unrhymed.pop(session, None)  # undone back to before it: nothing was written without it
        self._published[session] = text
        if not session.settings.rhyme:
            return "rhyme off"
        return "rhyme was off" if session in self._unrhymed else ""

    def _status_line(self) -> Text:
        model = self.model_target if self.loaded is not None else None
        shared = lambda: longest_shared(self.novelty, self.poem_text())  # noqa: E731  (asked only when done)
        return status_text(model, self.session, shared)

    # Output ----------------------------------------------------------------------------------

    def _say(self, said: export.Said) -> None:
        self.notify(said.message, title=said.title, severity=said.severity)

    def unsaved_poem(self) -> str:
        """What Ctrl+Q would lose ("" nothing): the poem, or the earlier one `u` brings back, with a
        character chosen and not saved or copied as it stands (an engineer's review: `p`, `n`, Ctrl+Q
        quit at once, and the poem kept for `u` was gone)."""
        if worth_keeping(self.session) and self.poem_text() not in self._kept_texts:
            return "the poem is not saved: w saves it, c copies it"
        kept = self.previous
        if kept is not None and worth_keeping(kept.session) and kept.session.text not in self._kept_texts:
            return "the earlier poem (u brings it back) is not saved"
        return ""

    def _kept(self, said: export.Said) -> None:
        """Say how a save or copy went; one that worked keeps the poem (Ctrl+Q then loses nothing)."""
        if said.severity != "error":
            self._kept_texts.add(self.poem_text())
            self.kept_count += 1
            forget = getattr(self.app, "forget_quit_question", None)
            if forget is not None:
                forget()
        self._say(said)

    def action_save(self) -> None:
        """Save the poem; the same poem saved again is not written twice (`w w` made -2, -3 files)."""
        earlier = self._saved_to.get(self.poem_text())
        if earlier is not None and earlier.exists():
            self._say(
                export.Said(f"already saved, unchanged: {earlier.with_suffix('.md')}", title="Poem saved")
            )
            return
        said = export.save(self.session, self.model_target or "", self.script)
        if said.path is not None:
            self._saved_to[self.poem_text()] = said.path
        self._kept(said)

    def action_screenshot(self) -> None:
        self._say(export.screenshot(self.app))

    def action_copy(self) -> None:
        self._kept(export.copy(self.app, self.poem_text()))


def _entered(event: Message) -> str | None:
    """The field a message is about (cp-top_p), its id with the prefix left off (top_p)."""
    control = getattr(event, "control", None)
    name = getattr(control, "id", None)
    return name.removeprefix("cp-") if isinstance(name, str) else None


def _applied(event: Message) -> str:
    """What a sampling change set, to open its notice with: "rhyme constraint off: " (a rhyme
    toggled by a stray Enter said only "applies from the next character."), "top-k 5: "."""
    if isinstance(event, Checkbox.Changed):
        return f"rhyme constraint {'on' if event.value else 'off'}: "  # the one checkbox, #cp-rhyme
    if isinstance(event, Select.Changed):
        return f"tones {event.value}: "
    if isinstance(event, Input.Submitted):
        from tangstudio.studio.panes.compose.settings_bar import LABELS

        name = _entered(event) or ""
        return f"{LABELS.get(name, name)} {event.value.strip()}: "
    return ""
