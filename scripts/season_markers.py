"""How the season lexicon (engine/compose/craft/season.py) was read off the train split, and how often
real poems break it.

    python scripts/season_markers.py [--share 0.7] [--min 15]

For every character and two-character word of the regulated train poems whose title names exactly
one season (春 夏 秋 冬), its document frequency per season, normalised by the number of such
poems: a word is a candidate marker of the season holding at least --share of that normalised
frequency, in at least --min poems. Printed: the candidates per season, then each lexicon word's
share and count (some were kept below the threshold, being a season's plain sense: 雪, 北风), then
the share of regulated val poems that name two seasons under the lexicon (never the test split).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SEASONS = "春夏秋冬"
NAMES = {"春": "spring", "夏": "summer", "秋": "autumn", "冬": "winter"}


def grams(text: str) -> set[str]:
    from tangstudio.engine.corpus.poem import CLAUSE_END, split_clauses
    from tangstudio.engine.hanzi import is_han

    out: set[str] = set()
    for clause in split_clauses(text):
        line = "".join(c for c in clause.rstrip(CLAUSE_END) if is_han(c))
        out |= set(line) | {line[i : i + 2] for i in range(len(line) - 1)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--share", type=float, default=0.7)
    parser.add_argument("--min", type=int, default=15)
    args = parser.parse_args(argv)

    from tangstudio.engine.compose.craft.season import SEASON_WORDS, lexicon
    from tangstudio.engine.corpus import load_corpus

    corpus = load_corpus("tang", "simplified")
    counts = {s: Counter() for s in SEASONS}
    poems: Counter[str] = Counter()
    for p in corpus.select("regulated", "train"):
        named = [s for s in SEASONS if s in p.title]
        if len(named) == 1:
            poems[named[0]] += 1
            counts[named[0]].update(grams(p.text))
    print("train poems whose title names one season:", dict(poems))

    def share(word: str) -> tuple[str, float, int]:
        freq = {s: counts[s][word] / max(1, poems[s]) for s in SEASONS}
        total = sum(freq.values())
        best = max(SEASONS, key=lambda s: freq[s])
        return best, (freq[best] / total if total else 0.0), sum(counts[s][word] for s in SEASONS)

    words = set().union(*(set(c) for c in counts.values()))
    for s in SEASONS:
        rows = [
            (sh, w, n)
            for w in words
            for b, sh, n in [share(w)]
            if b == s and sh >= args.share and n >= args.min
        ]
        rows.sort(key=lambda r: (-r[0], -r[2]))
        print(f"{NAMES[s]} candidates:", " ".join(f"{w}({n}, {sh:.2f})" for sh, w, n in rows))
    print()
    for season, lexicon_words in SEASON_WORDS.items():
        cells = []
        for w in lexicon_words:
            best, sh, n = share(w)
            cells.append(f"{w}({n}, {NAMES[best] if n else '-'} {sh:.2f})")
        print(f"lexicon {season}:", " ".join(cells))
    lex = lexicon("simplified")
    val = [p.text for p in corpus.select("regulated", "val")]
    named_any = sum(bool(lex.seasons_in(t)) for t in val)
    clash = sum(lex.clashes(t) for t in val)
    print(
        f"\nval poems: {len(val)}, naming a season {named_any / len(val):.1%}, naming two {clash / len(val):.1%}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
