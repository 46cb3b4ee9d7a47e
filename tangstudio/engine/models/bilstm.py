"""A bidirectional LSTM that fills in characters from both sides without ever seeing them.

    →h_t = LSTM(x_t, →h_{t−1})      forward stack, reads x_0 … x_t
    ←h_t = LSTM(x_t, ←h_{t+1})      backward stack, reads x_t … x_{n−1}
    P(x_t | x_{<t}, x_{>t}) = softmax(V·tanh(W·[→h_{t−1}, ←h_{t+1}] + b))

The two directions are separate stacks (not nn.LSTM(bidirectional=True)): in a stacked
bidirectional LSTM the second layer reads both directions' first-layer outputs at t, which
have both seen x_t, so the model could copy its answer. Here each direction is deep on its
own, and the prediction at t uses the forward state one step to the left and the backward
state one step to the right; at the poem's two ends, learned edge vectors stand in.

The inputs may hold <mask> at any position: a poem with holes to fill, or a prefix followed by
masks to extend it to the right. Trained with random masking, its loss is a pseudo-likelihood
(each character given the others), which is not comparable to a causal model's perplexity.
"""

from __future__ import annotations

from typing import NoReturn, cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tangstudio.engine.corpus.vocab import PAD
from tangstudio.engine.errors import TangError
from tangstudio.engine.models.config import ModelConfig
from tangstudio.engine.models.layers import (
    HeadInputs,
    OutputHead,
    fp32_recurrence,
    make_embedding,
    make_recurrent,
)


class BiLSTMCharLM(nn.Module):
    """Fill-in model: logits[:, t] scores the character AT t from everything but x_t."""

    causal = False

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        if config.arch != "bilstm":
            raise ValueError(f"BiLSTMCharLM cannot build {config.arch}")
        self.config = config
        E, H = config.embed, config.hidden
        self.embedding = make_embedding(config.vocab_size, E, PAD)
        self.forward_lstm = make_recurrent(
            "lstm", E, H, config.layers, config.dropout, config.impl, config.forget_bias
        )
        self.backward_lstm = make_recurrent(
            "lstm", E, H, config.layers, config.dropout, config.impl, config.forget_bias
        )
        self.left_edge = nn.Parameter(torch.zeros(H))  # →h_{−1}: nothing read yet on the left
        self.right_edge = nn.Parameter(torch.zeros(H))  # ←h_n: nothing read yet on the right
        self.combine = nn.Linear(2 * H, H)  # W, b
        self.head = OutputHead(H, config.vocab_size, E, config.tied, config.dropout)  # V

    def forward(
        self, inputs: Tensor, lengths: Tensor | None = None, features: bool = False
    ) -> Tensor | HeadInputs:
        """logits[:, t] scores x_t given inputs[:, <t] and inputs[:, >t] up to the row's length.

        Without `lengths`, each row ends at its last non-<pad> token.
        """
        B, T = inputs.shape
        lengths = _row_lengths(inputs) if lengths is None else _checked(lengths, B, T, inputs.device)
        x = self.embedding(inputs)

        with fp32_recurrence(x.device):
            # Forward direction: position t has read x_0 … x_t. Padding lies to the right, so it
            # only reaches positions past the end, whose logits nobody uses.
            fwd, _ = self.forward_lstm(x.float())
            # Backward direction: reverse each row within its length (the padding stays at the
            # end), read left to right, and reverse back: position t has read x_t … x_{n−1}, so
            # each row starts at its own real end and padding never reaches a real position.
            # (No pack_padded_sequence needed: we never use the final state.)
            bwd = _reverse_rows(self.backward_lstm(_reverse_rows(x.float(), lengths))[0], lengths)

        left = torch.cat([self.left_edge.expand(B, 1, -1).to(fwd.dtype), fwd[:, :-1]], dim=1)  # →h_{t−1}
        right = torch.cat([bwd[:, 1:], torch.zeros_like(bwd[:, :1])], dim=1)  # ←h_{t+1}
        at_end = torch.arange(T, device=inputs.device)[None, :] >= (lengths - 1)[:, None]
        right = torch.where(at_end[..., None], self.right_edge.to(right.dtype), right)

        h = torch.tanh(self.combine(torch.cat([left, right], dim=-1)))
        head_inputs = self.head.inputs(h, self.embedding.weight)
        return head_inputs if features else F.linear(*head_inputs)

    def fill_logits(self, inputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The fill entry point: put <mask> where characters are unknown, read logits there."""
        return cast(Tensor, self.forward(inputs, lengths))

    def init_state(self, batch_size: int, device: torch.device | str | None = None) -> NoReturn:
        raise TangError("bilstm reads both directions, so it cannot write left to right; use fill_logits")

    def step(self, token_ids: Tensor, state: object) -> NoReturn:
        raise TangError("bilstm reads both directions, so it cannot write left to right; use fill_logits")


def _row_lengths(inputs: Tensor) -> Tensor:
    """Each row's length: one past its last non-<pad> token (at least 1)."""
    positions = torch.arange(1, inputs.shape[1] + 1, device=inputs.device)
    return (positions * (inputs != PAD)).amax(dim=1).clamp(min=1)


def _checked(lengths: Tensor, B: int, T: int, device: torch.device) -> Tensor:
    lengths = lengths.detach().to(device, torch.int64)
    if lengths.shape != (B,) or bool(((lengths < 1) | (lengths > T)).any()):
        raise ValueError(f"lengths must be {B} values in 1..{T}")
    return lengths


def _reverse_rows(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse x[b, :lengths[b]] in each row, leaving the padding where it is (an involution)."""
    B, T = x.shape[:2]
    t = torch.arange(T, device=x.device)[None, :].expand(B, T)
    n = lengths.to(x.device)[:, None]
    index = torch.where(t < n, n - 1 - t, t)
    return x.gather(1, index[..., None].expand_as(x))
