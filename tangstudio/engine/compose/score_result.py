"""What scoring a poem gives back, and how a typed poem is read — torch-free, shared by both paths.

`score.score_poem` (torch: every architecture) and `fast_model.score_fast` (numpy: the causal
models, what `tangstudio score` uses when it can) fill in the same PoemScore.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tangstudio.engine.compose.settings import EOS_MARK
from tangstudio.engine.corpus.poem import CLAUSE_END, typed_verse
from tangstudio.engine.corpus.vocab import EOS, UNK
from tangstudio.engine.errors import TangError
from tangstudio.engine.hanzi import is_han
from tangstudio.engine.typed_text import listed

UNKNOWN = "not in this model's vocabulary"


@dataclass
class CharScore:
    char: str
    prob: float
    surprisal_bits: float
    rank: int  # 1 = the model's first choice
    alternatives: list[tuple[str, float]] = field(default_factory=list)  # top 5 at this position
    # False for a character the model has no token for (a typo such as 搂): the model reads <unk>
    # there and goes on, the position has no probability, and the perplexity leaves it out.
    known: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "char": self.char,
            "known": self.known,
            "prob": round(self.prob, 6) if self.known else None,
            "surprisal_bits": round(self.surprisal_bits, 4) if self.known else None,
            "rank": self.rank if self.known else None,
            "alternatives": [[c, round(p, 6)] for c, p in self.alternatives],
            **({} if self.known else {"note": UNKNOWN}),
        }


@dataclass
class PoemScore:
    text: str
    form: str
    chars: list[CharScore]  # the poem's characters (punctuation included), then <eos>
    perplexity: float
    bits_per_char: float
    ppl_kind: str  # causal | pseudo
    unknown: list[str] = field(default_factory=list)  # characters not in the vocabulary, left out

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "form": self.form,
            "perplexity": round(self.perplexity, 4),
            "ppl": round(self.perplexity, 4),  # the name eval --json and runs list --json give it
            "bits_per_char": round(self.bits_per_char, 4),
            "ppl_kind": self.ppl_kind,
            "unknown": self.unknown,
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
    A target that is <unk> (a character outside the vocabulary, see `scorable`) is marked unknown
    and left out of the perplexity: `nats` is recomputed here over the known positions alone.
    """

    def name(i: int) -> str:
        return EOS_MARK if i == EOS else str(vocab.itos[i])

    written = [*text, EOS_MARK]  # targets[t] is the t-th character of the text, then the end
    chars = [
        CharScore(
            name(token) if token != UNK else written[t],
            math.exp(p) if token != UNK else 0.0,
            -p / math.log(2) if token != UNK else math.inf,
            rank if token != UNK else 0,
            [(name(i), math.exp(v)) for i, v in best],
            known=token != UNK,
        )
        for t, (token, p, rank, best) in enumerate(zip(targets, picked, ranks, top))
    ]
    known = [p for token, p in zip(targets, picked) if token != UNK]
    if len(known) < len(picked):
        nats = -math.fsum(known) / len(known)
    unknown = list(dict.fromkeys(c.char for c in chars if not c.known))
    return PoemScore(text, form, chars, math.exp(nats), nats / math.log(2), kind, unknown)


def scorable(text: str, vocab: Any, what: str = "the poem") -> None:
    """Refuse only what cannot be scored: no character of the poem in the vocabulary, or a poem in
    the other script (the one-line error then gives the converted text). A few unknown characters
    (a typo) are scored around: the model reads <unk> in their place (`poem_score`)."""
    from tangstudio.engine.corpus.script import SCRIPTS, convert, refuse_unknown

    unknown = vocab.unknown_chars(text)
    if not unknown:
        return
    if not any(is_han(c) for c in text):  # the checker's words for the same input (`check abc`)
        shown = "".join(c for c in text if c not in CLAUSE_END)[:20]
        raise TangError(f"not Chinese: {shown!r}; a poem is Chinese characters and punctuation")
    other = next(s for s in SCRIPTS if s != vocab.script)
    converted = convert(text, other, vocab.script)
    wrong_script = converted != text and not vocab.unknown_chars(converted)
    if wrong_script:
        refuse_unknown(text, vocab, what)  # one line, with the converted text when that is the fix
    if all(c in unknown or c in CLAUSE_END for c in text):
        raise TangError(
            f"nothing to score: every character is outside the model's vocabulary ({listed(unknown)})"
        )


def normalise(text: str) -> str:
    """A whole poem as typed → corpus text; a poem ends with a mark, so a missing last one is added."""
    text = typed_verse(text)
    return text + "。" if text and text[-1] not in CLAUSE_END else text


# Positions scored at a time: a 5,000-character poem once held its whole (positions × vocabulary)
# log-probs, their argsort and a comparison matrix at once (986 MB with the default model, issue
# 26); in chunks of this many, the working memory is a few MB whatever the poem's length.
CHUNK = 256
TOP_K = 5


def chunk_scores(
    logits: np.ndarray, targets: np.ndarray
) -> tuple[list[float], list[int], list[list[tuple[int, float]]]]:
    """For a chunk of positions (logits float32[c, V], the ids they should predict): each target's
    log-prob, its rank (1 = the model's first choice) and the five best (id, log-prob) pairs."""
    logits = np.asarray(logits, dtype=np.float32)
    shifted = logits - logits.max(-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    rows = np.arange(len(targets))
    picked = logp[rows, targets]
    ranks = (logp > picked[:, None]).sum(-1) + 1
    k = min(TOP_K, logp.shape[-1])
    head = np.argpartition(-logp, k - 1, axis=-1)[:, :k]
    values = np.take_along_axis(logp, head, -1)
    order = np.lexsort((head, -values), axis=-1)  # likeliest first; equal ones by id, as a stable sort
    head, values = np.take_along_axis(head, order, -1), np.take_along_axis(values, order, -1)
    best = [list(zip(h, v)) for h, v in zip(head.tolist(), values.tolist())]
    return picked.tolist(), ranks.tolist(), best
