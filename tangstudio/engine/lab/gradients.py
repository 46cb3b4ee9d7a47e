"""Vanishing gradients, measured: ‖∂L_T/∂h_t‖ for every step t of a sequence read to step T.

The seed's argument (§2) is that in a vanilla RNN the loss at the end of a long chain barely
reaches the early states, while the LSTM's additive cell path C_t = f·C_{t−1} + i·C̃ lets it
through. `state_grad_norms` unrolls any step function one step at a time, keeps each state, and
asks autograd for ∂L/∂h_t: the total derivative through every later step, which is the quantity
the argument is about. For the LSTM it also keeps ∂L/∂C_t, the gradient on the cell state itself,
whose step back is f_t plus the terms through h and the gates. Measured (docs/study.md), it falls
with distance at the same rate as ∂L/∂h_t (the two paths are coupled), and the forget gate sets
that rate: the seed's point, made quantitative. `cell_grad_norms` runs it through the readable
cells of engine/models/cells.py (a fused model is copied onto them first), so what is drawn is
the seed's own equations, not an opaque kernel.

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


def state_grad_norms(
    step: Callable[[Tensor, State], State],
    state0: State,
    xs: Tensor,
    loss_of_last: Callable[[Tensor], Tensor],
    parts: dict[str, Callable[[State], Tensor]],
    hidden: str = "h",
) -> dict[str, list[float]]:
    """norms[part][t] = mean over the batch of ‖∂L/∂part_t‖, t = 0 … T−1, L = loss_of_last(h_{T−1}).

    `step(x_t, state) -> state` is one recurrent update; each of `parts` picks a tensor from a state
    (`hidden` names the one the loss reads).
    """
    # The start state takes part in the graph, so every state is differentiable even with no weights.
    state = (
        tuple(s.detach().clone().requires_grad_(True) for s in state0)
        if isinstance(state0, tuple)
        else (state0.detach().clone().requires_grad_(True))
    )
    kept: dict[str, list[Tensor]] = {name: [] for name in parts}
    for t in range(xs.shape[1]):
        state = step(xs[:, t], state)
        for name, pick in parts.items():
            tensor = pick(state)
            tensor.retain_grad()
            kept[name].append(tensor)
    loss = loss_of_last(kept[hidden][-1])
    loss.backward()
    # The norm in float64: 99 steps back an RNN's gradient entries are about 1e-24, whose squares
    # underflow float32, so a float32 norm said 0 where every entry was nonzero (a student's review).
    return {
        name: [
            float((t.grad if t.grad is not None else torch.zeros_like(t)).double().norm(dim=-1).mean())
            for t in tensors
        ]
        for name, tensors in kept.items()
    }


def hidden_grad_norms(
    step: Callable[[Tensor, State], State],
    state0: State,
    xs: Tensor,
    loss_of_last: Callable[[Tensor], Tensor],
    hidden_of: Callable[[State], Tensor] = lambda s: s,
) -> list[float]:
    """norms[t] = mean over the batch of ‖∂L/∂h_t‖, t = 0 … T−1, where L = loss_of_last(h_{T−1})."""
    return state_grad_norms(step, state0, xs, loss_of_last, {"h": hidden_of})["h"]


def cell_grad_norms(model: SequenceClassifier, x: Tensor, y: Tensor) -> dict[str, list[float]]:
    """{"h": ‖∂L_T/∂h_t‖ for t = 0 … T−1} of a one-layer, one-directional classifier, through its
    cells, and for an LSTM "C": ‖∂L_T/∂C_t‖ on its cell path."""
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

    parts: dict[str, Callable[[State], Tensor]] = (
        {"h": lambda s: s[0], "C": lambda s: s[1]} if lstm else {"h": lambda s: s}
    )
    return state_grad_norms(lambda x_t, s: cell(x_t, s), state0, x, loss_of_last, parts)
