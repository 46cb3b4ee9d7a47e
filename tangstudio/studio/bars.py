"""Horizontal bars in eighths of a cell, so small differences still show."""

from __future__ import annotations

BAR = "█"
PARTIAL = " ▏▎▍▌▋▊▉"


def bar(value: float, maximum: float, width: int = 30) -> str:
    if maximum <= 0 or value <= 0:
        return ""
    eighths = round(8 * width * min(value, maximum) / maximum)
    return BAR * (eighths // 8) + (PARTIAL[eighths % 8] if eighths % 8 else "")
