"""The Composer: write a poem one position at a time, watch every distribution, choose, undo.

    frame_t = (recurrent state after x_0..x_t, logits for x_{t+1}, constraint state)

Each committed character pushes one frame: one `model.step` (a single cell update per layer, the
O(1) the seed article's generation loop relies on) plus a mask of the vocabulary. Undo pops
frames — the states are kept, never recomputed — and a preview samples from the top frame
without committing, so the studio can show a suggestion and let the person take another one.

The sampling knobs and the rhyme/tone switches are read from `settings` at every step, so they
can change mid-poem; the form, acrostic and prefix are fixed when the composer starts
(`restart` takes new ones).
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, replace

import numpy as np

from tangstudio.engine.compose import constraints as C
from tangstudio.engine.compose.craft.guidance import guided
from tangstudio.engine.compose.craft.steer import steer
from tangstudio.engine.compose.decoding import Distribution, constrained, make_rng, pick, top_candidates
from tangstudio.engine.compose.line_index import LineIndex
from tangstudio.engine.compose.planning.feed import reading_ids
from tangstudio.engine.compose.planning.poem_plan import make_poem_plan
from tangstudio.engine.compose.planning.theme import lean as lean_to_theme
from tangstudio.engine.compose.settings import EOS_MARK, ComposeResult, ComposeSettings, Judgement, StepInfo
from tangstudio.engine.compose.steppers import stepper_for
from tangstudio.engine.compose.tables import VocabTables, tables_for
from tangstudio.engine.corpus.vocab import EOS
from tangstudio.engine.errors import TangError
from tangstudio.engine.hanzi import LINE_MARKS, PERIOD, SENTENCE_ENDS
from tangstudio.engine.prosody import fits
from tangstudio.engine.runs.loaded import Loaded

_NAMES = {EOS: EOS_MARK}
BATCH_FROM = 4  # rows from which one batched model step beats single ones (Composer.read_together)
SAMPLING_KNOBS = (
    "temperature",
    "top_k",
    "top_p",
    "rhyme",
    "tones",
    "repeat_penalty",
    "duizhang",
    "season",
    "line_drafts",
)  # read at every step (line_drafts at each line's start)


@dataclass
class _Frame:
    state: object  # the model's recurrent state after everything written so far
    logits: np.ndarray  # float32[V]: the next character's logits
    cstate: C.CState
    base: tuple[object, np.ndarray] | None = (
        None  # (state, logits) before the next line's keyword was fed (planning/feed.py)
    )


@dataclass(frozen=True)
class _TwoReadings:
    """Title guidance's state: the model's after reading the poem with its title, and without;
    `own` is the titled reading's next-character logits, the model's own distribution, which
    StepInfo.model_prob reports (and the critic and the line drafts score) while sampling follows
    the guided one."""

    titled: object
    untitled: object
    own: np.ndarray


@dataclass
class _Preview:
    key: tuple[object, ...]
    token: int
    allowed: C.Allowed
    dist: Distribution
    info: StepInfo


def read_ids(
    text: str, form: str, title: str, keywords: list[str], settings: ComposeSettings, tables: VocabTables
) -> tuple[list[int], list[int]]:
    """What the model read while it wrote `text` under `settings` (its primer first), and where
    the text's characters sit in it: what a trace of its gates must read (feed.reading_ids)."""
    before = primer_ids(settings, tables)
    return reading_ids(tables.vocab, text, form, title, keywords, before)


def primer_ids(settings: ComposeSettings, tables: VocabTables) -> list[int]:
    """The primer as the model reads it before the poem: [<form>, primer…, 。] (pytorch-book's
    `prefix_words`); the poem then starts from its own start token with that state. [] for none."""
    from tangstudio.engine.corpus.poem import typed_verse

    primer = typed_verse(settings.primer)
    if not primer:
        return []
    C.check_chars("".join(c for c in primer if c not in LINE_MARKS), tables, "the primer")
    vocab = tables.vocab
    ids = [vocab.start_id(settings.form), *(vocab.stoi[c] for c in primer if c in vocab.stoi)]
    if primer[-1] not in SENTENCE_ENDS and PERIOD in vocab.stoi:
        ids.append(vocab.stoi[PERIOD])
    return ids


