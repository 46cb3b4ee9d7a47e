"""How well a fill-in BiLSTM does when asked to write left to right, on the causal models' terms.

The BiLSTM predicts each character from both sides; its pseudo-loss is not a language model's
loss. Writing a poem left to right, though, it has only the left side: everything after the
character being written is still unknown (<mask>), and only the poem's length is known (the form
fixes it). Scoring it that way — position t predicted with positions t.. masked, for every t —
gives a proper left-to-right loss in the same counting as a causal model's, so the two can be set
side by side honestly. It costs one pass per position, so it runs on a fixed sample of poems.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

T = TypeVar("T")


def sample_poems(poems: list[T], limit: int, seed: int = 0) -> list[T]:
    if limit <= 0 or len(poems) <= limit:
        return poems
    import torch

    order = torch.randperm(len(poems), generator=torch.Generator().manual_seed(seed))[:limit]
    return [poems[i] for i in sorted(order.tolist())]


def left_to_right_loss(
    bilstm_target: str, causal_target: str | None = None, poems: int = 200, split: str = "val", seed: int = 0
) -> dict[str, Any]:
    """Mean nats/token of the BiLSTM written left to right, its usual pseudo-loss, and (optionally)
    a causal run's loss, all on the same sample of `split` poems and the same tokens."""
    import torch
    import torch.nn.functional as F

    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import MASK, PAD
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.runs.checkpoint import load_checkpoint
    from tangstudio.engine.training.batching import pad
    from tangstudio.engine.training.evaluate import evaluate

    loaded = load_checkpoint(bilstm_target)
    if loaded.causal:
        raise TangError(f"{bilstm_target!r} is a causal model; left-to-right scoring is for the BiLSTM")
    meta = loaded.meta
    chosen = sample_poems(
        load_corpus(meta["corpus"]["name"], loaded.vocab.script).select(meta["forms"], split), poems, seed
    )
    seqs = [loaded.vocab.encode_poem(p.text, p.form) for p in chosen]
    by_length: dict[int, list[list[int]]] = {}
    for seq in seqs:
        by_length.setdefault(len(seq), []).append(seq)
    nats, count = 0.0, 0
    with torch.no_grad():
        for length, group in sorted(by_length.items()):
            full, lengths = pad(group)
            for t in range(1, length):  # the start token (position 0) is given
                inputs = full.clone()
                inputs[:, t:] = MASK  # x_t and everything after it are not written yet
                logits = loaded.model(inputs, lengths)[:, t]
                nats += float(F.cross_entropy(logits.float(), full[:, t], ignore_index=PAD, reduction="sum"))
                count += len(group)
    result: dict[str, Any] = {
        "poems": len(chosen),
        "tokens": count,
        "bilstm_left_to_right": nats / count,
        "bilstm_pseudo": evaluate(loaded, poems=chosen)["loss"],
        "bilstm_run": meta.get("run"),
    }
    if causal_target is not None:
        causal = load_checkpoint(causal_target)
        result.update(
            causal_run=causal.meta.get("run"),
            causal_arch=causal.config.arch,
            causal=evaluate(causal, poems=chosen)["loss"],
        )
    result["bilstm_left_to_right_ppl"] = math.exp(result["bilstm_left_to_right"])
    return result
