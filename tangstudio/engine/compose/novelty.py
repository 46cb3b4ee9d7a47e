"""Is the poem new? Lines copied from the training corpus, and the longest span shared with it.

Two questions, two structures, built once per corpus and cached:

- "would this character complete a line of the corpus?" is asked at the last position of every
  line while composing, so it must be a dictionary lookup: line-without-its-last-character ->
  the last characters that occur after it;
- "what is the longest span this poem shares with the corpus?" is asked once per finished poem:
  two pointers over the poem, each probe a substring search in the corpus joined into one string
  (CPython's search is fast; a probe that fails costs one scan, and there are at most as many
  failing probes as characters).
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

    def completions(self, line_start: str) -> frozenset[str]:
        """Characters that would turn `line_start` into a line of the corpus."""
        return self._endings.get(line_start, frozenset())

    def copied_lines(self, text: str) -> list[str]:
        return [line for c in split_clauses(text) if (line := c.rstrip(CLAUSE_END)) in self.lines]

    def longest_shared(self, text: str) -> str:
        """The longest substring of `text` (punctuation included) that occurs in the corpus."""
        best, i, j, corpus = "", 0, 0, self._text
        n = len(text)
        while i < n:
            j = max(j, i)
            while j < n and text[i:j + 1] in corpus:
                j += 1
            if j - i > len(best):
                best = text[i:j]
            i += 1
        return best


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
        return corpus_index(str(name or "tang"), script, corpus.get("fingerprint") if isinstance(corpus, dict) else None)
    except TangError:
        return None
