"""Horizontal bars and bar tables, drawn the same way by the CLI (`stats`) and the studio.

Bars are drawn in eighths of a cell, so small differences still show. Rich only: both faces
already depend on it (Textual renders Rich tables), and the engine never imports this.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table

BAR = "█"
PARTIAL = " ▏▎▍▌▋▊▉"


def bar(value: float, maximum: float, width: int = 30) -> str:
    if maximum <= 0 or value <= 0:
        return ""
    eighths = round(8 * width * min(value, maximum) / maximum)
    return BAR * (eighths // 8) + (PARTIAL[eighths % 8] if eighths % 8 else "")


def no_authors(poems: int) -> str:
    """What an empty top-authors table says: the selection has poems but names no poet, or none."""
    return "no poet is named in this corpus" if poems else "no poems in this selection"


def bar_table(
    title: str, rows: Sequence[tuple[str, float]], width: int = 30, fmt: str = "{:,}", empty: str = ""
) -> Table:
    """label · value · bar, the bars scaled to the largest value; `empty` says why there are no rows."""
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        show_header=False,
        box=None,
        padding=(0, 1),
        expand=False,
    )
    values = [fmt.format(v) for _, v in rows]
    table.add_column(justify="right", no_wrap=True)
    table.add_column(justify="right", no_wrap=True, min_width=max(map(len, values), default=1))
    table.add_column(style="cyan", no_wrap=True, overflow="crop")
    top = max((v for _, v in rows), default=0)
    for (label, value), shown in zip(rows, values):
        table.add_row(label, shown, bar(value, top, width))
    if not rows and empty:
        table.add_row("", "", f"[dim]{empty}[/dim]")
    return table


def line_length_rows(line_lengths: dict[str, int], longest: int) -> list[tuple[str, int]]:
    """Clause lengths up to `longest` one by one, the rest in one row (a few long clauses are noise)."""
    lengths = sorted(line_lengths.items(), key=lambda kv: int(kv[0]))
    shown = [(f"{k} char{'' if int(k) == 1 else 's'}", n) for k, n in lengths if int(k) <= longest]
    rest = sum(n for k, n in lengths if int(k) > longest)
    return shown + ([(f">{longest} chars", rest)] if rest else [])


def cleaning_rows(cleaning: dict[str, int]) -> list[tuple[str, int]]:
    """The cleaning counters as words (`notes_removed` → `notes removed`), the same in the CLI and the studio."""
    return [(key.replace("_", " "), n) for key, n in cleaning.items()]
