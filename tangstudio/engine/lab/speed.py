"""GRU against LSTM (and the RNN): parameters and training speed, measured fairly.

The seed says the GRU has "three weight matrices instead of four" and so trains faster. Two
comparisons answer it: at the same hidden size (what the article compares) and at the same number
of recurrent parameters (what a budget compares: a GRU with h = 150 has about the LSTM-128's
recurrent parameters on 28-pixel rows). Speed comes from interleaved full training steps
(forward, backward, clipping, AdamW) on the same digit batches, one model after the other, step
by step, so a change in the machine's load hits every model alike; CPU seconds
(time.process_time) are recorded beside wall seconds.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from tangstudio.engine.errors import TangError

MAX_STEPS = 100_000

CONFIGS: tuple[tuple[str, str, int], ...] = (
    ("lstm-128", "lstm", 128),
    ("gru-128", "gru", 128),
    ("rnn-128", "rnn", 128),
    ("gru-150 (≈ lstm-128 cell params)", "gru", 150),
    ("rnn-270 (≈ lstm-128 cell params)", "rnn", 270),
)


def check_speed_options(steps: int, warmup: int, batch_size: int, threads: int) -> None:
    """One line for a budget that times nothing (--steps 0 took the median of no steps: a traceback)."""
    for name, value, low, high in (
        ("steps", steps, 1, MAX_STEPS),
        ("warmup", warmup, 0, MAX_STEPS),
        ("batch_size", batch_size, 1, 8000),
        ("threads", threads, 1, 256),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise TangError(f"--{name.replace('_', '-')} must be between {low:,} and {high:,}, got {value}")


def interleaved_speed(
    steps: int = 60, warmup: int = 5, batch_size: int = 64, threads: int = 1
) -> list[dict[str, Any]]:
    """Median seconds per training step of each config, taking turns step by step."""
    check_speed_options(steps, warmup, batch_size, threads)
    import torch
    import torch.nn.functional as F

    from tangstudio.engine.lab.models import (
        ClassifierConfig,
        build_classifier,
        count_parameters,
        recurrent_parameters,
    )
    from tangstudio.engine.lab.tasks import DigitsTask

    torch.set_num_threads(threads)
    task = DigitsTask()
    models, optims = [], []
    for _, arch, hidden in CONFIGS:
        torch.manual_seed(0)
        model = build_classifier(ClassifierConfig(arch, 28, 10, hidden))
        models.append(model)
        optims.append(torch.optim.AdamW(model.parameters(), lr=1e-3))
    wall: list[list[float]] = [[] for _ in CONFIGS]
    cpu: list[list[float]] = [[] for _ in CONFIGS]
    for step in range(warmup + steps):
        batch = task.train_batch(step, batch_size, 0)
        x, y = torch.from_numpy(batch.x), torch.from_numpy(batch.y)
        for i, (model, optim) in enumerate(zip(models, optims)):
            w0, c0 = time.perf_counter(), time.process_time()
            loss = F.cross_entropy(model(x), y)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            if step >= warmup:
                wall[i].append(time.perf_counter() - w0)
                cpu[i].append(time.process_time() - c0)
    lstm_cpu = statistics.median(cpu[0])
    return [
        {
            "model": label,
            "arch": arch,
            "hidden": hidden,
            "params": count_parameters(models[i]),
            "recurrent_params": recurrent_parameters(models[i]),
            "cpu_ms_per_step": 1000 * statistics.median(cpu[i]),
            "wall_ms_per_step": 1000 * statistics.median(wall[i]),
            "speed_vs_lstm": lstm_cpu / statistics.median(cpu[i]),
            "steps": steps,
        }
        for i, (label, arch, hidden) in enumerate(CONFIGS)
    ]
