"""The critic's discriminative term: a logistic regression that tells a real poem from our drafts.

The causal model cannot judge its own samples — they are, by construction, what it finds likely —
and the blind readers named our poems by what a likelihood does not see: collocations no poet
wrote, images that clash. So this term is trained for the question itself: real train-split poems
(label 1) against drafts of the shipped default model at the composer's defaults (label 0),
`scripts/fit_disc.py`. Its features are hashed character n-grams of each line (unigrams and
adjacent bigrams, marked with the line's parity so a couplet's two halves differ), so it learns
which characters and pairs real poets use and our sampler overuses:

    disc(poem) = b + Σ_g w[crc32(g) mod B] / √n      g over the poem's n n-grams

numpy only (composing never imports torch), a few microseconds a poem. The weights are one
float32 vector in disc.safetensors beside critic.json, which records B, the n-gram orders and
the file's sha256; anything else is refused with one line.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tangstudio.engine.compose.craft.table_file import load_arrays, save_arrays
from tangstudio.engine.errors import TangError

DISC_FILE = "disc.safetensors"
_MARKS = set("，。、；：？！,.;:?!")


def lines_of(text: str) -> list[str]:
    """The poem's lines, marks and spaces dropped."""
    out: list[str] = []
    cur: list[str] = []
    for ch in text:
        if ch in _MARKS:
            if cur:
                out.append("".join(cur))
            cur = []
        elif not ch.isspace():
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def ngrams(text: str, orders: tuple[int, ...] = (1, 2)) -> list[str]:
    """The poem's n-grams of each order within each line; a bigram carries the line's parity
    (出句 or 对句), where a couplet's halves are written differently."""
    out: list[str] = []
    for k, line in enumerate(lines_of(text)):
        for n in orders:
            tag = f"{n}{k % 2}" if n > 1 else "1"
            out.extend(tag + line[i : i + n] for i in range(len(line) - n + 1))
    return out


def hashed(text: str, buckets: int, orders: tuple[int, ...] = (1, 2)) -> np.ndarray:
    """The bucket of each n-gram (crc32: the same on every machine and Python)."""
    return np.array([zlib.crc32(g.encode("utf-8")) % buckets for g in ngrams(text, orders)], np.int64)


@dataclass
class Disc:
    weights: np.ndarray  # (buckets,) float32
    bias: float
    orders: tuple[int, ...]

    @property
    def buckets(self) -> int:
        return int(self.weights.shape[0])

    def score(self, texts: list[str]) -> list[float]:
        """Log-odds that each text is a real poem rather than one of our drafts."""
        out = []
        for text in texts:
            ids = hashed(text, self.buckets, self.orders)
            out.append(self.bias + (float(self.weights[ids].sum()) / np.sqrt(len(ids)) if len(ids) else 0.0))
        return out


def save_disc(disc: Disc, folder: Path) -> dict[str, object]:
    """Write disc.safetensors; return what critic.json records of it (with its sha256)."""
    entry = save_arrays(folder, DISC_FILE, {"weights": disc.weights.astype(np.float32)})
    return {**entry, "buckets": disc.buckets, "orders": list(disc.orders), "bias": disc.bias}


def load_disc(folder: Path, info: object) -> Disc:
    """The term as critic.json describes it, or one line saying what is wrong."""
    path, arrays, entry = load_arrays(folder, info, "disc", DISC_FILE, "classifier")
    if "weights" not in arrays:
        raise TangError(f"the critic's classifier {path} cannot be read (it holds no 'weights')")
    weights = arrays["weights"]
    orders, buckets, bias = entry.get("orders"), entry.get("buckets"), entry.get("bias")
    if (
        weights.ndim != 1
        or weights.shape[0] != buckets
        or not isinstance(bias, (int, float))
        or not isinstance(orders, list)
        or not all(isinstance(n, int) and 1 <= n <= 3 for n in orders)
        or not np.isfinite(weights).all()
    ):
        raise TangError(f"the critic's classifier {path} does not fit its description in critic.json")
    return Disc(weights.astype(np.float32), float(bias), tuple(orders))
