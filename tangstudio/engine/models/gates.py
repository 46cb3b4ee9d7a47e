"""Inside the network: the gates and state of every layer at every character, for the trained weights.

The values are read through the teaching cells of `cells.py` (filled from the fused kernels by
`copy_fused_to_cells`, which computes exactly the same function), with forward hooks on their
gate layers, so what is shown is what the cells compute and no equation is written twice:

    LSTM   f̄, ī, ō  the mean forget / input / output gate over the layer's units, and ‖C_t‖
    GRU    r̄, z̄     the mean reset and update gate (z near 1: the state is replaced), and ‖h_t‖
    RNN    ‖h_t‖

The full state vectors come back too (`hidden`, `cell`), for `inspect` and for pinning one unit.
Position t of a trace is the network after reading input t; for a poem fed as
[<form>, x_0, x_1, …] the character x_k is input k + 1.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import torch
from torch import Tensor, nn

from tangstudio.engine.corpus.vocab import UNK
from tangstudio.engine.models.archs import pairs_state
from tangstudio.engine.models.cells import CellStack, copy_fused_to_cells

if TYPE_CHECKING:
    from tangstudio.engine.corpus.vocab import Vocab

_Hook = Callable[[nn.Module, tuple[Any, ...], Any], None]


class ModelWithVocab(Protocol):
    """What reading a poem's gates needs of a loaded model: runs.loaded.Loaded is one (a layer up)."""

    @property
    def model(self) -> nn.Module: ...

    @property
    def vocab(self) -> Vocab: ...


GATE_NAMES: dict[str, tuple[str, ...]] = {
    "lstm": ("f", "i", "o", "‖c‖"),
    "gru": ("r", "z", "‖h‖"),
    "rnn": ("‖h‖",),
}
_GATE_LAYERS = {"lstm": ("W_f", "W_i", "W_o"), "gru": ("W_r", "W_z"), "rnn": ()}

_CELLS: weakref.WeakKeyDictionary[nn.Module, CellStack] = weakref.WeakKeyDictionary()
_READING = threading.Lock()  # one trace at a time: the hooks of two would fill each other's lists


@dataclass
class GateTrace:
    """Per input position: the summary values of each layer and the full state vectors."""

    kind: str
    names: tuple[str, ...]
    values: Tensor  # float [B, T, layers, len(names)]
    hidden: Tensor  # float [B, T, layers, H]: h_t
    cell: Tensor | None  # float [B, T, layers, H]: C_t (LSTM only)

    def rows(self, row: int = 0, start: int = 0) -> list[list[dict[str, float]]]:
        """values of one batch row from `start` on, as [position][layer] -> {name: value}."""
        out = []
        for t in range(start, self.values.shape[1]):
            out.append(
                [
                    {n: round(float(v), 4) for n, v in zip(self.names, self.values[row, t, layer].tolist())}
                    for layer in range(self.values.shape[2])
                ]
            )
        return out


def kind_of(model: nn.Module) -> str | None:
    """'lstm', 'gru' or 'rnn' for a causal model whose gates can be read; None otherwise."""
    config = getattr(model, "config", None)
    kind = getattr(config, "arch", None)
    if not getattr(model, "causal", False) or kind not in GATE_NAMES:
        return None
    return str(kind)


def readable_cells(model: nn.Module) -> CellStack:
    """The model's recurrent layers as teaching cells with the trained weights (made once per model)."""
    rnn: Any = model.rnn  # a fused nn.RNN/LSTM/GRU or a CellStack
    if isinstance(rnn, CellStack):
        return rnn
    stack = _CELLS.get(model)
    if stack is None:
        kind = kind_of(model)
        if kind is None:
            raise ValueError("gates are read from a causal rnn, lstm or gru")
        stack = CellStack(kind, rnn.input_size, rnn.hidden_size, rnn.num_layers)
        copy_fused_to_cells(rnn, stack)
        stack.to(next(rnn.parameters()).device).eval()
        _CELLS[model] = stack
    return stack


@torch.inference_mode()
def trace(model: nn.Module, ids: Tensor) -> GateTrace:
    """Read ids [B, T] (or [T]) through the cells; the network starts from the zero state."""
    if ids.dim() == 1:
        ids = ids[None]
    kind = kind_of(model)
    if kind is None:
        raise ValueError("gates are read from a causal rnn, lstm or gru")
    with _READING:
        return _trace(model, ids, kind)


