"""Vanishing gradients, measured: ‖∂L_T/∂h_t‖ for every step t of a sequence read to step T.

The seed's argument (§2) is that in a vanilla RNN the loss at the end of a long chain barely
reaches the early states, while the LSTM's additive cell path C_t = f·C_{t−1} + i·C̃ lets it
through. `hidden_grad_norms` unrolls any step function one step at a time, keeps each h_t, and
asks autograd for ∂L/∂h_t: the total derivative through every later step, which is the quantity
the argument is about. `cell_grad_norms` runs it through the readable cells of
engine/models/cells.py (a fused model is copied onto them first), so what is drawn is the seed's
own equations, not an opaque kernel.

The loss is summed over the batch, so row i of ∂L/∂h_t is ∂L_i/∂h_{t,i} (h_{t,i} reaches only
L_i); the norm is taken per sequence and averaged over the batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from tangstudio.engine.errors import TangError
from tangstudio.engine.lab.models import SequenceClassifier, to_cells
from tangstudio.engine.models.archs import pairs_state

State = Any  # a Tensor [B, H], or (h, C) for the LSTM


def hidden_grad_norms(
    step: Callable[[Tensor, State], State],
    state0: State,
    xs: Tensor,
    loss_of_last: Callable[[Tensor], Tensor],
    hidden_of: Callable[[State], Tensor] = lambda s: s,
) -> list[float]:
    """norms[t] = mean over the batch of ‖∂L/∂h_t‖, t = 0 … T−1, where L = loss_of_last(h_{T−1}).

    `step(x_t, state) -> state` is one recurrent update; `hidden_of(state)` picks h_t from it.
    """
    # The start state takes part in the graph, so every h_t is differentiable even with no weights.
    state = (
        tuple(s.detach().clone().requires_grad_(True) for s in state0)
        if isinstance(state0, tuple)
        else (state0.detach().clone().requires_grad_(True))
    )
    hiddens: list[Tensor] = []
    for t in range(xs.shape[1]):
        state = step(xs[:, t], state)
        h = hidden_of(state)
        h.retain_grad()
        hiddens.append(h)
    loss = loss_of_last(hiddens[-1])
    loss.backward()
    norms = []
    for h in hiddens:
        grad = h.grad if h.grad is not None else torch.zeros_like(h)
        norms.append(float(grad.norm(dim=-1).mean()))
    return norms


def cell_grad_norms(model: SequenceClassifier, x: Tensor, y: Tensor) -> list[float]:
    """‖∂L_T/∂h_t‖ for t = 0 … T−1 of a one-layer, one-directional classifier, through its cells."""
    if model.config.bidirectional or model.config.layers != 1:
        raise TangError("gradient norms are drawn for one-layer rnn, lstm or gru classifiers")
    cells = to_cells(model)
    cells.train()
    cell: Any = cells.rnn.cells[0]  # type: ignore[index]
    batch, hidden = x.shape[0], model.config.hidden
    zeros = torch.zeros(batch, hidden)
    lstm = pairs_state(model.config.kind)
    state0: State = (zeros, zeros.clone()) if lstm else zeros

    def loss_of_last(h: Tensor) -> Tensor:
        return F.cross_entropy(cells.head(h), y, reduction="sum")

    return hidden_grad_norms(
        lambda x_t, s: cell(x_t, s),
        state0,
        x,
        loss_of_last,
        (lambda s: s[0]) if lstm else (lambda s: s),
    )
