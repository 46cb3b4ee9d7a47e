"""Is the poem new? Lines copied from the training corpus, and the longest span shared with it.

Two questions, two structures, built once per corpus and cached:

- "would this character complete a line of the corpus?" is asked at the last position of every
  line while composing, so it must be a dictionary lookup: line-without-its-last-character ->
  the last characters that occur after it;
- "what is the longest span this poem shares with the corpus?" is asked once per finished poem:
  two pointers over the poem, each probe a substring search in the corpus joined into one string.
  A probe that fails costs a whole scan (milliseconds), so probes are first checked against sorted
  tables of hashed n-grams of the corpus (n = 3, 6; built once a few poems have been asked about): a span whose last n-gram never occurs
  cannot occur, and only spans that pass every table are searched for real.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from tangstudio.engine.corpus.poem import CLAUSE_END, split_clauses

_SEP = "\n"


class CorpusIndex:
    """Lines and full text of a corpus, for the novelty checks."""

    def __init__(self, texts: list[str]) -> None:
        endings: dict[str, set[str]] = defaultdict(set)
        lines: set[str] = set()
        for text in texts:
            for clause in split_clauses(text):
                line = clause.rstrip(CLAUSE_END)
                if len(line) >= 2:
                    lines.add(line)
                    endings[line[:-1]].add(line[-1])
        self.lines = frozenset(lines)
        self._endings = {k: frozenset(v) for k, v in endings.items()}
        self._text = _SEP.join(texts)
        self._gram_cache: list | None = None
        self._span_queries = 0

    @property
    def _grams(self) -> list:
        if self._gram_cache is None:  # built lazily: composing never needs it
            self._gram_cache = _gram_tables(self._text)
        return self._gram_cache

    def completions(self, line_start: str) -> frozenset[str]:
        """Characters that would turn `line_start` into a line of the corpus."""
        return self._endings.get(line_start, frozenset())

    def copied_lines(self, text: str) -> list[str]:
        return [line for c in split_clauses(text) if (line := c.rstrip(CLAUSE_END)) in self.lines]

    def longest_shared(self, text: str) -> str:
        """The longest substring of `text` (punctuation included) that occurs in the corpus."""
        best, i, j, corpus = "", 0, 0, self._text
        self._span_queries += 1
        n = len(text)
        while i < n:
            j = max(j, i)
            while j < n and self._may_occur(text, i, j + 1) and text[i : j + 1] in corpus:
                j += 1
            if j - i > len(best):
                best = text[i:j]
            i += 1
        return best

    def _may_occur(self, text: str, start: int, end: int) -> bool:
        """False if some n-gram ending at `end` never occurs in the corpus (then the span cannot)."""
        import torch

        if self._gram_cache is None and self._span_queries <= GRAMS_AFTER:
            return True  # a handful of poems: plain searches cost less than building the tables
        for size, table in self._grams:
            if end - start < size:
                break
            code = torch.tensor([_hash(text[end - size : end])])
            k = int(torch.searchsorted(table, code))
            if k >= len(table) or int(table[k]) != int(code):
                return False
        return True


_BASE = 1_000_003
_MASK64 = (1 << 64) - 1
GRAM_SIZES = (3, 6)
GRAMS_AFTER = 8  # poems asked about before the n-gram tables pay for themselves


def _hash(gram: str) -> int:
    """Polynomial hash mod 2⁶⁴ as a signed int64, the same value `_gram_tables` computes in torch."""
    h = 0
    for ch in gram:
        h = (h * _BASE + ord(ch)) & _MASK64
    return h - (1 << 64) if h >= 1 << 63 else h


def _gram_tables(text: str) -> list:
    """Sorted unique hashes of every n-gram of the corpus text, for each n in GRAM_SIZES."""
    import torch

    codes = torch.frombuffer(bytearray(text.encode("utf-32-le")), dtype=torch.int32).to(torch.int64)
    tables = []
    for size in GRAM_SIZES:
        if len(codes) < size:
            break
        h = torch.zeros(len(codes) - size + 1, dtype=torch.int64)
        for k in range(size):  # int64 arithmetic wraps mod 2⁶⁴, as _hash does
            h = h * _BASE + codes[k : len(codes) - size + 1 + k]
        tables.append((size, torch.unique(h)))
    return tables


@lru_cache(maxsize=2)
def corpus_index(name: str, script: str, fingerprint: str | None = None) -> CorpusIndex:
    """The index of a corpus (whole corpus, all splits: copying a val line is still copying)."""
    from tangstudio.engine.corpus import load_corpus

    corpus = load_corpus(name, script)
    return CorpusIndex([p.text for p in corpus.poems])


def index_for_model(loaded) -> CorpusIndex | None:
    """The index of the corpus a model was trained on, or None if that corpus is not available here."""
    from tangstudio.engine.errors import TangError

    meta = getattr(loaded, "meta", {}) or {}
    corpus = meta.get("corpus") or {}
    name = corpus.get("name") if isinstance(corpus, dict) else corpus
    script = meta.get("script") or loaded.vocab.script
    try:
        return corpus_index(
            str(name or "tang"), script, corpus.get("fingerprint") if isinstance(corpus, dict) else None
        )
    except TangError:
        return None
