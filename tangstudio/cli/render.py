"""Small Rich helpers shared by the CLI commands."""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.table import Table

console = Console()
BAR = "█"
PARTIAL = " ▏▎▍▌▋▊▉"


def bar(value: float, maximum: float, width: int = 30) -> str:
    """A horizontal bar in eighths of a cell, so small differences still show."""
    if maximum <= 0:
        return ""
    eighths = round(8 * width * value / maximum)
    return BAR * (eighths // 8) + (PARTIAL[eighths % 8] if eighths % 8 else "")


def bar_table(title: str, rows: list[tuple[str, float]], value_format: str = "{:,}", width: int = 30) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 1))
    table.add_column(justify="right", style="bold")
    table.add_column(justify="right")
    table.add_column(style="cyan")
    top = max((v for _, v in rows), default=0)
    for label, value in rows:
        table.add_row(label, value_format.format(value), bar(value, top, width))
    return table


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
