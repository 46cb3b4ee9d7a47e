"""The curves of one or more runs in one plotext chart (loss, perplexity, learning rate, speed).

textual-plotext rebuilds the whole chart on each refresh, so the pane calls `show()` only when a
poll brought new points (at most a few times a second), and every curve is cut down to the
widget's width first: a 100k-step run costs the same to draw as a 100-step one.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Iterator

from textual_plotext import PlotextPlot

from tangstudio.studio.follow import RunFollower, downsample

METRICS = ("loss", "ppl", "lr", "speed")
METRIC_TITLES = {
    "loss": "loss (nats/char)",
    "ppl": "perplexity",
    "lr": "learning rate",
    "speed": "characters/s",
}
# One colour per run, as RGB so plotext and Rich (the run list) show the same one.
COLORS = (
    (0, 200, 220),
    (255, 150, 30),
    (90, 210, 90),
    (220, 90, 220),
    (240, 220, 60),
    (90, 140, 255),
    (240, 80, 80),
    (200, 200, 200),
)


def run_color(index: int) -> tuple[int, int, int]:
    """The colour of the `index`-th run listed: the eight above first, then hues a golden angle
    apart, so a ninth run never takes the first one's colour and two runs are never confused."""
    if index < len(COLORS):
        return COLORS[index]
    hue = (0.61803398875 * (index - len(COLORS)) + 0.07) % 1.0
    lightness = 0.62 if index % 2 else 0.72
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, 0.75)
    return (round(red * 255), round(green * 255), round(blue * 255))


def rich_color(rgb: tuple[int, int, int]) -> str:
    return "rgb({},{},{})".format(*rgb)


def _exp(value: float) -> float:
    return math.exp(min(value, 50.0))


def step_ticks(lo: float, hi: float, most: int = 6) -> list[int]:
    """Whole-number ticks for the step axis, 1-2-5 spaced (plotext's own read `20.0 31.2 42.5`)."""
    first, last = math.ceil(lo), math.floor(hi)
    if last < first:
        return [round((lo + hi) / 2)]
    span = last - first
    size = next(s for s in _nice_sizes() if span // s + 1 <= most)
    start = math.ceil(first / size) * size
    return list(range(start, last + 1, size))


def _nice_sizes() -> Iterator[int]:
    """1, 2, 5, 10, 20, 50, …"""
    scale = 1
    while True:
        for base in (1, 2, 5):
            yield base * scale
        scale *= 10


class LossChart(PlotextPlot):
    """Plots every given run; each run keeps one colour, train as a line and val as points."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.metric = "loss"
        self.runs: list[tuple[RunFollower, tuple[int, int, int]]] = []

    def show(self, runs: list[tuple[RunFollower, tuple[int, int, int]]], metric: str | None = None) -> None:
        """Set what to plot: (follower, colour) pairs; redraws once."""
        self.runs = runs
        if metric is not None:
            self.metric = metric
        self.replot()

    def on_resize(self) -> None:
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        width = max(10, self.size.width - 12)
        plotted = 0
        steps: list[float] = []
        for run, color in self.runs:
            for _label, xs, ys, marker in self._series(run):
                if not xs:
                    continue
                xs, ys = downsample(xs, ys, width)
                plt.plot(xs, ys, color=color, marker=marker)  # the run list shows each run's colour
                steps += (xs[0], xs[-1])
                plotted += 1
        if steps:
            ticks = step_ticks(min(steps), max(steps), most=max(2, min(6, width // 10)))
            plt.xticks([float(t) for t in ticks], [f"{t:,}" for t in ticks])
        legend = " · line: train, dots: val" if self.metric in ("loss", "ppl") else ""
        plt.title(METRIC_TITLES[self.metric] + (legend if plotted else " — no points yet"))
        if self.metric == "ppl":
            plt.yscale("log")
        plt.xlabel("step")
        self.refresh()

    def _series(self, run: RunFollower) -> list[tuple[str, list[float], list[float], str]]:
        name = run.name
        if self.metric == "loss":
            return [
                (f"{name} train", [s for s, _ in run.train], [v for _, v in run.train], "braille"),
                (f"{name} val", [s for s, _, _ in run.val], [v for _, v, _ in run.val], "dot"),
            ]
        if self.metric == "ppl":
            kind = " (pseudo)" if run.ppl_kind == "pseudo" else ""
            return [
                (
                    f"{name} train{kind}",
                    [s for s, _ in run.train],
                    [_exp(v) for _, v in run.train],
                    "braille",
                ),
                (
                    f"{name} val{kind}",
                    [s for s, _, _ in run.val],
                    [p if p is not None else _exp(v) for _, v, p in run.val],
                    "dot",
                ),
            ]
        points = run.lr if self.metric == "lr" else run.speed
        return [(name, [s for s, _ in points], [v for _, v in points], "braille")]
