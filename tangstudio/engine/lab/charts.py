"""The memory study's two charts: accuracy against T, and ‖∂L_T/∂h_t‖ against T − t.

As text with plotext (for the terminal and the studio) and as a PNG with matplotlib (for the docs).
Gradient norms span many orders of magnitude, so both draw them on a log scale, each curve
divided by its own value at T − t = 0: what matters is how fast it falls with distance.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from tangstudio.engine.atomic import write_bytes_atomic

COLORS = {"rnn": "red", "lstm": "blue", "gru": "green", "lstm-fb2": "cyan"}
# Without colour (a pipe, a file) each series is told apart by its letter instead.
MARKS = {"rnn": "r", "lstm": "l", "gru": "g", "lstm-fb2": "f"}
HEX = {"rnn": "#d62728", "lstm": "#1f77b4", "gru": "#2ca02c", "lstm-fb2": "#17becf"}
FLOOR = 1e-30  # below this a norm is drawn at the floor (it is zero in float32 anyway)
# matplotlib's mathtext: typed plainly, "L_T" showed its underscore instead of a subscript.
GRAD_AXIS = r"$\|\partial L_T / \partial h_t\| \;/\; \|\partial L_T / \partial h_T\|$"


def accuracy_axis(seeds: int) -> str:
    """The PNG's accuracy axis: a spread is claimed only where there are seeds to spread."""
    return "recall accuracy, % (mean ± sd)" if seeds > 1 else "recall accuracy, % (one seed)"


def seeds_phrase(study: dict[str, Any]) -> str:
    """ "1 seed", "3 seeds", or for a study stopped by Ctrl+C "up to 3 seeds: interrupted after 5
    runs": its cells hold fewer seeds than it was started with, and a title must not claim them."""
    n = len(study["settings"]["seeds"])
    said = f"{n} seed{'' if n == 1 else 's'}"
    if not study.get("interrupted"):
        return said
    runs = len(study["runs"])
    return f"up to {said}: interrupted after {runs} run{'' if runs == 1 else 's'}"


def accuracy_title(study: dict[str, Any]) -> str:
    """The PNG's accuracy panel title, "1 seed" and not "1 seeds"."""
    settings = study["settings"]
    return f"{seeds_phrase(study)}, {settings['steps']} steps, hidden {settings['hidden']}"


def relative_norms(norms: list[float]) -> list[float]:
    """norms[t] / norms[T], ordered by distance T − t = 0, 1, 2, …"""
    last = norms[-1] or 1.0
    return [max(n / last, FLOOR) for n in reversed(norms)]


def _series_style(arch: str, color: bool, marker: str | None) -> dict[str, Any]:
    """plotext's colour and marker for a series: coloured in a terminal, lettered without colour."""
    if color:
        return {"color": COLORS.get(arch), "marker": marker}
    return {"marker": MARKS.get(arch, "*")}


def memory_text_charts(
    study: dict[str, Any], width: int = 80, height: int = 16, color: bool = True
) -> list[str]:
    """Two plotext charts as strings: ANSI colour for a terminal, plain text (series told apart by
    letter) with `color=False`, for a pipe or a file where the escapes were noise (`| cat -v`)."""
    import plotext as plt

    from tangstudio.engine.lab.memory import summary

    rows = summary(study)
    charts = []
    plt.clear_figure()
    plt.theme("clear")
    plt.plot_size(width, height)
    for arch in study["settings"]["archs"]:
        mine = [r for r in rows if r["arch"] == arch]
        plt.plot(
            [r["distance"] for r in mine],
            [100 * r["mean"] for r in mine],
            label=arch,
            **_series_style(arch, color, "dot"),
        )
    plt.hline(100 / 8, "gray")
    plt.ylim(0, 100)
    plt.title("recall accuracy (%) against distance T (mean of seeds; grey: chance)")
    plt.xlabel("T")
    charts.append(_finish(plt.build(), color))
    grads = study.get("gradients") or {}
    for when in ("init", "trained"):
        if not grads:
            break
        plt.clear_figure()
        plt.theme("clear")
        plt.plot_size(width, height)
        for arch, g in grads.items():
            rel = relative_norms(g[when])
            plt.plot(
                list(range(len(rel))),
                [math.log10(v) for v in rel],
                label=arch,
                **_series_style(arch, color, None),
            )
        label = "at initialisation" if when == "init" else "after training"
        plt.title(
            f"log10 ‖∂L_T/∂h_t‖ / ‖∂L_T/∂h_T‖ against T − t, {label} (T={study['settings']['grad_distance']})"
        )
        plt.xlabel("T − t")
        charts.append(_finish(plt.build(), color))
    return charts


def _finish(chart: str, color: bool) -> str:
    """The chart as built, or without its escapes: the clear theme still colours the lines."""
    if color:
        return chart
    import plotext as plt

    return str(plt.uncolorize(chart))


def memory_png(study: dict[str, Any], path: str | Path) -> Path:
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tangstudio.engine.lab.memory import summary

    rows_ = summary(study)
    settings = study["settings"]
    by_distance = study.get("gradients_by_distance") or {
        str(settings["grad_distance"]): study.get("gradients") or {}
    }
    panels = 1 + 2 * len(by_distance)
    rows = (panels + 2) // 3
    fig, grid = plt.subplots(rows, 3, figsize=(15, 4.2 * rows), squeeze=False)
    axes = list(grid.flat)
    for extra in axes[panels:]:
        extra.axis("off")
    ax = axes[0]
    several = len(settings["seeds"]) > 1
    for arch in settings["archs"]:
        mine = [r for r in rows_ if r["arch"] == arch]
        ax.errorbar(
            [r["distance"] for r in mine],
            [100 * r["mean"] for r in mine],
            yerr=[100 * r["sd"] for r in mine] if several else None,
            label=arch,
            color=HEX.get(arch),
            marker="o",
            capsize=3,
        )
    ax.axhline(100 / 8, color="gray", linestyle=":", label="chance")
    ax.set_xlabel("distance T (steps between the symbol and the query)")
    ax.set_ylabel(accuracy_axis(len(settings["seeds"])))
    ax.set_ylim(0, 102)
    ax.set_title(accuracy_title(study))
    ax.legend()
    slots = iter(axes[1:panels])
    for distance, grads in by_distance.items():
        for when in ("init", "trained"):
            ax = next(slots)
            for arch, g in grads.items():
                ax.semilogy(relative_norms(g[when]), label=arch, color=HEX.get(arch))
            ax.set_xlabel("T − t")
            ax.set_ylabel(GRAD_AXIS)
            ax.set_title(("at initialisation" if when == "init" else "after training") + f", T = {distance}")
            ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    path = Path(path)
    write_bytes_atomic(path, buffer.getvalue())
    return path
