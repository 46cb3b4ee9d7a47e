"""A lab classifier read back, and scored: class probabilities, accuracy and the confusion matrix.

What `lab digits eval`, the lab report, the Lab pane and the memory study read of a lab run; the
training itself is `lab/train.py`. Checkpoints are verified by sha256 like every checkpoint and
never unpickled.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tangstudio.engine.errors import TangError
from tangstudio.engine.lab.models import ClassifierConfig, SequenceClassifier, build_classifier
from tangstudio.engine.runs import checkpoint as ckpt

EVAL_CHUNK = 500


@torch.no_grad()
def classify(model: SequenceClassifier, x: np.ndarray) -> np.ndarray:
    """Class probabilities [N, classes] for inputs [N, T, I], in chunks."""
    model.eval()
    out = [
        torch.softmax(model(torch.from_numpy(x[i : i + EVAL_CHUNK])), dim=-1)
        for i in range(0, len(x), EVAL_CHUNK)
    ]
    return torch.cat(out).numpy()


def score(probs: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """Loss (nats), accuracy, per-class accuracy and the confusion matrix (rows: truth)."""
    classes = probs.shape[1]
    predicted = probs.argmax(axis=1)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = [
        float(confusion[c, c] / confusion[c].sum()) if confusion[c].sum() else None for c in range(classes)
    ]
    picked = np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)
    return {
        "count": len(labels),
        "loss": float(-np.log(picked).mean()),
        "accuracy": float((predicted == labels).mean()),
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "predicted": predicted.tolist(),
    }


@dataclass
class LoadedClassifier:
    model: SequenceClassifier
    meta: dict[str, Any]
    path: Path

    @property
    def task(self) -> str:
        return str(self.meta.get("task", "digits"))


def load_lab_checkpoint(target: str | Path, which: str = "best") -> LoadedClassifier:
    """A lab run's classifier, verified by sha256 like every checkpoint; never unpickled."""
    directory = ckpt.resolve_checkpoint(target, which)
    meta = ckpt.read_meta(directory)
    if meta.get("kind") != "lab":
        raise TangError(
            f"{target} is not a lab run (a poem model); lab commands need a run from `lab ... train`"
        )
    model = build_classifier(ClassifierConfig.from_dict(meta.get("classifier")))
    try:
        model.load_state_dict(ckpt.read_weights(directory, meta))
    except RuntimeError as exc:
        raise TangError(
            f"checkpoint {directory} does not fit its classifier ({str(exc).splitlines()[0]})"
        ) from None
    model.eval()
    return LoadedClassifier(model, meta, directory)


def evaluate_digits(target: str | Path, split: str = "test") -> dict[str, Any]:
    """Accuracy, per-class accuracy and the confusion matrix of a digits run on one split."""
    from tangstudio.engine.lab.tasks import DigitsTask

    loaded = load_lab_checkpoint(target)
    if loaded.task != "digits":
        raise TangError(f"run {target} was trained on the {loaded.task} task, not on digits")
    data = DigitsTask().split(split)
    probs = classify(loaded.model, data.x)
    result = score(probs, data.y)
    wrong = [
        {"index": int(i), "label": int(t), "predicted": int(p), "confidence": float(probs[k, p])}
        for k, (i, t, p) in enumerate(
            zip(data.index if data.index is not None else [], data.y, result["predicted"])
        )
        if t != p
    ]
    right = np.asarray(result.pop("predicted")) == data.y
    # the two figures docs/study.md's verdicts rest on, from a command (a student's review found
    # them in no command): when a causal cell commits to its answer, and whether a BiLSTM's
    # answer needs both of its directions
    extra: dict[str, Any] = {}
    if loaded.model.config.bidirectional:
        extra["directions"] = without_each_direction(loaded.model, data.x, data.y)
    else:
        extra["settles_at"] = settling_rows(loaded.model, data.x[right])
    return {
        "run": loaded.meta.get("run"),
        "arch": loaded.meta.get("arch"),
        "step": loaded.meta.get("step"),
        "params": loaded.meta.get("params"),
        "split": split,
        **result,
        **extra,
        "misclassified": wrong,
    }


def without_each_direction(model: SequenceClassifier, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """A BiLSTM's accuracy on (x, y) with both halves of its features, and with each half (the
    forward final state →h_T, the backward ←h_1) replaced by its mean over x."""
    h = model.config.hidden
    with torch.no_grad():
        feats = model.features(torch.from_numpy(x))
        out = {}
        for name, cut in (
            ("both", None),
            ("without_forward", slice(0, h)),
            ("without_backward", slice(h, 2 * h)),
        ):
            f = feats.clone()
            if cut is not None:
                f[:, cut] = f[:, cut].mean(dim=0)
            out[name] = float(np.mean(model.head(f).argmax(-1).numpy() == y))
    return out


def settling_rows(model: SequenceClassifier, x: np.ndarray) -> dict[str, float | int] | None:
    """The row (1-based) from which the top class no longer changes, over the digits `x` (those
    read right): median and quartiles, and how many settled at all. docs/study.md's "settles at
    row" table (rnn 26, lstm 23, gru 21 for the seed-0 runs)."""
    from tangstudio.engine.lab.inspect import knows_at

    if len(x) == 0:
        return None
    with torch.no_grad():
        probs = torch.softmax(model.prefix_logits(torch.from_numpy(x)), dim=-1).numpy()
    rows = [r for r in (knows_at(p) for p in probs) if r is not None]
    if not rows:
        return None
    q1, median, q3 = (float(v) for v in np.percentile(rows, [25, 50, 75]))
    return {"median": median, "q1": q1, "q3": q3, "digits": len(rows)}
