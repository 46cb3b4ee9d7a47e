"""From a model's logits and a constraint mask to the distribution shown and the character chosen.

p = softmax(logits)                          the model alone (what `removed_mass` is measured on)
q = softmax(logits / T) restricted to the mask, renormalised       what is shown and sampled
top-k keeps the k likeliest of q; top-p the smallest head of q whose mass reaches p
T = 0 is greedy: the argmax inside the mask (q is then shown at T = 1); so is any T below 1e-4

Plain numpy over float32 arrays, drawn from a numpy Generator: a step's masking, top 10 and draw
cost tens of microseconds, and composing never has to import torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TOP = 10
# Below this a temperature is greedy: logits / T overflows float32 from about T = 2e-38 (a NaN
# distribution, issue 26's IndexError), and already at 1e-4 a gap of 0.01 nats between the two
# likeliest characters is 100 nats, a weight of e^-100 that float32 rounds to nothing.
GREEDY_BELOW = 1e-4


def is_greedy(temperature: float) -> bool:
    """T = 0, or a T so small that sampling at it is the argmax anyway."""
    return temperature < GREEDY_BELOW


@dataclass
class Distribution:
    model_probs: np.ndarray  # p, float32[V]
    probs: np.ndarray  # q, float32[V], zero outside the mask
    removed_mass: float


def softmax(logits: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """softmax over the last axis (float32), zero outside `mask` when one is given."""
    z = np.array(logits, dtype=np.float32) if mask is None else np.where(mask, logits, np.float32(-np.inf))
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis (float32): beam search's scores."""
    z: np.ndarray = np.asarray(logits, dtype=np.float32) - logits.max(axis=-1, keepdims=True)
    z -= np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return z


def constrained(
    logits: np.ndarray, mask: np.ndarray, temperature: float, own: np.ndarray | None = None
) -> Distribution:
    """q from `logits` under the mask and temperature; p (and the mass the mask removes) from the
    model's `own` logits when sampling follows others (title guidance), else from `logits`."""
    logits = np.asarray(logits, dtype=np.float32)
    model_probs = softmax(logits if own is None else np.asarray(own, dtype=np.float32))
    removed = 1.0 - float(np.dot(model_probs, mask))  # the mass the constraints keep, summed in BLAS
    scaled = logits if is_greedy(temperature) else logits / np.float32(temperature)
    return Distribution(model_probs, softmax(scaled, mask), min(max(removed, 0.0), 1.0))


def top_ids(probs: np.ndarray, k: int) -> np.ndarray:
    """The ids of the k largest probabilities (non-negative values), largest first, without sorting
    the whole vocabulary.

    When at least k values clear a bar the answer is among them (the k-th largest clears it too),
    so only those are sorted. The bar starts at a hundredth of the maximum and drops until k
    values clear it, which for a model's distribution leaves tens to hundreds of candidates instead
    of thousands. Fewer than k positive values (a forced character): those, then zeros."""
    V = probs.size
    k = min(k, V)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    top = float(probs.max())
    candidates = None
    for bar in (top * 1e-2, top * 1e-4, top * 1e-7, 0.0):
        found = np.flatnonzero(probs > bar) if bar == 0.0 else np.flatnonzero(probs >= bar)
        if found.size >= k:
            candidates = found
            break
    if candidates is None:  # fewer than k positive: they come first, then any k − n of the zeros
        positive = found[np.argsort(-probs[found], kind="stable")]
        return np.concatenate([positive, np.flatnonzero(probs <= 0)[: k - positive.size]])
    if candidates.size > 8 * k:
        sub = probs[candidates]
        candidates = candidates[np.argpartition(sub, sub.size - k)[sub.size - k :]]
    return candidates[np.argsort(-probs[candidates], kind="stable")][:k]


def top_candidates(
    probs: np.ndarray, itos: list[str], k: int = TOP, names: dict[int, str] | None = None
) -> list[tuple[str, float]]:
    """The k likeliest entries with positive probability, as (character, probability)."""
    out = []
    for i in top_ids(probs, k).tolist():
        p = float(probs[i])
        if p <= 0.0:
            break
        out.append(((names or {}).get(i, itos[i]), p))
    return out


