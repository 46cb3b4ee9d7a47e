"""A first-time user review's polish items: what `compare`, `runs list`, `eval`, `generate` and the
studio say, checked the way a person meets them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def tangstudio(*args: str, home: Path, columns: int = 200) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": str(columns), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=180
    )


# 1. Training spans under a minute read in seconds ------------------------------------------------


def _arch(arch: str, train_s: float, target_s: float | None) -> dict:
    """One architecture of a saved study, as `compare` writes it."""
    return {
        "arch": arch,
        "run": f"short-{arch}",
        "path": f"/nowhere/short-{arch}",
        "params": 1000,
        "status": "finished",
        "steps": 20,
        "epochs": 0.1,
        "elapsed_s": train_s + 3,
        "train_s": train_s,
        "chars_seen": 12000,
        "chars_per_s": 300.0,
        "best_val_loss": 6.0,
        "best_val_ppl": 403.4,
        "ppl_kind": "causal",
        "curve": [],
        "target_step": None if target_s is None else 20,
        "target_train_s": target_s,
        "target_chars": None if target_s is None else 12000,
    }


def _save_study(home: Path, prefix: str) -> None:
    study = {
        "prefix": prefix,
        "archs": [_arch("rnn", 42.3, 30.0), _arch("gru", 150.0, None)],
        "target_loss": 6.1,
        "target_rule": "given with --target-loss",
        "config": {"seed": 0},
        "started": "2024-01-01T00:00:00",
    }
    folder = home / "studies"
    folder.mkdir(parents=True)
    (folder / f"{prefix}.json").write_text(json.dumps(study), encoding="utf-8")


def test_short_training_spans_read_in_seconds_long_ones_in_minutes() -> None:
    from tangstudio.engine.study.report import duration

    assert duration(0) == "0 s"
    assert duration(42.3) == "42 s"
    assert duration(59.4) == "59 s"
    assert duration(59.7) == "1.0 min"  # never "60 s"
    assert duration(150) == "2.5 min"


def test_compare_show_prints_a_short_study_in_seconds_not_zero_minutes(home: Path) -> None:
    _save_study(home, "short")
    done = tangstudio("compare", "--show", "short", "--markdown", home=home)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {
        cells[0]: cells for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines[2:])
    }
    time_col, target_col = header.index("train time"), header.index("to target")
    assert rows["rnn"][time_col] == "42 s"
    assert rows["rnn"][target_col].startswith("30 s ·")
    assert rows["gru"][time_col] == "2.5 min"
    table = tangstudio("compare", "--show", "short", home=home)
    assert table.returncode == 0, table.stderr
    assert "42 s" in table.stdout and "0.7 min" not in table.stdout
