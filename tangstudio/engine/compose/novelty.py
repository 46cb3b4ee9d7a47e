"""Is the poem new? Lines copied from the training corpus, and the longest span shared with it.

Two questions, two structures, read from the corpus cache (`corpus/cache.py`) as flat arrays, so
no process rebuilds them and none holds the corpus as Python objects to ask them:

- "would this character complete a line of the corpus?" is asked at the last position of every
  line while composing, so it is one binary search: sorted hashes of every line-without-its-last-
  character, each with the last characters that occur after it;
- "what is the longest span this poem shares with the corpus?" is asked once per finished poem:
  two pointers over the poem, each probe a substring search in the corpus joined into one string
  (decoded from the arrays on the first such question). A probe that fails costs a whole scan
  (milliseconds), so probes are first checked against sorted tables of hashed n-grams of the
  corpus (n = 3, 6; built once a few poems have been asked about): a span whose last n-gram never
  occurs cannot occur, and only spans that pass every table are searched for real.

`BackgroundIndex` loads the index in a thread so the composer can start before it is there: the
copy check is first needed at the last character of the first line, and waits there if it must.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache

import numpy as np

from tangstudio.engine.corpus.cache import CorpusArrays, arrays_from_texts, line_hash, span_hashes
from tangstudio.engine.corpus.poem import CLAUSE_END, split_clauses

GRAM_SIZES = (3, 6)
GRAMS_AFTER = 8  # poems asked about before the n-gram tables pay for themselves


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
        self._gram_cache: list | None = None
        self._span_queries = 0
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

    def copied_lines(self, text: str) -> list[str]:
        return [line for c in split_clauses(text) if (line := c.rstrip(CLAUSE_END)) in self.lines]

    def longest_shared(self, text: str) -> str:
        """The longest substring of `text` (punctuation included) that occurs in the corpus."""
        if self._last_span is not None and self._last_span[0] == text:
            return self._last_span[1]  # the studio asks again at every redraw of a finished poem
        best, i, j, corpus = "", 0, 0, self.text
        self._span_queries += 1
        n = len(text)
        while i < n:
            j = max(j, i)
            while j < n and self._may_occur(text, i, j + 1) and text[i : j + 1] in corpus:
                j += 1
            if j - i > len(best):
                best = text[i:j]
            i += 1
        self._last_span = (text, best)
        return best

    def _may_occur(self, text: str, start: int, end: int) -> bool:
        """False if some n-gram ending at `end` never occurs in the corpus (then the span cannot)."""
        if self._gram_cache is None and self._span_queries <= GRAMS_AFTER:
            return True  # a handful of poems: plain searches cost less than building the tables
        for size, table in self._grams:
            if end - start < size:
                break
            if not _find(table, line_hash(text[end - size : end]))[1]:
                return False
        return True

    @property
    def _grams(self) -> list:
        if self._gram_cache is None:  # built lazily: composing never needs it
            self._gram_cache = _gram_tables(self._chars)
        return self._gram_cache


def _gram_tables(chars: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Sorted unique hashes (line_hash) of every n-gram of the corpus text, for each n in GRAM_SIZES."""
    tables = []
    for size in GRAM_SIZES:
        if len(chars) < size:
            break
        starts = np.arange(len(chars) - size + 1)
        table = np.sort(span_hashes(chars, starts, starts + size))
        tables.append((size, table[np.concatenate(([True], table[1:] != table[:-1]))]))
    return tables


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
    def lines(self):
        index = self.wait()
        return index.lines if index is not None else frozenset()

    def completions(self, line_start: str) -> frozenset[str]:
        index = self.wait()
        return index.completions(line_start) if index is not None else frozenset()

    def copied_lines(self, text: str) -> list[str]:
        index = self.wait()
        return index.copied_lines(text) if index is not None else []

    def longest_shared(self, text: str) -> str:
        index = self.wait()
        return index.longest_shared(text) if index is not None else ""


@lru_cache(maxsize=2)
def corpus_index(name: str, script: str, fingerprint: str | None = None) -> CorpusIndex:
    """The index of a corpus (whole corpus, all splits: copying a val line is still copying)."""
    from tangstudio.engine.corpus import corpus_arrays

    return CorpusIndex.from_arrays(corpus_arrays(name, script))


def _trained_on(loaded) -> tuple[str, str, str | None]:
    """(corpus name, script, fingerprint or None) a model was trained on, from its meta."""
    meta = getattr(loaded, "meta", {}) or {}
    corpus = meta.get("corpus") or {}
    name = corpus.get("name") if isinstance(corpus, dict) else corpus
    script = meta.get("script") or loaded.vocab.script
    return str(name or "tang"), str(script), corpus.get("fingerprint") if isinstance(corpus, dict) else None


def index_for_model(loaded) -> CorpusIndex | None:
    """The index of the corpus a model was trained on, or None if that corpus is not available here."""
    from tangstudio.engine.errors import TangError

    try:
        return corpus_index(*_trained_on(loaded))
    except TangError:
        return None


def index_in_background(loaded) -> BackgroundIndex:
    """`index_for_model`, loading in a thread: the studio composes before the index is there.

    A missing corpus cache is built in a child process first (`cache.build_in_child`), so the
    cleaning does not hold this process's GIL while the model loads and the screen draws.
    """

    def load() -> CorpusIndex | None:
        from tangstudio.engine.corpus import cache
        from tangstudio.engine.errors import TangError

        name, script, _ = _trained_on(loaded)
        try:
            if not cache.is_fresh(name, script):
                cache.build_in_child(name, script)
        except TangError:
            return None
        return index_for_model(loaded)

    return BackgroundIndex(load)
