"""scripts/blind_read.py on a tiny case: the sheet hides the origin, the key holds it, the machine
poems are the first draws at their seeds, and `score` counts and averages as a person would."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "blind_read.py"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


@pytest.fixture(scope="module")
def sheet(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("blind") / "reading"
    done = run("make", "--out", str(out), "--n", "4", "--seed", "3")
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.slow
def test_make_writes_a_blind_sheet_and_keeps_the_key_apart(sheet: Path):
    from tangstudio.engine.compose.generator import Composer
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.compose.novelty import index_for_model
    from tangstudio.engine.compose.settings import ComposeSettings

    key = json.loads((sheet / "key.json").read_text(encoding="utf-8"))
    assert sorted(key) == [f"P{i:02d}" for i in range(1, 9)]
    origins = [v["origin"] for v in key.values()]
    assert origins.count("machine") == 4 and origins.count("real") == 4
    for origin in ("machine", "real"):
        assert sorted(v["form"] for v in key.values() if v["origin"] == origin) == sorted(
            ("wujue", "qijue", "wulv", "qilv")
        )
    text = (sheet / "sheet.md").read_text(encoding="utf-8")
    text = text[text.index("## P01") :]  # the poems, below the instructions
    for word in ("machine", "real", "seed", "author", "wujue", "P09"):
        assert word not in text
    for v in key.values():
        if v["origin"] == "real":
            assert v["author"] not in text and v["author"] not in (
                "李白 杜甫 白居易 王维 李商隐 杜牧 孟浩然 王昌龄 刘禹锡 韩愈".split()
            )
    assert "！" not in text and "？" not in text
    # no selection: each machine poem is the first draw at its seed with the default settings
    loaded = load_for_composing("default")
    index = index_for_model(loaded)
    for v in key.values():
        if v["origin"] == "machine":
            assert v["seed"] == 3
            again = Composer(loaded, ComposeSettings(form=v["form"], seed=3), novelty=index).finish()
            assert again.text == v["text"]


def _fill(sheet: Path, path: Path, overall: dict, guess: str, bad: str | None = None) -> None:
    key = json.loads((sheet / "key.json").read_text(encoding="utf-8"))
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["label", "fluency", "coherence", "imagery", "overall", "origin", "confidence"])
        for label, v in key.items():
            o = overall[v["origin"]]
            w.writerow([label, o, o, o, bad or o, guess, 0.9])


@pytest.mark.slow
def test_score_counts_named_origins_and_group_means(sheet: Path, tmp_path: Path):
    ratings = tmp_path / "r.csv"
    _fill(sheet, ratings, {"machine": 2, "real": 4}, "machine")
    done = run("score", "--key", str(sheet / "key.json"), "--ratings", str(ratings))
    assert done.returncode == 0, done.stderr
    assert "origins named correctly: 4 of 8 (ours 4 of 4, real 0 of 4)" in done.stdout
    assert "| ours | 2.00 | 2.00 | 2.00 | 2.00 |" in done.stdout
    assert "| real | 4.00 | 4.00 | 4.00 | 4.00 |" in done.stdout


@pytest.mark.slow
def test_score_refuses_a_rating_out_of_range_in_one_line(sheet: Path, tmp_path: Path):
    ratings = tmp_path / "r.csv"
    _fill(sheet, ratings, {"machine": 2, "real": 4}, "real", bad="7")
    done = run("score", "--key", str(sheet / "key.json"), "--ratings", str(ratings))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "overall must be from 1 to 5" in done.stderr
