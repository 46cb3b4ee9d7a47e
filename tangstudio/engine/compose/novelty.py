"""Is the poem new? Lines copied from the training corpus, and the longest span shared with it.

Two questions, two structures, read from the corpus cache (`corpus/cache.py`) as flat arrays, so
no process rebuilds them and none holds the corpus as Python objects to ask them:

- "would this character complete a line of the corpus?" is asked at the last position of every
  line while composing, so it is one binary search: sorted hashes of every line-without-its-last-
  character, each with the last characters that occur after it;
- "what is the longest span this poem shares with the corpus?" is asked once per finished poem,
  over the code-point array: every (corpus position, poem position) pair whose characters agree,
  grown one character at a time while the next ones agree too, starting from the two-character
  matches (exact; about 12 ms a poem for 57k poems, 43 ms when every single-character match was
  grown, where a substring search per probe scanned the whole corpus for each failed span).

`BackgroundIndex` loads the index in a thread so the composer can start before it is there: the
copy check is first needed at the last character of the first line, and waits there if it must.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from tangstudio.engine.corpus.cache import CorpusArrays, arrays_from_texts
from tangstudio.engine.corpus.line_hashes import line_hash
from tangstudio.engine.corpus.poem import CLAUSE_END, split_clauses

if TYPE_CHECKING:
    from tangstudio.engine.runs.loaded import Loaded


class LineSet:
    """`line in index.lines`: membership by hash in a sorted uint64 array."""

    def __init__(self, hashes: np.ndarray) -> None:
        self._hashes = hashes

    def __contains__(self, line: object) -> bool:
        return isinstance(line, str) and len(line) >= 2 and _find(self._hashes, line_hash(line))[1] > 0

    def __len__(self) -> int:
        return len(self._hashes)


def _find(table: np.ndarray, h: int) -> tuple[int, int]:
    """(first index, count) of hash h in a sorted uint64 table."""
    key = np.uint64(h)
    lo = int(np.searchsorted(table, key, "left"))
    hi = int(np.searchsorted(table, key, "right")) if lo < len(table) and table[lo] == key else lo
    return lo, hi - lo


class CorpusIndex:
    """Lines and full text of a corpus, for the novelty checks."""

    def __init__(self, texts: list[str]) -> None:
        self._use(arrays_from_texts(texts), None)

    @classmethod
    def from_arrays(cls, data: CorpusArrays) -> CorpusIndex:
        """The index of a cached (memory-mapped) corpus: no Python object per poem or line."""
        index = cls.__new__(cls)
        index._use(data.arrays, data)
        return index

    def _use(self, arrays: dict[str, np.ndarray], data: CorpusArrays | None) -> None:
        self._chars = arrays["chars"]
        self._prefix_hashes = arrays["prefix_hashes"]
        self._prefix_ends = arrays["prefix_ends"]
        self.lines = LineSet(arrays["line_hashes"])
        self._data = data
        self._text: str | None = None
        self._last_span: tuple[str, str] | None = None

    @property
    def text(self) -> str:
        """The corpus joined, one poem per line (decoded on first use: only finished poems need it)."""
        if self._text is None:
            self._text = (
                self._data.text if self._data is not None else self._chars.tobytes().decode("utf-32-le")
            )
        return self._text

    def completions(self, line_start: str) -> frozenset[str]:
        """Characters that would turn `line_start` into a line of the corpus."""
        if not line_start:
            return frozenset()
        lo, n = _find(self._prefix_hashes, line_hash(line_start))
        return frozenset(map(chr, self._prefix_ends[lo : lo + n].tolist())) if n else frozenset()

    def copied_lines(self, text: str, given: int = 0) -> list[str]:
        """The lines of `text` that are whole corpus lines, but for those within its first `given`
        characters: a line the person typed as the prefix is theirs, not a copy the model made."""
        copied, at = [], 0
        for clause in split_clauses(text):
            at = text.index(clause, at) + len(clause)
            line = clause.rstrip(CLAUSE_END)
            if line in self.lines and at - (len(clause) - len(line)) > given:
                copied.append(line)
        return copied

    def longest_shared(self, text: str) -> str:
        """The longest substring of `text` (punctuation included) that occurs in the corpus.

        Matches are grown one character at a time over the corpus arrays: every (corpus position,
        poem position) pair where the characters agree, kept while the next characters agree too.
        The pairs thin out fast (a poem shares few long spans), so a finished poem costs one pass
        over the corpus for its own characters and then little — where a substring search per
        probe scanned the whole joined corpus for every span that failed. The earliest of the
        longest spans is returned, as the two-pointer search did.
        """
        if self._last_span is not None and self._last_span[0] == text:
            return self._last_span[1]  # the studio asks again at every redraw of a finished poem
        best = longest_common_span(self._chars, text)
        self._last_span = (text, best)
        return best


def longest_common_span(chars: np.ndarray, text: str) -> str:
    """Earliest longest substring of `text` occurring in the code points `chars` (exact, no hashing).

    The matches start as bigrams, not single characters: a common character (山, 风) sits at
    tens of thousands of corpus positions, and growing every one of those pairs cost most of a
    draft's time. Each corpus position gets its character's number in the poem (−1: not in it),
    so the positions where two of the poem's characters follow each other, grouped by the pair
    (a radix sort on small keys), give every two-character match at once.
    """
    n = len(text)
    if not n or not len(chars):
        return ""
    chars = chars.view(np.ndarray)  # a memmap's own indexing is slower, and nothing here writes
    poem = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    codes, inverse = np.unique(poem, return_inverse=True)
    m = len(codes)
    slot = np.full(0x110000, -1, dtype=np.int32)  # a lookup table over all code points: 3x np.isin's speed
    slot[codes] = np.arange(m, dtype=np.int32)
    ids = slot[chars]  # each corpus position: which of the poem's characters it holds, or −1
    at = np.flatnonzero(ids[:-1] >= 0)
    after = ids[at + 1]
    at, key = at[after >= 0], ids[at[after >= 0]] * m + after[after >= 0]  # pair (x, y) as x·m + y
    by_key = at[np.argsort(key, kind="stable")]
    starts = np.concatenate(([0], np.cumsum(np.bincount(key, minlength=m * m))))
    wanted = inverse[:-1] * m + inverse[1:]  # the poem's own pairs, at poem positions 0 … n − 2
    counts = starts[wanted + 1] - starts[wanted]
    if not counts.sum():  # no two characters in a row: the earliest character the corpus holds
        held = np.flatnonzero(np.isin(inverse, ids[ids >= 0]))
        return text[held[0]] if len(held) else ""
    at_corpus = np.concatenate([by_key[starts[k] : starts[k + 1]] for k in wanted.tolist()])
    at_poem = np.repeat(np.arange(n - 1), counts)
    length, size = 2, len(chars)
    while True:  # the pairs are matches of `length` characters: grow them by one
        ok = (at_corpus + length < size) & (at_poem + length < n)
        grown_k, grown_i = at_corpus[ok], at_poem[ok]
        agree = chars[grown_k + length] == poem[grown_i + length]
        if not agree.any():
            break
        at_corpus, at_poem = grown_k[agree], grown_i[agree]
        length += 1
    first = int(at_poem.min())
    return text[first : first + length]


class BackgroundIndex:
    """A CorpusIndex loading in a thread: answers as soon as it is there, waits if asked before.

    `load` returns the index or None (the corpus is not available here: nothing is checked).
    """

    def __init__(self, load: Callable[[], CorpusIndex | None]) -> None:
        self._index: CorpusIndex | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(load,), name="novelty-index", daemon=True)
        self._thread.start()

    def _run(self, load: Callable[[], CorpusIndex | None]) -> None:
        try:
            self._index = load()
        except Exception as exc:  # kept: the poem is then written unchecked, never lost to a thread
            self._error = exc
        finally:
            self._done.set()

    @property
    def ready(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> CorpusIndex | None:
        self._done.wait(timeout)
        return self._index

    @property
    def available(self) -> bool:
        """True once loaded and the corpus was found (False while loading or when it is missing)."""
        return self.ready and self._index is not None

    @property
    def lines(self) -> LineSet | frozenset[str]:
        """What `line in …` asks: the index's lines (an empty set when the corpus is missing)."""
        index = self.wait()
        return index.lines if index is not None else frozenset()

    def completions(self, line_start: str) -> frozenset[str]:
        index = self.wait()
        return index.completions(line_start) if index is not None else frozenset()

    def copied_lines(self, text: str, given: int = 0) -> list[str]:
        index = self.wait()
        return index.copied_lines(text, given) if index is not None else []

    def longest_shared(self, text: str) -> str:
        index = self.wait()
        return index.longest_shared(text) if index is not None else ""