def backoff_notes(
    history: list[StepInfo], regulated: bool, tones: str, last: C.CState, rhyme: bool = True
) -> list[str]:
    """What the poem could not keep: each step's own notes, then the tone pattern and the rhyme that
    given characters broke (the loose pattern is never lost: constraints.advance forgives them)."""
    notes = [n for s in history for n in s.notes]
    if regulated and tones == "strict" and last.strict_broken:
        places = f"{last.strict_broken} place{'s' if last.strict_broken > 1 else ''}"
        notes.append(
            f"given characters break the strict tone pattern at {places}; the characters written after "
            "them keep it"
        )
    if regulated and tones != "off" and last.forgiven:
        places = f"{last.forgiven} place{'s' if last.forgiven > 1 else ''}"
        notes.append(
            f"given characters break the tone pattern at {places}; the characters written after them keep it"
        )
    if regulated and rhyme and last.unrhymed:
        lines = " and ".join(str(n) for n in last.unrhymed)
        notes.append(f"given characters end line {lines} on no 平 rhyme: the poem cannot rhyme there")
    return notes


class Composer:
    """Step-by-step generation with a causal model (rnn, lstm, gru) under the form's constraints."""

    def __init__(
        self,
        loaded: Loaded,
        settings: ComposeSettings | None = None,
        *,
        novelty: LineIndex | None = None,
        tables: VocabTables | None = None,
    ) -> None:
        if not loaded.causal:
            raise TangError(
                "a bilstm model fills in characters from both sides; compose with the Filler instead"
            )
        self.loaded = loaded
        self.stepper = stepper_for(loaded)
        self.vocab = loaded.vocab
        self.tables = tables or tables_for(self.vocab)
        self.novelty = novelty  # a novelty.CorpusIndex, or None to skip the corpus checks
        self.restart(settings or ComposeSettings())

    # ----------------------------------------------------------------- lifecycle

    def restart(self, settings: ComposeSettings | None = None) -> None:
        """Start over (with new settings if given): the form, acrostic and prefix are read here."""
        if settings is not None:
            self.settings = settings
        self.plan = C.make_plan(self.settings, self.tables)
        self.seed = (
            self.settings.seed
            if self.settings.seed is not None
            else int.from_bytes(os.urandom(4), "little") % (2**31)
        )
        self.generator = make_rng(self.seed)
        self.poem_plan = make_poem_plan(self.settings, self.vocab, self.plan, self.seed)
        primer = primer_ids(self.settings, self.tables)
        title = self.poem_plan.title_ids(self.vocab)
        start = self.vocab.start_id(self.plan.form)
        state, logits = self._read([*primer, *title, start])
        # Title guidance (craft/guidance.py): a second state reads the poem without its title.
        self._guided = self.settings.guidance > 0 and bool(title)
        # the title's own characters get no lean (guidance.guided): the <title> marker is title[0]
        self._title_chars = np.array(sorted(set(title[1:])), dtype=np.int64)
        if self._guided:
            untitled, logits_untitled = self._read([*primer, start])
            state = _TwoReadings(state, untitled, logits)
            logits = guided(logits, logits_untitled, self.settings.guidance, self._title_chars)
        self._frames = [self._fed(_Frame(state, logits, C.start_state(self.plan)))]
        self.history: list[StepInfo] = []
        self._preview: _Preview | None = None
        # step_drafted's kept line: where it began, and its steps with the model state after each
        self._drafted: tuple[int, list[tuple[_Frame, StepInfo]]] | None = None
        self._line_draws = 0  # lines drafted so far: part of each drafting's seed
        while len(self.history) < self.plan.prefix_len:
            self.step()
        self.prefix_len = len(self.history)

    # ----------------------------------------------------------------- reading

    @property
    def text(self) -> str:
        return "".join(s.chosen for s in self.history if s.chosen != EOS_MARK)

    @property
    def done(self) -> bool:
        return self._frames[-1].cstate.done

    @property
    def position(self) -> int:
        return self._frames[-1].cstate.pos

    @property
    def line(self) -> int:
        """The line (0-based) the next character belongs to."""
        return self._frames[-1].cstate.line

    @property
    def rhyme_group(self) -> str | None:
        return C.rhyme_group(self._frames[-1].cstate)

    @property
    def backoffs(self) -> list[str]:
        s = self.settings
        return backoff_notes(self.history, self.plan.regulated, s.tones, self._frames[-1].cstate, s.rhyme)

    # ----------------------------------------------------------------- writing

    def _key(self) -> tuple[object, ...]:
        s = self.settings
        return (
            s.temperature,
            s.top_k,
            s.top_p,
            s.rhyme,
            s.tones,
            s.novelty,
            s.repeat_penalty,
            s.duizhang,
            s.season,
            len(self.history),
        )

    def preview(self) -> StepInfo:
        """The next step's distribution and a sampled suggestion, not committed (stable until it is)."""
        if self.done:
            raise TangError("the poem is finished; undo or start a new one")
        key = self._key()
        if self._preview is not None and self._preview.key == key:
            return self._preview.info
        self.settings.validate_sampling()
        frame = self._frames[-1]
        novelty = self.novelty if self.settings.novelty else None
        allowed = C.allowed(self.plan, self.tables, self.settings, frame.cstate, novelty)
        own = frame.state.own if isinstance(frame.state, _TwoReadings) else None
        dist = constrained(frame.logits, allowed.drawn, self.settings.temperature, own)
        if frame.cstate.theme_left and not allowed.forced:
            c = frame.cstate
            width = self.plan.n_chars or C.FREE_MAX_LINE
            dist = lean_to_theme(dist, c.theme_left, self.poem_plan.theme_lines, c.line, c.col, width)
        if not allowed.forced:  # no lazy repeats, and 对仗 in a 律诗's middle couplets (craft/)
            dist = steer(
                dist,
                plan=self.plan,
                tables=self.tables,
                settings=self.settings,
                cstate=frame.cstate,
                history=self.history,
                text=self.text,
                keyword=self.poem_plan.keyword_read(frame.cstate.line),
            )
        s = self.settings
        token = pick(dist.probs, s.temperature, s.top_k, s.top_p, self.generator)
        self._preview = _Preview(key, token, allowed, dist, self._info(frame, allowed, dist, token))
        return self._preview.info

    def _info(self, frame: _Frame, allowed: C.Allowed, dist: Distribution, token: int) -> StepInfo:
        return StepInfo(
            position=frame.cstate.pos,
            candidates=top_candidates(dist.probs, self.vocab.itos, names=_NAMES),
            removed_mass=dist.removed_mass,
            chosen=_NAMES.get(token, self.vocab.itos[token]),
            chosen_prob=float(dist.probs[token]),
            model_prob=float(dist.model_probs[token]),
            forced=allowed.forced,
            notes=list(allowed.notes),
        )

    def choose(self, char: str | None = None) -> StepInfo:
        """Commit `char` (any character the constraints allow here), or the previewed suggestion."""
        token, info = self._chosen(char)
        self._commit(token)
        self.history.append(info)
        self._preview = None
        return info

    def _chosen(self, char: str | None) -> tuple[int, StepInfo]:
        """The token `choose` commits and its step, neither written yet."""
        preview = self._preview if (self._preview is not None and self._preview.key == self._key()) else None
        if preview is None:
            self.preview()
            preview = self._preview
            assert preview is not None  # preview() always leaves one
        token = preview.token
        info = preview.info
        if char is not None and char != info.chosen:
            token = EOS if char == EOS_MARK else self.vocab.stoi.get(char, -1)
            if token < 0:
                raise TangError(f"{char!r} is not in the model's vocabulary")
            if C.refusal(
                self.plan, self.tables, self.settings, self._frames[-1].cstate, preview.allowed, token
            ):
                # the constraints' mask, and the licences a person may take that the sampler does not (借邻韵)
                raise TangError(
                    f"{char!r} is not allowed at position {info.position + 1} (form, rhyme or tone)"
                )
            info = self._info(self._frames[-1], preview.allowed, preview.dist, token)
        return token, info

    def step(self) -> StepInfo:
        """Sample and commit the next position."""
        self.preview()
        return self.choose()

    def step_drafted(self) -> StepInfo:
        """Commit the next position from the best of `line_drafts` drafts of the rest of its line
        (craft/line_drafts.py), drawn when a line starts or after anything changed the line under
        way (an undo, a typed or picked character); a plain `step` when line_drafts is 1. The kept
        draft's steps and model states are put back one at a time, never recomputed."""
        if self.settings.line_drafts <= 1 or self.done:
            return self.step()
        here = len(self.history)
        kept = self._drafted
        if kept is None or not self._on_course(*kept):
            if self._forced_here():
                # A forced place (an acrostic's or a prefix's character) is written as it is, and the
                # draft begins at the line's first free place: the same place whether the forced
                # characters came one by one here (generate) or all at once by follow_forced (the
                # studio's `p`, whose best-of-K draft came out another poem with an acrostic).
                return self.choose()
            if (
                self.plan.n_lines is None
                and self._frames[-1].cstate.col == 0
                and self.preview().chosen == EOS_MARK
            ):
                # Free verse may end at a line's start: one draw decides, as without drafts. Among
                # drafts an ending scored 0 (no character to average) and beat every line, so
                # free poems stopped after two lines (real ones: a median of 12).
                return self.choose()
            kept = self._drafted = (here, self._draft_line())
        frame, info = kept[1][here - kept[0]]
        self._frames.append(frame)
        self.history.append(info)
        self._preview = None
        return info

    def _forced_here(self) -> bool:
        """Whether the form, an acrostic or a prefix fixes the next character (no draw, no preview)."""
        frame = self._frames[-1]
        novelty = self.novelty if self.settings.novelty else None
        return C.allowed(self.plan, self.tables, self.settings, frame.cstate, novelty).forced

    def _on_course(self, start: int, rest: list[tuple[_Frame, StepInfo]]) -> bool:
        """Whether the poem still follows the kept draft that began at `start`, with some left."""
        here = len(self.history)
        if not start <= here < start + len(rest):
            return False
        return [info.chosen for _, info in rest[: here - start]] == [s.chosen for s in self.history[start:]]

    def _draft_line(self) -> list[tuple[_Frame, StepInfo]]:
        """The kept draft of the rest of this line. The drafts draw from their own random stream,
        seeded by the poem's seed, the place and how many lines were drafted before, so a preview
        drawn meanwhile (the studio's panel, a typed character judged) does not change them and `p`
        in the studio writes the poem `generate` writes at the same seed."""
        from tangstudio.engine.compose.craft.line_drafts import best_rest_of_line

        stream = np.random.Generator(np.random.PCG64([self.seed, len(self.history), self._line_draws]))
        self._line_draws += 1
        saved, self.generator, self._preview = self.generator, stream, None
        try:
            return best_rest_of_line(self, self.settings.line_drafts)
        finally:
            self.generator = saved

    def taken_back(self, start: int) -> list[tuple[_Frame, StepInfo]]:
        """Undo everything written since history index `start`, returning it (each step with the
        model state after it) so that `step_drafted` can put it back without running the model."""
        taken = list(zip(self._frames[start + 1 :], self.history[start:]))
        self.undo(len(self.history) - start)
        return taken

    def _read(self, tokens: list[int]) -> tuple[object, np.ndarray]:
        """The state and next-character logits after a fresh state reads `tokens` (one row)."""
        state = self.stepper.init_state(1)
        for token in tokens:
            logits, state = self.stepper.step([token], state)
        return state, logits[0]

    def _advance(self, token: int, state: object) -> tuple[np.ndarray, object]:
        """The next logits and state after reading `token`: the model's, or with title guidance the
        two readings' (each its own batch-1 step: two are cheaper than one step of a batch of two;
        drafts written side by side are read in batches, `read_together`)."""
        if not self._guided:
            out, state = self.stepper.step([token], state)
            return out[0], state
        assert isinstance(state, _TwoReadings)
        out_titled, titled = self.stepper.step([token], state.titled)
        out_untitled, untitled = self.stepper.step([token], state.untitled)
        own = out_titled[0]
        lean = guided(own, out_untitled[0], self.settings.guidance, self._title_chars)
        return lean, _TwoReadings(titled, untitled, own)

    def _commit(self, token: int) -> None:
        cstate = self._constrained(token)
        if cstate is not None:
            self._push(cstate, *self._advance(token, self._frames[-1].state))

    def _constrained(self, token: int) -> C.CState | None:
        """The constraint state after `token`, for `_push` once the model has read it; None when the
        poem is done, its frame pushed here (nothing more will be read from the model: no step)."""
        frame = self._frames[-1]
        cstate = C.advance(self.plan, self.tables, frame.cstate, token)
        if cstate.done:
            self._frames.append(_Frame(frame.state, frame.logits, cstate))
            return None
        return cstate

    def _push(self, cstate: C.CState, logits: np.ndarray, state: object) -> None:
        new = _Frame(state, logits, cstate)
        self._frames.append(self._fed(new) if cstate.line != self._frames[-1].cstate.line else new)

    # ----------------------------------------------------------------- drafts side by side

    def fork(self, generator: np.random.Generator) -> Composer:
        """A draft's own composer, drawing from `generator`: it shares the model, plan and settings
        and writes on its own copies of the frames and history (craft/line_drafts.py)."""
        twin = copy.copy(self)
        twin._frames = list(self._frames)
        twin.history = list(self.history)
        twin._preview = None
        twin._drafted = None
        twin.generator = generator
        return twin

    def choose_unread(self) -> tuple[int, C.CState] | None:
        """`choose` the previewed suggestion but leave the model's reading of it to `read_together`:
        the token and constraint state it is waiting on, or None when the poem ended on it."""
        token, info = self._chosen(None)
        cstate = self._constrained(token)
        self.history.append(info)
        self._preview = None
        return None if cstate is None else (token, cstate)

    @staticmethod
    def read_together(waiting: list[tuple[Composer, int, C.CState]]) -> None:
        """Each fork's `choose_unread` token read by the model, all in one batched step.

        One step of a batch of n rows costs far less than n steps of one (the output layer's
        weights are read once, not n times): measured here for the default model, 3.1 ms for 24
        rows against 0.41 ms for one. Below BATCH_FROM rows a batch costs more than single steps
        (1.5 ms for 2 or 4), so few rows are stepped one by one.
        """
        if not waiting:
            return
        first = waiting[0][0]
        tokens = [token for _, token, _ in waiting]
        states = [fork._frames[-1].state for fork, _, _ in waiting]
        rows = len(tokens) * (2 if first._guided else 1)
        if rows < BATCH_FROM:
            read = [first._advance(token, state) for token, state in zip(tokens, states)]
        else:
            read = first._advance_batch(tokens, states)
        for (fork, _, cstate), (logits, state) in zip(waiting, read):
            fork._push(cstate, logits, state)

    def _advance_batch(self, tokens: list[int], states: list[object]) -> list[tuple[np.ndarray, object]]:
        """`_advance` for several states at once, as one batched model step."""
        stepper, n = self.stepper, len(tokens)
        # each row copied out of the batch: a frame holding a view of it kept the whole batch's
        # logits alive, every discarded draft's with them (a review: 42 MB a titled 七律, not 3.4)
        if not self._guided:
            out, joined = stepper.step(tokens, stepper.join(states))
            return [(out[i].copy(), stepper.select(joined, [i])) for i in range(n)]
        both = [s.titled for s in states] + [s.untitled for s in states]  # type: ignore[attr-defined]
        out, joined = stepper.step(tokens + tokens, stepper.join(both))
        read: list[tuple[np.ndarray, object]] = []
        for i in range(n):
            own = out[i].copy()
            lean = guided(own, out[n + i], self.settings.guidance, self._title_chars)
            read.append(
                (lean, _TwoReadings(stepper.select(joined, [i]), stepper.select(joined, [n + i]), own))
            )
        return read

    def _fed(self, frame: _Frame) -> _Frame:
        """`frame` (at a line's start) after the model read that line's keyword, if the plan has one."""
        ids = self.poem_plan.keyword_ids(self.vocab, frame.cstate.line)
        if not ids:
            return frame
        state, logits = frame.state, frame.logits
        for token in ids:
            logits, state = self._advance(token, state)
        return _Frame(state, logits, frame.cstate, base=(frame.state, frame.logits))

    def set_keyword(self, line: int, keyword: str) -> None:
        """Give `line` (not begun yet, or about to be rewritten) a new keyword; '' for none.

        The top frame is fed again when it is that line's start, so the next character reads it.
        """
        from tangstudio.engine.compose.planning.check import check_plan

        check_plan([keyword], "free")
        keywords = self.poem_plan.keywords
        keywords += [""] * (line + 1 - len(keywords))
        keywords[line] = keyword
        self.poem_plan.keyword_ids(self.vocab, line)  # unknown characters: one line, nothing changed
        top = self._frames[-1]
        if top.cstate.line == line and top.cstate.col == 0 and self.poem_plan.reads:
            state, logits = top.base if top.base is not None else (top.state, top.logits)
            self._frames[-1] = self._fed(_Frame(state, logits, top.cstate))
        self._preview = None
        self._drafted = None

    def undo(self, n: int = 1) -> int:
        """Take back up to n steps (never into the prefix); returns how many were undone."""
        k = max(0, min(n, len(self.history) - self.prefix_len))
        for _ in range(k):
            self._frames.pop()
            self.history.pop()
        self._preview = None
        self._drafted = None  # what is written next is drawn afresh (a reroll is a new draw)
        return k

    # ----------------------------------------------------------------- what a person does

    def update_sampling(self, settings: ComposeSettings) -> None:
        """Take the knobs that may change mid-poem (sampling, rhyme, tones) from `settings`.

        The form, acrostic and prefix stay: they shape the whole poem and need `restart`.
        """
        settings.validate()
        for name in SAMPLING_KNOBS:
            setattr(self.settings, name, getattr(settings, name))
        self._preview = None
        self._drafted = None

    def last_choice(self) -> int | None:
        """Index in `history` of the last step the sampler or a person chose (not forced, not prefix)."""
        for i in range(len(self.history) - 1, self.prefix_len - 1, -1):
            if not self.history[i].forced:
                return i
        return None

    def follow_forced(self) -> None:
        """Write the characters the form forces next (punctuation, acrostic, prefix, locked lines)."""
        while not self.done and self.preview().forced:
            self.choose()

    def take_back(self) -> bool:
        """Undo the last choice and the forced characters after it; False when there is none."""
        last = self.last_choice()
        if last is None:
            return False
        self.undo(len(self.history) - last)
        return True

    def retake(self, index: int) -> StepInfo | None:
        """Replace the last choice by its candidate `index` (0-based), then the forced characters."""
        last = self.last_choice()
        if last is None:
            return None
        candidates = self.history[last].candidates
        if index >= len(candidates):
            return None
        self.undo(len(self.history) - last)
        info = self.choose(candidates[index][0])
        self.follow_forced()
        return info

    def judge(self, char: str) -> Judgement:
        """How likely `char` is as the next character, its rank, and whether the form allows it."""
        self.preview()
        preview = self._preview
        assert preview is not None
        position = preview.info.position
        token = EOS if char == EOS_MARK else self.vocab.stoi.get(char, -1)
        reason: str | None
        if token < 0:
            from tangstudio.engine.corpus.script import script_hint

            reason = f"{char} is not in this model's vocabulary{script_hint(char, self.vocab)}"
            return Judgement(char, position, 0.0, 0.0, math.inf, len(self.vocab.itos), reason, known=False)
        model_probs = preview.dist.model_probs
        p = float(model_probs[token])
        rank = int((model_probs > model_probs[token]).sum()) + 1
        reason = C.refusal(
            self.plan, self.tables, self.settings, self._frames[-1].cstate, preview.allowed, token
        )
        shown = float(preview.dist.probs[token]) if reason is None else 0.0
        aside = self._not_drawn_because(char, token, preview.allowed) if reason is None else None
        return Judgement(char, position, shown, p, -math.log2(max(p, 1e-300)), rank, reason, aside=aside)

    def _not_drawn_because(self, char: str, token: int, allowed: C.Allowed) -> str | None:
        """Why an allowed character is not among those the composer draws from here (None: it is).
        更上一层楼 typed read "model p 99 % · rank 1 · fits ✓" beside candidates without 楼, and
        "constraints removed 99 %", with nothing saying why (a poet's review)."""
        if bool(allowed.drawn[token]):
            return None
        line_text = self._frames[-1].cstate.line_text
        if self.novelty is not None and char in self.novelty.completions(line_text):
            return f"{char} completes a line of the corpus ({line_text}{char}): the composer would not write it, you may"
        if self.plan.acrostic_ids and bool(C.acrostic_heads(self.plan, self.tables)[token]):
            return f"{char} heads a line of the acrostic: the composer does not draw it again, you may"
        if bool(self.tables.not_drawn[token]):
            return f"{char} is a rare spelling or an unread character: the composer does not draw it, you may"
        if not bool(allowed.mask[token]) and C.special_form_fits(
            self.plan, self.tables, self._frames[-1].cstate, token
        ):
            return (
                f"{char} writes this line in the 特拗 form 平平仄平仄 (its 1st 平), which `check` accepts: "
                "the composer writes the standard line, you may"
            )
        return f"the composer would not draw {char} here; you may write it"

    def write(self, char: str) -> Judgement:
        """Write a character a person typed, then what the form forces; TangError (why) if it breaks the form."""
        if self.done:
            raise TangError("the poem is finished; undo or start a new one")
        judgement = self.judge(char)
        if not judgement.fits:
            raise TangError(judgement.reason or f"{char!r} is not allowed here")
        self.choose(char).typed = True
        self.follow_forced()
        return judgement

    def line_start(self, line: int) -> int:
        """Text position (= history index) where `line` (0-based) begins in the poem as written."""
        if self.plan.regulated:
            return line * (self.plan.chars_per_line + 1)
        starts = [0] + [i + 1 for i, c in enumerate(self.text) if c in LINE_MARKS]
        if line >= len(starts):
            raise TangError(f"line {line + 1} is not written yet")
        return starts[line]

    def reroll(
        self, line: int, locked: frozenset[int] | set[int] = frozenset(), keyword: str | None = None
    ) -> None:
        """Resample `line` and every line after it, keeping the `locked` later lines byte for byte.

        The rule (a left-to-right model cannot revise the past): everything before the line stays,
        the line and the ones after it are sampled again, and each locked later line is written
        back as given at its place (a prefix-like constraint the sampler walks through). The rhyme
        group and the tone pattern are narrowed to what the locked lines need before sampling, so
        the new lines agree with them where the form allows.
        """
        if line in locked:
            raise TangError(f"line {line + 1} is locked: unlock it first")
        text = self.text
        start = self.line_start(line)
        if start > len(text) or (start == len(text) and not text):
            raise TangError(f"line {line + 1} is not written yet")
        if start < self.prefix_len:
            raise TangError(f"line {line + 1} is part of the prefix you gave; change the prefix instead")
        later = sorted(k for k in locked if k > line)
        if later and not self.plan.regulated:
            raise TangError("locked later lines need a fixed form (free verse lines have no fixed place)")
        keep: dict[int, int] = {}
        for k in later:
            first = self.line_start(k)
            for col in range(self.plan.chars_per_line):
                if first + col < len(text):
                    keep[first + col] = self.vocab.stoi[text[first + col]]
        self.undo(len(self.history) - start)
        if self.poem_plan.reads:  # the line's keyword (a new one if given) is read again before it
            kept = self.poem_plan.keywords[line] if line < len(self.poem_plan.keywords) else ""
            self.set_keyword(line, kept if keyword is None else keyword)
        base = self.plan
        self._narrow_for(keep)
        self.plan = replace(base, fixed={**base.fixed, **keep})
        try:
            while not self.done:
                self.step_drafted()
        finally:
            self.plan = base
            self._preview = None

    def _narrow_for(self, keep: dict[int, int]) -> None:
        """Narrow the rhyme groups and tone variants at the top frame to fit characters fixed later."""
        frame = self._frames[-1]
        s = frame.cstate
        groups, strict, loose, theme_left = s.groups, s.strict, s.loose, s.theme_left
        used = s.rhymes_used
        m = self.plan.chars_per_line + 1
        for pos, token in keep.items():
            line, col = divmod(pos, m)
            # kept text (locked lines, a person's words) in any reading, as the checker reads it
            t = self.tables.given_tones(token, line_end=col == self.plan.chars_per_line - 1)
            if self.plan.rhyme_position(line, col) and self.tables.groups_of[token]:
                narrowed = (
                    self.tables.groups_of[token] if groups is None else groups & self.tables.groups_of[token]
                )
                groups = narrowed or groups
                used = used | {token}  # a rhyme the kept line holds: not to end a line above it again (重韵)
            theme_left = theme_left - {token}
            fit_strict = tuple(i for i in strict if fits(self.plan.variants[i].lines[line][col], t))
            fit_loose = tuple(i for i in loose if fits(self.plan.variants[i].loose_lines[line][col], t))
            strict = fit_strict or strict
            loose = fit_loose or loose
        self._frames[-1] = _Frame(
            frame.state,
            frame.logits,
            replace(s, groups=groups, strict=strict, loose=loose, theme_left=theme_left, rhymes_used=used),
        )

    def finish(self) -> ComposeResult:
        """Write the rest of the poem (each line the best of `line_drafts`) and return it."""
        while not self.done:
            self.step_drafted()
        return self.result()

    def read_ids(self) -> tuple[list[int], list[int]]:
        """Every id the model read while writing the poem so far, and where its characters sit."""
        return read_ids(self.text, self.plan.form, self.poem_plan.title, self.poem_plan.keywords,
                        self.settings, self.tables)  # fmt: skip

    # ----------------------------------------------------------------- the result

    def result(self) -> ComposeResult:
        text = self.text
        check = None
        if self.plan.regulated and self.done:
            from tangstudio.engine.prosody import check_poem

            check = check_poem(text, self.plan.form, self.vocab.script).to_dict()
        group = check["rhyme_group"] if check and check.get("rhyme_group") else self.rhyme_group
        log_prob = sum(math.log(max(s.model_prob, 1e-300)) for s in self.history)
        result = ComposeResult(
            text,
            self.plan.form,
            list(self.history),
            group,
            check,
            self.backoffs,
            log_prob=log_prob,
            seed=self.seed,
            title=self.poem_plan.title,
            plan=list(self.poem_plan.keywords),
        )
        if self.novelty is not None and text:
            result.copied_lines = self.novelty.copied_lines(text, self.plan.prefix_len)
            result.longest_shared = self.novelty.longest_shared(text)
        return result
