"""What counts as a Chinese character, and the marks that close lines and poems: one home for both.

The corpus splits clauses on `CLAUSE_END`; the composer writes only `LINE_MARKS` and ends a free
poem after a `SENTENCE_ENDS`; the studio and the CLI draw line breaks after them. Torch-free and
below every engine package.
"""

from __future__ import annotations

COMMA, PERIOD = "，", "。"
# Characters that close a clause (句) in the cleaned corpus. A "line" of regulated verse is one clause.
CLAUSE_END = "，。！？；：、"
LINE_MARKS = "，。！？；"  # what a model writes at the end of a line (and views break after)
SENTENCE_ENDS = "。！？"  # what may end a poem
LOST = "□"  # a character lost in transmission, as the corpus marks it


def is_han(ch: str) -> bool:
    """A CJK ideograph (the unified blocks, extensions A–F, compatibility) or 〇."""
    cp = ord(ch)
    return (
        0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3134F
        or ch == "〇"
    )
