"""The craft's proxies over a set of poems of one form, as the quality report and the tuning read them.

    repeated    pooled share of characters repeating one already in their poem (real poems ≈ 2.7 %)
    duizhang    mean 对仗 PMI over the 颔联 and 颈联 of the 律诗 among them (None for 绝句)
    critic      mean critic score (a reader's expected overall rating, 1–5; None without a critic)
    lm          mean log-probability of the characters under the causal model (None unless given)
    distinct_2  distinct within-line bigrams over all bigrams
    seasons     share of poems naming more than one season (season.py's lexicon; real val ≈ 5 %)
    copy_span   mean longest span shared with a corpus index (None without one)

One function for samples and real poems alike, so a reference row of real test poems is measured
exactly as our rows are.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from tangstudio.engine.compose.craft.repetition import repeat_counts
from tangstudio.engine.compose.craft.season import lexicon
from tangstudio.engine.corpus.poem import CLAUSE_END, split_clauses

if TYPE_CHECKING:
    from tangstudio.engine.compose.craft.critic import Critic
    from tangstudio.engine.compose.line_index import LineIndex


def duizhang_mean(texts: list[str], script: str) -> float | None:
    from tangstudio.engine.prosody.duizhang import report

    scores = [c.score for t in texts for c in report(t, script)]
    return statistics.mean(scores) if scores else None


def distinct_2(texts: list[str]) -> float:
    bigrams = []
    for text in texts:
        for clause in split_clauses(text):
            line = clause.rstrip(CLAUSE_END)
            bigrams += [line[i : i + 2] for i in range(len(line) - 1)]
    return len(set(bigrams)) / max(1, len(bigrams))


def season_clashes(texts: list[str], script: str) -> float:
    lex = lexicon(script)
    return sum(lex.clashes(t) for t in texts) / max(1, len(texts))


def proxies(
    texts: list[str],
    form: str,
    script: str,
    *,
    index: LineIndex | None = None,
    critic: Critic | None = None,
    lm: list[float] | None = None,
) -> dict[str, Any]:
    """poems, repeated, duizhang, critic, lm, distinct_2, seasons and copy_span (see the module's doc)."""
    rep, total = repeat_counts(texts)
    out: dict[str, Any] = {
        "poems": len(texts),
        "repeated": rep / total if total else 0.0,
        "duizhang": duizhang_mean(texts, script),
        "critic": None,
        "lm": statistics.mean(lm) if lm else None,
        "distinct_2": distinct_2(texts),
        "seasons": season_clashes(texts, script),
        "copy_span": statistics.mean(len(index.longest_shared(t)) for t in texts)
        if index and texts
        else None,
    }
    if critic is not None and lm is not None and texts:
        out["critic"] = float(critic.score_rows(critic.features(texts, form, lm, script)).mean())
    return out
