"""The studio: one screen of four panes (corpus, model, train, compose) over the engine.

Nothing heavy happens before the first frame: panes import the engine lazily, and torch is
imported in a worker thread after the first refresh so the first paint never waits for it.
`create_app` is the one factory the CLI, the tests and the snapshot tests share.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.notifications import Notification
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane, Tabs

from tangstudio.studio.commands import StudioCommands
from tangstudio.studio.messages import PANES, ShowPane, StartTraining
from tangstudio.studio.panes.base import Pane
from tangstudio.studio.panes.compose import ComposePane
from tangstudio.studio.panes.corpus import CorpusPane
from tangstudio.studio.panes.lab import LabPane
from tangstudio.studio.panes.model import ModelPane
from tangstudio.studio.panes.train import TrainPane

MIN_SIZE = (80, 24)
QUIT_AGAIN_S = 8.0  # a second Ctrl+Q this soon after "the poem is not saved" quits without it
PANE_KEYS = Binding.Group("panes")


def leave(notes: list[str], code: int) -> NoReturn:
    """Print what the person should know (runs still writing their checkpoint) and end the process
    without the interpreter's teardown, which took 1.2–1.5 s with torch loaded; worker threads (one
    may still be importing torch or loading a corpus) are not waited for either."""
    err = sys.__stderr__  # the real one: while the app runs, Textual captures sys.stdout/sys.stderr
    for note in notes:
        if err is not None:
            print(note, file=err)
    for stream in (sys.__stdout__, err):
        if stream is not None:
            stream.flush()
    os._exit(code)


def _import_torch() -> None:
    import torch  # noqa: F401  (warms the import for the model, train and compose panes)


class TangStudio(App):
    CSS_PATH = "studio.tcss"
    TITLE = "Tang Studio"
    COMMANDS = App.COMMANDS | {StudioCommands}
    BINDINGS = [
        # One footer entry, `f1 f2 f3 f4 f5 panes`: the tabs name the panes, and at 80 columns the keys
        # of the pane, the pane switches and `?` all fit only this way.
        Binding("f1", "show_pane('corpus')", "Corpus", group=PANE_KEYS),
        Binding("f2", "show_pane('model')", "Model", group=PANE_KEYS),
        Binding("f3", "show_pane('train')", "Train", group=PANE_KEYS),
        Binding("f4", "show_pane('compose')", "Compose", group=PANE_KEYS),
        Binding("f5", "show_pane('lab')", "Lab", group=PANE_KEYS),
        Binding("question_mark", "help", "Help"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("escape", "leave_tabs", "Back to the pane", show=False),
    ]

    def __init__(
        self,
        run: str | None = None,
        pane: str | None = None,
        train_config: dict | None = None,
        corpus: str = "tang",
        warm_torch: bool = True,
    ) -> None:
        super().__init__()
        self.initial_run = run
        self.lab_run: str | None = None  # `--run` naming a lab classifier opens the Lab pane on it
        if run and _is_lab_run(run):
            self.lab_run, self.initial_run = run, None
        self.train_config = train_config
        self.corpus_name = corpus
        self.warm_torch = warm_torch
        self._torch_warming = False
        self.notices: list[tuple[str, str, str]] = []
        self.exit_notes: list[str] = []  # printed by the launcher once the screen is restored
        self.leave_at_once = False  # the launcher sets it: quit ends the process (never in tests)
        self._quit_asked = (float("-inf"), 0)  # when Ctrl+Q last said a poem is not saved; saves then
        self.initial_pane = pane or ("lab" if self.lab_run else self._default_pane())

    def _default_pane(self) -> str:
        if self.train_config is not None or self.initial_run:
            return "train"
        from tangstudio.studio.panes.compose import default_model_available

        return "compose" if default_model_available() else "corpus"

    def compose(self) -> ComposeResult:
        yield Static(
            f"The window is too small: make it at least {MIN_SIZE[0]}×{MIN_SIZE[1]}.", id="too-small"
        )
        panes = {
            "corpus": ("Corpus", lambda: CorpusPane(self.corpus_name, id="corpus-pane")),
            "model": ("Model", lambda: ModelPane(self.corpus_name, id="model-pane")),
            "train": ("Train", lambda: TrainPane(run=self.initial_run, id="train-pane")),
            "compose": ("Compose", lambda: ComposePane(run=self.initial_run, id="compose-pane")),
            "lab": ("Lab", lambda: LabPane(run=self.lab_run, id="lab-pane")),
        }
        with TabbedContent(initial=self.initial_pane, id="panes"):
            for name, (title, make) in panes.items():
                with TabPane(title, id=name):
                    # All four mount before the first frame. textual.lazy.Lazy paints ~0.5 s sooner here,
                    # but a Select mounting while the app quits then raises inside Textual.
                    yield make()
        yield Footer()

    def on_mount(self) -> None:
        self._fit(self.size.width, self.size.height)
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        pane = self.query_one(f"#{self.initial_pane}-pane", Pane)
        self._focus_pane(self.initial_pane)
        pane.post_message(pane.Shown())
        if self.initial_pane != "compose":
            self._warm_torch()
        if self.train_config is not None:
            self.query_one(TrainPane).start_run(self.train_config)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity="information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Notifications never parse markup: engine messages quote user text, brackets included.

        The last notifications are kept in `notices` (severity, title, message), newest last.
        """
        self.notices.append((str(severity), title, message))
        del self.notices[:-50]
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def action_help_quit(self) -> None:
        """Ctrl+C: say how to quit, as Textual does, but in plain text (its hint carries [b] markup,
        which `notify` above shows as typed)."""
        for key, active in self.active_bindings.items():
            if active.binding.action in ("quit", "app.quit"):
                self.notify(f"Press {key} to quit the app", title="Do you want to quit?")
                return

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)

    def _fit(self, width: int, height: int) -> None:
        """Below the minimum size say so instead of drawing a broken layout; wide windows get more columns.

        The main screen holds the message and the panes: a resize while help or a prompt is on top
        marked that screen instead, and the main one kept saying "too small" at any size."""
        screen = self.screen_stack[0] if self.screen_stack else self.screen
        too_small = width < MIN_SIZE[0] or height < MIN_SIZE[1]
        if too_small != screen.has_class("-too-small"):
            screen.set_class(too_small, "-too-small")
            screen.refresh_bindings()  # the panes' keys go (Pane.check_action), and come back
        screen.set_class(width >= 140, "-wide")
        try:
            footer = self.query_one(Footer)
        except NoMatches:
            return
        # Narrow windows: keys without padding and no palette hint (Ctrl+P still works), so the pane
        # switches and `?` still fit at 80 columns.
        compact, palette = width < 120, width >= 100
        if (footer.compact, footer.show_command_palette) != (compact, palette):
            footer.compact, footer.show_command_palette = compact, palette
            # show_command_palette only repaints: the hint stayed at 80 columns and pushed `? Help` off
            # until the focus moved (a TUI review), so the keys are laid out again now.
            footer.refresh(recompose=True)

    def action_show_pane(self, pane: str) -> None:
        if pane not in PANES:
            return
        tabs = self.query_one("#panes", TabbedContent)
        if tabs.active != pane:
            # Drop the old pane's focus first: until the new pane's widget takes it, the footer would
            # still offer the old pane's keys (the Compose keys under the Corpus pane, right after F1).
            self.screen.set_focus(None)
        tabs.active = pane
        self.call_after_refresh(self._focus_pane, pane)

    def _focus_pane(self, pane: str, tries: int = 20) -> None:
        """Put the focus inside a pane so its keys work. A tab switch blurs the old pane's widget during a
        later refresh, so look again after each refresh (not after a wall-clock delay, which a loaded
        machine can outrun) until the focus has landed, at most `tries` refreshes."""
        try:
            widget = self.query_one(f"#{pane}-pane", Pane)
        except NoMatches:
            widget = None
        if widget is not None and self.focused is not None and widget in self.focused.ancestors_with_self:
            return
        if widget is not None and self.query_one("#panes", TabbedContent).active == pane:
            widget.focus_first()
        if tries:
            self.call_after_refresh(self._focus_pane, pane, tries - 1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc is the app's only while the pane tabs have the focus (elsewhere a field or screen has its own)."""
        if action == "leave_tabs":
            return isinstance(self.focused, Tabs)  # the pane tabs, the studio's only Tabs
        return True

    def action_leave_tabs(self) -> None:
        """Esc on the pane tabs (Tab reaches them from a pane): back inside the shown pane, so its keys
        work again, as "Esc leaves any field" promises."""
        self._focus_pane(str(self.query_one("#panes", TabbedContent).active), tries=0)

    def on_descendant_blur(self, _event: events.DescendantBlur) -> None:
        self.call_after_refresh(self._keep_focus)

    def _keep_focus(self) -> None:
        """Focus lost to nothing (a late Hide of the old pane's widget, a widget that went away) goes
        back to the shown pane, so its keys keep working without a Tab."""
        if self.focused is not None or self.screen is not self.screen_stack[0]:
            return
        tabs = self.query("#panes")
        if tabs:
            self._focus_pane(str(tabs.first(TabbedContent).active), tries=0)

    async def action_pane_action(self, pane: str, action: str) -> None:
        self.action_show_pane(pane)
        try:
            target = self.query_one(f"#{pane}-pane")
        except NoMatches:
            self.notify("the studio is still starting; try again in a moment.")
            return
        if not await self.run_action(action, target):  # refused by the pane's check_action: say so
            why = target.refused_because(action.split("(")[0]) if isinstance(target, Pane) else None
            where = " (v cycles the Lab's views)" if pane == "lab" else ""
            self.notify(why or f"That acts in another view of the {pane.title()} pane{where}.", timeout=5)

    async def action_quit(self) -> None:
        """Quit at once; runs this studio started get their SIGINT now and finish their checkpoint on
        their own, and the terminal says so after the screen is restored. A poem not saved or copied
        asks first: Ctrl+Q again within QUIT_AGAIN_S quits without it."""
        if self._poem_would_be_lost():
            return
        self.stop_runs()
        if self.leave_at_once and self._driver is not None:
            # Textual's own teardown unmounts every widget of five panes first: about a second on a
            # busy machine. Nothing in it needs to run (the runs got their signal above), so restore
            # the terminal exactly as Textual does and leave.
            self._driver.stop_application_mode()
            self._driver.close()  # drains what the writer thread still holds
            leave(self.exit_notes, 0)
        self.exit()

    def stop_runs(self) -> None:
        """Send the runs this studio started their stop (each checkpoints and exits on its own) and
        keep a note for the terminal of each, with the command that resumes it."""
        from tangstudio.studio.panes.lab import LabProcess
        from tangstudio.studio.trainproc import TrainingProcess, resume_command

        try:
            poems, digits = self.query_one(TrainPane).stop_all(), self.query_one(LabPane).stop_all()
        except NoMatches:
            poems, digits = [], []
        for name in poems:  # each run by its own name, with the command that resumes it
            self.exit_notes.append(
                f"stopping {name}: writing a checkpoint, then exiting on its own (resume with r in the "
                f"Train pane, or `{resume_command(TrainingProcess.COMMAND, name)}`)"
            )
        for name in digits:
            self.exit_notes.append(
                f"stopping {name}: writing a checkpoint, then exiting on its own "
                f"(resume with `{resume_command(LabProcess.COMMAND, name)}`)"
            )

    def hang_up(self) -> None:
        """The terminal went away (SIGHUP: a window closed, an SSH link dropped). Nothing can be drawn or
        asked any more, so the runs this studio started get their stop as on Ctrl+Q (they checkpoint
        and exit on their own: in their own session, the hang-up never reached them, and they trained
        out their whole budget orphaned; a reliability review), and the process ends as a hang-up does."""
        import signal

        self.stop_runs()
        if self._driver is not None:  # a `kill -HUP` leaves the terminal open: give it back whole
            with contextlib.suppress(Exception):
                self._driver.stop_application_mode()
                self._driver.close()  # the restoring codes are only queued until the writer drains
        with contextlib.suppress(OSError):  # the notes reach a terminal still there; a gone one: EIO
            leave(self.exit_notes, 128 + signal.SIGHUP)
        os._exit(128 + signal.SIGHUP)

    def _poem_would_be_lost(self) -> bool:
        """True (and says so) at the first Ctrl+Q while the Compose pane holds an unsaved poem."""
        import time

        try:
            compose = self.query_one(ComposePane)
        except NoMatches:
            return False
        lost = compose.unsaved_poem()
        if not lost:
            return False
        # The second Ctrl+Q quits unless the poem was saved or copied in between (and has changed
        # since, or it would not be unsaved): then it asks again, however soon.
        (asked, kept), now = self._quit_asked, time.monotonic()
        if now - asked < QUIT_AGAIN_S and kept == compose.kept_count:
            return False
        self._quit_asked = (now, compose.kept_count)
        compose.player.stop()  # `p` playing: the poem does not change under the question
        # w and c are the Compose pane's keys: asked from another pane, they did nothing, and with a
        # settings field focused the w went into the field (a TUI review). Show the poem, keys live.
        if self.query_one("#panes", TabbedContent).active != "compose":
            self.action_show_pane("compose")
        elif isinstance(self.focused, Input):
            compose.focus_first()
        self.notify(
            f"{lost}; Ctrl+Q again quits without it",
            title="Quit",
            severity="warning",
            timeout=QUIT_AGAIN_S,
        )
        return True

    def forget_quit_question(self) -> None:
        """The poem was saved or copied: the Quit warning says no more that it is not (a screenshot
        taken after `w` showed it, a TUI review)."""
        asked, _ = self._quit_asked
        if asked != float("-inf"):
            self._quit_asked = (float("-inf"), 0)
            self.drop_notes(lambda note: note.title == "Quit")  # that one only: "saved to …" stays

    def action_help(self) -> None:
        from tangstudio.studio.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):  # opened at the pane's own section (a review)
            self.push_screen(HelpScreen(str(self.query_one("#panes", TabbedContent).active)))

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id != "compose":
            self._warm_torch()
        self._forget_other_panes_notes(str(event.pane.id))
        self._announce(str(event.pane.id))

    def _forget_other_panes_notes(self, shown: str) -> None:
        """A pane's notes (titled with its name: "Compose", "Lab" …) go when another pane is shown:
        "u brings it back" over the Train pane spoke of keys that are not there (a TUI review). Notes
        that are no pane's ("Training": a run finished, "Quit") stay wherever the person goes."""
        other = {name.capitalize() for name in PANES} - {shown.capitalize()}
        self.drop_notes(lambda note: note.title.split(" ")[0] in other)  # "Compose settings" too

    def drop_notes(self, which: Callable[[Notification], bool]) -> None:
        """Take down the notifications `which` accepts (Textual has no public call for one
        notification; the toasts are redrawn once)."""
        stale = [note for note in self._notifications if which(note)]
        for note in stale:
            self._unnotify(note, refresh=False)
        if stale:
            self._refresh_notifications()

    def _announce(self, pane: str, tries: int = 20) -> None:
        """Tell a pane it is shown (it loads what it needs the first time); waits for a pane still mounting."""
        try:
            widget = self.query_one(f"#{pane}-pane", Pane)
        except NoMatches:
            if tries:
                self.call_after_refresh(self._announce, pane, tries - 1)
            return
        widget.post_message(widget.Shown())

    def _warm_torch(self) -> None:
        """Import torch in a thread once, for the panes that measure or train (composing needs none).

        Never while the compose pane is the first one shown: the import takes seconds of CPU, much
        of it holding the GIL, and would slow the first characters a new user writes. The first
        switch to another pane starts it."""
        if self.warm_torch and not self._torch_warming:
            self._torch_warming = True
            self.run_worker(_import_torch, thread=True, group="warm", name="import torch")

    def on_show_pane(self, message: ShowPane) -> None:
        self.action_show_pane(message.pane)

    def on_start_training(self, message: StartTraining) -> None:
        self.action_show_pane("train")
        self.query_one(TrainPane).start_run(message.options)


def _is_lab_run(run: str) -> bool:
    from tangstudio.engine.paths import run_folder
    from tangstudio.engine.runs.kinds import LAB, run_kind

    folder = run_folder(run)
    return folder.is_dir() and run_kind(folder) == LAB


def create_app(
    run: str | None = None, pane: str | None = None, train_config: dict | None = None, **options
) -> TangStudio:
    """The studio app; `options` (corpus, warm_torch) let tests pin what it shows."""
    return TangStudio(run=run, pane=pane, train_config=train_config, **options)
