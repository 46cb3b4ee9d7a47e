"""The Lab pane's charts: accuracy and loss of the shown runs, and the long-memory study.

Drawn with plotext into PlotextPlot widgets; every function clears and redraws, so calling one
again after a poll is all it takes to follow a run.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import Static
from textual_plotext import PlotextPlot

# the CLI's colours, lstm-fb2 included (torch-free)
from tangstudio.engine.lab.charts import seeds_phrase, series_look
from tangstudio.studio.widgets.lab_views import LabRun


def draw_curves(
    acc: PlotextPlot, loss: PlotextPlot, runs: list[LabRun], colors: dict[str, tuple[int, int, int]]
) -> None:
    """Accuracy (%) and loss (nats) against step: a line for training, dots for validation."""
    for chart, index, title, unit in ((acc, 2, "accuracy (%)", 100.0), (loss, 1, "loss (nats)", 1.0)):
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        for run in runs:
            color = colors[str(run.path)]
            if run.train:
                plt.plot(
                    [p[0] for p in run.train],
                    [p[index] * unit for p in run.train],
                    color=color,
                    marker="braille",
                )
            if run.val:
                plt.scatter(
                    [p[0] for p in run.val], [p[index] * unit for p in run.val], color=color, marker="dot"
                )
        plt.title(title)
        plt.xlabel("step")
        chart.refresh()


MEMORY_CHARTS = ("accuracy", "init", "trained")  # `g` steps through them: recall, then ∂L/∂h_t
# what the footer calls `g` when it brings each chart
NEXT_CHART_LABELS = {"init": "Grads at init", "trained": "Grads trained", "accuracy": "Recall"}
GRADIENT_AT = (10, 25, 50)  # the distances T − t the table gives, then T − 1 (docs/study.md's table)


def draw_memory(
    chart: PlotextPlot,
    table: Static,
    index: int = 0,
    chart_kind: str = "accuracy",
    wanted: Path | None = None,
) -> tuple[int, Path | None]:
    """Recall accuracy against the distance T, per architecture, of a saved study: the newest at
    `index` 0, older ones after it (a study saved with `--name m1` is one of them), and the title
    says which; with `chart_kind` "init" or "trained", its gradient norms against T − t instead, the
    vanishing gradient itself. `wanted`: the study shown before, kept when a newer one arrives (a
    TUI review saw m2 become m3, the same place in a longer list). Returns the index and the
    study drawn, `index` wrapped round the studies there are."""
    from tangstudio.engine.lab.memory import lstm_note, readable_studies, summary
    from tangstudio.engine.lab.report import spread

    plt = chart.plt
    plt.clear_data()
    plt.clear_figure()
    studies = readable_studies()
    if not studies:
        plt.title("no memory study yet")
        chart.refresh()
        table.update(
            Text(
                "Run one with: tangstudio lab memory run  (48 runs: a few CPU-minutes; --seeds 1 --steps 200 for a first look)",
                style="dim",
            )
        )
        return 0, None
    paths = [p for p, _ in studies]
    index = paths.index(wanted) if wanted in paths else index % len(studies)
    path, study = studies[index]
    rows = summary(study)
    # short enough for one row at 80 columns: a wrapped caption took a row from the chart
    which = (
        f"{index + 1} of {len(studies)}, newest first · [ ] another" if len(studies) > 1 else "the only one"
    )
    lines = Text.assemble(("study ", "dim"), (path.stem, "bold"), (f" · {which}\n", "dim"))
    if chart_kind != "accuracy":
        _draw_gradients(chart, lines, study, chart_kind)
        table.update(lines)
        return index, path
    looks = series_look(study["settings"]["archs"])
    plt.hline(100 / 8, "gray")  # first: a series drawn over the chance line, not under it
    for arch in reversed(study["settings"]["archs"]):  # the first named (rnn, the lesson) drawn last, on top
        mine = [r for r in rows if r["arch"] == arch]
        plt.plot(
            [r["distance"] for r in mine],
            [100 * r["mean"] for r in mine],
            label=arch,
            color=looks[arch][0],
            marker=looks[arch][1],  # a letter as well as a colour: the legend tells them apart
        )
    for arch in study["settings"]["archs"]:
        mine = [r for r in rows if r["arch"] == arch]
        lines.append(f"{arch:>9} ", style="bold")
        lines.append(
            "  ".join(
                f"T={r['distance']}: {spread(r['mean'], r['sd'], r['seeds'], '.0%', sep='±')}" for r in mine
            )
            + "\n"
        )
    note = lstm_note(study)
    if note:
        lines.append(note, style="dim")
    plt.ylim(0, 100)
    distances = sorted({r["distance"] for r in rows})
    plt.xticks(distances, [str(d) for d in distances])  # the distances run, not 2.5 3.8 5.0
    s = study["settings"]
    plt.title(f"{path.stem}: accuracy % vs T · {seeds_phrase(study)}, {s['steps']} steps · grey: chance")
    plt.xlabel("T")
    chart.refresh()
    table.update(lines)
    return index, path


def _draw_gradients(chart: PlotextPlot, lines: Text, study: dict, when: str) -> None:
    """‖∂L_T/∂h_t‖ (an LSTM's ‖∂L_T/∂C_t‖ dotted) over its value at t = T, against T − t, and
    under it the ratios at a few distances: the seed's vanishing gradient, in the studio as well
    as in `lab memory show` (a student's review found it in the shell alone)."""
    from tangstudio.engine.lab.charts import (
        cell_path_note,
        gradient_curves,
        gradient_title,
        plot_gradient_curves,
    )

    plt = chart.plt
    curves = gradient_curves(study, when)
    if not curves:
        plt.title("this study recorded no gradient norms")
        chart.refresh()
        lines.append("run it again with tangstudio lab memory run to record them", style="dim")
        return
    plot_gradient_curves(plt, curves)
    plt.title(gradient_title(when, study, max(40, chart.size.width)))
    plt.xlabel("T − t")
    chart.refresh()
    for rel, label, _style in curves:
        last = len(rel) - 2  # T − 1, docs/study.md's last column
        at = [d for d in GRADIENT_AT if d < last] + [last]
        lines.append(f"{label:>12} ", style="bold")
        lines.append("  ".join(f"T−t={d}: {rel[d]:.1e}" for d in at) + "\n")
    note = cell_path_note(study)
    if note:
        lines.append(note, style="dim")
