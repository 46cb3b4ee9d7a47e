"""What each architecture is, in words and equations — importable without torch.

The studio's model pane and the CLI's `--help` texts show this metadata; importing torch costs
about a second, so this module (and everything it imports) must stay torch-free. Each entry names
its model class as "module:Class", imported only when a model is actually built; a name rather
than a lazy import, so the import-linter contract "archs never imports torch" holds statically.

This is the one registry: the name lists (`ARCH_NAMES`, `CAUSAL_ARCHS`), the question "is this
architecture causal?" (`is_causal`), which perplexity its loss is (`ppl_kind`, `ppl_kind_of`) and
which recurrent cell it runs (`cell`, `pairs_state`) are asked here, never re-derived from the name
string.

The equations are the seed article's (see docs and `shared/seed/DIGEST.md`), written in Unicode
so a terminal can show them as they are.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from tangstudio.engine.errors import TangError

if TYPE_CHECKING:  # only for annotations; never imported at run time
    from tangstudio.engine.models.config import ModelConfig


@dataclass(frozen=True)
class ArchInfo:
    """One architecture: its name, how it is explained, and how to build it."""

    name: str
    label: str  # the short name lists and legends show: RNN, LSTM, GRU, BiLSTM
    title: str
    causal: bool
    equations: str
    when_to_pick: str
    builder: str  # "module:Class" of the nn.Module, imported by build()
    note: str = ""
    cell: str = ""  # the recurrent cell each direction runs (a key of ARCHS): rnn, lstm or gru
    bidirectional: bool = False

    @property
    def pairs_state(self) -> bool:
        """Whether its state is an (h, c) pair, as the LSTM's is, rather than h alone."""
        return (self.cell or self.name) == "lstm"

    def build(self, config: ModelConfig) -> Any:
        """A fresh model of this architecture (imports torch and the model's module now)."""
        module, _, cls = self.builder.partition(":")
        return getattr(importlib.import_module(module), cls)(config)


_CAUSAL = "tangstudio.engine.models.causal:CausalCharLM"
_BILSTM = "tangstudio.engine.models.bilstm:BiLSTMCharLM"


RNN_EQUATIONS = """\
S_t = f(X_t·U + S_{t−1}·W + b)        f = tanh
    = f([X_t, S_{t−1}]·[U; W] + b)    (the concatenation: U stacked on W)
O_t = g(S_t·V + c)                    g = softmax over the next character
(row vectors, as the article writes them: X_t is 1×m, U is m×n;
 the article leaves out the biases b and c, which the code keeps)"""

LSTM_EQUATIONS = """\
f_t = σ(W_f·[h_{t−1}, x_t] + b_f)
i_t = σ(W_i·[h_{t−1}, x_t] + b_i)
C̃_t = tanh(W_C·[h_{t−1}, x_t] + b_C)
C_t = f_t × C_{t−1} + i_t × C̃_t
o_t = σ(W_o·[h_{t−1}, x_t] + b_o)
h_t = o_t × tanh(C_t)
(× element-wise; [h_{t−1}, x_t] the two joined; σ the sigmoid)"""

GRU_EQUATIONS = """\
r_t = σ(W_r·[h_{t−1}, x_t] + b_r)
z_t = σ(W_z·[h_{t−1}, x_t] + b_z)
h̃_t = tanh(W_x·x_t + b_x + r_t × (W_h·h_{t−1} + b_h))
h_t = (1 − z_t) × h_{t−1} + z_t × h̃_t
(× element-wise; z_t near 1 replaces the old state by h̃_t;
 h̃_t as the code and PyTorch compute it; the article, after Olah,
 scales h_{t−1} first: tanh(W·[r_t × h_{t−1}, x_t] + b))"""

BILSTM_EQUATIONS = """\
→h_t = LSTM(x_t, →h_{t−1})        forward, over x_1 … x_t
←h_t = LSTM(x_t, ←h_{t+1})        backward, over x_t … x_T
P(x_t | x_{<t}, x_{>t}) = softmax(V·tanh(W·[→h_{t−1}, ←h_{t+1}] + b))
(each direction runs the LSTM equations; x_t itself is never seen;
 at the two ends, learnt edge vectors stand for the side not yet read)"""


