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

import contextlib
import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tangstudio.engine.corpus.poem import CLAUSE_END, split_clauses

if TYPE_CHECKING:
    from tangstudio.engine.corpus import Corpus

MIN_DF = 50
STOP = frozenset(
    "不无有一何之此自相如是为已犹更又亦复谁其所与而以于也者乎哉矣兮且若莫未将应可能得欲还几皆俱共每非"
)


def _candidates(line: str) -> list[str]:
    chars = [c for c in line if c not in CLAUSE_END]
    doubled = {a for a, b in pairwise(chars) if a == b}
    skip = STOP | doubled if doubled else STOP
    # Pairs first: a pair as rare as its character is a word, and names the line better (孤舟, not 孤).
    words = [a + b for a, b in pairwise(chars) if a != b and a not in skip and b not in skip]
    words += [c for c in chars if c not in skip]
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


def train_keyword_model(corpus: Corpus, forms: str) -> KeywordModel:
    """The keyword model of `corpus`'s train poems of `forms`, kept in the cache folder.

    Counting 51k poems takes seconds, and `eval` and every planned training start counted the same
    ones again. One file per corpus, script and forms, holding the digest of the texts it counted
    and of this module: other texts (a re-import, a changed cleaning) or other code count afresh
    and replace it. A damaged file is counted afresh; a cache folder that cannot be written only
    costs the time."""
    from tangstudio.engine.atomic import write_bytes_atomic
    from tangstudio.engine.corpus.cache import cache_dir

    texts = [p.text for p in corpus.select(forms, "train")]
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update("\0".join(texts).encode("utf-8"))
    key = digest.hexdigest()
    label = hashlib.sha256(f"{corpus.name}\0{corpus.script}\0{forms}".encode()).hexdigest()[:12]
    path = cache_dir() / "keywords" / f"{corpus.name}.{corpus.script}.{label}.json"
    kept = _read_kept(path, key)
    if kept is not None:
        return kept
    model = KeywordModel.build(texts)
    with contextlib.suppress(OSError):
        record = {"key": key, "poems": model.poems, "df": model.df}
        write_bytes_atomic(path, json.dumps(record, ensure_ascii=False).encode("utf-8"))
    return model


def _read_kept(path: Path, key: str) -> KeywordModel | None:
    """The model kept at `path` when it was counted from the texts `key` names; None otherwise."""
    try:
        record: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("key") != key:
        return None
    df, poems = record.get("df"), record.get("poems")
    if not isinstance(poems, int) or poems < 1 or not isinstance(df, dict):
        return None
    if not all(isinstance(w, str) and isinstance(c, int) and 0 < c <= poems for w, c in df.items()):
        return None
    return KeywordModel(df, poems)
