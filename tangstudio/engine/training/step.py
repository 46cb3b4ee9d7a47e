"""One optimisation step and the optimizer it uses: what "a training step" means in this project.

The trainer's settings live here once — AdamW with betas (0.9, 0.99) and decoupled weight decay,
bf16 autocast where the device has it, gradient clipping — so that anything else that times or
runs a step (the model pane's speed measurement, `measure_speed`) does exactly what a run does,
instead of a hand-written step that leaves some of them out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from tangstudio.engine.corpus.vocab import PAD
from tangstudio.engine.training.batching import Batch

BETAS = (0.9, 0.99)


class OptimizerSettings(Protocol):
    """What the optimizer reads of a config: a poem run's TrainConfig or a lab run's LabConfig."""

    lr: float
    weight_decay: float


def make_optimizer(
    parameters: Iterable[torch.nn.Parameter], config: OptimizerSettings, device: torch.device
) -> torch.optim.AdamW:
    """The trainers' AdamW (poems and the lab); on CUDA the fused kernel updates every parameter in one launch."""
    return torch.optim.AdamW(
        parameters,
        lr=config.lr,
        betas=BETAS,
        weight_decay=config.weight_decay,
        fused=device.type == "cuda" or None,
    )


def train_step(
    net: Any,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    clip: float,
    bf16: bool,
    scale: float,
) -> torch.Tensor:
    """Forward, loss, backward, clip and update on one batch; returns the summed nats (detached).

    `scale` turns summed nats into the loss that is differentiated: 1 / characters of the global
    batch, times the number of processes under DDP (which averages gradients over ranks).
    """
    with torch.autocast(batch.inputs.device.type, dtype=torch.bfloat16, enabled=bf16):
        logits = net(batch.inputs, batch.lengths)
    nats = F.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]),
        batch.targets.reshape(-1),
        ignore_index=PAD,
        reduction="sum",
    )
    optimizer.zero_grad(set_to_none=True)
    (nats * scale).backward()
    parameters = net.module.parameters() if hasattr(net, "module") else net.parameters()
    torch.nn.utils.clip_grad_norm_(parameters, clip)
    optimizer.step()
    return nats.detach()
