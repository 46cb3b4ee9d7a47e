"""Slow commands (issue 25, item 18): the cheaper ways give the same answers as the ones they replace.

Speed itself is measured in benchmarks/bench_slow_commands.py (ratios against the old way in the
same run), never asserted here.
"""

from __future__ import annotations

import pytest
import torch

from tangstudio.engine.models import build_model, count_parameters
from tangstudio.engine.models.config import ModelConfig
from tangstudio.engine.models.shapes import parameter_count
from tangstudio.engine.models.units import auc, column_ranks


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("tied, embed", [(False, 16), (True, 24), (True, 16)])
def test_parameter_count_from_shapes_is_the_built_models(
    arch: str, layers: int, tied: bool, embed: int
) -> None:
    config = ModelConfig(arch, 57, embed=embed, hidden=24, layers=layers, tied=tied)
    assert parameter_count(config) == count_parameters(build_model(config))


@pytest.mark.parametrize(
    "config", [ModelConfig("bilstm", 57, embed=16, hidden=24), ModelConfig("lstm", 57, impl="cells")]
)
def test_models_without_known_shapes_are_left_to_torch(config: ModelConfig) -> None:
    assert parameter_count(config) is None


def test_column_ranks_are_each_columns_ranks() -> None:
    torch.manual_seed(0)
    x = torch.randn(300, 7)
    ranks = column_ranks(x)
    for j in range(x.shape[1]):
        order = sorted(range(x.shape[0]), key=lambda i: float(x[i, j]))
        expected = torch.empty(x.shape[0], dtype=torch.long)
        expected[torch.tensor(order)] = torch.arange(1, x.shape[0] + 1)
        assert torch.equal(ranks[:, j], expected)
    y = (x[:, 3] > 0).float()  # column 3 separates y perfectly
    assert float(auc(ranks, y)[3]) == pytest.approx(1.0)