def truncate(probs: np.ndarray, top_k: int, top_p: float) -> np.ndarray:
    """Keep the top-k and/or top-p head of a distribution (not renormalised: a draw does not care)."""
    ids, kept = head(probs, top_k, top_p)
    out = np.zeros_like(probs)
    out[ids] = kept
    return out


HEAD = 256  # look for the top-p head among this many first; sort everything only if it is not there


def head(probs: np.ndarray, top_k: int, top_p: float) -> tuple[np.ndarray, np.ndarray]:
    """(ids, probabilities) of the top-k / top-p head, likeliest first.

    Sorting the whole vocabulary at every step costs more than the rest of the masking; the top-p
    head of a trained model's distribution almost always lies within its few hundred likeliest
    characters, so take those first and sort everything only when their mass falls short.
    """
    V = probs.size
    k = min(V, top_k if top_k > 0 else V)
    if top_p < 1.0 or k < V:
        first = min(k, HEAD)
        ids = top_ids(probs, first)
        if first < k and float(probs[ids].sum()) < top_p:
            ids = top_ids(probs, k)
        values = probs[ids]
    else:
        values, ids = probs, np.arange(V)
    if top_p < 1.0:
        before = np.cumsum(values, dtype=np.float64) - values  # mass strictly ahead of each entry
        n = max(1, int((before < top_p).sum()))
        values, ids = values[:n], ids[:n]
    keep = values > 0
    if not bool(keep.all()):
        values, ids = values[keep], ids[keep]
    return ids, values


def _draw(cdf: np.ndarray, rng: np.random.Generator) -> int:
    """Inverse CDF: the first index whose cumulative mass passes a uniform draw."""
    u = rng.random() * float(cdf[-1])
    return min(int(np.searchsorted(cdf, u)), len(cdf) - 1)


LIKELY = 1e-3  # characters above this share of the maximum: a few hundred, holding nearly all the mass


def _sample(probs: np.ndarray, total: float, rng: np.random.Generator) -> int:
    """One exact draw from `probs` (summing to `total`) by inverse CDF, likeliest characters first.

    A running sum over the whole vocabulary costs more than the rest of a step's masking; the
    characters above LIKELY × the maximum hold nearly all the mass, so the draw walks their running
    sum, and sums the rest only on the rare draw that lands beyond them."""
    bar = float(probs.max()) * LIKELY
    likely = np.flatnonzero(probs >= bar)
    cdf = np.cumsum(probs[likely], dtype=np.float64)
    u = rng.random() * total
    if u < cdf[-1]:
        return int(likely[min(int(np.searchsorted(cdf, u)), len(likely) - 1)])
    rest = np.flatnonzero((probs < bar) & (probs > 0))
    if rest.size == 0:
        return int(likely[-1])
    tail = np.cumsum(probs[rest], dtype=np.float64)
    return int(rest[min(int(np.searchsorted(tail, u - cdf[-1])), len(rest) - 1)])


def pick(probs: np.ndarray, temperature: float, top_k: int, top_p: float, rng: np.random.Generator) -> int:
    """Greedy at T = 0; otherwise one draw from the top-k / top-p head.

    Sorting (or a large top-k) every step costs more than all the masking, so the draw is by
    rejection instead: draw x from the whole distribution, keep it if it lies in the head — fewer
    than k characters and less than p of the mass are strictly likelier than x — else draw again.
    Accepted draws follow the renormalised head exactly, and with top-p 0.95 a draw is kept at
    least 95 % of the time.
    """
    if is_greedy(temperature):
        return int(np.argmax(probs))
    total = float(probs.sum(dtype=np.float64))
    for _ in range(64):
        x = _sample(probs, total, rng)
        if probs[x] <= 0:
            continue
        ahead = probs > probs[x]
        if top_k > 0 and int(np.count_nonzero(ahead)) >= top_k:
            continue
        if top_p < 1.0 and float(np.dot(probs, ahead)) >= top_p * total:
            continue
        return x
    ids, kept = head(probs, top_k, top_p)  # a head of tiny mass (a small top-k): draw inside it
    return int(ids[_draw(np.cumsum(kept, dtype=np.float64), rng)])


def make_rng(seed: int) -> np.random.Generator:
    """The composer's random source: one seed, one poem, on every machine (PCG64)."""
    return np.random.Generator(np.random.PCG64(seed))
