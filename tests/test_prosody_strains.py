"""Regression check against chinese-poetry's strains labels, on a committed sample of 200 poems.

The labels (tests/test_prosody_strains.json, MIT, © 2016 JackeyGao) are auto-generated and partly
wrong, so they are a floor, not a truth: on single-reading characters of aligned lines our tone
class must agree with them for at least 97 %. The full-corpus figure is in docs/prosody.md.
"""

from __future__ import annotations

import json
from pathlib import Path

SAMPLE = Path(__file__).with_suffix(".json")


def test_tone_classes_agree_with_strains_labels() -> None:
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.prosody.validate import strains_agreement

    rows = json.loads(SAMPLE.read_text(encoding="utf-8"))["rows"]
    labels = {row["id"]: "".join(row["strains"]) for row in rows}
    result = strains_agreement(labels, load_corpus("tang", "traditional").poems)
    counts = result["counts"]
    assert counts["poems"] == len(labels) == 200
    assert counts["aligned"] >= 0.95 * counts["lines"]
    assert counts["compared"] > 3000
    assert result["share"] >= 0.97, result["disagree_top"]
