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


def test_an_lstm_cell_path_is_drawn_beside_its_hidden_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A study holding an LSTM's ∂L/∂C_t draws it as its own series in the terminal and the PNG,
    and says how to read it; one saved before it (no init_C) draws as it did."""
    from matplotlib.figure import Figure
    from matplotlib.mathtext import MathTextParser

    from tangstudio.engine.lab.charts import cell_path_note, memory_text_charts

    study = one_seed_study()
    study["gradients"]["lstm"] |= {"init_C": [0.5, 0.7, 1.0], "trained_C": [0.2, 0.5, 1.0]}
    charts = memory_text_charts(study, width=80, height=16, color=False)
    assert all("lstm C_t" in chart for chart in charts[1:]) and "lstm C_t" not in charts[0]
    assert "rnn C_t" not in "".join(charts)
    assert cell_path_note(study) is not None and cell_path_note(one_seed_study()) is None
    assert "C_t" not in "".join(memory_text_charts(one_seed_study(), width=80, height=16, color=False))

    legends: list[str] = []
    real_savefig = Figure.savefig

    def savefig(fig: Figure, *args: Any, **kwargs: Any) -> None:
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is not None:
                legends.extend(t.get_text() for t in legend.get_texts())
        real_savefig(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    from tangstudio.engine.lab.charts import memory_png

    memory_png(study, tmp_path / "memory.png")
    cell = [t for t in legends if t.startswith("lstm: ")]
    assert len(cell) == 2, legends  # at initialisation and after training
    MathTextParser("path").parse(cell[0].removeprefix("lstm: "))


def test_every_series_of_a_study_has_its_own_colour_and_letter() -> None:
    """lstm-fb1 and lstm-fb3 both drew as "*" in magenta; the usual four keep their looks."""
    from tangstudio.engine.lab.charts import COLORS, MARKS, series_look

    archs = ["rnn", "lstm", "lstm-fb1", "lstm-fb2", "lstm-fb3", "gru"]
    looks = series_look(archs)
    assert all(looks[a] == (COLORS[a], MARKS[a]) for a in ("rnn", "lstm", "lstm-fb2", "gru"))
    assert len({c for c, _ in looks.values()}) == len(archs)
    assert len({m for _, m in looks.values()}) == len(archs)


def test_the_accuracy_chart_marks_the_distances_that_were_run() -> None:
    """One distance drew an axis of 15 22.5 30 37.5 45 around its single point."""
    from tangstudio.engine.lab.charts import memory_text_charts

    study = one_seed_study()
    study["settings"]["distances"] = [30]
    study["runs"] = [dict(r, distance=30) for r in study["runs"] if r["distance"] == 2]
    lines = memory_text_charts(study, width=80, height=16, color=False)[0].splitlines()
    axis = lines[next(i for i, line in enumerate(lines) if "└" in line) + 1].split()
    assert axis == ["30"], axis


def test_the_rnn_is_drawn_on_top_and_the_key_sits_under_the_chart() -> None:
    """A review: plotext's legend sat at the top left, where every gradient curve starts, and the
    series drawn after the RNN hid it. The first series is drawn last; the key is a line below."""
    from tangstudio.engine.lab.charts import memory_text_charts

    study = one_seed_study()  # rnn and lstm identical: only the one on top shows
    for chart in memory_text_charts(study, width=80, height=16, color=False):
        plot, key = chart.rsplit("\n", 1)
        assert "r" in plot.replace("recall", "") and "l" not in plot.split("┐", 1)[1].split("└")[0]
        assert key == "r rnn   l lstm" and "rnn" not in plot.split("┐", 1)[1]
    coloured = memory_text_charts(study, width=80, height=16, color=True)[1]
    assert "rnn" in coloured.rsplit("\n", 1)[1] and "\x1b[" in coloured.rsplit("\n", 1)[1]


def test_a_series_and_its_cell_path_share_a_colour_in_the_png(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lstm-fb1 (no fixed colour) drew its h and its dashed C_t in two automatic colours."""
    from matplotlib.figure import Figure

    from tangstudio.engine.lab.charts import memory_png

    study = one_seed_study()
    study["settings"]["archs"].append("lstm-fb1")
    study["runs"] += [dict(r, arch="lstm-fb1") for r in study["runs"] if r["arch"] == "lstm"]
    study["gradients"]["lstm-fb1"] = {
        "init": [0.01, 0.1, 1.0], "trained": [0.01, 0.1, 1.0], "init_C": [0.5, 0.7, 1.0], "trained_C": [0.2, 0.5, 1.0]
    }  # fmt: skip
    colours: dict[str, set[str]] = {}
    real_savefig = Figure.savefig

    def savefig(fig: Figure, *args: Any, **kwargs: Any) -> None:
        for line in fig.axes[1].get_lines():
            colours.setdefault(str(line.get_label()).split(":")[0], set()).add(str(line.get_color()))
        real_savefig(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    memory_png(study, tmp_path / "memory.png")
    assert len(colours["lstm-fb1"]) == 1, colours
