"""No model may see the character it is asked to predict.

Causal models: logits[:, t−1] (the prediction of x_t) must not depend on x_≥t.
BiLSTM: logits[:, t] (the prediction of x_t) must not depend on x_t, nor on anything past the
row's length. Checked two ways on random untrained models: by changing inputs and comparing
outputs, and by gradients through the embeddings.
"""

from __future__ import annotations

import pytest
import torch

from tangstudio.engine.corpus.vocab import MASK, PAD
from tangstudio.engine.models import ModelConfig, build_model

torch.set_num_threads(1)
V, B, T = 40, 3, 8
FIRST_CHAR = 10
SEEDS = [0, 1, 2]
IMPLS = ["fused", "cells"]


def _model(arch: str, impl: str, seed: int, layers: int = 2):
    torch.manual_seed(seed)
    config = ModelConfig(arch=arch, vocab_size=V, embed=6, hidden=8, layers=layers, dropout=0.0, impl=impl)
    return build_model(config).eval()


def _tokens(generator: torch.Generator, shape=(B, T)) -> torch.Tensor:
    return torch.randint(FIRST_CHAR, V, shape, generator=generator)


def _embedding_grad(model, inputs, lengths, select):
    """Gradient of select(logits) with respect to the embedded inputs e[b, t, :]."""
    captured = {}

    def hook(_module, _args, output):
        output.retain_grad()
        captured["e"] = output

    handle = model.embedding.register_forward_hook(hook)
    try:
        logits = model(inputs, lengths)
        select(logits).sum().backward()
    finally:
        handle.remove()
    return captured["e"].grad


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_causal_prediction_of_x_t_ignores_x_t_and_after(arch: str, impl: str, seed: int) -> None:
    model = _model(arch, impl, seed)
    g = torch.Generator().manual_seed(seed)
    inputs = _tokens(g)
    with torch.no_grad():
        base = model(inputs)
        for t in range(1, T):
            changed = inputs.clone()
            changed[:, t:] = _tokens(g, (B, T - t))
            changed[:, t] = (inputs[:, t] - FIRST_CHAR + 1) % (
                V - FIRST_CHAR
            ) + FIRST_CHAR  # surely different
            out = model(changed)
            assert torch.allclose(out[:, :t], base[:, :t], atol=1e-6), (
                f"x_{t}.. leaked into earlier predictions"
            )
            assert not torch.allclose(out[:, t], base[:, t], atol=1e-6), "the change should matter after t"


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_causal_gradient_from_prediction_to_later_inputs_is_zero(arch: str, impl: str) -> None:
    model = _model(arch, impl, seed=7)
    inputs = _tokens(torch.Generator().manual_seed(7))
    t = T // 2
    grad = _embedding_grad(model, inputs, None, lambda logits: logits[:, t - 1])
    assert torch.count_nonzero(grad[:, t:]) == 0
    assert torch.count_nonzero(grad[:, t - 1]) > 0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("impl", IMPLS)
def test_bilstm_prediction_at_t_ignores_x_t(impl: str, seed: int) -> None:
    model = _model("bilstm", impl, seed)
    g = torch.Generator().manual_seed(seed)
    inputs = _tokens(g)
    lengths = torch.tensor([T, T - 3, 2])
    inputs[1, T - 3 :] = PAD
    inputs[2, 2:] = PAD
    with torch.no_grad():
        base = model(inputs, lengths)
        for t in range(T):
            for replacement in (MASK, None):
                changed = inputs.clone()
                if replacement is None:
                    changed[:, t] = (inputs[:, t] - FIRST_CHAR + 1) % (V - FIRST_CHAR) + FIRST_CHAR
                else:
                    changed[:, t] = replacement
                real = t < lengths  # rows where position t is a real character
                changed[~real, t] = PAD
                out = model(changed, lengths)
                assert torch.allclose(out[:, t], base[:, t], atol=1e-6), (
                    f"x_{t} leaked into its own prediction"
                )
                neighbours = [s for s in (t - 1, t + 1) if 0 <= s < T]
                assert any(not torch.allclose(out[real, s], base[real, s], atol=1e-6) for s in neighbours), (
                    "x_t should matter to its neighbours' predictions"
                )


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("impl", IMPLS)
def test_bilstm_ignores_everything_past_the_length(impl: str, seed: int) -> None:
    model = _model("bilstm", impl, seed)
    g = torch.Generator().manual_seed(seed)
    inputs = _tokens(g)
    lengths = torch.tensor([T, 5, 1])
    padded = inputs.clone()
    for row, n in enumerate(lengths.tolist()):
        padded[row, n:] = PAD
    with torch.no_grad():
        base = model(padded, lengths)
        garbage = model(inputs, lengths)  # real characters where padding should be
        inferred = model(padded)  # lengths read from the trailing <pad>s
        unpadded = model(inputs[1:2, :5])  # row 1 alone, no padding at all
    for row, n in enumerate(lengths.tolist()):
        assert torch.allclose(garbage[row, :n], base[row, :n], atol=1e-6)
        assert torch.allclose(inferred[row, :n], base[row, :n], atol=1e-6)
    assert torch.allclose(unpadded[0], base[1, :5], atol=1e-5)


@pytest.mark.parametrize("impl", IMPLS)
def test_bilstm_gradient_from_prediction_to_its_own_input_is_zero(impl: str) -> None:
    model = _model("bilstm", impl, seed=11)
    inputs = _tokens(torch.Generator().manual_seed(11))
    lengths = torch.tensor([T, 6, 4])
    for t in (0, 3, T - 1):
        model.zero_grad()
        real = (t < lengths).float()[:, None]  # logits past a row's end are unused garbage
        grad = _embedding_grad(model, inputs, lengths, lambda logits, t=t, real=real: logits[:, t] * real)
        assert torch.count_nonzero(grad[:, t]) == 0, f"d logits_{t} / d e_{t} must be zero"
        for row, n in enumerate(lengths.tolist()):
            assert torch.count_nonzero(grad[row, n:]) == 0, "padding must not reach any real prediction"
            others = [s for s in range(n) if s != t]
            if t < n and others:
                assert torch.count_nonzero(grad[row, others]) > 0


def test_a_single_bidirectional_lstm_would_leak() -> None:
    """Why bilstm.py runs two separate stacks: nn.LSTM(bidirectional=True, layers=2) lets layer 2
    see x_t through both directions at t, even with the shift. This shows the test catches it."""
    torch.manual_seed(0)
    emb = torch.nn.Embedding(V, 6)
    lstm = torch.nn.LSTM(6, 8, num_layers=2, bidirectional=True, batch_first=True)
    inputs = _tokens(torch.Generator().manual_seed(0))

    def naive(x):  # shift both directions by one, as a careless version would
        out, _ = lstm(emb(x))
        fwd, bwd = out[..., :8], out[..., 8:]
        zero = torch.zeros_like(fwd[:, :1])
        return torch.cat([torch.cat([zero, fwd[:, :-1]], 1), torch.cat([bwd[:, 1:], zero], 1)], -1)

    t = 3
    changed = inputs.clone()
    changed[:, t] = MASK
    with torch.no_grad():
        assert not torch.allclose(naive(inputs)[:, t], naive(changed)[:, t], atol=1e-6)
