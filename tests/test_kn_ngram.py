"""The Kneser–Ney baseline is a proper distribution and beats lower orders on real verse."""

from __future__ import annotations

import math
import random

import pytest

from benchmarks.kn_ngram import KneserNey, kn_perplexity


def toy_sequences(seed: int, n: int = 200) -> list[list[int]]:
    rng = random.Random(seed)
    seqs = []
    for _ in range(n):
        start = rng.choice([5, 6])
        body = [
            rng.choice(range(10, 20)) if rng.random() < 0.3 else 10 + (i % 7)
            for i in range(rng.randint(3, 12))
        ]
        seqs.append([start, *body, 3])
    return seqs


@pytest.mark.parametrize("history", [(5, 5, 5), (10, 11, 12), (19, 19, 19), (4, 4, 4)])
def test_probabilities_sum_to_one(history):
    model = KneserNey(4).fit(toy_sequences(0), vocab_size=20)
    total = sum(model.prob(history, w) for w in range(20))
    assert math.isclose(total, 1.0, rel_tol=1e-9)
    assert all(model.prob(history, w) > 0 for w in range(20))


def test_higher_order_helps_on_structured_text():
    train, held_out = toy_sequences(1, 400), toy_sequences(2, 100)
    unigram = kn_perplexity(train, held_out, 20, order=1)["ppl"]
    fourgram = kn_perplexity(train, held_out, 20, order=4)["ppl"]
    assert fourgram < unigram
    assert kn_perplexity(train, held_out, 20, order=4)["chars"] == sum(len(s) - 1 for s in held_out)
