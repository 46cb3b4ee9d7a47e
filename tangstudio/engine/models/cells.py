"""The teaching path: each recurrent cell written line by line from the seed article's equations.

PyTorch's fused nn.RNN / nn.LSTM / nn.GRU compute the same functions much faster; these cells
exist so the math can be read (and shown in the studio) and checked: `copy_fused_to_cells` and
`copy_cells_to_fused` move weights between the two, and tests/test_cells.py shows both give the
same outputs to 1e-5. The tensors are row-major (a batch of row vectors), so the article's
`W·[h, x]` is `nn.Linear` applied to `[h, x]`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from tangstudio.engine.models.archs import pairs_state

State = Tensor | tuple[Tensor, Tensor]


@torch.no_grad()
def _init_like_fused(module: nn.Module, hidden_size: int) -> None:
    """Every weight and bias uniform in ±1/√hidden, as nn.LSTM and nn.GRU start.

    nn.Linear would use ±1/√fan_in, and a gate's fan-in here is hidden + input, so without this the
    cells would start from smaller weights than the fused path they are compared with.
    """
    bound = hidden_size**-0.5
    for parameter in module.parameters():
        parameter.uniform_(-bound, bound)


class RNNCell(nn.Module):
    """The vanilla cell (the article's BasicRNNCell):

        S_t = tanh(X_t·U + S_{t−1}·W + b)
            = tanh([X_t, S_{t−1}]·[U; W] + b)

    U (m×n) carries the input into the hidden state, W (n×n) carries the previous hidden state
    forward. Stacking U over W gives one (m+n)×n matrix, and putting X_t (BS×m) beside S_{t−1}
    (BS×n) gives a BS×(m+n) matrix, so a single product does both: the article's concatenation
    view, which is literally what `forward` computes.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        bound = hidden_size**-0.5  # nn.RNN's initialisation, so both paths start alike
        self.U = nn.Parameter(torch.empty(input_size, hidden_size).uniform_(-bound, bound))
        self.W = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-bound, bound))
        self.b = nn.Parameter(torch.empty(hidden_size).uniform_(-bound, bound))

    def forward(self, x: Tensor, s_prev: Tensor) -> Tensor:
        xs = torch.cat([x, s_prev], dim=-1)  # [X_t, S_{t−1}]   BS × (m+n)
        UW = torch.cat([self.U, self.W], dim=0)  # [U; W]            (m+n) × n
        return torch.tanh(xs @ UW + self.b)  # S_t


class LSTMCell(nn.Module):
    """The LSTM cell, with its forget, input and output gates:

        f_t = σ(W_f·[h_{t−1}, x_t] + b_f)       forget gate: how much of C_{t−1} to keep
        i_t = σ(W_i·[h_{t−1}, x_t] + b_i)       input gate: how much of the candidate to write
        C̃_t = tanh(W_C·[h_{t−1}, x_t] + b_C)    candidate cell content
        C_t = f_t × C_{t−1} + i_t × C̃_t         the cell state: an additive path through time,
                                                 along which a gradient falls by f_t a step: far
                                                 only where f stays near 1 (docs/study.md, b_f = 2)
        o_t = σ(W_o·[h_{t−1}, x_t] + b_o)       output gate
        h_t = o_t × tanh(C_t)

    The state is the pair (h, C).
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        n = hidden_size + input_size  # [h_{t−1}, x_t]
        self.W_f = nn.Linear(n, hidden_size)
        self.W_i = nn.Linear(n, hidden_size)
        self.W_C = nn.Linear(n, hidden_size)
        self.W_o = nn.Linear(n, hidden_size)
        _init_like_fused(self, hidden_size)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        h_prev, C_prev = state
        hx = torch.cat([h_prev, x], dim=-1)  # [h_{t−1}, x_t]
        f = torch.sigmoid(self.W_f(hx))
        i = torch.sigmoid(self.W_i(hx))
        C_tilde = torch.tanh(self.W_C(hx))
        C = f * C_prev + i * C_tilde
        o = torch.sigmoid(self.W_o(hx))
        h = o * torch.tanh(C)
        return h, C


class GRUCell(nn.Module):
    """The GRU cell (Cho et al., 2014), with reset gate r and update gate z:

        r_t = σ(W_r·[h_{t−1}, x_t] + b_r)
        z_t = σ(W_z·[h_{t−1}, x_t] + b_z)
        h̃_t = tanh(W_x·x_t + b_x + r_t × (W_h·h_{t−1} + b_h))
        h_t = (1 − z_t) × h_{t−1} + z_t × h̃_t     z_t near 1: replace the old state

    Two mappings to PyTorch's nn.GRU, both exact, so weights load either way:

    * The article (after Olah) writes h̃_t = tanh(W·[r_t × h_{t−1}, x_t]): the reset gate scales
      h_{t−1} before the product. PyTorch and cuDNN scale the product W_h·h_{t−1} instead (the
      line above); we follow them so a trained fused model can be read through these cells.
    * PyTorch writes h_t = (1 − z')·n + z'·h_{t−1}: its z' is the article's 1 − z_t. Because
      1 − σ(a) = σ(−a), copying negates the update gate's weights and bias.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        n = hidden_size + input_size  # [h_{t−1}, x_t]
        self.W_r = nn.Linear(n, hidden_size)
        self.W_z = nn.Linear(n, hidden_size)
        self.W_x = nn.Linear(input_size, hidden_size)  # the candidate's input part
        self.W_h = nn.Linear(hidden_size, hidden_size)  # the candidate's recurrent part, reset by r_t
        _init_like_fused(self, hidden_size)

    def forward(self, x: Tensor, h_prev: Tensor) -> Tensor:
        hx = torch.cat([h_prev, x], dim=-1)  # [h_{t−1}, x_t]
        r = torch.sigmoid(self.W_r(hx))
        z = torch.sigmoid(self.W_z(hx))
        h_tilde = torch.tanh(self.W_x(x) + r * self.W_h(h_prev))
        return (1 - z) * h_prev + z * h_tilde


CELLS: dict[str, type[nn.Module]] = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}


