"""Character vocabulary, built from the train split only so val/test never leak into it.

Ids 0–4 are special: <pad> (ignored by the loss), <unk>, <bos>, <eos>, <mask> (the BiLSTM's
"unknown here" input). Then one start token per form, so a poem's first input can say what shape
it should take, then the characters by descending frequency (ties by code point, so the same
corpus always gives the same ids).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from tangstudio.engine.errors import TangError
from tangstudio.engine.forms import FREE, START_ORDER, find

SPECIALS = ("<pad>", "<unk>", "<bos>", "<eos>", "<mask>")
FORM_STARTS = tuple(f.name for f in START_ORDER)  # the registry's order: shipped ids never move
PAD, UNK, BOS, EOS, MASK = range(5)


@dataclass
class Vocab:
    itos: list[str]
    script: str = "simplified"
    stoi: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.stoi = {s: i for i, s in enumerate(self.itos)}

    @classmethod
    def build(cls, texts: Iterable[str], script: str, min_count: int = 1) -> Vocab:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(text)
        chars = sorted((c for c, n in counts.items() if n >= min_count), key=lambda c: (-counts[c], c))
        return cls([*SPECIALS, *(f.start_token for f in START_ORDER), *chars], script)

    def __len__(self) -> int:
        return len(self.itos)

    @property
    def first_char_id(self) -> int:
        return len(SPECIALS) + len(FORM_STARTS)

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
        return sorted({c for c in text if c not in self.stoi})

    def to_dict(self) -> dict:
        return {"script": self.script, "itos": self.itos}

    @classmethod
    def from_dict(cls, data: dict) -> Vocab:
        try:
            itos = list(data["itos"])
        except (KeyError, TypeError):
            raise TangError("vocabulary metadata is missing or malformed") from None
        if itos[: len(SPECIALS)] != list(SPECIALS):
            raise TangError("vocabulary metadata does not start with the expected special tokens")
        return cls(itos, data.get("script", "simplified"))
