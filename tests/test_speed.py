"""measure_speed: the trainer's step, timed, on the model the training options describe."""

from __future__ import annotations

import pytest
import torch

from tangstudio.engine.models import build_model
from tangstudio.engine.training.config import TrainConfig
from tangstudio.engine.training.speed import measure_speed
from tangstudio.engine.training.step import BETAS, make_optimizer


def test_model_config_keeps_every_shape_option() -> None:
    config = TrainConfig(arch="lstm", embed=24, hidden=40, layers=3, dropout=0.1, tied=True, impl="cells")
    config.forget_bias = 1.0
    model = config.model_config(vocab_size=77)
    assert (model.arch, model.vocab_size, model.embed, model.hidden, model.layers) == ("lstm", 77, 24, 40, 3)
    assert (model.dropout, model.tied, model.impl, model.forget_bias) == (0.1, True, "cells", 1.0)


def test_the_optimizer_is_the_trainers() -> None:
    config = TrainConfig(lr=3e-3, weight_decay=0.05)
    optimizer = make_optimizer([torch.nn.Parameter(torch.zeros(3))], config, torch.device("cpu"))
    group = optimizer.param_groups[0]
    assert (group["lr"], group["betas"], group["weight_decay"]) == (3e-3, BETAS, 0.05)


@pytest.mark.parametrize("arch", ["gru", "bilstm"])
def test_measure_speed_counts_predicted_characters(arch: str) -> None:
    forget_bias = 1.0 if arch == "bilstm" else 0.0  # a GRU has no forget gate to set
    config = TrainConfig(
        arch=arch, embed=8, hidden=16, layers=1, batch_size=4, device="cpu", forget_bias=forget_bias
    )
    speed = measure_speed(config, vocab_size=60, seconds=0.0, max_steps=3)
    assert speed.steps == 2 and speed.device == "cpu"
    assert speed.chars_per_s > 0
    assert speed.params == sum(p.numel() for p in build_model(config.model_config(60)).parameters())
