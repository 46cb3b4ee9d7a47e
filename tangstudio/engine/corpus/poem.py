"""A poem as the engine sees it: cleaned body text in one script, with its form and split."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tangstudio.engine.hanzi import CLAUSE_END, COMMA, PERIOD

__all__ = ["CLAUSE_END", "Poem", "clause_lengths", "split_clauses", "typed_verse"]
_CLAUSE = re.compile(f"[^{CLAUSE_END}]+[{CLAUSE_END}]?")
_CLAUSE_BREAK = re.compile(f"[{CLAUSE_END}]+")
_ASCII_MARKS = str.maketrans({",": "，", ".": "。", "!": "！", "?": "？", ";": "；", ":": "："})


@dataclass(frozen=True, slots=True)
class Poem:
    id: str
    title: str
    author: str
    text: str  # cleaned body, e.g. "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    form: str  # a name of engine.forms: wujue | qijue | wulv | qilv | free
    split: str  # train | val | test | copy (a val or test poem that is a train poem word for word)
    lost: bool = False  # contains □ (characters lost in transmission)

    @property
    def lines(self) -> list[str]:
        """Clauses with their closing punctuation: ["床前明月光，", "疑是地上霜。", ...]."""
        return split_clauses(self.text)


def split_clauses(text: str) -> list[str]:
    return _CLAUSE.findall(text)


def clause_lengths(text: str) -> list[int]:
    """Length of each clause without its punctuation."""
    return [len(part) for part in _CLAUSE_BREAK.split(text) if part]  # one C-level split: 57k poems load fast


def typed_verse(text: str) -> str:
    """Verse as a person types it, in the corpus's punctuation, so a model reads what it was trained on.

    ASCII marks become full-width, and lines typed without marks (one per row, or separated by
    spaces) are joined with the couplet's 「，」 and 「。」 in turn. Nothing is added after the last
    piece: the text may be a beginning (a prefix), not a whole poem.
    """
    pieces = text.translate(_ASCII_MARKS).split()
    out: list[str] = []
    clauses = 0
    for piece in pieces[:-1]:
        out.append(piece)
        clauses += sum(ch in CLAUSE_END for ch in piece)
        if piece[-1] not in CLAUSE_END:
            out.append(PERIOD if clauses % 2 else COMMA)
            clauses += 1
    return "".join(out + pieces[-1:])
