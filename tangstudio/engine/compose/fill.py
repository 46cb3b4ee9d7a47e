"""Composing with a bilstm: a grid of the form's positions, filled from both sides and refined.

    [<form>, x_0, …, x_{L−1}, <eos>]   with <mask> at every position not written yet

The person fixes any positions (`set`); `sample` fills the empty ones left to right, each drawn
from P(x_t | everything else, masks included) under the same constraints as the composer;
`refine` then revisits each free position with its final neighbours on both sides (a few rounds
of Gibbs sampling), which a left-to-right model cannot do. Each call is one forward pass over a
short poem; the constraints at a position come from the characters written everywhere else.
"""

from __future__ import annotations

import math
import os

import torch

from tangstudio.engine.compose import constraints as C
from tangstudio.engine.compose.decoding import Distribution, constrained, make_rng, pick, top_candidates
from tangstudio.engine.compose.line_index import LineIndex
from tangstudio.engine.compose.settings import UNFILLED, ComposeResult, ComposeSettings, Judgement, StepInfo
from tangstudio.engine.compose.tables import LINE_ENDS, VocabTables, tables_for
from tangstudio.engine.corpus.vocab import EOS, MASK
from tangstudio.engine.errors import TangError
from tangstudio.engine.runs.loaded import Loaded


