"""The regularisation of AWD-LSTM (Merity et al. 2017), written for today's PyTorch.

The shipped model overfitted (train 3.95 nats against 4.34 on val); these are the remedies of the
strongest LSTM language models, all active only in training, none changing a weight's shape, so
a model trained with them composes and saves exactly like one trained without:

- locked (variational) dropout, Gal & Ghahramani 2016: one mask per sequence, shared by every
  time step, so the recurrence sees the same units missing all along instead of fresh noise at
  each step:            x̃_t = x_t ⊙ m / (1 − p),   m ~ Bernoulli(1 − p)^{B × 1 × D}
- DropConnect on the hidden-to-hidden weights, Wan et al. 2013: W_hh ⊙ M / (1 − p) with one M
  per batch, so every step of every sequence in the batch uses the same thinned recurrence.
  The fused kernel reads its weights whole, so the thinned matrix is handed to it through
  `torch.func.functional_call` (salesforce's weight_drop.py patched module attributes, which
  breaks on current PyTorch's flattened RNN weights);
- embedding dropout: whole rows of the embedding (a character type, everywhere in the batch)
  are dropped, so the model cannot lean on any one character being readable.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call


def locked_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """x: [B, T, D]; one Bernoulli mask per (sequence, unit), the same at every time step."""
    if not training or p <= 0:
        return x
    mask = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - p) / (1 - p)
    return x * mask


def embedding_dropout(embedding: nn.Embedding, ids: Tensor, p: float, training: bool) -> Tensor:
    """Look ids up in an embedding whose rows are each dropped with probability p."""
    if not training or p <= 0:
        looked_up: Tensor = embedding(ids)
        return looked_up
    weight = embedding.weight
    mask = weight.new_empty(weight.shape[0], 1).bernoulli_(1 - p) / (1 - p)
    return F.embedding(ids, weight * mask, embedding.padding_idx)


def weight_dropped_call(rnn: nn.Module, p: float, training: bool, *args: object) -> tuple[Tensor, object]:
    """Run `rnn(*args)` with every `weight_hh_l*` thinned by one DropConnect mask for this call."""
    if not training or p <= 0:
        out: tuple[Tensor, object] = rnn(*args)
        return out
    params = dict(rnn.named_parameters())
    thinned = {
        name: F.dropout(weight, p, training=True) for name, weight in params.items() if "weight_hh" in name
    }
    thinned_out: tuple[Tensor, object] = functional_call(rnn, {**params, **thinned}, args)
    return thinned_out
