"""Val loss by position in the poem: does a model's prediction get better or worse further in?

The seed article's case for the LSTM is about distance: a vanilla RNN's memory of early inputs
fades, so it should gain less from a longer context. Averaging the loss over a whole poem hides
that; splitting it by position shows it. Position p is the p-th predicted token (characters and
punctuation of the body, then the end token), predicted from the start token and the p−1 tokens
before it, counted exactly like `evaluate` (so the buckets' weighted mean is the val loss).
The BiLSTM sees both sides at every position, so its rows are pseudo-losses and are labelled so.
"""

from __future__ import annotations

import math
from itertools import pairwise

DEFAULT_EDGES = (6, 12, 24, 36, 48)  # five-character lines are 6 tokens with punctuation, seven are 8


def bucket_labels(edges: tuple[int, ...]) -> list[str]:
    bounds = [0, *edges]
    labels = [f"{lo + 1}–{hi}" for lo, hi in pairwise(bounds)]
    return [*labels, f"{edges[-1] + 1}+"]


def loss_by_position(
    target: str, edges: tuple[int, ...] = DEFAULT_EDGES, split: str = "val", max_tokens: int = 8192
) -> dict:
    """Mean loss per position bucket of run/checkpoint `target`'s best checkpoint on `split`.

    Returns {"run", "arch", "ppl_kind", "labels", "loss": [...], "count": [...]}, NaN for an empty bucket.
    """
    import torch
    import torch.nn.functional as F

    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import PAD
    from tangstudio.engine.runs.checkpoint import load_checkpoint
    from tangstudio.engine.training.batching import causal_batch, pad
    from tangstudio.engine.training.evaluate import batches_by_length

    loaded = load_checkpoint(target)
    meta, model = loaded.meta, loaded.model
    poems = load_corpus(meta["corpus"]["name"], loaded.vocab.script).select(meta["forms"], split)
    seqs = [loaded.vocab.encode_poem(p.text, p.form) for p in poems]
    nats = torch.zeros(len(edges) + 1, dtype=torch.float64)
    count = torch.zeros(len(edges) + 1, dtype=torch.float64)
    boundaries = torch.tensor(edges)
    with torch.no_grad():
        for group in batches_by_length(seqs, max_tokens):
            if loaded.causal:
                batch = causal_batch(group)
                inputs, targets, lengths = batch.inputs, batch.targets, batch.lengths
                positions = torch.arange(1, targets.shape[1] + 1)  # logits[:, t] predicts token t+1
            else:
                inputs, lengths = pad(group)
                targets = inputs.clone()
                targets[:, 0] = PAD
                positions = torch.arange(targets.shape[1])  # logits[:, t] predicts token t
            logits = model(inputs, lengths)
            losses = (
                F.cross_entropy(
                    logits.float().reshape(-1, logits.shape[-1]),
                    targets.reshape(-1),
                    ignore_index=PAD,
                    reduction="none",
                )
                .reshape(targets.shape)
                .double()
            )
            real = targets != PAD
            bucket = torch.bucketize(positions, boundaries, right=False).expand_as(targets)
            nats.index_add_(0, bucket[real], losses[real])
            count.index_add_(0, bucket[real], torch.ones_like(losses[real]))
    means = [float(n / c) if c else math.nan for n, c in zip(nats, count)]
    return {
        "run": meta.get("run"),
        "arch": loaded.config.arch,
        "ppl_kind": "causal" if loaded.causal else "pseudo",
        "labels": bucket_labels(edges),
        "loss": means,
        "count": [int(c) for c in count],
    }
