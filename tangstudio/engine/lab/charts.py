"""The memory study's charts: accuracy against T, and ‖∂L_T/∂h_t‖ (an LSTM's ‖∂L_T/∂C_t‖ too) against T − t.

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
FLOOR = 1e-45  # below this a norm is drawn at the floor (the smallest float32 gradient entry is 1.4e-45)
# matplotlib's mathtext: typed plainly, "L_T" showed its underscore instead of a subscript.
GRAD_AXIS = r"$\|\partial L_T / \partial h_t\| \;/\; \|\partial L_T / \partial h_T\|$"
# With an LSTM's cell path drawn (dashed), each curve is over its own value at t = T.
GRAD_AXIS_WITH_CELL = (
    r"$\|\partial L_T / \partial h_t\|$, $\|\partial L_T / \partial C_t\|$ (dashed)"
    + "\n"
    + r"each over its value at $t = T$"
)
# Said under the gradient charts of a study that holds an LSTM's cell path (a longer title vanished).
CELL_PATH_NOTE = (
    "C_t: the same norm on an LSTM's cell state. Each curve is over its own value at T − t = 0, so "
    "compare slopes: ∂L/∂C_T is ∂L/∂h_T times o_T·tanh′(C_T), small where C saturates, which lifts "
    "the C_t curve's start."
)


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


# For series beyond the four named above (lstm-fb1, lstm-fb3, …): each its own colour and letter,
# where every one of them had drawn as "*" in magenta and two forget biases could not be told apart.
SPARE_COLORS = ("magenta", "yellow", "orange")  # not gray (the chance line) nor white (light terminals)
SPARE_MARKS = "abcdehijkmnopqstuvwxyz"


def series_look(archs: list[str]) -> dict[str, tuple[str, str]]:
    """(plotext colour, letter) for each series of a study, the four usual ones as always."""
    looks = {a: (COLORS[a], MARKS[a]) for a in archs if a in COLORS}
    colors = [c for c in SPARE_COLORS if c not in {c for c, _ in looks.values()}]
    marks = [m for m in SPARE_MARKS if m not in {m for _, m in looks.values()}]
    for k, arch in enumerate(a for a in archs if a not in looks):
        looks[arch] = (colors[k % len(colors)], marks[k % len(marks)])
    return looks


def _series_style(look: tuple[str, str], color: bool, marker: str | None) -> dict[str, Any]:
    """plotext's colour and marker for a series: coloured in a terminal, lettered without colour."""
    if color:
        return {"color": look[0], "marker": marker}
    return {"marker": look[1]}


def memory_text_charts(
    study: dict[str, Any], width: int = 80, height: int = 16, color: bool = True
) -> list[str]:
    """Two plotext charts as strings: ANSI colour for a terminal, plain text (series told apart by
    letter) with `color=False`, for a pipe or a file where the escapes were noise (`| cat -v`)."""
    import plotext as plt

    from tangstudio.engine.lab.memory import summary

    rows = summary(study)
    grads = study.get("gradients") or {}
    looks = series_look(list(dict.fromkeys([*study["settings"]["archs"], *grads])))
    charts = []
    plt.clear_figure()
    plt.theme("clear")
    plt.plot_size(width, height)
    plt.hline(100 / 8, "gray")  # first: a series drawn over it, not under
    drawn: list[tuple[str, dict[str, Any]]] = []
    for arch in study["settings"]["archs"]:
        mine = [r for r in rows if r["arch"] == arch]
        if mine:
            drawn.append((arch, _series_style(looks[arch], color, "dot")))
    for arch, style in reversed(drawn):  # the first named (rnn, the lesson) drawn last, on top
        mine = [r for r in rows if r["arch"] == arch]
        plt.plot([r["distance"] for r in mine], [100 * r["mean"] for r in mine], **style)
    plt.ylim(0, 100)
    distances = sorted({r["distance"] for r in rows})
    plt.xticks(distances, [str(d) for d in distances])  # the distances run, not 15 22.5 30 37.5 45
    plt.title("recall accuracy (%) against distance T (mean of seeds; grey: chance)")
    plt.xlabel("T")
    charts.append(_finish(plt.build(), color) + "\n" + _legend(drawn, color))
    for when in ("init", "trained"):
        if not grads:
            break
        plt.clear_figure()
        plt.theme("clear")
        plt.plot_size(width, height)
        series = gradient_curves(study, when, color)
        plot_gradient_curves(plt, series, legend=False, rows=height - 5)
        plt.title(gradient_title(when, study, width))
        plt.xlabel("T − t")
        legend = _legend([(label, style) for _rel, label, style in series], color)
        charts.append(_finish(plt.build(), color) + "\n" + legend)
    return charts


