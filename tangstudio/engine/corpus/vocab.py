"""Character vocabulary, built from the train split only so val/test never leak into it.

Ids 0–4 are special: <pad> (ignored by the loss), <unk>, <bos>, <eos>, <mask> (the BiLSTM's
"unknown here" input). Then one start token per form, so a poem's first input can say what shape
it should take; then, in vocabularies built since titles and plans (MARKERS), `<title>` and `<kw>`;
then the characters by descending frequency (ties by code point, so the same corpus always gives
the same ids). Older vocabularies have no markers: `first_char_id` counts the leading `<…>`
tokens, so both kinds read alike, and `has_plan` says whether a model can read a title and plan.

A planned poem reads (see training/plan_data.py, which builds it, and ARCHITECTURE.md):

    <title> 送 友 人 <wulv> <kw> 青 山 青山横北郭， <kw> 白 水 白水绕东城。 … <eos>
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from tangstudio.engine.errors import TangError
from tangstudio.engine.forms import FREE, START_ORDER, find

SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>", "<mask>")
FORM_STARTS = tuple(f.name for f in START_ORDER)  # the registry's order: shipped ids never move
PAD, UNK, BOS, EOS, MASK = range(5)
MARKERS = ("<title>", "<kw>")  # the title follows <title>; a line's keyword follows <kw>


class VocabDict(TypedDict):
    """A vocabulary as checkpoint metadata stores it."""

    script: str
    itos: list[str]


@dataclass
class Vocab:
    itos: list[str]
    script: str = "simplified"
    stoi: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.stoi = {s: i for i, s in enumerate(self.itos)}

    @classmethod
    def build(cls, texts: Iterable[str], script: str, min_count: int = 1, markers: bool = True) -> Vocab:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(text)
        chars = sorted((c for c, n in counts.items() if n >= min_count), key=lambda c: (-counts[c], c))
        starts = [f.start_token for f in START_ORDER]
        return cls([*SPECIALS, *starts, *(MARKERS if markers else ()), *chars], script)

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def first_char_id(self) -> int:
        """Ids below this are special tokens (specials, form starts, markers), never characters."""
        first = len(SPECIALS) + len(FORM_STARTS)
        while first < len(self.itos) and self.itos[first] in MARKERS:
            first += 1
        return first

    @property
    def has_plan(self) -> bool:
        """Whether this vocabulary (and so its model) reads a title and per-line keywords."""
        return all(m in self.stoi for m in MARKERS)

    @property
    def title_id(self) -> int:
        return self.stoi["<title>"]

    @property
    def keyword_id(self) -> int:
        return self.stoi["<kw>"]

    def start_id(self, form: str | None) -> int:
        """The first input of a poem: its form's start token (any spelling; unknown/None → <free>)."""
        return self.stoi.get((find(form) or FREE).start_token, self.stoi[FREE.start_token])

    def encode(self, text: str) -> list[int]:
        return [self.stoi.get(c, UNK) for c in text]

    def encode_poem(self, text: str, form: str | None) -> list[int]:
        return [self.start_id(form), *self.encode(text), EOS]

    def decode(self, ids: Iterable[int]) -> str:
        first = self.first_char_id
        return "".join(self.itos[i] for i in ids if i >= first)

    def unknown_chars(self, text: str) -> list[str]:
        """Each character outside the vocabulary once, in the order of the text (messages list them)."""
        return list(dict.fromkeys(c for c in text if c not in self.stoi))

    def to_dict(self) -> VocabDict:
        return {"script": self.script, "itos": self.itos}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vocab:
        try:
            itos = list(data["itos"])
        except (KeyError, TypeError):
            raise TangError("vocabulary metadata is missing or malformed") from None
        if itos[: len(SPECIALS)] != list(SPECIALS):
            raise TangError("vocabulary metadata does not start with the expected special tokens")
        twice = repeated_entry(itos)  # one id would stand for two, and the other never be written
        if twice is not None:
            raise TangError(f"vocabulary metadata holds {twice!r} twice (a damaged meta.json)")
        return cls(itos, data.get("script", "simplified"))


def repeated_entry(itos: list[str]) -> str | None:
    """The first entry a vocabulary lists twice, or None (`Vocab.from_dict`, and the meta.json check
    that `runs list` makes)."""
    seen: set[str] = set()
    for entry in itos:
        if entry in seen:
            return entry
        seen.add(entry)
    return None
