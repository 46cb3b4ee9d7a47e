"""One optimisation step and the optimizer it uses: what "a training step" means in this project.

The trainer's settings live here once — AdamW with betas (0.9, 0.99) and decoupled weight decay,
bf16 autocast where the device has it, gradient clipping — so that anything else that times or
runs a step (the model pane's speed measurement, `measure_speed`) does exactly what a run does,
instead of a hand-written step that leaves some of them out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from tangstudio.engine.corpus.vocab import PAD
from tangstudio.engine.training.batching import Batch
from tangstudio.engine.training.device import fast_bf16
from tangstudio.engine.training.head_loss import head_loss

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


@dataclass(frozen=True)
class HeadSettings:
    """How a step computes the output head and its loss (TrainConfig's loss_chunk and head_bf16).

    chunk 0 is the plain path: every position's logits, then F.cross_entropy. Otherwise
    training/head_loss.py: scored rows only, `chunk` rows at a time, the matmuls in bf16 when `bf16`.
    """

    chunk: int = 0
    bf16: bool = False


PLAIN = HeadSettings()


class HeadOptions(Protocol):
    """What the head path reads of a config (TrainConfig)."""

    loss_chunk: int
    head_bf16: str


def head_settings(config: HeadOptions, device: torch.device) -> HeadSettings:
    """The step's head path from --loss-chunk and --head-bf16 (auto: where bf16 units exist).

    With bf16 each process rounds its own share of the gradient, so N processes under DDP train
    like one only up to bf16 rounding (as CUDA's autocast always did); --head-bf16 off makes them
    match exactly (tests/test_distributed.py).
    """
    bf16 = config.head_bf16 == "on" or (config.head_bf16 == "auto" and fast_bf16(device))
    return HeadSettings(config.loss_chunk, bf16 and config.loss_chunk > 0)


def step_loss(net: Any, batch: Batch, bf16: bool, head: HeadSettings = PLAIN) -> torch.Tensor:
    """The batch's summed nats over its scored targets, ready for backward."""
    with torch.autocast(batch.inputs.device.type, dtype=torch.bfloat16, enabled=bf16):
        out = (
            net(batch.inputs, batch.lengths, features=True)
            if head.chunk > 0
            else net(batch.inputs, batch.lengths)
        )
    if head.chunk > 0:
        features, weight, bias = out
        nats, _ = head_loss(
            features, weight, bias, batch.targets, head.chunk, head.bf16 or bf16, batch.scored
        )
        return nats
    logits = out
    return F.cross_entropy(
        logits.float().reshape(-1, logits.shape[-1]),
        batch.targets.reshape(-1),
        ignore_index=PAD,
        reduction="sum",
    )


def train_step(
    net: Any,
    optimizer: torch.optim.Optimizer,
    batch: Batch,
    clip: float,
    bf16: bool,
    scale: float,
    head: HeadSettings = PLAIN,
) -> torch.Tensor:
    """Forward, loss, backward, clip and update on one batch; returns the summed nats (detached).

    `scale` turns summed nats into the loss that is differentiated: 1 / characters of the global
    batch, times the number of processes under DDP (which averages gradients over ranks).
    """
    nats = step_loss(net, batch, bf16, head)
    optimizer.zero_grad(set_to_none=True)
    (nats * scale).backward()
    parameters = net.module.parameters() if hasattr(net, "module") else net.parameters()
    torch.nn.utils.clip_grad_norm_(parameters, clip)
    optimizer.step()
    return nats.detach()
