"""Fitting the critic's discriminative term (disc.py): L2 logistic regression on hashed n-grams.

numpy only and deterministic (full-batch Adam from zeros, a fixed number of steps, no sampling),
so the same texts give the same weights on any machine: tests/test_craft_disc.py fits a tiny
corpus twice. Each example is weighted so that every (group, label) cell weighs the same — real
poems far outnumber our drafts, and a form with fewer drafts must not be left to the others.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from tangstudio.engine.compose.craft.disc import Disc, hashed


def design(
    texts: list[str], buckets: int, orders: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sparse design matrix as (row, column, value): value 1/√n for each of a text's n n-grams."""
    rows, cols, vals = [], [], []
    for r, text in enumerate(texts):
        ids = hashed(text, buckets, orders)
        if len(ids):
            rows.append(np.full(len(ids), r))
            cols.append(ids)
            vals.append(np.full(len(ids), 1.0 / np.sqrt(len(ids))))
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def balance(labels: list[int], groups: list[str]) -> np.ndarray:
    """Weights that give every (group, label) cell the same total, mean weight 1."""
    cells = Counter(zip(groups, labels))
    w = np.array([1.0 / cells[(g, y)] for g, y in zip(groups, labels)])
    weights: np.ndarray = w * len(w) / w.sum()
    return weights


def fit_disc(
    texts: list[str],
    labels: list[int],
    groups: list[str] | None = None,
    *,
    buckets: int = 2**18,
    orders: tuple[int, ...] = (1, 2),
    l2: float = 1e-4,
    steps: int = 300,
    lr: float = 0.05,
) -> Disc:
    """Weights minimising the weighted mean log-loss + l2·|w|² (bias not penalised)."""
    y = np.asarray(labels, dtype=np.float64)
    sw = balance(list(labels), groups or ["all"] * len(texts))
    rows, cols, vals = design(texts, buckets, orders)
    n = len(texts)
    w = np.zeros(buckets)
    b = 0.0
    m, v = np.zeros(buckets + 1), np.zeros(buckets + 1)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        z = np.bincount(rows, weights=vals * w[cols], minlength=n) + b
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        r = sw * (p - y) / n
        g = np.empty(buckets + 1)
        g[:buckets] = np.bincount(cols, weights=vals * r[rows], minlength=buckets) + 2 * l2 * w
        g[buckets] = r.sum()
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        step = lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
        w -= step[:buckets]
        b -= float(step[buckets])
    return Disc(w.astype(np.float32), float(b), tuple(orders))