class CellStack(nn.Module):
    """Cells stacked into layers and unrolled over time: a drop-in for nn.RNN/LSTM/GRU.

    Same call and layout as the fused modules with batch_first=True: `forward(x[B,T,I], state)`
    returns (outputs[B,T,H], state) where state is [layers,B,H], or a pair of them for the LSTM.
    Dropout is applied between layers (not after the last), as the fused modules do.

    `lengths` (optional, [B]) plays the part of pack_padded_sequence: past a row's length its
    state stops changing and its outputs are zero, so padding never reaches the final state.
    """

    def __init__(
        self, kind: str, input_size: int, hidden_size: int, layers: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.kind = kind
        self.paired = pairs_state(kind)  # the LSTM's (h, c) state rather than h alone
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.cells = nn.ModuleList(
            CELLS[kind](input_size if i == 0 else hidden_size, hidden_size) for i in range(layers)
        )
        self.dropout = nn.Dropout(dropout)

    def init_state(
        self, batch_size: int, device: torch.device | None = None, dtype: torch.dtype | None = None
    ) -> State:
        zeros = torch.zeros(len(self.cells), batch_size, self.hidden_size, device=device, dtype=dtype)
        return (zeros, zeros.clone()) if self.paired else zeros

    def forward(
        self, x: Tensor, state: State | None = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, State]:
        B, T, _ = x.shape
        if state is None:
            state = self.init_state(B, x.device, x.dtype)
        per_layer: list[State] = [
            (state[0][i], state[1][i]) if self.paired else state[i] for i in range(len(self.cells))
        ]
        alive = (
            None
            if lengths is None
            else torch.arange(T, device=x.device)[None, :] < lengths.to(x.device)[:, None]
        )
        outputs = []
        for t in range(T):
            inp = x[:, t]
            for i, cell in enumerate(self.cells):
                if i > 0:
                    inp = self.dropout(inp)
                new = cell(inp, per_layer[i])
                if alive is not None:  # rows already past their end keep their state
                    new = _keep_where(alive[:, t], new, per_layer[i])
                per_layer[i] = new
                inp = new[0] if self.paired else new
            outputs.append(inp if alive is None else inp * alive[:, t, None].to(inp.dtype))
        out = torch.stack(outputs, dim=1)
        if self.paired:
            pairs = [s for s in per_layer if isinstance(s, tuple)]
            return out, (torch.stack([h for h, _ in pairs]), torch.stack([c for _, c in pairs]))
        return out, torch.stack([s for s in per_layer if isinstance(s, Tensor)])


def _keep_where(alive: Tensor, new: State, old: State) -> State:
    mask = alive[:, None]
    if isinstance(new, tuple) and isinstance(old, tuple):
        return torch.where(mask, new[0], old[0]), torch.where(mask, new[1], old[1])
    assert isinstance(new, Tensor) and isinstance(old, Tensor)
    return torch.where(mask, new, old)


# --- moving weights between the fused modules and the cells -------------------------------------

_FUSED_MODE = {"rnn": "RNN_TANH", "lstm": "LSTM", "gru": "GRU"}


def _check_pair(fused: nn.RNNBase, stack: CellStack) -> None:
    ok = (
        fused.mode == _FUSED_MODE[stack.kind]
        and fused.num_layers == len(stack.cells)
        and fused.hidden_size == stack.hidden_size
        and fused.input_size == stack.input_size
        and fused.bias
        and not fused.bidirectional
        and getattr(fused, "proj_size", 0) == 0
    )
    if not ok:
        raise ValueError(f"fused {fused} and the {stack.kind} cells do not have the same shape")


def _fused_layer(fused: nn.RNNBase, layer: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    return tuple(
        getattr(fused, f"{name}_l{layer}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )


@torch.no_grad()
def copy_fused_to_cells(fused: nn.RNNBase, stack: CellStack) -> None:
    """Load a fused nn.RNN/LSTM/GRU's weights into the cells; afterwards both compute the same."""
    _check_pair(fused, stack)
    for layer, cell in enumerate(stack.cells):
        w_ih, w_hh, b_ih, b_hh = _fused_layer(fused, layer)
        if isinstance(cell, RNNCell):  # h = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh)
            cell.U.copy_(w_ih.T)
            cell.W.copy_(w_hh.T)
            cell.b.copy_(b_ih + b_hh)
        elif isinstance(cell, LSTMCell):  # PyTorch stacks the gates as i, f, g (= C̃), o
            for linear, wx, wh, bx, bh in zip(
                (cell.W_i, cell.W_f, cell.W_C, cell.W_o),
                w_ih.chunk(4),
                w_hh.chunk(4),
                b_ih.chunk(4),
                b_hh.chunk(4),
            ):
                linear.weight.copy_(torch.cat([wh, wx], dim=1))
                linear.bias.copy_(bx + bh)
        else:  # GRU: PyTorch stacks r, z', n, with z' = 1 − z
            assert isinstance(cell, GRUCell)
            (wr, wz, wn), (hr, hz, hn) = w_ih.chunk(3), w_hh.chunk(3)
            (br, bz, bn), (cr, cz, cn) = b_ih.chunk(3), b_hh.chunk(3)
            cell.W_r.weight.copy_(torch.cat([hr, wr], dim=1))
            cell.W_r.bias.copy_(br + cr)
            cell.W_z.weight.copy_(-torch.cat([hz, wz], dim=1))
            cell.W_z.bias.copy_(-(bz + cz))
            cell.W_x.weight.copy_(wn)
            cell.W_x.bias.copy_(bn)
            cell.W_h.weight.copy_(hn)
            cell.W_h.bias.copy_(cn)


@torch.no_grad()
def copy_cells_to_fused(stack: CellStack, fused: nn.RNNBase) -> None:
    """The reverse of `copy_fused_to_cells`; a single cell bias goes to bias_ih, bias_hh gets 0."""
    _check_pair(fused, stack)
    for layer, cell in enumerate(stack.cells):
        w_ih, w_hh, b_ih, b_hh = _fused_layer(fused, layer)
        b_hh.zero_()
        if isinstance(cell, RNNCell):
            w_ih.copy_(cell.U.T)
            w_hh.copy_(cell.W.T)
            b_ih.copy_(cell.b)
        elif isinstance(cell, LSTMCell):
            H = stack.hidden_size
            for k, linear in enumerate((cell.W_i, cell.W_f, cell.W_C, cell.W_o)):
                rows = slice(k * H, (k + 1) * H)
                w_hh[rows].copy_(linear.weight[:, :H])
                w_ih[rows].copy_(linear.weight[:, H:])
                b_ih[rows].copy_(linear.bias)
        else:
            assert isinstance(cell, GRUCell)
            H = stack.hidden_size
            r, z, n = slice(0, H), slice(H, 2 * H), slice(2 * H, 3 * H)
            w_hh[r].copy_(cell.W_r.weight[:, :H])
            w_ih[r].copy_(cell.W_r.weight[:, H:])
            b_ih[r].copy_(cell.W_r.bias)
            w_hh[z].copy_(-cell.W_z.weight[:, :H])
            w_ih[z].copy_(-cell.W_z.weight[:, H:])
            b_ih[z].copy_(-cell.W_z.bias)
            w_ih[n].copy_(cell.W_x.weight)
            b_ih[n].copy_(cell.W_x.bias)
            w_hh[n].copy_(cell.W_h.weight)
            b_hh[n].copy_(cell.W_h.bias)
