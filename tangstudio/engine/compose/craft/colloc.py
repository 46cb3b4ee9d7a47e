"""The critic's collocation term: how strongly the adjacent characters of each line belong together.

Blind readers named our poems by "odd collocations that name nothing": pairs of characters that
the model finds plausible one at a time but that no poet joined. A real line is made of words —
山川, 明月, 归去 — whose characters co-occur far above chance; ours are not, so the mean pointwise
mutual information of a poem's within-line bigrams, counted on the train split, tells real val
poems from our drafts better than the model's own likelihood does (docs/quality.md):

    colloc(poem) = mean over within-line bigrams xy of  log((c(xy) + α)/N₂) − log((c(x)+1)/N₁) − log((c(y)+1)/N₁)

Counts from the train split's poems (every form); bigrams seen once are dropped to keep the table
small (they score as unseen). The table is colloc.safetensors beside critic.json: the characters
(code points, sorted) with their counts, and the bigrams as sorted codes i·n + j with their counts;
critic.json records α, N₁, N₂ and the file's sha256. numpy only, a searchsorted per poem.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tangstudio.engine.compose.craft.disc import lines_of
from tangstudio.engine.compose.craft.table_file import load_arrays, save_arrays
from tangstudio.engine.errors import TangError

COLLOC_FILE = "colloc.safetensors"
ALPHA = 0.1  # the unseen bigram's pseudo-count (0.01–0.5 measured alike)
MIN_COUNT = 2


@dataclass
class Colloc:
    chars: np.ndarray  # (n,) uint32 code points, sorted
    char_counts: np.ndarray  # (n,) uint32
    pairs: np.ndarray  # (m,) uint32 codes i·n + j, sorted
    pair_counts: np.ndarray  # (m,) uint16
    n_uni: float  # N₁: characters counted
    n_bi: float  # N₂: bigrams counted (singletons included)
    alpha: float = ALPHA

    def _index(self, cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = np.minimum(np.searchsorted(self.chars, cps), len(self.chars) - 1)
        return at, self.chars[at] == cps

    def mean_pmi(self, text: str) -> float:
        """The poem's mean within-line bigram PMI (0 for a poem without bigrams)."""
        lefts, rights = [], []
        for line in lines_of(text):
            lefts += [ord(c) for c in line[:-1]]
            rights += [ord(c) for c in line[1:]]
        if not lefts:
            return 0.0
        (li, lk), (ri, rk) = self._index(np.array(lefts)), self._index(np.array(rights))
        cl = np.where(lk, self.char_counts[li], 0).astype(np.float64)
        cr = np.where(rk, self.char_counts[ri], 0).astype(np.float64)
        codes = li.astype(np.uint64) * len(self.chars) + ri
        at = np.minimum(np.searchsorted(self.pairs, codes), len(self.pairs) - 1)
        cb = np.where(lk & rk & (self.pairs[at] == codes), self.pair_counts[at], 0).astype(np.float64)
        pmi = (
            np.log((cb + self.alpha) / self.n_bi)
            - np.log((cl + 1) / self.n_uni)
            - np.log((cr + 1) / self.n_uni)
        )
        return float(pmi.mean())

    def score(self, texts: list[str]) -> list[float]:
        return [self.mean_pmi(t) for t in texts]


def build_colloc(texts: Iterable[str], min_count: int = MIN_COUNT) -> Colloc:
    """The table from a corpus's poems (the train split's, for the shipped critic)."""
    uni: Counter[str] = Counter()
    bi: Counter[str] = Counter()
    for text in texts:
        for line in lines_of(text):
            uni.update(line)
            bi.update(line[i : i + 2] for i in range(len(line) - 1))
    chars = sorted(uni, key=ord)
    index = {c: i for i, c in enumerate(chars)}
    kept = sorted((index[b[0]] * len(chars) + index[b[1]], n) for b, n in bi.items() if n >= min_count)
    return Colloc(
        np.array([ord(c) for c in chars], np.uint32),
        np.array([uni[c] for c in chars], np.uint32),
        np.array([k for k, _ in kept], np.uint32),
        np.array([min(n, 65535) for _, n in kept], np.uint16),
        float(sum(uni.values())),
        float(sum(bi.values())),
    )


NAMES = ("chars", "char_counts", "pairs", "pair_counts")


def save_colloc(colloc: Colloc, folder: Path) -> dict[str, object]:
    """Write colloc.safetensors; return what critic.json records of it (with its sha256)."""
    entry = save_arrays(folder, COLLOC_FILE, {name: getattr(colloc, name) for name in NAMES})
    return {**entry, "n_uni": colloc.n_uni, "n_bi": colloc.n_bi, "alpha": colloc.alpha}


def load_colloc(folder: Path, info: object) -> Colloc:
    """The table as critic.json describes it, or one line saying what is wrong."""
    path, arrays, entry = load_arrays(folder, info, "colloc", COLLOC_FILE, "collocation table")
    try:
        found = [arrays[name] for name in NAMES]
        sizes = [float(entry[k]) for k in ("n_uni", "n_bi", "alpha")]
    except Exception as exc:  # a missing array or entry
        raise TangError(f"the critic's collocation table {path} cannot be read ({exc})") from None
    chars, char_counts, pairs, pair_counts = found
    if (
        len(chars) == 0
        or len(chars) != len(char_counts)
        or len(pairs) != len(pair_counts)
        or not all(s > 0 and np.isfinite(s) for s in sizes)
    ):
        raise TangError(f"the critic's collocation table {path} does not fit its description")
    return Colloc(chars, char_counts, pairs, pair_counts, *sizes)