def _trace(model: nn.Module, ids: Tensor, kind: str) -> GateTrace:
    stack = readable_cells(model)
    layers = len(stack.cells)
    gates: list[dict[str, list[Tensor]]] = [{n: [] for n in _GATE_LAYERS[kind]} for _ in range(layers)]
    states: list[list[Tensor | tuple[Tensor, Tensor]]] = [[] for _ in range(layers)]
    hooks = []
    for layer, cell in enumerate(stack.cells):
        hooks.append(cell.register_forward_hook(_keep(states[layer])))
        for name in _GATE_LAYERS[kind]:
            hooks.append(getattr(cell, name).register_forward_hook(_keep_sigmoid(gates[layer][name])))
    was_training = model.training
    model.eval()
    try:
        embedded = model.embedding(ids)  # type: ignore[operator]
        stack(embedded.to(next(stack.parameters()).dtype))
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)
    hidden = torch.stack(
        [
            torch.stack([s[0] if isinstance(s, tuple) else s for s in states[layer]], 1)
            for layer in range(layers)
        ],
        2,
    ).float()  # [B, T, L, H]
    cell_state = (
        torch.stack([torch.stack([s[1] for s in states[layer]], 1) for layer in range(layers)], 2).float()
        if pairs_state(kind)
        else None
    )
    columns = []
    for name in _GATE_LAYERS[kind]:
        columns.append(
            torch.stack([torch.stack(gates[layer][name], 1) for layer in range(layers)], 2).mean(-1)
        )
    norm = (cell_state if cell_state is not None else hidden).norm(dim=-1)
    columns.append(norm)
    values = torch.stack([c.float() for c in columns], -1)  # [B, T, L, names]
    return GateTrace(
        kind, GATE_NAMES[kind], values.cpu(), hidden.cpu(), None if cell_state is None else cell_state.cpu()
    )


def _keep(into: list[Tensor | tuple[Tensor, Tensor]]) -> _Hook:
    def hook(_module: nn.Module, _inputs: tuple[Any, ...], output: Tensor | tuple[Tensor, Tensor]) -> None:
        into.append(output)

    return hook


def _keep_sigmoid(into: list[Tensor]) -> _Hook:
    def hook(_module: nn.Module, _inputs: tuple[Any, ...], output: Tensor) -> None:
        into.append(torch.sigmoid(output))

    return hook


def poem_trace(
    loaded: ModelWithVocab, text: str, form: str, read: tuple[list[int], list[int]] | None = None
) -> GateTrace | None:
    """The trace of `text` read as the model read it while writing.

    `read` is what the composer fed it (compose.planning.feed.reading_ids: a primer, the title,
    each line's keyword) and where the poem's characters sit in it; without it, the form's start
    token and the text, as `score` reads a poem. Position k + 1 of the trace is character k of the
    text (position 0, the input just before it); None for a model without readable gates.
    """
    if kind_of(loaded.model) is None or not text:
        return None
    vocab = loaded.vocab
    if read is None:
        read = [vocab.start_id(form)] + [vocab.stoi.get(c, UNK) for c in text], list(range(1, len(text) + 1))
    ids, at = read
    device = next(loaded.model.parameters()).device
    found = trace(loaded.model, torch.tensor(ids, device=device))
    keep = torch.tensor([at[0] - 1, *at], device=found.values.device)
    return GateTrace(
        found.kind,
        found.names,
        found.values[:, keep],
        found.hidden[:, keep],
        None if found.cell is None else found.cell[:, keep],
    )


def poem_gates(
    loaded: ModelWithVocab, text: str, form: str, read: tuple[list[int], list[int]] | None = None
) -> list[list[dict[str, float]]]:
    """Per character of `text`, the gate values of every layer ([] for a model without gates)."""
    found = poem_trace(loaded, text, form, read)
    return [] if found is None else found.rows(0, start=1)


def unit_series(found: GateTrace, unit: str, start: int = 1) -> list[float]:
    """One unit's value along the trace; `unit` is 'h<layer>:<index>' or 'c<layer>:<index>' (0-based)."""
    which, layer, index = parse_unit(unit)
    source = found.hidden if which == "h" else found.cell
    if source is None:
        raise ValueError("only an LSTM has a cell state c; pin an h unit")
    if (refused := out_of_range(layer, index, source.shape[2], source.shape[3])) is not None:
        raise ValueError(refused)
    return [float(v) for v in source[0, start:, layer, index]]


def out_of_range(layer: int, index: int, layers: int, hidden: int) -> str | None:
    """Why unit (layer, index) is not in a model of `layers` × `hidden` units, or None when it is."""
    if layer < layers and index < hidden:
        return None
    return (
        f"the model has {layers} layer{'s' * (layers != 1)} of {hidden} units: "
        f"h0:0 … h{layers - 1}:{hidden - 1}"
    )


def parse_unit(unit: str) -> tuple[str, int, int]:
    """'h1:37' -> ('h', 1, 37); ValueError with the expected shape otherwise."""
    text = unit.strip().lower()
    try:
        which, rest = text[0], text[1:]
        layer, index = (int(x) for x in rest.split(":"))
    except (IndexError, ValueError):
        raise ValueError(
            f"a unit is written h<layer>:<index> or c<layer>:<index>, e.g. h1:37, not {unit!r}"
        ) from None
    if which not in "hc" or layer < 0 or index < 0:
        raise ValueError(f"a unit is written h<layer>:<index> or c<layer>:<index>, e.g. h1:37, not {unit!r}")
    return which, layer, index
