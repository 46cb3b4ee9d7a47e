"""Measuring the tables and the checker against the whole corpus (scripts/prosody_report.py).

Kept in the engine, not the script, so the tests run the very same code on a small sample.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TypedDict

from tangstudio.engine.corpus.poem import CLAUSE_END, Poem, split_clauses
from tangstudio.engine.errors import TangError
from tangstudio.engine.forms import REGULATED as _REGULATED
from tangstudio.engine.hanzi import is_han
from tangstudio.engine.prosody.checker import check_poem
from tangstudio.engine.prosody.tables import rhyme_groups, tones

REGULATED = tuple(f.name for f in _REGULATED)


class RegulatedFigures(TypedDict):
    by_form: dict[str, Counter[str]]  # form -> poems, lines, rhyme, loose, strict, ... counts
    warnings: Counter[str]
    skipped: int  # poems the checker refused


class StrainsAgreement(TypedDict):
    counts: Counter[str]  # poems, lines, aligned, compared, agree
    share: float  # agree / compared
    disagree_top: list[tuple[str, int]]


def coverage(poems: Iterable[Poem], script: str) -> dict[str, object]:
    """Distinct characters (types) and occurrences (tokens) that get a tone and a 平水韵 group."""
    counts = Counter(ch for p in poems for ch in p.text if is_han(ch))
    out: dict[str, object] = {"types": len(counts), "tokens": sum(counts.values())}
    for key, lookup in (("tone", tones), ("group", rhyme_groups)):
        known = [c for c in counts if lookup(c, script)]
        out[f"{key}_types"] = len(known)
        out[f"{key}_tokens"] = sum(counts[c] for c in known)
    out["missing_top"] = [(c, n) for c, n in counts.most_common() if not tones(c, script)][:15]
    return out


def regulated_figures(poems: Iterable[Poem], script: str) -> RegulatedFigures:
    """Per form: poems, and how many pass the rhyme, loose and strict tone rules; warning counts.

    Poems with lost characters are left out, and so are poems the checker refuses (stray marks
    such as ● or digits in the source text), counted as `skipped`.
    """
    by_form: dict[str, Counter[str]] = {f: Counter() for f in REGULATED}
    warnings: Counter[str] = Counter()
    skipped = 0
    for p in poems:
        if p.form not in by_form or p.lost:
            continue
        try:
            r = check_poem(p.text, p.form, script)
        except TangError:
            skipped += 1
            continue
        c = by_form[p.form]
        c["poems"] += 1
        c["lines"] += len(r.lines)
        c["rhyme"] += r.rhyme_ok
        c["loose"] += r.tones_loose_ok
        c["strict"] += r.tones_strict_ok
        c["rhyme_and_loose"] += r.rhyme_ok and r.tones_loose_ok
        c["first_rhymes"] += r.first_line_rhymes
        c["ping_start"] += bool(r.variant and r.variant.startswith("平"))
        for line in r.lines:
            warnings.update(line.warnings)
    return {"by_form": by_form, "warnings": warnings, "skipped": skipped}


def strains_agreement(labels: Mapping[str, str], poems: Iterable[Poem]) -> StrainsAgreement:
    """Agreement with chinese-poetry's strains labels (平/仄/○ per character, by poem id).

    Only lines that align with the poem text (same clause count, same clause length) count, and
    only characters with a single tone class whose label is 平 or 仄: a multi-reading character can
    not disagree, and ○ means the generator did not know. Poems are read in traditional script,
    the script the labels were generated from.
    """
    c: Counter[str] = Counter()
    disagree: Counter[str] = Counter()
    for p in poems:
        strains = labels.get(p.id)
        if strains is None:
            continue
        c["poems"] += 1
        ours, theirs = split_clauses(p.text), split_clauses(strains)
        if len(ours) != len(theirs):
            continue
        for line, marks in zip(ours, theirs):
            line, marks = line.rstrip(CLAUSE_END), marks.rstrip(CLAUSE_END)
            c["lines"] += 1
            if len(line) != len(marks):
                continue
            c["aligned"] += 1
            for ch, mark in zip(line, marks):
                t = tones(ch, "traditional")
                if mark in "平仄" and len(t) == 1:
                    c["compared"] += 1
                    if mark in t:
                        c["agree"] += 1
                    else:
                        disagree[ch] += 1
    return {
        "counts": c,
        "share": c["agree"] / c["compared"] if c["compared"] else 0.0,
        "disagree_top": disagree.most_common(12),
    }
