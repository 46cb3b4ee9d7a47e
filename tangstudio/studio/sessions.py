"""Sessions: one small interface over the engine's two ways of writing a poem.

Causal models (rnn, lstm, gru) write left to right with the engine's `Composer`; a BiLSTM fills a
grid with its `Filler`. `CausalSession` and `FillSession` both satisfy `Session`, the Protocol the
compose pane codes against (advance, pick, undo, move, play, write, reroll, apply_sampling; text,
steps, probs, panel), so the pane never asks which kind of model it has and a third kind (drafts,
a plan) only has to meet the same Protocol. The engine objects keep their own state; no Textual here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from tangstudio.engine.compose.settings import UNFILLED
from tangstudio.studio.composing import EOS_MARK, LINE_MARKS, Step, as_step, is_causal, make_composer

if TYPE_CHECKING:
    from tangstudio.engine.compose.fill import Filler
    from tangstudio.engine.compose.generator import Composer
    from tangstudio.engine.compose.settings import ComposeSettings, Judgement

__all__ = ["COMPLETE", "CausalSession", "FillSession", "Session", "line_spans", "make_session"]

# How a note about a finished poem begins: the pane takes such notes down once the poem is not.
COMPLETE = "the poem is complete"


class Session(Protocol):
    """What the compose pane asks of a poem being written, whatever writes it.

    Reads: `text` (with □ for an empty grid position), `done`, `settings`, `selected` (the text
    position the panel describes; None follows the last character), `steps()` (every written
    position with its candidates), `probs()` (each character's probability, None where empty),
    `panel()` (the step the side panel shows), `backoffs` (constraints relaxed), `hint`, `locked`
    (lines a reroll keeps) and `typed` (the judgement of the last typed character). Changes return
    a message to show instead of acting (None: done) or raise TangError.
    """

    filling: bool  # a grid (every position at once) rather than left to right
    hint: str  # a line for the status bar; "" for none
    locked: set[int]
    typed: Judgement | None
    origin: dict[str, Any] | None  # a poem taken from the best-of-K drafts: which, and its score

    @property
    def engine(self) -> Composer | Filler: ...  # what writes (tests and the swap-back read it)
    @property
    def text(self) -> str: ...
    @property
    def done(self) -> bool: ...
    @property
    def settings(self) -> ComposeSettings: ...
    @property
    def selected(self) -> int | None: ...
    @property
    def backoffs(self) -> list[str]: ...

    def steps(self) -> list[Step]: ...
    def probs(self) -> list[float | None]: ...
    def panel(self) -> Step | None: ...
    def advance(self, drafted: bool = False) -> str | None: ...
    def pick(self, index: int) -> str | None: ...
    def undo(self) -> None: ...
    def move(self, delta: int) -> None: ...
    def move_line(self, delta: int) -> None: ...
    def play(self) -> bool: ...
    def write(self, text: str) -> str | None: ...
    def cursor_line(self) -> int: ...
    def toggle_lock(self) -> str: ...
    def reroll(self) -> str: ...
    def apply_sampling(self, settings: ComposeSettings) -> bool: ...
    def clear_marks(self) -> None: ...


def line_spans(text: str) -> list[tuple[int, int]]:
    """(first, last) text index of each line, its closing mark included."""
    spans, start = [], 0
    for i, c in enumerate(text):
        if c in LINE_MARKS:
            spans.append((start, i))
            start = i + 1
    if start < len(text):
        spans.append((start, len(text) - 1))
    return spans


def _other_line(text: str, at: int, delta: int) -> int:
    """The index `delta` lines up or down from `at`, in the same column where the line is long enough."""
    spans = line_spans(text)
    here = next((k for k, (a, b) in enumerate(spans) if a <= at <= b), len(spans) - 1)
    target = min(max(here + delta, 0), len(spans) - 1)
    first, last = spans[target]
    return min(first + (at - spans[here][0]), last)


class _EngineSession:
    """What both session kinds read straight off their engine (Composer or Filler) and cursor."""

    engine: Composer | Filler
    cursor: int | None

    @property
    def text(self) -> str:
        return str(self.engine.text)

    @property
    def done(self) -> bool:
        return bool(self.engine.done)

    @property
    def settings(self) -> ComposeSettings:
        return self.engine.settings

    @property
    def selected(self) -> int | None:
        return self.cursor

    locked: set[int]
    lock_effect = ""  # what a lock does in this kind of session, said when a line is locked

    def cursor_line(self) -> int:
        raise NotImplementedError

    def toggle_lock(self) -> str:
        line = self.cursor_line()
        if line in self.locked:
            self.locked.discard(line)
            return f"line {line + 1} unlocked."
        unwritten = self.unwritten(line)
        if unwritten:
            return unwritten
        self.locked.add(line)
        return f"line {line + 1} locked{self.lock_effect}."

    def unwritten(self, line: int) -> str | None:
        """Why `line` cannot be locked yet (None: it can): every line of a grid exists already."""
        return None


class CausalSession(_EngineSession):
    """Left to right (rnn, lstm, gru): the engine's Composer writes, previews, retakes and undoes.

    `cursor` is the text position the side panel describes (None: follow the last character).
    """

    filling = False
    hint = ""
    lock_effect = ": r on another line rerolls it and keeps this one"
    engine: Composer

    def __init__(self, composer: Composer) -> None:
        self.engine = composer
        self.cursor: int | None = None
        self.locked: set[int] = set()  # lines (0-based) a reroll keeps
        self.typed: Judgement | None = None  # the Judgement of the last character a person typed
        self.origin: dict[str, Any] | None = None

    @property
    def backoffs(self) -> list[str]:
        return list(self.engine.backoffs)

    def steps(self) -> list[Step]:
        return [as_step(s) for s in self.engine.history]

    def probs(self) -> list[float | None]:
        return [s.chosen_prob for s in self.steps() if s.chosen != EOS_MARK]

    def panel(self) -> Step | None:
        """The step the candidates panel shows: the one under the cursor, else the last choice."""
        steps = self.steps()
        if self.cursor is not None and self.cursor < len(steps):
            return steps[self.cursor]
        last = self.engine.last_choice()
        return None if last is None else steps[last]

    def advance(self, drafted: bool = False) -> str | None:
        """Space: the next character as sampled. drafted (`p`): from the best of the settings'
        line drafts of its line (craft/line_drafts.py), so a played poem is the poem `generate` writes."""
        if self.done:
            return f"{COMPLETE}: w saves it, c copies it, n starts another."
        if drafted:
            self.engine.step_drafted()
        else:
            self.engine.step()
        self.engine.follow_forced()
        self.cursor = None
        return None

    def pick(self, index: int) -> str | None:
        last = self.engine.last_choice()
        if last is None:
            return "press Space first: then 1–0 replace the sampled character."
        self._keep_locked_from(last)
        self.engine.retake(index)
        self.cursor = None
        return None

    def undo(self) -> None:
        self._keep_locked_from(self.engine.last_choice())
        self.engine.take_back()
        self.cursor = None

    def _keep_locked_from(self, index: int | None) -> None:
        """Refuse (TangError) a change that takes back the text from `index` on when it holds a
        locked line: after a reroll a locked last line is written back as given, so Backspace took
        the last choice before it and the locked line with it, and the mark stayed on new text (a
        poet's review). A person unlocks the line first."""
        from tangstudio.engine.errors import TangError

        if index is None:
            return
        line = sum(1 for c in self.text[:index] if c in LINE_MARKS)
        held = sorted(k for k in self.locked if k >= line)
        if held:
            raise TangError(f"line {held[0] + 1} is locked: unlock it first (l), then take it back")

    def move(self, delta: int) -> None:
        n = len(self.text)
        if not n:
            return
        here = n - 1 if self.cursor is None else self.cursor
        self.cursor = min(max(here + delta, 0), n - 1)

    def play(self) -> bool:
        """True: the pane writes on at a visible pace (a timer calling `advance`)."""
        return True

    def move_line(self, delta: int) -> None:
        text = self.text
        if text:
            self.cursor = _other_line(text, len(text) - 1 if self.cursor is None else self.cursor, delta)

    def write(self, text: str) -> str | None:
        """Write what a person typed at the end of the poem; TangError (why, with its odds) if refused."""
        from tangstudio.engine.errors import TangError

        for char in text:
            if self.done:
                return f"{COMPLETE}: n starts another, Backspace takes a character back."
            judgement = self.engine.judge(char)
            if not judgement.fits:
                self.typed = judgement
                raise TangError(judgement.describe())
            self.typed = self.engine.write(char)
        self.cursor = None
        return None

    def unwritten(self, line: int) -> str | None:
        """A line is locked once it is whole: an empty or half-written line was locked and then
        written into by Space and `p`, while `r` and `k` refused it as locked (a TUI review)."""
        whole = sum(1 for c in self.text if c in LINE_MARKS)
        if line < whole:
            return None
        return f"line {line + 1} is not written yet: lock a line once it is whole."

    def cursor_line(self) -> int:
        """The line (0-based) under the cursor, or the last line written."""
        text = self.text
        at = len(text) - 1 if self.cursor is None else self.cursor
        return sum(1 for c in text[: max(at, 0)] if c in LINE_MARKS)

    def reroll(self) -> str:
        line = self.cursor_line()
        self.engine.reroll(line, frozenset(self.locked))
        self.typed = None
        kept = sorted(k + 1 for k in self.locked if k > line)
        return f"rerolled line {line + 1} onward" + (
            f", kept line {', '.join(map(str, kept))}" if kept else ""
        )

    def apply_sampling(self, settings: ComposeSettings) -> bool:
        self.engine.update_sampling(settings)
        return True

    def clear_marks(self) -> None:
        self.typed = None


class FillSession(_EngineSession):
    """Filling a grid (bilstm): any position, given both sides; the engine's Filler keeps it all."""

    filling = True
    hint = "fill mode: ← → select · 1–0 set · Space fill · p refine"
    lock_effect = " (a BiLSTM reroll refills only the line it is asked to)"
    engine: Filler
    cursor: int

    def __init__(self, filler: Filler) -> None:
        self.engine = filler
        free = self.free()
        self.cursor = free[0] if free else 0
        self.locked: set[int] = set()  # a grid refills one line only: locks are informative
        self.typed: Judgement | None = None
        self.origin: dict[str, Any] | None = None

    @property
    def backoffs(self) -> list[str]:
        return []

    def free(self) -> list[int]:
        return list(self.engine.free_positions())

    def steps(self) -> list[Step]:
        out = []
        for p, char in enumerate(self.text):
            info = self.engine.step_info(p)
            if info is not None:
                out.append(as_step(info))
            elif char != UNFILLED:
                out.append(Step(p, [(char, 1.0)], 0.0, char, 1.0, forced=True))
        return out

    def probs(self) -> list[float | None]:
        out: list[float | None] = []
        for p, char in enumerate(self.text):
            info = self.engine.step_info(p)
            out.append(info.chosen_prob if info is not None else (None if char == UNFILLED else 1.0))
        return out

    def panel(self) -> Step | None:
        text = self.text
        candidates = [(str(c), float(p)) for c, p in self.engine.candidates(self.cursor)]
        current = text[self.cursor] if self.cursor < len(text) else ""
        if current == UNFILLED:  # nothing chosen here yet: the panel says "chose" nothing
            current = ""
        return Step(self.cursor, candidates, 0.0, current, 0.0)

    def advance(self, drafted: bool = False) -> str | None:
        if self.done:
            return "every position is filled: p refines them, ← → and 1–0 change one."
        self.engine.sample()
        return None

    def pick(self, index: int) -> str | None:
        self.engine.choose(self.cursor, index)
        return None

    def undo(self) -> None:
        self.engine.unset(self.cursor)

    def move(self, delta: int) -> None:
        free = self.free()
        if not free:
            return
        here = free.index(self.cursor) if self.cursor in free else 0
        self.cursor = free[(here + delta) % len(free)]

    def play(self) -> bool:
        """Refine every free position at once (a few rounds of Gibbs sampling); no timer."""
        self.engine.refine(2)
        return False

    def move_line(self, delta: int) -> None:
        target = _other_line(self.text, self.cursor, delta)
        free = self.free()
        if free:
            self.cursor = min(free, key=lambda p: (abs(p - target), p))

    def write(self, text: str) -> str | None:
        """Set what a person typed at the selected position, then move to the next free one."""
        from tangstudio.engine.errors import TangError

        for char in text:
            judgement = self.engine.judge(self.cursor, char)
            self.typed = judgement
            if not judgement.fits:
                raise TangError(judgement.describe())
            self.engine.write(self.cursor, char)
            self.move(1)
        return None

    def cursor_line(self) -> int:
        """The line (0-based) of the selected position: the line marks before it (the grid has them all)."""
        return sum(1 for c in self.text[: self.cursor] if c in LINE_MARKS)

    def reroll(self) -> str:
        line = self.cursor_line()
        if line in self.locked:
            from tangstudio.engine.errors import TangError

            raise TangError(f"line {line + 1} is locked: unlock it first (l)")
        self.engine.reroll(line)
        return f"refilled line {line + 1} from both sides."

    def clear_marks(self) -> None:
        self.typed = None

    def apply_sampling(self, settings: ComposeSettings) -> bool:
        """A grid's knobs are read at each resampling; a new grid keeps things simple: False."""
        return False


def make_session(loaded: Any, settings: ComposeSettings, novelty: Any = None) -> Session:
    """The session that fits the model; TangError for settings the engine refuses."""
    engine = make_composer(loaded, settings, novelty)
    return CausalSession(engine) if is_causal(loaded) else FillSession(engine)
