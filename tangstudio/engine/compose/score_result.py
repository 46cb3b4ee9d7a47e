"""What scoring a poem gives back, and how a typed poem is read — torch-free, shared by both paths.

`score.score_poem` (torch: every architecture) and `fast_model.score_fast` (numpy: the causal
models, what `tangstudio score` uses when it can) fill in the same PoemScore.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tangstudio.engine.compose.settings import EOS_MARK
from tangstudio.engine.corpus.poem import CLAUSE_END, typed_verse
from tangstudio.engine.corpus.vocab import EOS


@dataclass
class CharScore:
    char: str
    prob: float
    surprisal_bits: float
    rank: int  # 1 = the model's first choice
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # top 5 at this position

    def to_dict(self) -> dict:
        return {
            "char": self.char,
            "prob": round(self.prob, 6),
            "surprisal_bits": round(self.surprisal_bits, 4),
            "rank": self.rank,
            "alternatives": [[c, round(p, 6)] for c, p in self.alternatives],
        }


@dataclass
class PoemScore:
    text: str
    form: str
    chars: list[CharScore]  # the poem's characters (punctuation included), then <eos>
    perplexity: float
    bits_per_char: float
    ppl_kind: str  # causal | pseudo

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "form": self.form,
            "perplexity": round(self.perplexity, 4),
            "bits_per_char": round(self.bits_per_char, 4),
            "ppl_kind": self.ppl_kind,
            "chars": [c.to_dict() for c in self.chars],
        }


def poem_score(
    text: str,
    form: str,
    vocab: Any,
    targets: list[int],
    picked: list[float],
    ranks: list[int],
    top: list[list[tuple[int, float]]],
    nats: float,
    kind: str,
) -> PoemScore:
    """The PoemScore from per-position log-probs, whichever library computed them (torch or numpy).

    `picked[t]` is the log-prob of `targets[t]`, `top[t]` the five best (id, log-prob) pairs there.
    """

    def name(i: int) -> str:
        return EOS_MARK if i == EOS else str(vocab.itos[i])

    chars = [
        CharScore(name(token), math.exp(p), -p / math.log(2), rank, [(name(i), math.exp(v)) for i, v in best])
        for token, p, rank, best in zip(targets, picked, ranks, top)
    ]
    return PoemScore(text, form, chars, math.exp(nats), nats / math.log(2), kind)


def normalise(text: str) -> str:
    """A whole poem as typed → corpus text; a poem ends with a mark, so a missing last one is added."""
    text = typed_verse(text)
    return text + "。" if text and text[-1] not in CLAUSE_END else text