@lru_cache(maxsize=2)
def corpus_index(name: str, script: str, fingerprint: str | None = None) -> CorpusIndex:
    """The index of a corpus (whole corpus, all splits: copying a val line is still copying)."""
    from tangstudio.engine.corpus import corpus_arrays

    return CorpusIndex.from_arrays(corpus_arrays(name, script))


def _trained_on(loaded: Loaded) -> tuple[str, str, str | None]:
    """(corpus name, script, fingerprint or None) a model was trained on, from its meta."""
    meta = getattr(loaded, "meta", {}) or {}
    corpus = meta.get("corpus") or {}
    name = corpus.get("name") if isinstance(corpus, dict) else corpus
    script = meta.get("script") or loaded.vocab.script
    return str(name or "tang"), str(script), corpus.get("fingerprint") if isinstance(corpus, dict) else None


def index_for_model(loaded: Loaded) -> CorpusIndex | None:
    """The index of the corpus a model was trained on, or None if that corpus is not available here."""
    from tangstudio.engine.errors import TangError

    try:
        return corpus_index(*_trained_on(loaded))
    except TangError:
        return None


def index_in_background(loaded: Loaded) -> BackgroundIndex:
    """`index_for_model`, loading in a thread: the studio composes before the index is there.

    A missing corpus cache is built in a child process first (`cache.build_in_child`), so the
    cleaning does not hold this process's GIL while the model loads and the screen draws.
    """

    def load() -> CorpusIndex | None:
        from tangstudio.engine.corpus import cache
        from tangstudio.engine.errors import TangError

        name, script, _ = _trained_on(loaded)
        try:
            if not cache.is_fresh(name, script) and cache.can_write(name, script):
                cache.build_in_child(name, script)  # else built here, in memory (read-only cache)
        except TangError:
            return None
        return index_for_model(loaded)

    return BackgroundIndex(load)
