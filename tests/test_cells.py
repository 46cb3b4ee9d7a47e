"""The readable cells compute exactly what PyTorch's fused modules compute, given the same weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tangstudio.engine.models.cells import (
    CellStack,
    GRUCell,
    LSTMCell,
    RNNCell,
    copy_cells_to_fused,
    copy_fused_to_cells,
)
from tangstudio.engine.models.layers import FUSED

torch.set_num_threads(1)
KINDS = ["rnn", "lstm", "gru"]
I, H, L, B, T = 5, 7, 2, 4, 9  # noqa: E741  (the sizes named as in the equations)


def _states_close(a, b, atol=1e-5) -> bool:
    if isinstance(a, tuple):
        return all(torch.allclose(x, y, atol=atol) for x, y in zip(a, b, strict=True))
    return torch.allclose(a, b, atol=atol)


def _random_state(kind: str, generator: torch.Generator):
    h = torch.randn(L, B, H, generator=generator)
    return (h, torch.randn(L, B, H, generator=generator)) if kind == "lstm" else h


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kind", KINDS)
def test_fused_weights_in_cells_give_the_same_outputs_and_states(kind: str, seed: int) -> None:
    torch.manual_seed(seed)
    fused = FUSED[kind](I, H, num_layers=L, batch_first=True).eval()
    cells = CellStack(kind, I, H, L).eval()
    g = torch.Generator().manual_seed(100 + seed)
    x = torch.randn(B, T, I, generator=g)
    state = _random_state(kind, g)

    out_f, state_f = fused(x, state)
    out_c, state_c = cells(x, state)
    assert not torch.allclose(out_f, out_c, atol=1e-3), "before copying, different weights should disagree"

    copy_fused_to_cells(fused, cells)
    out_c, state_c = cells(x, state)
    assert torch.allclose(out_f, out_c, atol=1e-5)
    assert _states_close(state_f, state_c)


@pytest.mark.parametrize("kind", KINDS)
def test_cell_weights_in_fused_give_the_same_outputs(kind: str) -> None:
    torch.manual_seed(3)
    cells = CellStack(kind, I, H, L).eval()
    fused = FUSED[kind](I, H, num_layers=L, batch_first=True).eval()
    x = torch.randn(B, T, I)
    copy_cells_to_fused(cells, fused)
    out_c, state_c = cells(x)
    out_f, state_f = fused(x)
    assert torch.allclose(out_f, out_c, atol=1e-5)
    assert _states_close(state_f, state_c)


@pytest.mark.parametrize("kind", KINDS)
def test_lengths_in_cells_match_a_packed_fused_run(kind: str) -> None:
    """Masking in the cells is what pack_padded_sequence does: final states stop at each row's end."""
    torch.manual_seed(4)
    fused = FUSED[kind](I, H, num_layers=L, batch_first=True).eval()
    cells = CellStack(kind, I, H, L).eval()
    copy_fused_to_cells(fused, cells)
    x = torch.randn(B, T, I)
    lengths = torch.tensor([T, 3, 1, 6])
    packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out_p, state_f = fused(packed)
    out_f = nn.utils.rnn.pad_packed_sequence(out_p, batch_first=True, total_length=T)[0]
    out_c, state_c = cells(x, lengths=lengths)
    assert torch.allclose(out_f, out_c, atol=1e-5)
    assert _states_close(state_f, state_c)


def test_rnn_cell_is_the_concatenation_view_of_the_article() -> None:
    """S_t = tanh(X_t·U + S_{t−1}·W + b) computed the long way equals the [X, S]·[U; W] product."""
    torch.manual_seed(5)
    cell = RNNCell(I, H)
    x, s = torch.randn(B, I), torch.randn(B, H)
    expected = torch.tanh(x @ cell.U + s @ cell.W + cell.b)
    assert torch.allclose(cell(x, s), expected, atol=1e-6)


