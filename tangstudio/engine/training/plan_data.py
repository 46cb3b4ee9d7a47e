"""Poems with a subject: the title and the per-line keywords the model reads, and their dropping.

    <title> 送 友 人 <wulv> <kw> 青 山 青山横北郭， <kw> 白 水 白水绕东城。 … <eos>

Everything before the form's start token, and every `<kw> k…` segment, is given to the model,
never predicted: its targets are PAD, so the loss (and every perplexity) counts the same poem
characters and end token as a poem with no plan. A plan-less, title-less poem is exactly the old
sequence `[<form>, chars…, <eos>]`, which is why `ppl_untitled` compares with older models and
with the Kneser–Ney baseline.

In training, each time a poem is drawn, its title is dropped with probability `title_drop`, its
whole plan with `plan_drop`, and each remaining keyword with `keyword_drop`, so the model learns
to write with both, either or neither. The draws come from a generator seeded by the step, so a
resumed run draws the same masks as an uninterrupted one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from tangstudio.engine.corpus.keywords import KeywordModel
from tangstudio.engine.corpus.poem import CLAUSE_END, Poem
from tangstudio.engine.corpus.titles import clean_title
from tangstudio.engine.corpus.vocab import EOS, PAD, Vocab


@dataclass(frozen=True)
class PlanDrops:
    title: float = 0.4
    plan: float = 0.35
    keyword: float = 0.2


@dataclass(frozen=True)
class PlannedPoem:
    """A poem's ids in parts: title, start token, and (keyword, line) pairs."""

    title: tuple[int, ...]
    start: int
    lines: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]

    @property
    def full_length(self) -> int:
        """Tokens with title and every keyword present: the most this poem can take."""
        title = len(self.title) + 1 if self.title else 0
        keywords = sum(len(k) + 1 for k, _ in self.lines if k)
        return title + 1 + sum(len(line) for _, line in self.lines) + keywords + 1


_LINES = re.compile(f"[^{CLAUSE_END}]*[{CLAUSE_END}]+|[^{CLAUSE_END}]+$")


def covering_lines(text: str) -> list[str]:
    """The poem's lines with every character kept: each clause takes the whole run of marks after it
    (`split_clauses` keeps one, so "。」" or "，，" would lose characters the loss must count)."""
    return _LINES.findall(text)


def plan_poem(poem: Poem, keywords: list[str], vocab: Vocab) -> PlannedPoem:
    title = tuple(vocab.encode(clean_title(poem.title)))
    lines = covering_lines(poem.text)
    keywords = [*keywords, *[""] * (len(lines) - len(keywords))]  # never drop a line for want of one
    pairs = tuple((tuple(vocab.encode(k)), tuple(vocab.encode(line))) for k, line in zip(keywords, lines))
    return PlannedPoem(title, vocab.start_id(poem.form), pairs)


def plan_poems(poems: Sequence[Poem], keyword_model: KeywordModel, vocab: Vocab) -> list[PlannedPoem]:
    return [plan_poem(p, keyword_model.line_keywords(p.text), vocab) for p in poems]


def assemble(
    poem: PlannedPoem, vocab: Vocab, title: Sequence[int] | None, keep: Sequence[bool]
) -> tuple[list[int], list[bool]]:
    """The token ids and, for each, whether it is a target the loss counts.

    `title` replaces the poem's own title (None: no title); `keep[i]` says whether line i's
    keyword is given.
    """
    ids: list[int] = []
    scored: list[bool] = []
    if title:
        ids += [vocab.title_id, *title]
        scored += [False] * (len(title) + 1)
    ids.append(poem.start)
    scored.append(False)
    for (keyword, line), kept in zip(poem.lines, keep):
        if kept and keyword:
            ids += [vocab.keyword_id, *keyword]
            scored += [False] * (len(keyword) + 1)
        ids += line
        scored += [True] * len(line)
    ids.append(EOS)
    scored.append(True)
    return ids, scored


def draw(
    poems: Sequence[PlannedPoem], vocab: Vocab, drops: PlanDrops, gen: torch.Generator
) -> list[tuple[list[int], list[bool]]]:
    """Each poem with its title and keywords dropped at random (training)."""
    out = []
    for poem in poems:
        u = torch.rand(2 + len(poem.lines), generator=gen).tolist()
        title = poem.title if u[0] >= drops.title else None
        with_plan = u[1] >= drops.plan
        keep = [with_plan and x >= drops.keyword for x in u[2:]]
        out.append(assemble(poem, vocab, title, keep))
    return out


def targets_of(ids: list[int], scored: list[bool]) -> list[int]:
    """Targets shifted by one, PAD where the next token is given rather than predicted."""
    return [t if s else PAD for t, s in zip(ids[1:], scored[1:])]


# The conditions a model with a plan is evaluated under (`tangstudio eval`):
#   planned      its own title and every keyword: how it was trained to be used
#   untitled     nothing given: the old sequence, comparable with older models and the 4-gram
#   title        its own title, no plan;  other_title  another poem's title, no plan
#   plan         every keyword, no title
# title − other_title is what the title is worth; untitled − plan what the plan is worth.
CONDITIONS = ("planned", "untitled", "title", "other_title", "plan")


def condition_items(
    poems: Sequence[PlannedPoem], vocab: Vocab, condition: str
) -> list[tuple[list[int], list[bool]]]:
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}")
    items = []
    for i, poem in enumerate(poems):
        title: Sequence[int] | None = None
        if condition in ("planned", "title"):
            title = poem.title
        elif condition == "other_title":  # half the list away: neighbours are often one set (宫词 一, 二)
            title = poems[(i + len(poems) // 2) % len(poems)].title
        keep = [condition in ("planned", "plan")] * len(poem.lines)
        items.append(assemble(poem, vocab, title, keep))
    return items
