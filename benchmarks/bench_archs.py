"""Training speed of the four cells against the LSTM, interleaved in one process.

The architecture study trains its runs one after another, so on a shared machine each run's
chars/s reflects whatever else was running then. Here the same batches go through full training
steps (forward, backward, clipping, AdamW) of each architecture, taking turns batch by batch on
one thread, so the ratios are fair even when the absolute rates are not. Size: the study's — embedding 128, 2×256,
batch 64, regulated verse, the engine's own length buckets and models (fused kernels).
"""

from __future__ import annotations

import time

from benchmarks.common import Row
from tangstudio.engine.models.archs import ARCH_NAMES

ARCHS = ("lstm", *(a for a in ARCH_NAMES if a != "lstm"))  # the registry's, the LSTM (the baseline) first
EMBED, HIDDEN, LAYERS, BATCH = 128, 256, 2, 64


def measure(rounds: int, steps: int) -> dict[str, float]:
    """Real chars/s per architecture over rounds × steps batches, the architectures taking turns
    batch by batch on one thread (a second thread would only measure the neighbours' load)."""
    import torch
    import torch.nn.functional as F

    from tangstudio.engine.corpus.vocab import PAD
    from tangstudio.engine.models import ModelConfig, build_model
    from tangstudio.engine.training.batching import causal_batch, masked_batch, plan_epoch
    from tangstudio.engine.training.data import load_training_data

    torch.set_num_threads(1)
    data = load_training_data("tang", "simplified", "regulated", 256)
    lengths = [len(s) for s in data.train]
    plan = plan_epoch(lengths, BATCH, 0, 0)
    gen = torch.Generator().manual_seed(0)
    models, optimizers = {}, {}
    for arch in ARCHS:
        torch.manual_seed(0)
        models[arch] = build_model(
            ModelConfig(
                arch=arch, vocab_size=len(data.vocab), embed=EMBED, hidden=HIDDEN, layers=LAYERS, dropout=0.2
            )
        ).train()
        optimizers[arch] = torch.optim.AdamW(models[arch].parameters(), lr=1e-3)

    def step(arch: str, seqs: list[list[int]]) -> int:
        model, optimizer = models[arch], optimizers[arch]
        batch = causal_batch(seqs) if model.causal else masked_batch(seqs, gen, 0.15, 0.30)
        logits = model(batch.inputs, batch.lengths)
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), batch.targets.reshape(-1), ignore_index=PAD
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return batch.chars

    for arch in ARCHS:  # warm-up: first-call allocations
        step(arch, [data.train[i] for i in plan[0]])
    seconds = {a: 0.0 for a in ARCHS}
    chars = {a: 0 for a in ARCHS}
    for k in range(rounds * steps):
        seqs = [data.train[i] for i in plan[1 + k % (len(plan) - 1)]]
        for arch in ARCHS:  # step by step in turn: a change of load hits every architecture alike
            start = time.perf_counter()
            chars[arch] += step(arch, seqs)
            seconds[arch] += time.perf_counter() - start
    return {a: chars[a] / seconds[a] for a in ARCHS}


def rows(quick: bool = False) -> list[Row]:
    rate = measure(rounds=2 if quick else 3, steps=2 if quick else 3)
    size = f"emb {EMBED}, 2×{HIDDEN}, batch {BATCH}"
    return [
        Row(
            f"train chars/s, GRU ({size})",
            rate["gru"],
            "chars/s",
            "LSTM, same batches, interleaved",
            rate["lstm"],
            "GRU ≥ LSTM (seed article: faster)",
        ),
        Row(
            f"train chars/s, vanilla RNN ({size})",
            rate["rnn"],
            "chars/s",
            "LSTM, same batches, interleaved",
            rate["lstm"],
            "",
        ),
        Row(
            f"train chars/s, BiLSTM ({size})",
            rate["bilstm"],
            "chars/s",
            "LSTM, same batches, interleaved",
            rate["lstm"],
            "",
        ),
    ]


if __name__ == "__main__":
    from benchmarks.common import print_rows

    print_rows(rows, __doc__, digits=0)