ARCHS: dict[str, ArchInfo] = {
    "rnn": ArchInfo(
        name="rnn",
        label="RNN",
        title="Vanilla RNN (tanh)",
        causal=True,
        equations=RNN_EQUATIONS,
        when_to_pick="The baseline: smallest and fastest per step, but it forgets: 五绝 ppl 164 vs the LSTM's 154, digits 93.4 % vs 96.4 %, nothing recalled 50 steps back after 600 steps, as with the GRU and the LSTM at PyTorch's initialisation (docs/study.md).",
        builder=_CAUSAL,
        cell="rnn",
    ),
    "lstm": ArchInfo(
        name="lstm",
        label="LSTM",
        title="LSTM",
        causal=True,
        equations=LSTM_EQUATIONS,
        when_to_pick="The classic gated cell, best on 五绝 (ppl 154; GRU 158, RNN 164); digits 96.4 % (RNN 93.4 %); long memory only with --forget-bias (docs/study.md).",
        builder=_CAUSAL,
        cell="lstm",
    ),
    "gru": ArchInfo(
        name="gru",
        label="GRU",
        title="GRU",
        causal=True,
        equations=GRU_EQUATIONS,
        when_to_pick="Near-LSTM quality with ¾ of its weights (五绝 ppl 158 vs 154; digits 97.5 % vs 96.4 %); on this CPU ≤ 9 % faster on poems, slower on digits; at PyTorch's initialisation (its update gate starts at ½, as the LSTM's forget gate does) and 600 steps it recalled nothing 50 steps back, like the RNN and the default LSTM; no start like the LSTM's --forget-bias was tried for it (docs/study.md).",
        builder=_CAUSAL,
        note=(
            "As in PyTorch/cuDNN, the reset gate multiplies the recurrent product (above), so the "
            "candidate has two biases (the readable cells hold 4 bias vectors a layer, PyTorch's "
            "kernel 6); PyTorch's z is 1 − z_t here."
        ),
        cell="gru",
    ),
    "bilstm": ArchInfo(
        name="bilstm",
        label="BiLSTM",
        title="Bidirectional LSTM (fill-in)",
        causal=False,
        equations=BILSTM_EQUATIONS,
        when_to_pick="Fills masked characters from both sides, not left to right: on 五绝 it loses 0.07–0.12 nats scored left to right, at most what the right side is worth (that scoring also masks more than it trained on); digits 96.9 %, 71–85 % with one side removed.",
        builder=_BILSTM,
        note="Its loss is a pseudo-likelihood (each character given all others), not comparable to causal perplexity.",
        cell="lstm",
        bidirectional=True,
    ),
}

IMPLS: dict[str, str] = {
    "fused": "PyTorch's fused nn.RNN/LSTM/GRU: fast",
    "cells": "the readable cells in cells.py, one equation per line: for teaching, slow",
}


ARCH_NAMES: tuple[str, ...] = tuple(ARCHS)
CAUSAL_ARCHS: tuple[str, ...] = tuple(name for name, info in ARCHS.items() if info.causal)


def is_causal(arch: str) -> bool:
    """Does `arch` predict the next character (rnn, lstm, gru), rather than fill in (bilstm)?

    An unknown name counts as causal, as a run folder of an older or foreign model is read.
    """
    info = ARCHS.get(arch)
    return info.causal if info is not None else True


PplKind = Literal["causal", "pseudo"]


def ppl_kind_of(causal: bool) -> PplKind:
    """The one rule: a next-character model's loss is a perplexity, a fill-in model's a pseudo one."""
    return "causal" if causal else "pseudo"


def ppl_kind(arch: str) -> PplKind:
    """ "causal" perplexity for a next-character model, "pseudo" for the BiLSTM's fill-in loss."""
    return ppl_kind_of(is_causal(arch))


def cell_of(arch: str) -> str:
    """The recurrent cell an architecture runs (bilstm → lstm); TangError-free: unknown names pass."""
    info = ARCHS.get(arch)
    return info.cell if info is not None else arch


def pairs_state(kind: str) -> bool:
    """Whether a cell or architecture keeps an (h, c) pair (lstm, bilstm) rather than h alone."""
    info = ARCHS.get(kind)
    return info.pairs_state if info is not None else False


def check_forget_bias(arch: str, forget_bias: float) -> None:
    """Only a cell with a forget gate has its bias to set: an RNN or GRU run recorded
    `forget_bias = 2.0` in its config and trained exactly as without it."""
    if forget_bias and arch in ARCHS and not pairs_state(arch):
        raise TangError(f"--forget-bias sets the LSTM's forget gate; a {arch} has none (lstm or bilstm only)")


def arch_choices() -> str:
    """The valid architecture names, for error messages and help texts."""
    return ", ".join(ARCHS)
