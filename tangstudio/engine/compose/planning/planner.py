"""The planner: one keyword per line, from a title or from nothing, drawn with a seed.

Wang et al. (2016) expand the title into as many keywords as the poem has lines; we do the same
with the train split's own statistics (planning/build.py). Line i's keyword k scores

    log p(k | quarter of the poem)                        where in a poem k tends to be a keyword
  + FREQ_WEIGHT · log df(k)                               how common a word k is (train poems holding it)
  + TITLE_WEIGHT · Σ_w PPMI_α(title word w, k)            what the title calls for
  + PAIR_WEIGHT · mean_j PPMI_α(k, keyword of line j)     what fits the keywords already chosen

and is drawn from the CANDIDATES best by softmax(score / temperature), with a numpy PCG64
generator seeded by `seed`: the same title, seed and given keywords always give the same plan.
Lines are filled in order after the keywords the person gave, so those steer the rest. No
keyword repeats in a plan, nor shares a character with another (月 and 明月 are one image).

Only keywords that head at least MIN_LINES train lines are proposed (1,962 of 3,304), none in
SKIP, and no two-character word holding a pronoun (PAIR_SKIP: 君去, 知君, 我今 name who, not what).

Why these (issue 21, blind readers: "no single scene"; plans like 东归·柳絮·莱·别路·流莺·隔年·我今·
到时 for 送友人): raw PMI is biased toward rare words, and every word the title called for was rare.
Measured by scripts/planner_quality.py on 300 val poems (never test): the default model's
perplexity of the real poems given their title and the planner's plan (lower = the plan agrees with
what real poems under that title say; title alone 69.1, their own keywords 40.0, another poem's
keywords 108.7; ±1 between plan seeds), 2026-12-05, load 8-9 on 2 shared cores:

    before (table over every form, raw PMI, weights 1/1)   148.96 ppl, 37.5 % common, 2.7 % odd
    after  (this rule, TITLE_WEIGHT 3)                      103.91 ppl, 55.8 % common, 0.9 % odd

The table counts the regulated train poems the default was trained on (every proposed word is one
it has read as a keyword), PMI is smoothed (α 0.75, build.smoothed_marginal), a title word keeps
the partners seen with it most, and the weights were tuned on that val measure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from tangstudio.engine.compose.planning.build import bucket, title_words
from tangstudio.engine.compose.planning.check import TO_PLAN
from tangstudio.engine.compose.planning.table import PlannerTable, load_table
from tangstudio.engine.corpus.titles import clean_title

FREQ_WEIGHT = 1.0
TITLE_WEIGHT = 3.0
PAIR_WEIGHT = 1.0
MIN_LINES = 60  # train lines a keyword must head to be proposed: the model has learnt to write it
CANDIDATES = 30
TEMPERATURE = 0.8
FREE_LINES = 4  # lines planned for free verse, whose length is not known ahead
# Single characters the keyword extraction keeps (they are not function words in its sense) but a
# plan should not propose: pronouns, numerals, directions and a few verbs of saying. Useful inside a
# line, they give the line nothing to be about. Two-character words holding them stay (明月 中秋).
SKIP = frozenset(
    "尔我吾汝予余伊彼斯兹乃焉或等由呈言十二三四五六七八九百千万上下中大小子" + "爾茲萬"
)  # + traditional
# Personal pronouns: a two-character word built on one (君去, 知君, 送君, 我今) names a person and
# what they do, not an image; the line can still say 君, but it should be about something else.
PAIR_SKIP = frozenset("我吾尔汝君" + "爾")


def propose(
    title: str,
    lines: int,
    *,
    seed: int,
    given: Sequence[str] = (),
    allowed: Callable[[str], bool] | None = None,
    exclude: Iterable[str] = (),
    script: str = "simplified",
    table: PlannerTable | None = None,
) -> list[str]:
    """A keyword for every line: `given[i]` kept where it is a keyword or '' (no keyword), drawn
    where it is TO_PLAN or missing. `allowed(word)` says whether the model can write a word (its
    characters are in the vocabulary); `exclude` are words not to propose (a reroll's old one)."""
    table = table or load_table(script)
    plan = [given[i] if i < len(given) else TO_PLAN for i in range(lines)]
    rng = np.random.Generator(np.random.PCG64(seed))
    title_score = _title_score(table, clean_title(title))
    banned = np.zeros(len(table.keywords), dtype=bool)
    if allowed is not None:
        banned |= ~np.fromiter((allowed(k) for k in table.keywords), bool, len(table.keywords))
    banned |= np.fromiter((skipped(k) for k in table.keywords), bool, len(table.keywords))
    banned |= table.lines < MIN_LINES
    for word in exclude:
        if word in table.index:
            banned[table.index[word]] = True
    for i in range(lines):
        if plan[i] != TO_PLAN:
            continue
        chosen = [k for k in plan if k and k != TO_PLAN]
        score = table.log_prior[bucket(i, lines)] + TITLE_WEIGHT * title_score
        score = score + FREQ_WEIGHT * table.log_df
        score = score + PAIR_WEIGHT * _pair_score(table, chosen)
        score = np.where(banned | _overlapping(table, chosen), -np.inf, score)
        plan[i] = _draw(table, score, rng)
    return plan


def skipped(word: str) -> bool:
    """Whether a keyword is kept out of plans: a SKIP character, or a pair holding a pronoun."""
    return word in SKIP or (len(word) > 1 and any(c in PAIR_SKIP for c in word))


def _title_score(table: PlannerTable, title: str) -> np.ndarray:
    score = np.zeros(len(table.keywords), dtype=np.float32)
    for word in title_words(title):
        links = table.title.get(word)
        if links is not None:
            np.add.at(score, links[0], links[1])
    return score


def _pair_score(table: PlannerTable, chosen: list[str]) -> np.ndarray:
    score = np.zeros(len(table.keywords), dtype=np.float32)
    known = [table.index[k] for k in chosen if k in table.index]
    for k in known:
        ids, pmi = table.pairs[k]
        np.add.at(score, ids, pmi)
    return score / max(len(known), 1)


def _overlapping(table: PlannerTable, chosen: list[str]) -> np.ndarray:
    """Keywords sharing a character with one already in the plan (so none repeats)."""
    out = np.zeros(len(table.keywords), dtype=bool)
    for ch in set("".join(chosen)):
        out[table.by_char.get(ch, [])] = True
    return out


def _draw(table: PlannerTable, score: np.ndarray, rng: np.random.Generator) -> str:
    finite = np.isfinite(score)
    if not finite.any():
        return ""  # nothing the model can write is left: the line goes without a keyword
    k = min(CANDIDATES, int(finite.sum()))
    top = np.argpartition(-np.where(finite, score, -np.inf), k - 1)[:k]
    top = top[np.lexsort((top, -score[top]))]  # best first, ties by id: independent of argpartition
    logits = score[top].astype(np.float64) / TEMPERATURE
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    return table.keywords[int(top[rng.choice(k, p=probs)])]


def plan_length(lines: int | None) -> int:
    """How many lines to plan for a form with `lines` lines (None: free verse)."""
    return lines if lines is not None else FREE_LINES


def another_keyword(
    keywords: Sequence[str],
    line: int,
    *,
    title: str = "",
    seed: int,
    allowed: Callable[[str], bool] | None = None,
    script: str = "simplified",
) -> str:
    """A new keyword for `line`, unlike its current one and fitting the other lines' (a reroll's)."""
    lines = max(len(keywords), line + 1)
    given = [*keywords, *[""] * (lines - len(keywords))]
    old = given[line]
    given[line] = TO_PLAN
    plan = propose(
        title, lines, seed=seed, given=given, allowed=allowed, exclude=[old] if old else [], script=script
    )
    return plan[line]
