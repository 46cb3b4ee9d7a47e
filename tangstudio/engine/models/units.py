"""Interpretable units: which hidden or cell units track something we can name (Karpathy et al. 2015).

Over poems of the validation split, the model reads [<form>, x_0, …] and after each input we keep
every unit of every layer: h (and C for an LSTM). Each is set beside five known quantities of the
character about to be predicted, x_k:

    line_position    how many characters of its line are already written     Pearson r
    poem_position    how many characters of the poem are already written     Pearson r
    line_end         x_k is ，or 。 (the line ends here)                       AUC
    rhyme_position   x_k ends an even line (where the rhyme goes)            AUC
    next_ping        x_k is 平 rather than 仄 (characters of one tone only)    AUC

and units are ranked by |r| or |AUC − ½|. A unit is reported with its sign: r < 0 or AUC < ½ means
it runs the other way. `chance` is the best figure of any unit for the same quantity shuffled
across positions, the level a search over this many units reaches by luck.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, cast

import torch
from torch import Tensor, nn

from tangstudio.engine.hanzi import LINE_MARKS
from tangstudio.engine.models.cells import CellStack
from tangstudio.engine.models.gates import ModelWithVocab, kind_of, trace

QUANTITIES: dict[str, tuple[str, str]] = {
    "line_position": ("position in the line", "r"),
    "poem_position": ("position in the poem", "r"),
    "line_end": ("next is ，/。 (line end)", "auc"),
    "rhyme_position": ("next is a rhyme position", "auc"),
    "next_ping": ("next character is 平 (vs 仄)", "auc"),
}
CAVEATS = {
    "next_ping": "in regulated verse the pattern and the position largely fix the next tone: a unit "
    "may track those rather than tones",
    "poem_position": "position in the poem and in the line are related (r of the two labels is not 0)",
}
WELL = {"r": 0.5, "auc": 0.8}  # |r| or max(AUC, 1 − AUC) from which a unit is said to track it
MARGIN = {"r": 0.1, "auc": 0.05}  # and by how much it must beat the same network untrained
MARKS = LINE_MARKS


@dataclass
class UnitScore:
    unit: str  # h<layer>:<index> or c<layer>:<index>, 0-based
    value: float  # r, or AUC

    def to_dict(self) -> dict[str, Any]:
        return {"unit": self.unit, "value": round(self.value, 4)}


@dataclass
class QuantityReport:
    name: str
    label: str
    stat: str  # r | auc
    samples: int
    top: list[UnitScore]
    chance: float  # best |r| / max(AUC, 1 − AUC) with the labels shuffled
    # the best figure of the same network untrained (seeded weights, same shape), or None: what the
    # inputs alone give a unit, before any learning (a student's review: a 1-step model "tracked")
    untrained: float | None = None

    @property
    def strength(self) -> float:
        if not self.top:
            return 0.0
        v = self.top[0].value
        return abs(v) if self.stat == "r" else max(v, 1 - v)

    @property
    def tracked(self) -> bool:
        """Well enough, and clearly beyond what the same network does untrained."""
        beyond = self.untrained is None or self.strength >= self.untrained + MARGIN[self.stat]
        return self.strength >= WELL[self.stat] and beyond

    def verdict(self) -> str:
        if not self.top:
            return "no samples"
        best = self.top[0]
        figure = f"r {best.value:+.2f}" if self.stat == "r" else f"AUC {best.value:.2f}"
        if self.stat == "auc" and best.value < 0.5:
            figure += ", low when it holds"
        against = f"chance {self.chance:.2f}" + (
            "" if self.untrained is None else f", untrained {self.untrained:.2f}"
        )
        if self.tracked:
            return f"unit {best.unit} tracks it ({figure}; {against})"
        if self.strength >= WELL[self.stat]:
            return f"the best unit, {best.unit} ({figure}), is not clearly better than an untrained network ({against})"
        return f"no single unit tracks it well: the best is {best.unit} ({figure}; {against})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantity": self.name,
            "label": self.label,
            "stat": self.stat,
            "samples": self.samples,
            "chance": round(self.chance, 4),
            "untrained": None if self.untrained is None else round(self.untrained, 4),
            "tracked": self.tracked,
            "verdict": self.verdict(),
            "caveat": CAVEATS.get(self.name),
            "top": [u.to_dict() for u in self.top],
        }


@dataclass
class UnitsReport:
    arch: str
    layers: int
    hidden: int
    poems: int
    positions: int
    quantities: list[QuantityReport] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "arch": self.arch,
            "layers": self.layers,
            "hidden": self.hidden,
            "poems": self.poems,
            "positions": self.positions,
            "quantities": [q.to_dict() for q in self.quantities],
        }


def labels_for(text: str, form: str) -> dict[str, list[float | None]]:
    """Per character of `text` (the one about to be predicted), the five quantities (None: not defined)."""
    from tangstudio.engine.forms import find
    from tangstudio.engine.prosody import PING, ZE, tones

    out: dict[str, list[float | None]] = {k: [] for k in QUANTITIES}
    found = find(form)
    n_chars = found.chars if found else None
    line = col = 0
    for k, ch in enumerate(text):
        out["line_position"].append(float(col))
        out["poem_position"].append(float(k))
        is_mark = ch in MARKS
        out["line_end"].append(1.0 if is_mark else 0.0)
        if n_chars is None:
            out["rhyme_position"].append(None)
        else:
            out["rhyme_position"].append(
                1.0 if (not is_mark and line % 2 == 1 and col == n_chars - 1) else 0.0
            )
        t = tones(ch) if not is_mark else frozenset()
        out["next_ping"].append(1.0 if t == {PING} else 0.0 if t == {ZE} else None)
        if is_mark:
            line, col = line + 1, 0
        else:
            col += 1
    return out


def collect(
    loaded: ModelWithVocab, poems: list[tuple[str, str]], batch: int = 64
) -> tuple[Tensor, list[str], dict[str, list[float | None]]]:
    """Unit values [N, U] at every position of `poems` ((text, form) pairs), their names, the labels."""
    model, vocab = loaded.model, loaded.vocab
    device = next(model.parameters()).device
    by_length: dict[int, list[tuple[str, str]]] = {}
    for text, form in poems:
        by_length.setdefault(len(text), []).append((text, form))
    rows: list[Tensor] = []
    labels: dict[str, list[float | None]] = {k: [] for k in QUANTITIES}
    names: list[str] = []
    for length in sorted(by_length):
        group = by_length[length]
        for i in range(0, len(group), batch):
            chunk = group[i : i + batch]
            ids = torch.tensor(
                [[vocab.start_id(f), *(vocab.stoi.get(c, 1) for c in t)] for t, f in chunk], device=device
            )
            found = trace(model, ids)
            # input t is the state after reading t inputs; position k (predicting text[k]) is input k
            parts = [found.hidden[:, :length]]
            if found.cell is not None:
                parts.append(found.cell[:, :length])
            values = torch.cat(parts, dim=2)  # [B, length, L or 2L, H]
            rows.append(values.reshape(len(chunk) * length, -1))
            for text, form in chunk:
                for key, series in labels_for(text, form).items():
                    labels[key].extend(series)
            if not names:
                L, H = found.hidden.shape[2], found.hidden.shape[3]
                names = [f"h{layer}:{j}" for layer in range(L) for j in range(H)]
                if found.cell is not None:
                    names += [f"c{layer}:{j}" for layer in range(L) for j in range(H)]
    return torch.cat(rows), names, labels


def pearson(x: Tensor, y: Tensor) -> Tensor:
    """r of every column of x [N, U] with y [N]."""
    x = x - x.mean(0)
    y = y - y.mean()
    denominator = x.norm(dim=0) * y.norm()
    r: Tensor = (x * y[:, None]).sum(0) / denominator.clamp_min(1e-12)
    return r


def column_ranks(x: Tensor) -> Tensor:
    """1-based ranks within each column (ties broken by order: fine for continuous activations)."""
    # Sorted along the contiguous axis: argsort(0) strides across rows, and took 10.4 s where this
    # takes 3.9 s for 9,000 positions × 2,048 units (the shipped model's `inspect`, one thread).
    order = x.t().contiguous().argsort(1).t()
    ranks = torch.empty_like(order)
    ranks.scatter_(0, order, torch.arange(1, x.shape[0] + 1)[:, None].expand_as(order).contiguous())
    return ranks


def auc(ranks: Tensor, y: Tensor) -> Tensor:
    """Area under the ROC curve of every column as a score for the binary y [N] (Mann–Whitney U),
    from the columns' ranks (`column_ranks`), so several labels reuse one sort."""
    positives = y > 0.5
    n_pos = int(positives.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return torch.full((ranks.shape[1],), 0.5, dtype=torch.float64)
    return (ranks[positives].sum(0).double() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def rank_units(
    loaded: ModelWithVocab,
    poems: list[tuple[str, str]],
    top: int = 10,
    seed: int = 0,
    untrained: ModelWithVocab | None = None,
) -> UnitsReport:
    """Rank every hidden and cell unit by how well it tracks each quantity over `poems`; with
    `untrained` (the same network before training: `untrained_twin`), each quantity also gets the
    best figure it reaches, which a trained unit must clearly beat to be said to track it."""
    kind = kind_of(loaded.model)
    if kind is None:
        raise ValueError("units are read from a causal rnn, lstm or gru")
    baseline = None if untrained is None else _best_strengths(untrained, poems)
    values, names, labels = collect(loaded, poems)
    values = values.float()
    ranks_all: Tensor | None = None
    # A causal model's recurrent stack (kind_of said so): the fused kernel or the teaching cells.
    rnn = cast("nn.RNNBase | CellStack", loaded.model.rnn)
    report = UnitsReport(
        kind,
        len(rnn.cells) if isinstance(rnn, CellStack) else int(rnn.num_layers),
        int(rnn.hidden_size),
        len(poems),
        int(values.shape[0]),
    )
    generator = torch.Generator().manual_seed(seed)
    for key, (label, stat) in QUANTITIES.items():
        series = labels[key]
        keep = torch.tensor([v is not None for v in series])
        if int(keep.sum()) < 10:
            continue
        every = bool(keep.all())
        x = values if every else values[keep]
        y = torch.tensor([v for v in series if v is not None], dtype=torch.float32)
        shuffled = y[torch.randperm(len(y), generator=generator)]
        if stat == "r":
            scores, null = pearson(x, y), pearson(x, shuffled)
            strength, chance = scores.abs(), float(null.abs().max())
        else:
            if every:
                ranks_all = column_ranks(values) if ranks_all is None else ranks_all
                ranks = ranks_all
            else:
                ranks = column_ranks(x)
            scores, null = auc(ranks, y), auc(ranks, shuffled)
            strength, chance = (scores - 0.5).abs(), float((null - 0.5).abs().max() + 0.5)
        order = strength.argsort(descending=True)[:top].tolist()
        best = [UnitScore(names[i], float(scores[i])) for i in order]
        floor = None if baseline is None else baseline.get(key)
        report.quantities.append(QuantityReport(key, label, stat, len(y), best, chance, floor))
    return report


def _best_strengths(loaded: ModelWithVocab, poems: list[tuple[str, str]]) -> dict[str, float]:
    """Each quantity's best |r| or max(AUC, 1 − AUC) over every unit of `loaded`."""
    report = rank_units(loaded, poems, top=1)
    return {q.name: q.strength for q in report.quantities}


@dataclass
class _Twin:
    model: nn.Module
    vocab: Any


def untrained_twin(loaded: Any, seed: int = 0) -> _Twin:
    """The same architecture and vocabulary with fresh, seeded weights: what a unit reads before any
    training (an LSTM's units already follow the position from its inputs and state alone)."""
    from tangstudio.engine.models import build_model

    with torch.random.fork_rng():  # the caller's random state is left as it was
        torch.manual_seed(seed)
        model = build_model(loaded.config).eval()
    return _Twin(model, loaded.vocab)


def val_poems(loaded: ModelWithVocab, limit: int = 400, seed: int = 0) -> list[tuple[str, str]]:
    """A sample of the validation split of the corpus the model was trained on, as (text, form)."""
    from tangstudio.engine.corpus import load_corpus

    meta = getattr(loaded, "meta", {}) or {}
    corpus = meta.get("corpus") or {}
    name = corpus.get("name") if isinstance(corpus, dict) else corpus
    script = meta.get("script") or loaded.vocab.script
    forms = meta.get("forms")
    poems = load_corpus(str(name or "tang"), script).select(forms, "val")
    chosen = [(p.text, p.form) for p in poems]
    random.Random(seed).shuffle(chosen)
    return chosen[:limit]
