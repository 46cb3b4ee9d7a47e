"""Val loss by position in the poem: does a model's prediction get better or worse further in?

The seed article's case for the LSTM is about distance: a vanilla RNN's memory of early inputs
fades, so it should gain less from a longer context. Averaging the loss over a whole poem hides
that; splitting it by position shows it. Position p is the p-th predicted token (characters and
punctuation of the body, then the end token), predicted from the start token and the p−1 tokens
before it, counted exactly like `evaluate` (so the buckets' weighted mean is the val loss).
The BiLSTM sees both sides at every position, so its rows are pseudo-losses and are labelled so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tangstudio.engine.corpus.poem import Poem
    from tangstudio.engine.runs.loaded import Loaded

DEFAULT_EDGES = (6, 12, 24, 36, 48)  # five-character lines are 6 tokens with punctuation, seven are 8


def bucket_labels(edges: tuple[int, ...]) -> list[str]:
    bounds = [0, *edges]
    labels = [f"{lo + 1}–{hi}" for lo, hi in pairwise(bounds)]
    return [*labels, f"{edges[-1] + 1}+"]


def token_losses(
    loaded: Loaded, poems: Sequence[Poem], max_tokens: int = 8192
) -> Iterator[tuple[Poem, list[float]]]:
    """Yield (poem, losses) with losses[i] the nats of predicting body character i (the last: <eos>).

    Counted exactly like `evaluate`: a causal model predicts token i+1 from the tokens before it,
    the BiLSTM predicts each token from both sides without seeing it (a pseudo-loss)."""
    import torch
    import torch.nn.functional as F

    from tangstudio.engine.corpus.vocab import PAD
    from tangstudio.engine.training.batching import causal_batch, pad
    from tangstudio.engine.training.evaluate import batches_by_length

    model = loaded.model
    encoded = [(loaded.vocab.encode_poem(p.text, p.form), p) for p in poems]
    poem_of = {id(seq): poem for seq, poem in encoded}  # batches_by_length regroups the same lists
    with torch.no_grad():
        for group in batches_by_length([seq for seq, _ in encoded], max_tokens):
            if loaded.causal:
                batch = causal_batch(group)
                inputs, targets, lengths = batch.inputs, batch.targets, batch.lengths
            else:
                inputs, lengths = pad(group)
                targets = inputs[:, 1:]  # the start token is given, never predicted
            logits = model(inputs, lengths)
            if not loaded.causal:
                logits = logits[:, 1:]
            losses = F.cross_entropy(
                logits.float().reshape(-1, logits.shape[-1]),
                targets.reshape(-1),
                ignore_index=PAD,
                reduction="none",
            ).reshape(targets.shape)
            for row, seq in enumerate(group):
                yield poem_of[id(seq)], losses[row, : len(seq) - 1].double().tolist()


def loss_by_position(
    target: str, edges: tuple[int, ...] = DEFAULT_EDGES, split: str = "val", max_tokens: int = 8192
) -> dict[str, Any]:
    """Mean loss per position bucket of run/checkpoint `target`'s best checkpoint on `split`.

    Returns {"run", "arch", "ppl_kind", "labels", "loss": [...], "count": [...]}, None for an empty
    bucket (JSON has no NaN: `compare --positions --json` printed a bare NaN there).
    """
    from bisect import bisect_left

    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.models.archs import ppl_kind_of
    from tangstudio.engine.runs.checkpoint import load_checkpoint

    loaded = load_checkpoint(target)
    meta = loaded.meta
    poems = load_corpus(meta["corpus"]["name"], loaded.vocab.script).select(meta["forms"], split)
    nats = [0.0] * (len(edges) + 1)
    count = [0] * (len(edges) + 1)
    for _, losses in token_losses(loaded, poems, max_tokens):
        for i, loss in enumerate(losses):
            bucket = bisect_left(edges, i + 1)  # position i+1: the (i+1)-th predicted token
            nats[bucket] += loss
            count[bucket] += 1
    means = [n / c if c else None for n, c in zip(nats, count)]
    return {
        "run": meta.get("run"),
        "arch": loaded.config.arch,
        "ppl_kind": ppl_kind_of(loaded.causal),
        "labels": bucket_labels(edges),
        "loss": means,
        "count": count,
    }
