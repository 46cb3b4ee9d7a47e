"""Pieces every character model shares: the recurrent stack (fused or cells) and the output head.

Both model classes are "embedding → recurrent layers → dropout → linear head"; keeping the two
ends here means the causal and bidirectional models differ only in how they read the sequence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tangstudio.engine.models.archs import pairs_state
from tangstudio.engine.models.cells import CellStack, LSTMCell

HeadInputs = tuple[Tensor, Tensor, Tensor]  # (x, weight, bias) of the output head's last linear map

# Callables rather than type[nn.RNNBase]: the subclasses take (input_size, hidden_size, ...), the base a mode first.
FUSED: dict[str, Callable[..., nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


@contextmanager
def fp32_recurrence(device: torch.device) -> Iterator[None]:
    """Run the recurrent layers outside autocast, in fp32.

    On CUDA, autocast sends a cuDNN RNN to fp16 whatever dtype it was asked for (PyTorch's
    _cudnn_rnn wrapper casts to half), and fp16 without loss scaling rounds away the small
    gradients that long memory lives on; on a CPU, a bf16 LSTM needs oneDNN's bf16 support, which
    many CPUs lack. In fp32 (TF32 matmuls on recent cards) the recurrence keeps its gradients, and
    the output layer, where bf16 pays, keeps its autocast.
    """
    if device.type not in ("cuda", "cpu"):  # no autocast to leave (and no torch.autocast there before 2.5)
        yield
        return
    with torch.autocast(device.type, enabled=False):
        yield


def make_recurrent(
    kind: str,
    input_size: int,
    hidden_size: int,
    layers: int,
    dropout: float,
    impl: str,
    forget_bias: float = 0.0,
) -> nn.Module:
    """A batch-first stack of `layers` cells; `(x, state) -> (outputs, state)` either way."""
    between = dropout if layers > 1 else 0.0  # dropout between layers only, like nn.LSTM
    stack: nn.Module
    if impl == "cells":
        stack = CellStack(kind, input_size, hidden_size, layers, between)
    else:
        stack = FUSED[kind](input_size, hidden_size, num_layers=layers, dropout=between, batch_first=True)
    if pairs_state(kind) and forget_bias:
        init_forget_bias(stack, forget_bias)
    return stack


@torch.no_grad()
def init_forget_bias(stack: nn.Module, value: float) -> None:
    """Start every LSTM layer with b_f = value.

    With b_f ≈ 0 the forget gate starts at σ(0) = ½, so the cell state halves at every step and
    little flows through time until b_f is learnt; b_f = 1 (Gers et al. 2000; Jozefowicz et al.
    2015) starts it at σ(1) ≈ 0.73, keeping memory from the first step.
    """
    if isinstance(stack, CellStack):
        for cell in stack.cells:
            assert isinstance(cell, LSTMCell)
            cell.W_f.bias.fill_(value)
        return
    assert isinstance(stack, nn.LSTM)
    for layer in range(stack.num_layers):  # PyTorch stacks the gates as i, f, g, o; b = b_ih + b_hh
        h = stack.hidden_size
        getattr(stack, f"bias_ih_l{layer}")[h : 2 * h].fill_(value)
        getattr(stack, f"bias_hh_l{layer}")[h : 2 * h].zero_()


def zero_state(
    kind: str, layers: int, batch_size: int, hidden_size: int, device: torch.device, dtype: torch.dtype
) -> Tensor | tuple[Tensor, Tensor]:
    """The state before the first character: zeros, [layers, B, H] (a pair (h, C) for the LSTM)."""
    h = torch.zeros(layers, batch_size, hidden_size, device=device, dtype=dtype)
    return (h, torch.zeros_like(h)) if pairs_state(kind) else h


class OutputHead(nn.Module):
    """O_t = g(S_t·V): one score per vocabulary entry (g = softmax lives in the loss/sampler).

    With `tied`, V is the embedding matrix itself (fewer parameters, and characters that are
    read alike are predicted alike); a bias-free projection bridges hidden ≠ embed. The tied
    weight is passed in at call time rather than registered twice, so a state_dict has no
    shared tensors and saves to safetensors as is.
    """

    def __init__(self, in_features: int, vocab_size: int, embed: int, tied: bool, dropout: float) -> None:
        super().__init__()
        self.tied = tied
        self.dropout = nn.Dropout(dropout)
        if tied:
            self.proj = nn.Linear(in_features, embed, bias=False) if in_features != embed else nn.Identity()
            self.bias = nn.Parameter(torch.zeros(vocab_size))
        else:
            self.V = nn.Linear(in_features, vocab_size)

    def forward(self, h: Tensor, embedding_weight: Tensor, dropout: bool = True) -> Tensor:
        x, weight, bias = self.inputs(h, embedding_weight, dropout)
        return F.linear(x, weight, bias)

    def inputs(self, h: Tensor, embedding_weight: Tensor, dropout: bool = True) -> HeadInputs:
        """What the last linear map reads: (x, weight [V, D], bias [V]); logits = x·weightᵀ + bias.

        Training computes the loss from these without forming the logits (training/head_loss.py).
        """
        if dropout:  # False: the caller already dropped (locked dropout, one mask per sequence)
            h = self.dropout(h)
        if self.tied:
            return self.proj(h), embedding_weight, self.bias
        return h, self.V.weight, self.V.bias


def make_embedding(vocab_size: int, embed: int, pad_id: int) -> nn.Embedding:
    """Small uniform init (±0.1): N(0, 1) would make tied logits explode at the start."""
    embedding = nn.Embedding(vocab_size, embed, padding_idx=pad_id)
    with torch.no_grad():
        embedding.weight.uniform_(-0.1, 0.1)
        embedding.weight[pad_id].zero_()
    return embedding
