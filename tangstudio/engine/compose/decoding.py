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


def top_candidates(probs: Tensor, itos: list[str], k: int = TOP, names: dict[int, str] | None = None) -> list[tuple[str, float]]:
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
    if top_k > 0 and top_k < probs.numel():
        kth = torch.topk(probs, top_k).values[-1]
        probs = torch.where(probs >= kth, probs, torch.zeros_like(probs))
    if top_p < 1.0:
        sorted_p, order = torch.sort(probs, descending=True)
        before = torch.cumsum(sorted_p, 0) - sorted_p  # mass strictly ahead of each entry
        drop = before >= top_p
        drop[0] = False  # the likeliest always stays
        probs = probs.clone()
        probs[order[drop]] = 0.0
    return probs


def pick(probs: Tensor, temperature: float, top_k: int, top_p: float, generator: torch.Generator) -> int:
    if temperature == 0:
        return int(torch.argmax(probs))
    kept = truncate(probs, top_k, top_p)
    return int(torch.multinomial(kept, 1, generator=generator))