def test_lstm_cell_follows_the_gate_equations() -> None:
    """A hand-written LSTM step on the cell's own weights gives the cell's answer."""
    torch.manual_seed(6)
    cell = LSTMCell(I, H)
    x, h, c = torch.randn(B, I), torch.randn(B, H), torch.randn(B, H)
    hx = torch.cat([h, x], dim=-1)

    def gate(linear):
        return hx @ linear.weight.T + linear.bias

    f, i, o = torch.sigmoid(gate(cell.W_f)), torch.sigmoid(gate(cell.W_i)), torch.sigmoid(gate(cell.W_o))
    c_new = f * c + i * torch.tanh(gate(cell.W_C))
    h_new, c_out = cell(x, (h, c))
    assert torch.allclose(c_out, c_new, atol=1e-6)
    assert torch.allclose(h_new, o * torch.tanh(c_new), atol=1e-6)


def test_gru_update_gate_near_one_replaces_the_old_state() -> None:
    """The article's reading of z_t: z_t → 1 gives h_t = h̃_t, z_t → 0 keeps h_{t−1}."""
    cell = GRUCell(I, H)
    x, h = torch.randn(B, I), torch.randn(B, H)
    with torch.no_grad():
        cell.W_z.weight.zero_()
        cell.W_z.bias.fill_(-50.0)  # z ≈ 0
    assert torch.allclose(cell(x, h), h, atol=1e-6)
    with torch.no_grad():
        cell.W_z.bias.fill_(50.0)  # z ≈ 1
        r = torch.sigmoid(cell.W_r(torch.cat([h, x], dim=-1)))
        h_tilde = torch.tanh(cell.W_x(x) + r * cell.W_h(h))
    assert torch.allclose(cell(x, h), h_tilde, atol=1e-6)


def test_copy_refuses_mismatched_shapes() -> None:
    with pytest.raises(ValueError):
        copy_fused_to_cells(nn.LSTM(I, H, num_layers=L, batch_first=True), CellStack("gru", I, H, L))
    with pytest.raises(ValueError):
        copy_fused_to_cells(nn.LSTM(I, H + 1, num_layers=L, batch_first=True), CellStack("lstm", I, H, L))


def _forget_biases(stack) -> list[torch.Tensor]:
    """The forget gate's total bias per layer, whichever path the stack is."""
    if isinstance(stack, CellStack):
        return [cell.W_f.bias for cell in stack.cells]
    return [(getattr(stack, f"bias_ih_l{k}") + getattr(stack, f"bias_hh_l{k}"))[H : 2 * H] for k in range(L)]


@pytest.mark.parametrize("impl", ["fused", "cells"])
def test_forget_bias_starts_every_layer_forget_gate_where_asked(impl: str) -> None:
    from tangstudio.engine.models.layers import make_recurrent

    torch.manual_seed(0)
    plain = make_recurrent("lstm", I, H, L, 0.0, impl)
    assert not any(torch.allclose(b, torch.ones(H)) for b in _forget_biases(plain))  # PyTorch's random init
    torch.manual_seed(0)
    remedied = make_recurrent("lstm", I, H, L, 0.0, impl, forget_bias=1.0)
    assert all(torch.allclose(b, torch.ones(H)) for b in _forget_biases(remedied))
    for (name, a), (_, b) in zip(plain.named_parameters(), remedied.named_parameters()):
        if "weight" in name:  # only the forget gate's bias moved
            assert torch.equal(a, b), name

    if impl == "fused":  # the cells read the remedied fused weights exactly
        cells = CellStack("lstm", I, H, L)
        copy_fused_to_cells(remedied, cells)
        assert all(torch.allclose(b, torch.ones(H)) for b in _forget_biases(cells))
        x = torch.randn(B, T, I)
        assert torch.allclose(remedied(x)[0], cells(x)[0], atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_cells_start_from_the_fused_modules_initialisation(kind: str) -> None:
    """Both paths draw every parameter from U(±1/√hidden): the same bound, whatever the input size."""
    hidden, inputs = 64, 96  # nn.Linear's own bound would be 1/√(64 + 96) ≈ 0.079, not 0.125
    torch.manual_seed(0)
    stack = CellStack(kind, inputs, hidden, layers=2)
    fused = FUSED[kind](inputs, hidden, num_layers=2, batch_first=True)
    bound = hidden**-0.5
    for path in (stack, fused):
        for name, parameter in path.named_parameters():
            largest = parameter.detach().abs().max().item()
            assert largest <= bound, name
            assert largest > 0.9 * bound, f"{name} starts from a smaller bound than the fused modules"
