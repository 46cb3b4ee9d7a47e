"""One keyword per line: the word that line is about, as the planning model reads it.

Wang et al. (2016) plan a poem as one keyword per line and let the generator read it; we take
the training plans from the poems themselves. A line's keyword is its most distinctive word by
TF-IDF, where a "document" is a whole poem of the train split:

    score(w) = tf(w, poem) · log(N / df(w))

- Candidates are the line's single characters and its two-character words (adjacent pairs
  inside the line). Classical verse has no word boundaries to segment by, and a pair that
  recurs across at least MIN_DF poems (明月, 故人, 秋风, 白云) is a word in all but name, while a
  pair seen in a handful of poems is usually two words meeting by chance.
- Words seen in fewer than MIN_DF poems are left out: the rarest word in a line is often a
  name or an allusion (灵砧, 嵩津) that no planner could propose from a title, and a keyword the
  planner can never offer teaches the model nothing it will use.
- Function characters (不, 无, 何, 自, 犹 …: STOP) are never keywords and never part of one;
  "the line is about 不" says nothing.
- Doubled characters (悠悠, 萧萧, 苍苍) are sound and mood, not a subject: neither the pair nor
  its character is a candidate.
- tf over the poem, not the line: a word the poem returns to is its theme, which is exactly
  what a plan should carry.

Why not TextRank (Wang et al.) or a segmenter such as jieba: both are built for modern prose
or need a window of co-occurrence a 5-character line does not have; TF-IDF over poems is
deterministic, needs only the train split, and picks concrete images (山, 月, 孤舟, 故乡) far
more often than grammar, which is what the reader said our poems lack.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from tangstudio.engine.corpus.poem import CLAUSE_END, split_clauses

MIN_DF = 50
STOP = frozenset(
    "不无有一何之此自相如是为已犹更又亦复谁其所与而以于也者乎哉矣兮且若莫未将应可能得欲还几皆俱共每非"
)


def _candidates(line: str) -> list[str]:
    chars = [c for c in line if c not in CLAUSE_END]
    doubled = {a for a, b in pairwise(chars) if a == b}
    # Pairs first: a pair as rare as its character is a word, and names the line better (孤舟, not 孤).
    words = [a + b for a, b in pairwise(chars) if a != b and not {a, b} & (STOP | doubled)]
    words += [c for c in chars if c not in STOP and c not in doubled]
    return words


@dataclass
class KeywordModel:
    """Document frequencies over the train split's poems; `line_keywords` reads a poem with them."""

    df: dict[str, int]
    poems: int

    @classmethod
    def build(cls, texts: Iterable[str]) -> KeywordModel:
        df: Counter[str] = Counter()
        n = 0
        for text in texts:
            n += 1
            df.update({w for line in split_clauses(text) for w in _candidates(line)})
        return cls({w: c for w, c in df.items() if c >= MIN_DF}, n)

    def idf(self, word: str) -> float:
        return math.log(self.poems / self.df[word])

    def line_keywords(self, text: str) -> list[str]:
        """One keyword per line of the poem ('' for a line with no candidate)."""
        lines = split_clauses(text)
        per_line = [[w for w in _candidates(line) if w in self.df] for line in lines]
        tf = Counter(w for words in per_line for w in words)
        out = []
        for words in per_line:
            # Highest score; ties go to the earlier word, so the choice never depends on set order.
            best = max(words, key=lambda w: (tf[w] * self.idf(w), -words.index(w)), default="")
            out.append(best)
        return out