class Filler:
    """Fill-in composition for bilstm models (fixed forms only: the grid must be known)."""

    def __init__(
        self,
        loaded: Loaded,
        settings: ComposeSettings | None = None,
        *,
        novelty: LineIndex | None = None,
        tables: VocabTables | None = None,
    ) -> None:
        if loaded.causal:
            raise TangError("filling needs a bilstm model; a left-to-right model composes with the Composer")
        self.loaded, self.model, self.vocab = loaded, loaded.model, loaded.vocab
        self.settings = settings or ComposeSettings()
        if not self.settings.regulated:
            raise TangError("a bilstm fills a fixed grid: choose wujue, qijue, wulv or qilv")
        if self.settings.theme or self.settings.primer:
            raise TangError(
                "a theme or a primer is read left to right; a bilstm fills a grid: type the characters "
                "you want where they should go (or use a rnn, lstm or gru model)"
            )
        if self.settings.title.strip() or any(self.settings.plan) or self.settings.planner:
            raise TangError(
                "a title or a plan is read before the poem, left to right; a bilstm fills a grid and reads "
                "neither: leave them out (or use a rnn, lstm or gru model)"
            )
        self.tables = tables or tables_for(self.vocab)
        self.plan = C.make_plan(self.settings, self.tables)
        self.novelty = novelty
        seed = (
            self.settings.seed
            if self.settings.seed is not None
            else int.from_bytes(os.urandom(4), "little") % (2**31)
        )
        self.seed = seed
        self.generator = make_rng(seed)
        n, m = self.plan.line_count, self.plan.chars_per_line
        self.length = n * (m + 1)
        self.tokens: list[int] = [MASK] * self.length
        self.fixed: set[int] = set()
        self.info: dict[int, StepInfo] = {}
        for p in range(self.length):
            line, col = divmod(p, m + 1)
            if col == m:
                self.tokens[p] = self.tables.comma if line % 2 == 0 else self.tables.period
                self.fixed.add(p)
            elif p in self.plan.fixed:
                self.tokens[p] = self.plan.fixed[p]
                self.fixed.add(p)
            elif col == 0 and line < len(self.plan.acrostic_ids):
                self.tokens[p] = self.plan.acrostic_ids[line]
                self.fixed.add(p)
        self.lines = n
        self.given = frozenset(self.fixed)  # punctuation, acrostic and prefix: never refilled

    # ------------------------------------------------------------------ reading

    @property
    def text(self) -> str:
        return "".join(UNFILLED if t == MASK else self.vocab.itos[t] for t in self.tokens)

    @property
    def done(self) -> bool:
        return MASK not in self.tokens

    def free_positions(self) -> list[int]:
        return [p for p in range(self.length) if p not in self.fixed]

    # ------------------------------------------------------------------ the distribution at a position

    def _where(self, position: int) -> tuple[int, int]:
        if not 0 <= position < self.length:
            raise TangError(f"position must be between 1 and {self.length}, got {position + 1}")
        return divmod(position, self.plan.chars_per_line + 1)

    def _cstate(self, position: int) -> C.CState:
        """The constraint state at `position` given every other written character."""
        m, plan, tables = self.plan.chars_per_line, self.plan, self.tables
        line, col = self._where(position)
        strict, loose = list(range(len(plan.variants))), list(range(len(plan.variants)))
        groups: frozenset[str] | None = plan.rhyme_groups
        used: set[int] = set()
        for p, t in enumerate(self.tokens):
            pl, pc = divmod(p, m + 1)
            if p == position or t == MASK or pc == m:
                continue
            given = plan.fixed.get(p) == t  # a person's character: any of its readings, as the checker
            tones = tables.given_tones(t, pc == m - 1) if given else tables.tones_at(t, line_end=pc == m - 1)
            if tones:
                strict = [i for i in strict if plan.variants[i].lines[pl][pc] in tones]
                loose = [i for i in loose if plan.variants[i].loose_lines[pl][pc] in ("中", *tones)]
            # Only the even lines fix the rhyme here; line 1's end is held to it (仄, or in the
            # group) but never narrows it, so the order in which refining visits them cannot matter.
            if plan.rhyme_position(pl, pc) and tables.groups_of[t]:
                narrowed = tables.groups_of[t] if groups is None else groups & tables.groups_of[t]
                groups = narrowed or groups
                used.add(t)
        start = line * (m + 1)
        before = self.tokens[start : start + col]
        line_text = "" if MASK in before else "".join(self.vocab.itos[t] for t in before)
        return C.CState(position, line, col, tuple(strict), tuple(loose), groups, frozenset(used), line_text)

    @torch.inference_mode()
    def _distribution(self, position: int) -> tuple[C.Allowed, Distribution | None]:
        _line, col = self._where(position)
        if position in self.fixed:
            return C.Allowed(self.tables.onehot(self.tokens[position]), forced=True), None
        tokens = list(self.tokens)
        tokens[position] = MASK
        device = next(self.model.parameters()).device
        ids = torch.tensor([[self.vocab.start_id(self.plan.form), *tokens, EOS]], device=device)
        logits = self.model.fill_logits(ids)[0, position + 1].float().cpu().numpy()
        cstate = self._cstate(position)
        novelty = self.novelty if (self.settings.novelty and len(cstate.line_text) == col) else None
        allowed = C.common_spellings(
            self.tables, C.prosody_allowed(self.plan, self.tables, self.settings, cstate, novelty)
        )
        return allowed, constrained(logits, allowed.drawn, self.settings.temperature)

    def candidates(self, position: int, k: int = 10) -> list[tuple[str, float]]:
        """The top k characters for `position` given everything else, after constraints."""
        _allowed, dist = self._distribution(position)
        if dist is None:
            return [(self.vocab.itos[self.tokens[position]], 1.0)]
        return top_candidates(dist.probs, self.vocab.itos, k)

    # ------------------------------------------------------------------ writing

    def set(self, position: int, char: str) -> None:
        """Fix a character at `position` (0-based text index); it stays through sample and refine."""
        _line, col = self._where(position)
        if col == self.plan.chars_per_line:
            raise TangError(f"position {position + 1} is the line's punctuation, fixed by the form")
        if (
            char in LINE_ENDS
            or char not in self.vocab.stoi
            or not bool(self.tables.hanzi[self.vocab.stoi[char]])
        ):
            raise TangError(f"{char!r} is not a character in the model's vocabulary")
        self.tokens[position] = self.vocab.stoi[char]
        self.fixed.add(position)

    def unset(self, position: int) -> None:
        _line, col = self._where(position)
        if col == self.plan.chars_per_line:
            return
        self.fixed.discard(position)
        self.tokens[position] = MASK
        self.info.pop(position, None)

    def choose(self, position: int, index: int) -> StepInfo | None:
        """Set `position` to its candidate `index` (0-based), keeping the probability it had there."""
        allowed, dist = self._distribution(position)
        if dist is None:
            return None
        candidates = top_candidates(dist.probs, self.vocab.itos)
        if index >= len(candidates):
            return None
        char, prob = candidates[index]
        self.set(position, char)
        token = self.vocab.stoi[char]
        info = StepInfo(
            position,
            candidates,
            dist.removed_mass,
            char,
            float(prob),
            float(dist.model_probs[token]),
            False,
            list(allowed.notes),
        )
        self.info[position] = info
        return info

    def judge(self, position: int, char: str) -> Judgement:
        """How likely `char` is at `position` given both sides, and whether the form allows it there."""
        allowed, dist = self._distribution(position)
        token = self.vocab.stoi.get(char, -1)
        reason: str | None
        if dist is None or token < 0:
            reason = (
                f"{char} is not in this model's vocabulary"
                if token < 0
                else f"position {position + 1} is set by the form, the acrostic or the prefix"
            )
            return Judgement(
                char, position, 0.0, 0.0, math.inf, len(self.vocab.itos), reason, known=token >= 0
            )
        p = float(dist.model_probs[token])
        rank = int((dist.model_probs > dist.model_probs[token]).sum()) + 1
        reason = C.refusal(self.plan, self.tables, self.settings, self._cstate(position), allowed, token)
        shown = float(dist.probs[token]) if reason is None else 0.0
        return Judgement(char, position, shown, p, -math.log2(max(p, 1e-300)), rank, reason)

    def write(self, position: int, char: str) -> Judgement:
        """Set a character a person typed at `position`; TangError (why) if it breaks the form."""
        judgement = self.judge(position, char)
        if not judgement.fits:
            raise TangError(judgement.reason or f"{char!r} is not allowed here")
        self.set(position, char)
        self.info[position] = StepInfo(
            position, [(char, judgement.prob)], 0.0, char, judgement.prob, judgement.model_prob
        )
        return judgement

    def reroll(self, line: int) -> None:
        """Refill every position of `line` (0-based) the form does not give, from both sides."""
        if not 0 <= line < self.plan.line_count:
            raise TangError(f"line must be between 1 and {self.plan.line_count}, got {line + 1}")
        m = self.plan.chars_per_line
        positions = [p for p in range(line * (m + 1), line * (m + 1) + m) if p not in self.given]
        for p in positions:
            self.unset(p)
        for p in positions:
            self._resample(p)

    def step_info(self, position: int) -> StepInfo | None:
        """How `position` was written (None: empty, or given by the form, acrostic or prefix)."""
        return self.info.get(position)

    def _resample(self, position: int) -> None:
        allowed, dist = self._distribution(position)
        assert dist is not None, "only a fixed position has no distribution, and it is never resampled"
        s = self.settings
        token = pick(dist.probs, s.temperature, s.top_k, s.top_p, self.generator)
        self.tokens[position] = token
        self.info[position] = StepInfo(
            position,
            top_candidates(dist.probs, self.vocab.itos),
            dist.removed_mass,
            self.vocab.itos[token],
            float(dist.probs[token]),
            float(dist.model_probs[token]),
            False,
            list(allowed.notes),
        )

    def sample(self) -> str:
        """Fill every empty position, left to right."""
        for p in self.free_positions():
            if self.tokens[p] == MASK:
                self._resample(p)
        return self.text

    def refine(self, rounds: int = 2) -> str:
        """Revisit every free position in random order, each resampled with both neighbours known."""
        if not self.done:
            self.sample()
        free = self.free_positions()
        for _ in range(rounds):
            order = self.generator.permutation(len(free)).tolist()
            for i in order:
                self._resample(free[i])
        return self.text

    def result(self) -> ComposeResult:
        if not self.done:
            self.sample()
        text = self.text
        from tangstudio.engine.prosody import check_poem

        check = check_poem(text, self.plan.form, self.vocab.script).to_dict()
        steps = []
        for p in range(self.length):
            if p in self.info:
                steps.append(self.info[p])
            else:
                steps.append(
                    StepInfo(
                        p,
                        [(self.vocab.itos[self.tokens[p]], 1.0)],
                        0.0,
                        self.vocab.itos[self.tokens[p]],
                        1.0,
                        1.0,
                        True,
                    )
                )
        backoffs = [n for s in steps for n in s.notes]
        result = ComposeResult(
            text, self.plan.form, steps, check.get("rhyme_group"), check, backoffs, seed=self.seed
        )
        if self.novelty is not None:
            result.copied_lines = self.novelty.copied_lines(text, self.plan.prefix_len)
            result.longest_shared = self.novelty.longest_shared(text)
        return result
