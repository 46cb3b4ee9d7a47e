"""Digits runs stay on the lab side (issue 25, item 3).

A lab classifier trains into the same `<home>/runs/` as the poem models. Poem commands must answer
in one line what it is, and the listings the poem side reads (charts, pickers, `runs list`'s poem
table) must not offer it. Real subprocesses on a real (tiny) lab run, as a person meets them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from studio_helpers import copy_run


def tangstudio(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": "80", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=180
    )


@pytest.fixture
def lab_and_poem_runs(trained_runs: Path, home: Path) -> Path:
    copy_run(trained_runs, home, "tiny-gru")
    done = tangstudio(
        "lab", "digits", "train", "--run", "lab-bilstm", "--arch", "bilstm", "--hidden", "4",
        "--steps", "2", "--eval-every", "2", home=home,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return home / "runs"


@pytest.mark.parametrize(
    "args",
    [
        ("generate", "--model", "lab-bilstm", "-n", "1"),
        ("score", "床前明月光，疑是地上霜。", "--model", "lab-bilstm"),
        ("eval", "lab-bilstm"),
    ],
    ids=["generate", "score", "eval"],
)
def test_poem_commands_say_a_lab_run_is_a_digits_classifier(
    lab_and_poem_runs: Path, home: Path, args
) -> None:
    done = tangstudio(*args, home=home)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert "lab-bilstm is a digits classifier, not a poem model" in done.stderr
    assert "malformed" not in done.stderr


def test_poem_listings_leave_lab_runs_out(lab_and_poem_runs: Path) -> None:
    from tangstudio.engine.runs import list_runs
    from tangstudio.engine.runs.kinds import LAB, POEM, poem_runs, run_kind

    assert [p.name for p in poem_runs(lab_and_poem_runs)] == ["tiny-gru"]
    assert run_kind(lab_and_poem_runs / "lab-bilstm") == LAB
    assert run_kind(lab_and_poem_runs / "lab-bilstm" / "checkpoints" / "best") == LAB
    assert run_kind(lab_and_poem_runs / "tiny-gru") == POEM
    assert [r.name for r in list_runs(kind=POEM)] == ["tiny-gru"]
    [lab] = list_runs(kind=LAB)
    assert lab.name == "lab-bilstm" and lab.ppl_kind is None and lab.best_val_acc is not None
    assert len(list_runs()) == 2


def test_runs_list_shows_lab_runs_in_their_own_table(lab_and_poem_runs: Path, home: Path) -> None:
    done = tangstudio("runs", "list", home=home)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert (
        out.index("poem models")
        < out.index("tiny-gru")
        < out.index("lab classifiers")
        < out.index("lab-bilstm")
    )
    lab_rows = out[out.index("lab classifiers") :]
    assert "digits" in lab_rows and "%" in lab_rows  # accuracy, not a perplexity
    listed = {
        r["name"]: r["kind"] for r in json.loads(tangstudio("runs", "list", "--json", home=home).stdout)
    }
    assert listed == {"tiny-gru": "poem", "lab-bilstm": "lab"}


def test_each_trainer_refuses_to_resume_the_other_kind_of_run_naming_the_right_command(
    lab_and_poem_runs: Path, home: Path
) -> None:
    """`train --resume` of a digits run once said "unknown training option(s): kind, task, threads"."""
    before = {p: p.read_bytes() for p in sorted(lab_and_poem_runs.rglob("*")) if p.is_file()}
    for args, line in (
        (
            ("train", "--headless", "--run", "lab-bilstm", "--resume"),
            "lab-bilstm is a lab digits run, not a poem run: resume it with tangstudio",
        ),
        (
            ("lab", "digits", "train", "--run", "tiny-gru", "--resume"),
            "tiny-gru is a poem run, not a lab run: resume it with tangstudio",
        ),
    ):
        done = tangstudio(*args, home=home)
        assert done.returncode == 2, (done.stdout, done.stderr)
        assert done.stderr.count("\n") == 1 and line in done.stderr, done.stderr
    assert (
        "lab digits train --run lab-bilstm --resume"
        in tangstudio("train", "--headless", "--run", "lab-bilstm", "--resume", home=home).stderr
    )
    after = {p: p.read_bytes() for p in sorted(lab_and_poem_runs.rglob("*")) if p.is_file()}
    assert after == before


def test_a_damaged_run_resumed_by_either_trainer_names_the_damaged_file(home: Path) -> None:
    """With neither config.toml nor a meta.json to read, a run's kind is unknown: the refusal is the
    damage, not a guess that it is a poem run."""
    broken = home / "runs" / "broken"
    broken.mkdir(parents=True)
    (broken / "config.toml").write_text("garbage = [", encoding="utf-8")
    for args in (("lab", "digits", "train"), ("train", "--headless")):
        done = tangstudio(*args, "--run", "broken", "--resume", home=home)
        assert done.returncode == 2 and "config.toml is damaged" in done.stderr, done.stderr
        assert "poem run" not in done.stderr and "lab digits run" not in done.stderr