def plot_gradient_curves(
    plt: Any,
    curves: list[tuple[list[float], str, dict[str, Any]]],
    legend: bool = True,
    rows: int | None = None,
) -> tuple[float, float]:
    """`gradient_curves` into a plotext figure on a log scale: the first (rnn) drawn last, on top,
    and the y ticks whole powers of ten (plotext's own read 1 as "-0.00"). `legend`: plotext's own
    (the terminal's charts print theirs under the chart). `rows`: the plot's rows, where known.
    Returns the log10 span of the values, for `set_decade_ticks` at another size."""
    logs = [[math.log10(v) for v in rel] for rel, _, _ in curves]
    for (_, label, style), log in reversed(list(zip(curves, logs))):
        plt.plot(list(range(len(log))), log, **({"label": label} if legend else {}), **style)
    span = min(map(min, logs)), max(map(max, logs))
    set_decade_ticks(plt, span, rows)
    return span


def set_decade_ticks(plt: Any, span: tuple[float, float], rows: int | None = None) -> None:
    """Whole powers of ten over `span`, at most one every other row of a plot `rows` high: six ticks
    on five rows put 1e-4 and 1e-6 on one row, and "1e-6" stood a decade from its value on the
    vanishing-gradient chart itself (a student's review at 80×24)."""
    most = 6 if rows is None else max(2, min(6, (rows - 1) // 2 + 1))
    ticks = decade_ticks(*span, most=most)
    plt.ylim(ticks[-1], ticks[0])  # plotext draws only the ticks inside its range: end on ticks
    plt.yticks(ticks, [decade_label(k) for k in ticks])


def decade_ticks(low: float, high: float, most: int = 6) -> list[int]:
    """Whole powers of ten (as log10 values) from the one at or above `high` down to the one at or
    below `low`, evenly spaced, at most `most` of them and at least two."""
    top, bottom = math.ceil(high), math.floor(low)
    if bottom == top:
        bottom -= 1
    step = math.ceil((top - bottom) / (most - 1))
    ticks = list(range(top, bottom - 1, -step))
    if ticks[-1] > bottom:  # the step overshot: one more below, so every value is inside
        ticks.append(ticks[-1] - step)
    return ticks


def decade_label(k: int) -> str:
    """10^k as a chart's tick: 1, 10, 100, 1e-5."""
    return str(10**k) if 0 <= k <= 2 else f"1e{k}"


def _legend(series: list[tuple[str, dict[str, Any]]], color: bool) -> str:
    """The key under a chart, not plotext's: its legend sits at the top left, where every gradient
    curve starts (each is 1 at T − t = 0), and hid the start of them all; an RNN's whole curve was
    lost under the others (a review). A dotted series (an LSTM's C_t) is keyed in dots."""
    import plotext as plt

    keys = []
    for label, style in series:
        if not color:
            keys.append(f"{style['marker']} {label}")
            continue
        line = "••" if style.get("marker") == "dot" else "──"
        keys.append(f"{plt.colorize(line, style['color'])} {label}")
    return "   ".join(keys)


def _gradient_title(when: str, distance: int, cell_path: bool, width: int) -> str:
    """The longest title that fits: plotext drew none at all for one wider than the chart. With an
    LSTM's C_t drawn the title says each curve is over its own end value, not over ‖∂L_T/∂h_T‖. The
    axis is logarithmic, its ticks powers of ten (plot_gradient_curves)."""
    label = "at initialisation" if when == "init" else "after training"
    short = "initial" if when == "init" else "trained"
    if cell_path:
        titles = [
            f"‖∂L_T/∂h_t‖, ‖∂L_T/∂C_t‖, each ÷ its value at t = T · {short} (T={distance})",
            f"‖∂L/∂h_t‖, ‖∂L/∂C_t‖ ÷ value at t = T · {short}",
        ]
    else:
        titles = [
            f"‖∂L_T/∂h_t‖ / ‖∂L_T/∂h_T‖ against T − t, {label} (T={distance})",
            f"‖∂L/∂h_t‖ / ‖∂L/∂h_T‖ · {short} (T={distance})",
        ]
    return next((t for t in titles if len(t) <= width - 4), f"gradient norms · {short}")


def gradient_curves(
    study: dict[str, Any], when: str, color: bool = True
) -> list[tuple[list[float], str, dict[str, Any]]]:
    """(relative norms by T − t, label, plotext style) of every series whose gradients the study
    recorded, `when` "init" or "trained": the terminal's charts and the studio's Lab pane draw these."""
    grads = study.get("gradients") or {}
    looks = series_look(list(dict.fromkeys([*study["settings"]["archs"], *grads])))
    return [s for arch, g in grads.items() for s in _gradient_series(arch, looks[arch], g, when, color)]


GRADIENT_AT = (10, 25, 50)  # the distances T − t the table gives, then T − 1 (docs/study.md's table)


def gradient_points(rel: list[float]) -> list[tuple[int, float]]:
    """(T − t, relative norm) at the distances docs/study.md's table gives, then T − 1: the figures
    under a gradient chart, where close curves hide one another (the GRU under the LSTM and the RNN
    in the terminal's chart: a student's review)."""
    last = len(rel) - 2
    return [(d, rel[d]) for d in (*(d for d in GRADIENT_AT if d < last), last)]


def gradient_title(when: str, study: dict[str, Any], width: int) -> str:
    """The longest title for a gradient chart of `study` that fits in `width` columns."""
    grads = study.get("gradients") or {}
    return _gradient_title(when, study["settings"]["grad_distance"], _has_cell_path(grads), width)


def _has_cell_path(grads: dict[str, Any]) -> bool:
    return any("init_C" in g for g in grads.values())


def cell_path_note(study: dict[str, Any]) -> str | None:
    """CELL_PATH_NOTE where the study drew an LSTM's ∂L/∂C_t (studies before 2026-12-07 did not)."""
    return CELL_PATH_NOTE if _has_cell_path(study.get("gradients") or {}) else None


def _gradient_series(
    arch: str, look: tuple[str, str], g: dict[str, list[float]], when: str, color: bool
) -> list[tuple[list[float], str, dict[str, Any]]]:
    """(relative norms, label, plotext style) of ∂L/∂h_t, and of an LSTM's ∂L/∂C_t where the study
    holds it: the same colour, drawn in dots (capital letter without colour)."""
    series = [(relative_norms(g[when]), arch, _series_style(look, color, None))]
    if f"{when}_C" in g:
        style = {"color": look[0], "marker": "dot"} if color else {"marker": look[1].upper()}
        series.append((relative_norms(g[f"{when}_C"]), f"{arch} C_t", style))
    return series


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
    looks = series_look(
        list(dict.fromkeys([*settings["archs"], *(a for g in by_distance.values() for a in g)]))
    )
    colour = {arch: HEX.get(arch, look[0]) for arch, look in looks.items()}  # h and C_t of a series alike
    for arch in settings["archs"]:
        mine = [r for r in rows_ if r["arch"] == arch]
        ax.errorbar(
            [r["distance"] for r in mine],
            [100 * r["mean"] for r in mine],
            yerr=[100 * r["sd"] for r in mine] if several else None,
            label=arch,
            color=colour[arch],
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
                ax.semilogy(relative_norms(g[when]), label=arch, color=colour[arch])
                if f"{when}_C" in g:
                    ax.semilogy(
                        relative_norms(g[f"{when}_C"]),
                        label=f"{arch}: " + r"$\partial L_T / \partial C_t$",
                        color=colour[arch],
                        linestyle="--",
                    )
            ax.set_xlabel("T − t")
            ax.set_ylabel(GRAD_AXIS_WITH_CELL if _has_cell_path(grads) else GRAD_AXIS)
            ax.set_title(("at initialisation" if when == "init" else "after training") + f", T = {distance}")
            ax.legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    path = Path(path)
    write_bytes_atomic(path, buffer.getvalue())
    return path
