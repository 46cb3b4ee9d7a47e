"""One poem's plan as the Composer uses it: the title and keywords it feeds, the theme's lines.

Made once when a poem starts (`Composer.restart`), from the settings and the composer's seed:

- a model that reads plans (`vocab.has_plan`) is fed the cleaned title and, before each line,
  its keyword. The keywords are the person's where given; '-' entries, and every line when no plan
  is given and `settings.planner` is on, are drawn by the planner with the poem's seed, so a seeded
  poem keeps its plan. Off by default: a title alone is read with no keywords, because the
  planner's keywords measurably made poems read less like real ones (settings.PLANNER);
- a model trained before plans is refused a title or plan (feed.check_readable), and its plan
  is empty;
- on either kind, each 藏字 theme character is planned into a line of its own (theme.py); a
  plan-reading model also gets it as that line's keyword, unless the person set that one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tangstudio.engine.compose.planning import feed, theme
from tangstudio.engine.compose.planning.check import TO_PLAN
from tangstudio.engine.corpus.titles import clean_title
from tangstudio.engine.errors import TangError

if TYPE_CHECKING:
    from tangstudio.engine.compose.constraints import Plan
    from tangstudio.engine.compose.settings import ComposeSettings
    from tangstudio.engine.corpus.vocab import Vocab


@dataclass
class PoemPlan:
    title: str = ""  # as the model reads it (cleaned), '' for none
    keywords: list[str] = field(default_factory=list)  # one per planned line, '' for none
    theme_lines: dict[int, int] = field(default_factory=dict)  # theme token → the line planned for it
    reads: bool = False  # whether the model reads the title and keywords

    def title_ids(self, vocab: Vocab) -> list[int]:
        return feed.title_ids(vocab, self.title) if self.reads else []

    def keyword_ids(self, vocab: Vocab, line: int) -> list[int]:
        return feed.keyword_ids(vocab, self.keyword_read(line))

    def keyword_read(self, line: int) -> str:
        """The keyword the model reads before `line` ('' for none, or for a model that cannot)."""
        return self.keywords[line] if self.reads and line < len(self.keywords) else ""

    def to_dict(self) -> dict[str, object]:
        return {"title": self.title, "plan": list(self.keywords)}


def _open_lines(cplan: Plan) -> list[int]:
    """Lines of a fixed form with at least one place the decoder chooses (not all prefix)."""
    if cplan.n_lines is None:
        return []
    m = cplan.chars_per_line + 1
    return [
        line
        for line in range(cplan.n_lines)
        if cplan.open_slots(line * m) - cplan.open_slots((line + 1) * m) > 0
    ]


def make_poem_plan(settings: ComposeSettings, vocab: Vocab, cplan: Plan, seed: int) -> PoemPlan:
    """The plan for one poem (see the module docstring); TangError for what a model cannot read."""
    from tangstudio.engine.compose.planning.planner import plan_length, propose
    from tangstudio.engine.compose.planning.table import load_table

    feed.check_readable(vocab, settings.title, settings.plan)
    reads = vocab.has_plan
    title = clean_title(settings.title) if reads else ""
    lines = max(plan_length(cplan.n_lines), len(settings.plan))
    given = list(settings.plan) or [TO_PLAN if settings.planner else ""] * lines
    if given == [TO_PLAN]:  # '-' alone: every line's keyword from the planner
        given = [TO_PLAN] * lines
    given += [""] * (lines - len(given))
    table = None
    theme_ids = list(cplan.theme_ids)
    if theme_ids or TO_PLAN in given:
        try:
            table = load_table(vocab.script)
        except TangError:  # no table for this script: theme lines by order alone, no planned keywords
            table = None
    planned: dict[int, int] = {}
    if theme_ids and cplan.n_lines is not None:
        chars = [vocab.itos[t] for t in theme_ids]
        mine = [line for line in _open_lines(cplan) if given[line] in ("", TO_PLAN)]
        planned = theme.assign_lines(theme_ids, chars, mine or _open_lines(cplan), lines, seed, table)
        if reads:
            for token, line in planned.items():
                if given[line] in ("", TO_PLAN):
                    given[line] = vocab.itos[token]
    if reads and TO_PLAN in given and table is not None:
        given = propose(title, lines, seed=seed, given=given, allowed=feed.can_write(vocab), table=table)
    keywords = [k if k != TO_PLAN else "" for k in given] if reads else []
    plan = PoemPlan(title, keywords, planned, reads)
    plan.title_ids(vocab)  # refuse characters the model does not know now, not mid-poem
    for line in range(len(keywords)):
        plan.keyword_ids(vocab, line)
    return plan
