"""The Lab pane's charts: accuracy and loss of the shown runs, and the long-memory study.

Drawn with plotext into PlotextPlot widgets; every function clears and redraws, so calling one
again after a poll is all it takes to follow a run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import RenderResult
from textual.widgets import Static
from textual_plotext import PlotextPlot

# the CLI's colours, lstm-fb2 included (torch-free)
from tangstudio.engine.lab.charts import seeds_phrase, series_look
from tangstudio.studio.widgets.lab_views import LabRun

RICH_COLORS = {"orange": "dark_orange"}  # plotext's colour names Rich spells otherwise


def series_key(label: str, style: dict, width: int = 15) -> Text:
    """A series' name in its colour, after a sample of its line (── drawn, •• dotted, or its
    letter): the key of a chart in the rows under it, where plotext's legend, drawn inside the
    chart, hid the start of every curve (a student's review)."""
    color = RICH_COLORS.get(style.get("color", ""), style.get("color") or "")
    marker = style.get("marker")
    sample = "••" if marker == "dot" else marker * 2 if marker and len(marker) == 1 else "──"
    return Text.assemble((sample, color), " ", (f"{label:<{width - 3}}", f"bold {color}".strip()), " ")


class RowTickedPlot(PlotextPlot):
    """A PlotextPlot whose y ticks, when `y_range` is set, stand on the rows plotext draws, each
    labelled with its own row's value, worked out at each render for the size it renders at: on a
    short chart plotext's own ticks were one per row with values from elsewhere (85.1 on the row of
    77.6; the chance line of 12.5 on the row labelled 16.7: a student's review)."""

    y_range: tuple[float, float] | None = None
    # a log10 span (gradient norms): decade ticks, as many as the rows hold (engine set_decade_ticks)
    log_span: tuple[float, float] | None = None
    # the title for a width, asked at each render: drawn before the layout, the chart was 0 wide and
    # took its shortest title at any size (plotext draws none wider than the chart)
    title_for: Callable[[int], str] | None = None

    def render(self) -> RenderResult:
        if self.title_for is not None:
            self.plt.title(self.title_for(self.size.width))
        if self.y_range is not None:
            values = row_values(*self.y_range, rows=self.size.height - CHROME_ROWS)
            digits = 0 if self.y_range[1] - self.y_range[0] >= 20 else 2
            self.plt.ylim(*self.y_range)
            self.plt.yticks(values, [f"{v:.{digits}f}" for v in values])
        elif self.log_span is not None:
            from tangstudio.engine.lab.charts import set_decade_ticks

            set_decade_ticks(self.plt, self.log_span, rows=self.size.height - CHROME_ROWS)
        return super().render()


CHROME_ROWS = 5  # a chart's rows that hold no data: title, frame top and bottom, x ticks, x label


def row_values(low: float, high: float, rows: int, most: int = 5) -> list[float]:
    """At most `most` values from `low` to `high`, each the value of one of `rows` rows exactly."""
    rows = max(2, rows)
    step = max(1, -(-(rows - 1) // (most - 1)))
    picked = sorted({*range(0, rows, step), rows - 1})
    return [low + (high - low) * i / (rows - 1) for i in picked]


def _title(chart: PlotextPlot, title_for: Callable[[int], str]) -> None:
    """The chart's title for the width it renders at (now, and again at each render)."""
    if isinstance(chart, RowTickedPlot):
        chart.title_for = title_for
    chart.plt.title(title_for(chart.size.width))


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
        # finite only: a diverged run's inf (or nan) read back from metrics.jsonl stopped ceil (a review)
        values = [v for run in runs for p in (*run.train, *run.val) if math.isfinite(v := p[index] * unit)]
        if isinstance(chart, RowTickedPlot):  # accuracy over its whole scale; loss from 0 to its top
            top = 100.0 if unit == 100.0 else math.ceil(max(values, default=1.0) * 10) / 10 or 1.0
            chart.y_range = (0.0, top) if values else None
        plt.title(title)
        plt.xlabel("step")
        chart.refresh()


MEMORY_CHARTS = ("accuracy", "init", "trained")  # `g` steps through them: recall, then ∂L/∂h_t
# what the footer calls `g` when it brings each chart
NEXT_CHART_LABELS = {"init": "Grads at init", "trained": "Grads trained", "accuracy": "Recall"}
NARROW = 70  # a chart narrower than this gets the readouts in columns, one row a series
SHORT_CELL_NOTE = "C_t (dotted): the norm on an LSTM's cell state; each curve is over its value at T − t = 0"


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
    if isinstance(chart, RowTickedPlot):
        chart.y_range = (0, 100) if chart_kind == "accuracy" else None  # gradients: powers of ten
        chart.log_span = None
        chart.title_for = None
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
            color=looks[arch][0],
            marker=looks[arch][
                1
            ],  # a letter as well as a colour; keyed below, where plotext's legend hid T = 10
        )
    for arch in study["settings"]["archs"]:
        mine = [r for r in rows if r["arch"] == arch]
        lines.append_text(series_key(arch, {"color": looks[arch][0], "marker": looks[arch][1]}, width=12))
        lines.append(
            "  ".join(
                f"T={r['distance']}: {spread(r['mean'], r['sd'], r['seeds'], '.0%', sep='±')}" for r in mine
            )
            + "\n"
        )
    note = lstm_note(study)
    if note:
        lines.append(note, style="dim")
    distances = sorted({r["distance"] for r in rows})
    plt.xticks(distances, [str(d) for d in distances])  # the distances run, not 2.5 3.8 5.0
    s = study["settings"]
    titles = (  # plotext draws no title wider than its chart: at 80×24 the recall chart had none
        f"{path.stem}: accuracy % vs T · {seeds_phrase(study)}, {s['steps']} steps · grey: chance",
        f"recall % vs T · {seeds_phrase(study)}, {s['steps']} steps · grey: chance",
        "recall % vs T · grey: chance",
    )
    _title(chart, lambda width: next((t for t in titles if len(t) <= width - 4), titles[-1]))
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
        gradient_points,
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
    span = plot_gradient_curves(
        plt, curves, legend=False
    )  # keyed below: plotext's hid where every curve starts
    if isinstance(chart, RowTickedPlot):
        chart.log_span = span
    _title(chart, lambda width: gradient_title(when, study, max(40, width)))
    plt.xlabel("T − t")
    chart.refresh()
    narrow = chart.size.width < NARROW  # at 80×24 each readout wrapped and the chart had no rows left
    for k, (rel, label, style) in enumerate(curves):
        points = gradient_points(rel)
        if narrow and k == 0:
            lines.append(f"{'T − t':>15} " + "".join(f"{d:<9}" for d, _ in points) + "\n", style="dim")
        lines.append_text(series_key(label, style))
        if narrow:
            lines.append("".join(f"{v:<9.1e}" for _, v in points).rstrip() + "\n")
        else:
            lines.append("  ".join(f"T−t={d}: {v:.1e}" for d, v in points) + "\n")
    note = cell_path_note(study)
    if note:
        lines.append(SHORT_CELL_NOTE if narrow else note, style="dim")
