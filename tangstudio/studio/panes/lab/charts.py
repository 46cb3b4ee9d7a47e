"""The Lab pane's charts: accuracy and loss of the shown runs, and the long-memory study.

Drawn with plotext into PlotextPlot widgets; every function clears and redraws, so calling one
again after a poll is all it takes to follow a run.
"""

from __future__ import annotations

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


def draw_memory(chart: PlotextPlot, table: Static, index: int = 0) -> int:
    """Recall accuracy against the distance T, per architecture, of a saved study: the newest at
    `index` 0, older ones after it (a study saved with `--name m1` is one of them), and the title
    says which. Returns the index drawn, `index` wrapped round the studies there are."""
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
        return 0
    index %= len(studies)
    path, study = studies[index]
    rows = summary(study)
    which = (
        "the newest saved memory study"
        if index == 0
        else f"saved memory study {index + 1} of {len(studies)}, by age"
    )
    more = " · [ ] another" if len(studies) > 1 else ""
    lines = Text.assemble(("study ", "dim"), (path.stem, "bold"), (f" · {which}{more}\n", "dim"))
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
    return index
