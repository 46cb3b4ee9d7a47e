"""Colour for a probability: green for what the model expected, through yellow, to red for a surprise.

The scale is logarithmic (1 → green, 0.1 → yellow, 0.001 → red) because a character model's
choices spread over orders of magnitude; a linear scale would paint nearly everything red.
"""

from __future__ import annotations

import colorsys
import math


def tint(prob: float | None) -> str:
    if prob is None:
        return "rgb(160,160,160)"
    t = min(1.0, max(0.0, (math.log10(max(prob, 1e-9)) + 3.0) / 3.0))
    r, g, b = colorsys.hsv_to_rgb(t / 3.0, 0.75, 1.0)
    return f"rgb({round(r * 255)},{round(g * 255)},{round(b * 255)})"
