"""The memory study's PNG says what it shows: "1 seed" (not "1 seeds"), no "mean ± sd" claimed of a
single seed, and the gradient axis as mathematics (subscripts), not `‖∂L_T/∂h_t‖` with underscores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def one_seed_study() -> dict[str, Any]:
    norms = [0.01, 0.1, 1.0]
    return {
        "settings": {
            "archs": ["rnn", "lstm"],
            "distances": [2, 4],
            "seeds": [0],
            "steps": 10,
            "hidden": 8,
            "grad_distance": 3,
        },
        "runs": [
            {"arch": a, "distance": d, "seed": 0, "accuracy": 0.5, "cpu_s": 1.0}
            for a in ("rnn", "lstm")
            for d in (2, 4)
        ],
        "gradients": {a: {"init": norms, "trained": norms} for a in ("rnn", "lstm")},
    }


def drawn_labels(study: dict[str, Any], path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every axis label and title of the PNG, read off the figure as it is saved."""
    from matplotlib.figure import Figure

    from tangstudio.engine.lab.charts import memory_png

    seen: list[str] = []
    real_savefig = Figure.savefig

    def savefig(fig: Figure, *args: Any, **kwargs: Any) -> None:
        for ax in fig.axes:
            seen.extend([ax.get_title(), ax.get_xlabel(), ax.get_ylabel()])
        real_savefig(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    assert memory_png(study, path).stat().st_size > 0
    return [s for s in seen if s]


def test_a_one_seed_png_says_one_seed_and_writes_its_gradients_as_mathematics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matplotlib.mathtext import MathTextParser

    labels = drawn_labels(one_seed_study(), tmp_path / "memory.png", monkeypatch)
    assert any(s.startswith("1 seed, 10 steps") for s in labels), labels
    assert not any("seeds" in s or "± sd" in s for s in labels), labels
    grads = [s for s in labels if "partial" in s or "∂" in s]
    assert len(grads) == 2 and all(s.startswith("$") and s.endswith("$") for s in grads), grads
    MathTextParser("path").parse(grads[0])  # it is mathtext matplotlib can draw


def test_several_seeds_keep_their_spread() -> None:
    from tangstudio.engine.lab.charts import accuracy_axis, accuracy_title

    assert accuracy_axis(3) == "recall accuracy, % (mean ± sd)"
    assert accuracy_title({"settings": {"seeds": [0, 1, 2], "steps": 5, "hidden": 4}, "runs": []}).startswith(
        "3 seeds,"
    )
