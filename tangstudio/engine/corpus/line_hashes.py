"""The 64-bit line hashes the corpus cache sorts and the novelty check looks up (numpy and Python).

Two different lines sharing a hash would make the novelty check refuse one ending too many, never
let a copied line through. Part of the cache's code fingerprint (cache._CODE): a change here is a
new cache.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_BASE = 0x100000001B3  # odd, so it has an inverse mod 2⁶⁴ (span hashes from prefix sums)
_MASK = (1 << 64) - 1
_LENGTH_MIX = 0x9E3779B97F4A7C15


def line_hash(line: str) -> int:
    """The 64-bit hash the line tables are sorted by: Σ ord(cᵢ)·B^(L−1−i) mod 2⁶⁴, mixed with L.

    `span_hashes` computes the same value for every span of the corpus at once in numpy.
    """
    h = 0
    for ch in line:
        h = (h * _BASE + ord(ch)) & _MASK
    return _mix(h ^ ((len(line) * _LENGTH_MIX) & _MASK))


def _mix(h: int) -> int:
    """splitmix64's finaliser (Python ints), so nearby lines do not get nearby hashes."""
    h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK
    return h ^ (h >> 31)


def span_hashes(
    chars: npt.NDArray[np.integer], starts: npt.NDArray[np.integer], ends: npt.NDArray[np.integer]
) -> npt.NDArray[np.uint64]:
    """line_hash(text[s:e]) for every (s, e), vectorised: prefix sums of c[m]·B⁻ᵐ, times B^(e−1).

    uint64 arithmetic wraps mod 2⁶⁴, which is exactly the modulus `line_hash` uses.
    """
    n = len(chars)
    inverse = pow(_BASE, -1, 1 << 64)
    with np.errstate(over="ignore"):
        up = np.full(n + 1, _BASE, dtype=np.uint64)
        up[0] = 1
        up = np.cumprod(up, dtype=np.uint64)  # B^k
        down = np.full(n, inverse, dtype=np.uint64)
        down[0] = 1
        down = np.cumprod(down, dtype=np.uint64)  # B^-k
        prefix = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum(chars.astype(np.uint64) * down, dtype=np.uint64, out=prefix[1:])
        h = (prefix[ends] - prefix[starts]) * up[ends - 1]
        lengths = (ends - starts).astype(np.uint64)
        h ^= lengths * np.uint64(_LENGTH_MIX)
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        mixed: npt.NDArray[np.uint64] = h ^ (h >> np.uint64(31))
        return mixed
