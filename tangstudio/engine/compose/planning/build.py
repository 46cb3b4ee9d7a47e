"""Counting the planner's statistics from the train split — what scripts/build_planner.py writes.

For every train poem: its line keywords (`corpus.keywords.KeywordModel`, the same extraction the
model is trained with, so the planner proposes words the model has learnt to read) and its title
words (the characters and adjacent pairs of `corpus.titles.clean_title`, function characters
left out). Then three tables, all plain counts so the file says what was seen, not a model:

- `positions`: how often each keyword is the keyword of a line in each quarter of its poem
  (first lines open a scene, last lines turn to the feeling: 归, 愁, 泪 come late);
- `title_pairs`: for each title word, the keywords of lines under titles holding it: of those
  with positive smoothed PMI (smoothed_marginal), the TOP_TITLE seen with it most (送 → 别, 离,
  故人; 秋 → 雁, 霜, 落叶);
- `keyword_pairs`: for each keyword, the keywords of other lines of the same poem, chosen the
  same way (TOP_PAIR), so a plan keeps one season and one scene;
- `keyword_df`: the train poems each keyword occurs in (the keyword model's document frequency),
  the planner's measure of how common a word is: a line keyword's own count says little, since
  TF-IDF makes 月 and 山 the keyword of few lines although they are in thousands of poems.

Counting is deterministic: poems in corpus order, ties broken by the word itself.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import pairwise
from typing import TYPE_CHECKING, Any, overload

from tangstudio.engine.corpus.keywords import STOP, KeywordModel
from tangstudio.engine.corpus.titles import clean_title

if TYPE_CHECKING:
    import numpy as np

BUCKETS = 4  # quarters of a poem: a 绝句's four lines, a 律诗's four couplets
MIN_KEYWORD = 5  # lines a keyword needs to be proposed at all
MIN_TITLE_WORD = 3  # poems a title word needs to count
MIN_PAIR = 2  # co-occurrences a pair needs to be kept
TOP_TITLE = 60
TOP_PAIR = 30
ALPHA = 0.75  # context-distribution smoothing of PMI (smoothed_marginal)
FORMAT = "tangstudio-planner"
VERSION = 1


def bucket(line: int, lines: int) -> int:
    """The quarter of the poem that line `line` (0-based) of `lines` falls in."""
    return min(BUCKETS - 1, line * BUCKETS // max(lines, 1))


def title_words(title: str) -> list[str]:
    """The words of a cleaned title the planner reads: its characters and adjacent pairs, no function characters."""
    chars = [c for c in title if c not in STOP]
    pairs = [a + b for a, b in pairwise(title) if a != b and a not in STOP and b not in STOP]
    return list(dict.fromkeys(chars + pairs))


@overload
def smoothed_marginal(counts: dict[str, int], total: float) -> dict[str, float]: ...
@overload
def smoothed_marginal(counts: np.ndarray, total: float) -> np.ndarray: ...
def smoothed_marginal(counts: dict[str, int] | np.ndarray, total: float) -> dict[str, float] | np.ndarray:
    """p_α(k) = count(k)^α / Σ count^α · (Σ count / total): each keyword's share, flattened by ALPHA.

    Context-distribution smoothing (Levy, Goldberg & Dagan 2015): with α = 1 this is count / total
    and PMI(w, k) = log p(k | w) − log p(k) is raw PMI, which a keyword seen on a handful of lines
    tops by chance (a title word's best partners were 莱, 呌, 到时); α < 1 raises the rare keywords'
    share, so their PMI drops and a common image that really goes with the word (故人, 杨柳) wins.
    Works on a numpy array (table.py) as on a dict of counts (here); same numbers either way.
    """
    if isinstance(counts, dict):
        norm = sum(c**ALPHA for c in counts.values())
        scale = sum(counts.values()) / (norm * total)
        return {k: c**ALPHA * scale for k, c in counts.items()}
    powered = counts**ALPHA
    shares: np.ndarray = powered * (counts.sum() / (powered.sum() * total))
    return shares


def _top(
    pairs: dict[str, Counter[str]], own: dict[str, int], other: dict[str, int], total: int, keep: int
) -> dict[str, list[tuple[str, int]]]:
    """For each word, at most `keep` partners with positive smoothed PMI, most co-occurrences first (ties by partner)."""
    share = smoothed_marginal(other, total)
    out: dict[str, list[tuple[str, int]]] = {}
    for word in sorted(pairs):
        scored = [
            (math.log(c / own[word]) - math.log(share[k]), k, c)
            for k, c in pairs[word].items()
            if c >= MIN_PAIR and k in other
        ]
        # Of the partners the word really calls for (smoothed PMI > 0), the ones seen with it most:
        # ranked by PMI alone the kept `keep` were all rare words (its top 40 for 送 held 到时, 科).
        best = sorted(((c, k) for s, k, c in scored if s > 0), key=lambda s: (-s[0], s[1]))[:keep]
        if best:
            out[word] = [(k, c) for c, k in best]
    return out


def count(poems: Iterable[tuple[str, str]], keyword_model: KeywordModel) -> dict[str, Any]:
    """The planner table (a JSON-able dict) from (raw title, text) pairs of the train split."""
    positions: dict[str, list[int]] = defaultdict(lambda: [0] * BUCKETS)
    keyword_poems: Counter[str] = Counter()
    title_lines: Counter[str] = Counter()
    title_poems: Counter[str] = Counter()
    title_kw: dict[str, Counter[str]] = defaultdict(Counter)
    kw_kw: dict[str, Counter[str]] = defaultdict(Counter)
    lines_total = poems_total = 0
    for raw_title, text in poems:
        keywords = keyword_model.line_keywords(text)
        present = [k for k in keywords if k]
        if not present:
            continue
        poems_total += 1
        lines_total += len(present)
        for i, k in enumerate(keywords):
            if k:
                positions[k][bucket(i, len(keywords))] += 1
        distinct = sorted(set(present))
        keyword_poems.update(distinct)
        for a in distinct:
            for b in distinct:
                if a != b:
                    kw_kw[a][b] += 1
        words = title_words(clean_title(raw_title))
        title_poems.update(words)
        for w in words:
            title_lines[w] += len(present)
            title_kw[w].update(present)
    line_count = {k: sum(v) for k, v in positions.items()}
    kept = sorted((k for k, n in line_count.items() if n >= MIN_KEYWORD), key=lambda k: (-line_count[k], k))
    kept_set = set(kept)
    known_titles = {w for w, n in title_poems.items() if n >= MIN_TITLE_WORD}
    title_top = _top(
        {w: title_kw[w] for w in known_titles},
        dict(title_lines),
        {k: line_count[k] for k in kept_set},
        lines_total,
        TOP_TITLE,
    )
    pair_top = _top(
        {k: kw_kw[k] for k in kept_set},
        dict(keyword_poems),
        {k: keyword_poems[k] for k in kept_set},
        poems_total,
        TOP_PAIR,
    )
    index = {k: i for i, k in enumerate(kept)}
    return {
        "format": FORMAT,
        "version": VERSION,
        "poems": poems_total,
        "lines": lines_total,
        "keywords": kept,
        "positions": [positions[k] for k in kept],
        "keyword_poems": [keyword_poems[k] for k in kept],
        "keyword_df": [keyword_model.df.get(k, 0) for k in kept],
        "title_words": sorted(title_top),
        "title_lines": [title_lines[w] for w in sorted(title_top)],
        "title_pairs": [_flat(title_top[w], index) for w in sorted(title_top)],
        "keyword_pairs": [_flat(pair_top.get(k, []), index) for k in kept],
    }


def _flat(pairs: list[tuple[str, int]], index: dict[str, int]) -> list[int]:
    """[(keyword, count), …] as one flat list of ints [id, count, id, count, …] (a smaller file)."""
    return [x for k, c in pairs for x in (index[k], c)]
