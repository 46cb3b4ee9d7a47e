"""What the composer asks of the corpus's line index: the seam between writing and `novelty.py`.

The constraints, the generator, beam search and the filler take any object with these three
methods — `novelty.CorpusIndex`, or the studio's `novelty.BackgroundIndex` that loads one in a
thread — or None to skip the corpus checks. Import-free, so the composer's numpy path stays light.
"""

from __future__ import annotations

from typing import Protocol


class LineIndex(Protocol):
    def completions(self, line_start: str) -> frozenset[str]:
        """The characters that would turn `line_start` into a line of the corpus."""
        ...

    def copied_lines(self, text: str, given: int = 0) -> list[str]:
        """The lines of `text` that are lines of the corpus, but for those within its first `given`
        characters (a prefix the person typed)."""
        ...

    def longest_shared(self, text: str) -> str:
        """The longest span of `text` found in the corpus."""
        ...
