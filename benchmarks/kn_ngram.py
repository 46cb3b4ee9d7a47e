"""Interpolated Kneser–Ney n-gram baseline, counted exactly like the engine's evaluation.

The quality bar for the shipped model is "perplexity ≤ 0.6× a 4-gram KN model trained on the same
train split and evaluated on the same text". To make that comparison honest the n-gram sees the
same tokens the network sees: the train-split vocabulary (unknown characters become <unk>), the
poem's form start token as its history at the beginning, and it is scored on every body character
(punctuation included) plus the end token, never on the start token.

Interpolated KN (Chen & Goodman 1998), one absolute discount per order, D = n1 / (n1 + 2·n2):

  P(w | h) = max(c(h,w) − D, 0) / c(h)  +  D · N1+(h•) / c(h) · P(w | h⁻)

with raw counts c at the highest order and continuation counts N1+(•hw) below it; the unigram
level is interpolated with the uniform distribution, so no probability is ever zero.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence


class KneserNey:
    def __init__(self, order: int = 4) -> None:
        self.order = order
        self.counts: list[Counter] = []  # counts[k][(h..., w)] for n-gram length k+1
        self.context_total: list[Counter] = []
        self.context_types: list[Counter] = []
        self.discount: list[float] = []
        self.vocab_size = 0

    def fit(self, sequences: Iterable[Sequence[int]], vocab_size: int) -> KneserNey:
        n = self.order
        top: Counter = Counter()
        for seq in sequences:
            history = [seq[0]] * (n - 1)
            padded = history + list(seq[1:])
            for i in range(n - 1, len(padded)):
                top[tuple(padded[i - n + 1 : i + 1])] += 1
        # Continuation counts for the lower orders: how many distinct left neighbours an n-gram has.
        levels: list[Counter] = [Counter() for _ in range(n)]
        levels[n - 1] = top
        for k in range(n - 1, 0, -1):
            for gram in levels[k]:
                levels[k - 1][gram[1:]] += 1
        self.counts = levels
        self.context_total = [Counter() for _ in range(n)]
        self.context_types = [Counter() for _ in range(n)]
        self.discount = []
        for k, level in enumerate(levels):
            for gram, count in level.items():
                self.context_total[k][gram[:-1]] += count
                self.context_types[k][gram[:-1]] += 1
            histogram = Counter(c for c in level.values() if c <= 2)
            n1, n2 = histogram[1], histogram[2]
            self.discount.append(n1 / (n1 + 2 * n2) if n1 + n2 else 0.75)
        self.vocab_size = vocab_size
        return self

    def prob(self, history: tuple[int, ...], word: int) -> float:
        p = 1.0 / self.vocab_size
        for k in range(self.order):  # from unigram up to the full order
            context = history[len(history) - k :] if k else ()
            total = self.context_total[k].get(context, 0)
            if total == 0:
                continue
            d = self.discount[k]
            count = self.counts[k].get((*context, word), 0)
            p = max(count - d, 0.0) / total + d * self.context_types[k][context] / total * p
        return p

    def nats(self, sequences: Iterable[Sequence[int]]) -> tuple[float, int]:
        """Total negative log-likelihood (nats) and the number of tokens scored."""
        total, tokens = 0.0, 0
        n = self.order
        for seq in sequences:
            padded = [seq[0]] * (n - 1) + list(seq[1:])
            for i in range(n - 1, len(padded)):
                total -= math.log(self.prob(tuple(padded[i - n + 1 : i]), padded[i]))
                tokens += 1
        return total, tokens


def kn_perplexity(
    train: Iterable[Sequence[int]], held_out: Iterable[Sequence[int]], vocab_size: int, order: int = 4
) -> dict:
    model = KneserNey(order).fit(train, vocab_size)
    nats, tokens = model.nats(held_out)
    return {"order": order, "nats_per_char": nats / tokens, "ppl": math.exp(nats / tokens), "chars": tokens}


def main() -> None:
    import argparse
    import json

    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import Vocab

    parser = argparse.ArgumentParser(
        description="Kneser–Ney n-gram perplexity on the same text as `tangstudio eval`."
    )
    parser.add_argument("--corpus", default="tang")
    parser.add_argument("--script", default="simplified")
    parser.add_argument("--forms", default="regulated")
    parser.add_argument("--split", default="test", choices=["val", "test"])
    parser.add_argument("--order", type=int, default=4)
    args = parser.parse_args()
    corpus = load_corpus(args.corpus, args.script)
    train = corpus.select(args.forms, split="train")
    vocab = Vocab.build((p.text for p in train), args.script)
    encode = lambda poems: [vocab.encode_poem(p.text, p.form) for p in poems]  # noqa: E731
    result = kn_perplexity(
        encode(train), encode(corpus.select(args.forms, split=args.split)), len(vocab), args.order
    )
    print(json.dumps({**vars(args), **result}, ensure_ascii=False))


if __name__ == "__main__":
    main()
