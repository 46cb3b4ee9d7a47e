"""Line drafts: each line sampled m times from the same cached state, the likeliest kept.

    score(line) = mean over the line's sampled characters c of
                  ln p_model(c | title, poem so far) − λ·r(c) − μ·s(c)

where p_model is the model's own probability (before masks, temperature and the craft's lean), r(c)
is the times c counts as in the poem (the repetition penalty's rule, craft/steer.repeat_counts:
叠字 spared, a theme character until written, a line's keyword counted more once in it), s(c) is
1 when c names a season the poem has not named (season.py), and λ, μ are the repeat penalty and
the season strength: the same terms that leaned on the draw, so the choice does not bring back
what the lean kept out. Forced places (marks, acrostic, prefix) are the same in every draft and
left out.

Why lines and not whole poems: blind readers' overall scores of our poems follow the causal
model's mean log-probability (Spearman ρ ≈ 0.5 within a sheet over the 96 poems of readings A–G,
docs/quality.md), and one unlikely line is enough to lose a reader. Choosing among m drafts of
each line in turn lifts every line; choosing among K whole poems only lifts the average, and costs
the same per draw. The choice is greedy, line by line: a left-to-right model cannot revise the
past, and each line is judged given the lines already kept, which is what ties it to them.

The kept draft's steps, each with the model state after it, are put back one at a time by
Composer.step_drafted: the studio's `p` shows the line being written, each step holding the
distribution it was drawn from, and the model is not run again for it.

The m drafts are written side by side, each by its own fork of the composer with its own random
stream: one position of all of them, then one batched model step reading it (a titled poem's two
readings included), which costs a fraction of m single steps.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from tangstudio.engine.compose.craft.season import lexicon
from tangstudio.engine.compose.craft.steer import repeat_counts
from tangstudio.engine.compose.tables import LINE_ENDS
from tangstudio.engine.hanzi import is_han

if TYPE_CHECKING:
    from tangstudio.engine.compose.generator import Composer
    from tangstudio.engine.compose.settings import StepInfo


def line_score(history: list[StepInfo], start: int, rules: DraftRules) -> float:
    """The score above for history[start:], the steps of one line (or the rest of one)."""
    terms = []
    for i in range(start, len(history)):
        step = history[i]
        if step.forced or step.typed or len(step.chosen) != 1 or not is_han(step.chosen):
            continue
        terms.append(math.log(max(step.model_prob, 1e-30)) - rules.cost(history[:i], step.chosen))
    return sum(terms) / len(terms) if terms else -math.inf  # nothing chosen: no line to prefer


class DraftRules:
    """What a drafted character costs beyond its log-probability, by the craft's own rules."""

    def __init__(self, composer: Composer, repeat_penalty: float, season: float) -> None:
        self.repeat_penalty = repeat_penalty
        self.season = season
        self.composer = composer
        self.lexicon = lexicon(composer.vocab.script)
        self.title = composer.settings.title

    @classmethod
    def of(cls, composer: Composer) -> DraftRules:
        """The rules at the composer's current strengths."""
        return cls(composer, composer.settings.repeat_penalty, composer.settings.season)

    def cost(self, before: list[StepInfo], char: str) -> float:
        text = "".join(s.chosen for s in before)
        line_text = text[max((text.rfind(m) for m in LINE_ENDS), default=-1) + 1 :]
        cost = 0.0
        if self.repeat_penalty > 0:
            cost += self.repeat_penalty * self.repeats(before, line_text, char)
        if self.season > 0:
            named = self.lexicon.seasons_in(self.title + "\n" + text)
            if self.lexicon.off_season(named, line_text, char):
                cost += self.season
        return cost

    def repeats(self, before: list[StepInfo], line_text: str, char: str) -> int:
        """How many times `char` counts as in the poem, by the penalty's own rule (craft/steer.py)."""
        c = self.composer
        line = sum(s.chosen in LINE_ENDS for s in before)  # as CState.line counts them
        keyword = c.poem_plan.keyword_read(line)
        counts = repeat_counts(c.plan, c.tables, before, line, line_text, keyword)
        return counts.get(c.vocab.stoi.get(char, -1), 0)


def write_rest_of_line(composer: Composer) -> None:
    """Sample on until the line under way is closed (its mark written) or the poem is done."""
    line = composer.line
    while not composer.done and composer.line == line:
        composer.step()


def draft_streams(generator: np.random.Generator, m: int) -> list[np.random.Generator]:
    """Each draft's own random stream, seeded from `generator`: a draft is then the same whether
    the drafts are written one after another or side by side."""
    seeds = generator.integers(0, 2**63, size=m)
    return [np.random.Generator(np.random.PCG64(int(seed))) for seed in seeds]


def write_side_by_side(drafts: list[Composer]) -> None:
    """`write_rest_of_line` for every draft at once: each position is sampled draft by draft, then
    read by the model for all of them in one batched step (Composer.read_together)."""
    line = drafts[0].line
    writing = drafts
    while writing := [d for d in writing if not d.done and d.line == line]:
        waiting = [(d, *unread) for d in writing if (unread := d.choose_unread()) is not None]
        drafts[0].read_together(waiting)


def best_rest_of_line(composer: Composer, m: int, side_by_side: bool = True) -> list[tuple[Any, StepInfo]]:
    """The best of m drafts of the rest of the current line, as Composer.taken_back gives it (each
    step with the model state after it); the composer is left where it was, but for its random
    stream, which seeds the drafts'. `side_by_side` False writes the same drafts one after another,
    a model step of one row at a time: the benchmark's baseline, and the tests' reference."""
    start = len(composer.history)
    rules = DraftRules.of(composer)
    drafts = [composer.fork(stream) for stream in draft_streams(composer.generator, m)]
    if side_by_side:
        write_side_by_side(drafts)
    else:
        for draft in drafts:
            write_rest_of_line(draft)
    best: list[tuple[Any, StepInfo]] = []
    best_score = -math.inf
    for draft in drafts:
        score = line_score(draft.history, start, rules)
        if score > best_score or not best:  # a draft that only ended the poem is kept only if all did
            best_score, best = score, draft.taken_back(start)
    return best
