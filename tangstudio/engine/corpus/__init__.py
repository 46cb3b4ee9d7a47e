"""The corpus: loading, cleaning, forms, splits, vocabulary, statistics and import.

`load_corpus("tang", "simplified")` gives every poem of the bundled Complete Tang Poems, converted,
cleaned, classified by form and assigned to its fixed split. Results are cached per process.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tangstudio.engine.corpus.clean import clean_body
from tangstudio.engine.corpus.forms import classify, forms_label, parse_forms
from tangstudio.engine.corpus.poem import Poem
from tangstudio.engine.corpus.script import check_script, convert_many
from tangstudio.engine.corpus.source import BUNDLED, available_corpora, corpus_path, read_raw
from tangstudio.engine.corpus.splits import set_copies_apart, split_of

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tangstudio.engine.corpus.cache import CorpusArrays

__all__ = [
    "BUNDLED",
    "Corpus",
    "Poem",
    "available_corpora",
    "build_corpus",
    "corpus_arrays",
    "forms_label",
    "load_corpus",
    "parse_forms",
]

_SEP = "\x1f"


@dataclass
class Corpus:
    name: str
    script: str
    source: str
    fingerprint: str
    raw_count: int
    poems: list[Poem]  # all cleaned poems, the lost ones included (flagged)
    cleaning: dict[str, int] = field(default_factory=dict)

    def select(
        self, forms: str | Iterable[str] | None = None, split: str | None = None, include_lost: bool = False
    ) -> list[Poem]:
        """Poems of the given forms (a spec string or a set; None = all) and split."""
        chosen = parse_forms(forms) if isinstance(forms, str) or forms is None else frozenset(forms)
        return [
            p
            for p in self.poems
            if (chosen is None or p.form in chosen)
            and (split is None or p.split == split)
            and (include_lost or not p.lost)
        ]


def load_corpus(name: str = BUNDLED, script: str = "simplified") -> Corpus:
    """Load, convert and clean a corpus; cached per file version, so a re-import is seen.

    The cleaned result is kept on disk (`corpus/cache.py`), so only the first process after an
    install or an import pays for converting and cleaning.
    """
    check_script(script)
    path = corpus_path(name)
    return _load(name, script, str(path), _version(path))


def corpus_arrays(name: str = BUNDLED, script: str = "simplified") -> CorpusArrays:
    """The cleaned corpus as flat (memory-mapped) arrays: what the novelty index reads, no Poem objects."""
    check_script(script)
    path = corpus_path(name)
    return _arrays(name, script, str(path), _version(path))


def _version(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _arrays(name: str, script: str, path: str, version: tuple[int, int] | None) -> CorpusArrays:
    from tangstudio.engine.corpus.cache import load_arrays

    return load_arrays(name, script)[0]  # the Poem objects of a fresh build are not kept


@lru_cache(maxsize=4)
def _load(name: str, script: str, path: str, version: tuple[int, int] | None) -> Corpus:
    return _arrays(name, script, path, version).to_corpus()


def build_corpus(name: str, script: str) -> Corpus:
    """Read, convert and clean a corpus from its source (seconds); `load_corpus` keeps the result."""
    raw = read_raw(name)
    # One OpenCC call for the whole corpus: title, author and body joined by control characters.
    packed = [_SEP.join((str(r[1]), str(r[2]), "\x1e".join(map(str, r[3])))) for r in raw.rows]
    converted = convert_many(packed, raw.script, script)
    counts: Counter[str] = Counter()
    poems: list[Poem] = []
    kept_rows: list[int] = []
    for index, (row, text) in enumerate(zip(raw.rows, converted)):
        title, author, body = text.split(_SEP, 2)
        cleaned = clean_body(body.split("\x1e"), counts)
        if cleaned is None:
            continue
        poem_id = str(row[0])
        kept_rows.append(index)
        poems.append(
            Poem(
                poem_id, title, author, cleaned.text, classify(cleaned.text), split_of(poem_id), cleaned.lost
            )
        )
    return Corpus(
        name,
        script,
        raw.source,
        raw.fingerprint,
        len(raw.rows),
        _copies_set_apart(raw, script, poems, kept_rows),
        dict(counts),
    )


def _copies_set_apart(raw: Any, script: str, poems: list[Poem], kept_rows: list[int]) -> list[Poem]:
    """`splits.set_copies_apart` keyed on each poem's text as the simplified build cleans it, so a
    poem is a copy in both scripts or in neither (熏 and 薰 are one character only once simplified,
    and simplified → traditional → simplified is no round trip: a review of the diff)."""
    if script == "simplified":
        return set_copies_apart(poems)
    bodies = convert_many(["\x1e".join(map(str, r[3])) for r in raw.rows], raw.script, "simplified")
    simplified = [clean_body(bodies[i].split("\x1e"), Counter()) for i in kept_rows]
    keys = [c.text if c is not None else p.text for c, p in zip(simplified, poems)]
    return set_copies_apart(poems, keys)
