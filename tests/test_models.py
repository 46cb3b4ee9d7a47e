"""The model registry and the interface the trainer and composer rely on."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from tangstudio.engine.corpus.vocab import MASK
from tangstudio.engine.errors import TangError
from tangstudio.engine.models import ARCHS, ModelConfig, build_model, convert_impl, count_parameters

torch.set_num_threads(1)
V, E, H, B, T = 30, 6, 8, 3, 7
CAUSAL = ["rnn", "lstm", "gru"]
IMPLS = ["fused", "cells"]
SPARE = V - 1  # an id the test inputs never contain


def _build(arch: str, impl: str = "fused", seed: int = 0, **kw):
    torch.manual_seed(seed)
    settings = dict(arch=arch, vocab_size=V, embed=E, hidden=H, layers=2, dropout=0.0, impl=impl) | kw
    return build_model(ModelConfig(**settings)).eval()


def _inputs(seed: int = 0) -> torch.Tensor:
    return torch.randint(5, SPARE, (B, T), generator=torch.Generator().manual_seed(seed))


# --- registry --------------------------------------------------------------------------------


def test_the_registry_lists_four_architectures_with_their_equations() -> None:
    assert list(ARCHS) == ["rnn", "lstm", "gru", "bilstm"]
    assert [ARCHS[a].causal for a in ARCHS] == [True, True, True, False]
    assert "S_t = f(X_t·U + S_{t−1}·W + b)" in ARCHS["rnn"].equations
    assert "C_t = f_t × C_{t−1} + i_t × C̃_t" in ARCHS["lstm"].equations
    assert "h_t = (1 − z_t) × h_{t−1} + z_t × h̃_t" in ARCHS["gru"].equations
    for name, info in ARCHS.items():
        assert info.name == name and info.title
        assert len(info.equations.splitlines()) >= 2
        assert info.when_to_pick and "\n" not in info.when_to_pick


def test_every_gate_equation_shows_its_bias() -> None:
    """The cells add a bias to every gate, and so do nn.LSTM and nn.GRU: the shown equations say so."""
    for arch, biases in (("lstm", ("b_f", "b_i", "b_C", "b_o")), ("gru", ("b_r", "b_z", "b_x", "b_h"))):
        for bias in biases:
            assert bias in ARCHS[arch].equations, (arch, bias)
    # The candidate as the code computes it (a student's review: the box showed the article's form)
    assert "h̃_t = tanh(W_x·x_t + b_x + r_t × (W_h·h_{t−1} + b_h))" in ARCHS["gru"].equations


def test_causality_and_names_are_asked_of_the_registry() -> None:
    from tangstudio.engine.models.archs import ARCH_NAMES, CAUSAL_ARCHS, is_causal, ppl_kind
    from tangstudio.engine.training.config import TrainConfig

    assert tuple(ARCHS) == ARCH_NAMES and CAUSAL_ARCHS == ("rnn", "lstm", "gru")
    assert [is_causal(a) for a in ARCH_NAMES] == [ARCHS[a].causal for a in ARCH_NAMES]
    assert [ppl_kind(a) for a in ARCH_NAMES] == ["causal", "causal", "causal", "pseudo"]
    assert [TrainConfig(arch=a).ppl_kind for a in ARCH_NAMES] == [ppl_kind(a) for a in ARCH_NAMES]
    assert is_causal("an-older-arch")  # a run of an unknown model is read as causal


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("arch", list(ARCHS))
def test_every_architecture_builds_and_scores_every_position(arch: str, impl: str) -> None:
    model = _build(arch, impl)
    assert model.config.arch == arch and model.config.impl == impl
    assert model.causal is ARCHS[arch].causal
    logits = model(_inputs(), torch.full((B,), T))
    assert logits.shape == (B, T, V)
    assert torch.isfinite(logits).all()
    assert count_parameters(model) > V * E + H * V  # at least the embedding and the head


def _lstm_layer(inp: int, hidden: int) -> int:
    return 4 * hidden * (inp + hidden) + 8 * hidden  # four gates; nn.LSTM keeps two biases


def test_parameter_count_matches_the_hand_formula() -> None:
    model = _build("lstm", embed=128, hidden=256, layers=2, vocab_size=5000)
    expected = 5000 * 128 + _lstm_layer(128, 256) + _lstm_layer(256, 256) + (256 * 5000 + 5000)
    assert count_parameters(model) == expected
    rnn_cells = _build("rnn", impl="cells")  # one bias per layer in the cells: S = tanh(XU + SW + b)
    assert count_parameters(rnn_cells) == V * E + (E * H + H * H + H) + (2 * H * H + H) + (H * V + V)


def test_a_bilstm_count_adds_up_by_part_as_a_student_adds_it_by_hand() -> None:
    """The Model pane's "= embedding + cells + …" line: a BiLSTM's edges and combine layer named,
    and every part matching its hand formula (two LSTM stacks, W of 2H × H plus b, V with its bias)."""
    from tangstudio.engine.models.registry import parameter_parts_of

    model = _build("bilstm", embed=16, hidden=32, layers=1, vocab_size=100)
    parts = parameter_parts_of(model)
    assert parts == {
        "embedding": 100 * 16,
        "cells": 2 * _lstm_layer(16, 32),
        "edges": 2 * 32,
        "combine": 2 * 32 * 32 + 32,
        "output": 32 * 100 + 100,
    }
    assert sum(parts.values()) == count_parameters(model)
    lstm = parameter_parts_of(_build("lstm", embed=16, hidden=32, layers=1, vocab_size=100))
    assert list(lstm) == ["embedding", "cells", "output"]


def test_parameter_counts_grow_as_expected_across_architectures() -> None:
    counts = {arch: count_parameters(_build(arch)) for arch in ARCHS}
    assert counts["rnn"] < counts["gru"] < counts["lstm"] < counts["bilstm"]
    assert count_parameters(_build("lstm", hidden=2 * H)) > counts["lstm"]


def test_unknown_architecture_is_a_one_line_error_listing_the_choices() -> None:
    with pytest.raises(TangError) as info:
        ModelConfig(arch="transformer", vocab_size=V)
    message = str(info.value)
    assert "transformer" in message and "\n" not in message
    assert all(name in message for name in ARCHS)
    config = ModelConfig(arch="lstm", vocab_size=V)
    config.arch = "gpt"  # changed after construction: build_model must still refuse it
    with pytest.raises(TangError, match="rnn, lstm, gru, bilstm"):
        build_model(config)


# --- config ----------------------------------------------------------------------------------


def test_config_round_trips_through_json() -> None:
    config = ModelConfig(
        arch="gru", vocab_size=1234, embed=64, hidden=96, layers=3, dropout=0.25, tied=True, impl="cells"
    )
    again = ModelConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert again == config
    assert again.to_dict() == config.to_dict()


@pytest.mark.parametrize(
    "change",
    [
        {"arch": "cnn"},
        {"impl": "slow"},
        {"hidden": "256"},
        {"hidden": 0},
        {"embed": 2.5},
        {"layers": True},
        {"layers": 1000},
        {"dropout": 1.0},
        {"dropout": -0.1},
        {"dropout": "0.1"},
        {"tied": "yes"},
        {"forget_bias": 11.0},
        {"forget_bias": True},
        {"vocab_size": 0},
        {"colour": "red"},
    ],
)
def test_bad_config_values_are_refused(change: dict) -> None:
    data = ModelConfig(arch="lstm", vocab_size=V).to_dict() | change
    with pytest.raises(TangError):
        ModelConfig.from_dict(data)


@pytest.mark.parametrize("data", [None, [], {"vocab_size": 10}, {"arch": "lstm"}])
def test_malformed_config_data_is_refused(data) -> None:
    with pytest.raises(TangError):
        ModelConfig.from_dict(data)


# --- incremental stepping ------------------------------------------------------------------


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("arch", CAUSAL)
def test_step_by_step_equals_forward_on_the_whole_sequence(arch: str, impl: str) -> None:
    model = _build(arch, impl, seed=1)
    inputs = _inputs(1)
    with torch.no_grad():
        full = model(inputs)
        state = model.init_state(B)
        for t in range(T):
            logits, state = model.step(inputs[:, t], state)
            assert logits.shape == (B, V)
            assert torch.allclose(logits, full[:, t], atol=1e-5), f"step {t} differs from forward"


@pytest.mark.parametrize("arch", CAUSAL)
def test_a_cloned_state_can_branch_without_disturbing_the_original(arch: str) -> None:
    model = _build(arch, seed=2)
    inputs = _inputs(2)
    with torch.no_grad():
        state = model.init_state(B)
        for t in range(3):
            _, state = model.step(inputs[:, t], state)
        saved = tuple(s.clone() for s in state) if isinstance(state, tuple) else state.clone()
        branch_logits, _ = model.step(inputs[:, 4], state)
        _, _ = model.step(inputs[:, 5], state)  # another branch from the same state
        again, _ = model.step(inputs[:, 4], saved)
    assert torch.allclose(branch_logits, again)
    full = model(torch.cat([inputs[:, :3], inputs[:, 4:5]], dim=1))
    assert torch.allclose(again, full[:, 3], atol=1e-5)


def test_init_state_has_the_layout_of_the_fused_modules() -> None:
    lstm, gru = _build("lstm"), _build("gru", impl="cells")
    h, c = lstm.init_state(5)
    assert h.shape == c.shape == (2, 5, H) and not h.any()
    assert gru.init_state(5, device="cpu").shape == (2, 5, H)


# --- bilstm ------------------------------------------------------------------------------------


def test_bilstm_fills_masks_and_cannot_step() -> None:
    model = _build("bilstm", seed=3)
    inputs = _inputs(3)
    inputs[:, 2] = MASK
    lengths = torch.tensor([T, T, 4])
    assert torch.equal(model.fill_logits(inputs, lengths), model(inputs, lengths))
    with pytest.raises(TangError):
        model.init_state(1)
    with pytest.raises(TangError):
        model.step(inputs[:, 0], None)


@pytest.mark.parametrize("tied", [False, True])
@pytest.mark.parametrize("arch", list(ARCHS))
def test_convert_impl_keeps_the_function(arch: str, tied: bool) -> None:
    """A trained fused model read through the cells (and back) predicts the same."""
    fused = _build(arch, "fused", seed=4, tied=tied)
    cells = convert_impl(fused, "cells")
    back = convert_impl(cells, "fused")
    assert cells.config.impl == "cells" and back.config.impl == "fused"
    assert not cells.training and not back.training
    inputs, lengths = _inputs(4), torch.tensor([T, 5, 2])
    with torch.no_grad():
        a, b, c = fused(inputs, lengths), cells(inputs, lengths), back(inputs, lengths)
        different = _build(arch, "cells", seed=5, tied=tied)(inputs, lengths)
    for row, n in enumerate(lengths.tolist()):
        assert torch.allclose(a[row, :n], b[row, :n], atol=1e-5)
        assert torch.allclose(a[row, :n], c[row, :n], atol=1e-5)
        assert not torch.allclose(a[row, :n], different[row, :n], atol=1e-3)


# --- tied embeddings, dropout, saving ------------------------------------------------------------


@pytest.mark.parametrize("arch", list(ARCHS))
@pytest.mark.parametrize("hidden", [E, 2 * E])
def test_tied_head_reads_the_embedding_matrix(arch: str, hidden: int) -> None:
    tied, untied = _build(arch, hidden=hidden, tied=True), _build(arch, hidden=hidden)
    assert count_parameters(tied) < count_parameters(untied)
    inputs = _inputs(5)
    before = tied(inputs)
    with torch.no_grad():
        tied.embedding.weight[SPARE] += 1.0  # never fed in, so only the head reads this row
    after = tied(inputs)
    assert torch.allclose(after[..., :SPARE], before[..., :SPARE])
    assert not torch.allclose(after[..., SPARE], before[..., SPARE])
    after[..., SPARE].sum().backward()
    assert tied.embedding.weight.grad[SPARE].abs().sum() > 0


@pytest.mark.parametrize("tied", [False, True])
def test_weights_save_to_safetensors_and_load_back(tmp_path, tied: bool) -> None:
    from safetensors.torch import load_file, save_file

    model = _build("lstm", tied=tied, seed=6)
    path = tmp_path / "weights.safetensors"
    save_file(model.state_dict(), str(path))  # refuses shared tensors: tying must not create any
    fresh = _build("lstm", tied=tied, seed=7)
    inputs = _inputs(6)
    assert not torch.allclose(fresh(inputs), model(inputs))
    fresh.load_state_dict(load_file(str(path)))
    assert torch.equal(fresh(inputs), model(inputs))


@pytest.mark.parametrize("arch", list(ARCHS))
def test_dropout_acts_only_in_training_mode(arch: str) -> None:
    model = _build(arch, dropout=0.5)
    inputs = _inputs(7)
    with torch.no_grad():
        assert torch.equal(model(inputs), model(inputs))
        model.train()
        assert not torch.equal(model(inputs), model(inputs))


# --- import cost ---------------------------------------------------------------------------------


def test_architecture_metadata_imports_without_torch() -> None:
    code = (
        "import sys\n"
        "import tangstudio.engine.models.archs, tangstudio.engine.models\n"
        "from tangstudio.engine.models import ARCHS, ModelConfig\n"
        "ModelConfig(arch='gru', vocab_size=10).to_dict()\n"
        "print(len(ARCHS), 'torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["4", "False"]


def test_every_architectures_equations_fit_the_model_panes_box_at_80_columns() -> None:
    """The Model pane's equations box is 76 cells wide inside at 80 columns: longer lines wrapped
    mid-phrase ("…as the code │ and PyTorch compute │ it", a TUI review)."""
    from rich.cells import cell_len

    from tangstudio.engine.models.archs import ARCHS

    for name, info in ARCHS.items():
        for line in info.equations.splitlines():
            assert cell_len(line) <= 76, (name, line)
