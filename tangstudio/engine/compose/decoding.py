"""From a model's logits and a constraint mask to the distribution shown and the character chosen.

p = softmax(logits)                          the model alone (what `removed_mass` is measured on)
q = softmax(logits / T) restricted to the mask, renormalised       what is shown and sampled
top-k keeps the k likeliest of q; top-p the smallest head of q whose mass reaches p
T = 0 is greedy: the argmax inside the mask (q is then shown at T = 1)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

TOP = 10


@dataclass
class Distribution:
    model_probs: Tensor  # p, float[V]
    probs: Tensor  # q, float[V], zero outside the mask
    removed_mass: float


def constrained(logits: Tensor, mask: Tensor, temperature: float) -> Distribution:
    logits = logits.float()
    model_probs = torch.softmax(logits, -1)
    removed = 1.0 - float(model_probs[mask].sum())
    scaled = logits / temperature if temperature > 0 else logits
    probs = torch.softmax(scaled.masked_fill(~mask, float("-inf")), -1)
    return Distribution(model_probs, probs, min(max(removed, 0.0), 1.0))


def top_candidates(
    probs: Tensor, itos: list[str], k: int = TOP, names: dict[int, str] | None = None
) -> list[tuple[str, float]]:
    """The k likeliest entries with positive probability, as (character, probability)."""
    values, ids = torch.topk(probs, min(k, probs.numel()))
    out = []
    for p, i in zip(values.tolist(), ids.tolist()):
        if p <= 0.0:
            break
        out.append(((names or {}).get(i, itos[i]), p))
    return out


def truncate(probs: Tensor, top_k: int, top_p: float) -> Tensor:
    """Keep the top-k and/or top-p head of a distribution (not renormalised: multinomial does not care)."""
    ids, kept = head(probs, top_k, top_p)
    out = torch.zeros_like(probs)
    out[ids] = kept
    return out


HEAD = 256  # look for the top-p head among this many first; sort everything only if it is not there


def head(probs: Tensor, top_k: int, top_p: float) -> tuple[Tensor, Tensor]:
    """(ids, probabilities) of the top-k / top-p head, likeliest first.

    Sorting the whole vocabulary at every step costs more than the rest of the masking; the top-p
    head of a trained model's distribution almost always lies within its few hundred likeliest
    characters, so take those with topk and sort everything only when their mass falls short.
    """
    V = probs.numel()
    k = min(V, top_k if top_k > 0 else V)
    if top_p < 1.0 or k < V:
        first = min(k, HEAD)
        values, ids = torch.topk(probs, first)
        if first < k and float(values.sum()) < top_p:
            values, ids = torch.topk(probs, k)
    else:
        values, ids = probs, torch.arange(V)
    if top_p < 1.0:
        before = torch.cumsum(values, 0) - values  # mass strictly ahead of each entry
        n = max(1, int((before < top_p).sum()))
        values, ids = values[:n], ids[:n]
    keep = values > 0
    if not bool(keep.all()):
        values, ids = values[keep], ids[keep]
    return ids, values


def pick(probs: Tensor, temperature: float, top_k: int, top_p: float, generator: torch.Generator) -> int:
    """Greedy at T = 0; otherwise one draw from the top-k / top-p head.

    Sorting (or a large topk) every step costs more than all the masking, so the draw is by
    rejection instead: draw x from the whole distribution by inverse CDF, keep it if it lies in
    the head — fewer than k characters and less than p of the mass are strictly likelier than x —
    else draw again. Accepted draws follow the renormalised head exactly, and with top-p 0.95 a
    draw is kept at least 95 % of the time.
    """
    if temperature == 0:
        return int(torch.argmax(probs))
    cdf = torch.cumsum(probs.double(), 0)
    total = float(cdf[-1])
    for _ in range(64):
        u = float(torch.rand((), generator=generator, dtype=torch.float64)) * total
        x = min(int(torch.searchsorted(cdf, torch.tensor([u], dtype=torch.float64))), len(probs) - 1)
        if probs[x] <= 0:
            continue
        ahead = probs > probs[x]
        if top_k > 0 and int(ahead.sum()) >= top_k:
            continue
        if top_p < 1.0 and float(probs[ahead].sum()) >= top_p * total:
            continue
        return x
    ids, kept = head(probs, top_k, top_p)  # a head of tiny mass (a small top-k): draw inside it
    cdf = torch.cumsum(kept.double(), 0)
    u = float(torch.rand((), generator=generator, dtype=torch.float64)) * float(cdf[-1])
    return int(ids[min(int(torch.searchsorted(cdf, torch.tensor([u], dtype=torch.float64))), len(ids) - 1)])
