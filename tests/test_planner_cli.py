"""`generate --title/--plan` as a user runs it (issue 21 §2): real subprocesses, a tiny plan-reading model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def tangstudio(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": "120", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=180
    )


def _one_line_error(result: subprocess.CompletedProcess, needle: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and result.stderr.strip().count("\n") == 0, result.stderr
    assert needle in result.stderr, result.stderr


@pytest.fixture
def planned_run(tiny_corpus, home) -> str:
    """A tiny untrained lstm whose vocabulary has the <title> and <kw> markers (simplified script)."""
    return _tiny_run(tiny_corpus, home, "tiny-plan", markers=True)


def _tiny_run(tiny_corpus, home, name: str, markers: bool) -> str:
    import torch

    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.models import ModelConfig, build_model
    from tangstudio.engine.runs.checkpoint import save_checkpoint

    texts = [p.text for p in load_corpus(tiny_corpus, "simplified").poems]
    vocab = Vocab.build([*texts, "送友人山水月归秋夜"], "simplified", markers=markers)
    assert vocab.has_plan == markers
    torch.manual_seed(0)
    config = ModelConfig("lstm", len(vocab), embed=16, hidden=24, layers=1)
    meta = {
        "run": name,
        "arch": "lstm",
        "model": config.to_dict(),
        "vocab": vocab.to_dict(),
        "script": "simplified",
        "corpus": {"name": tiny_corpus, "fingerprint": "x"},
        "forms": "regulated",
        "step": 0,
        "ppl_kind": "causal",
    }
    save_checkpoint(home / "runs" / name / "checkpoints" / "best", build_model(config).state_dict(), meta)
    return name


def test_a_title_is_planned_and_the_json_carries_title_and_plan(planned_run, home):
    args = ("generate", "-m", planned_run, "-n", "2", "--seed", "7", "--allow-copies", "--json", "--planner")
    alone = json.loads(tangstudio(*args[:-1], "--title", "送友人", home=home).stdout)
    assert all(not any(p["plan"]) for p in alone["poems"])  # without --planner the title is read alone
    result = tangstudio(*args, "--title", "送友人", home=home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["settings"]["title"] == "送友人"
    plans = [p["plan"] for p in data["poems"]]
    for poem in data["poems"]:
        assert poem["title"] == "送友人" and len(poem["plan"]) == 4 and all(poem["plan"])
    again = json.loads(tangstudio(*args, "--title", "送友人", home=home).stdout)
    assert [p["plan"] for p in again["poems"]] == plans  # seeded: the same plans


def test_a_given_plan_is_kept_and_dashes_are_planned(planned_run, home):
    args = ("generate", "-m", planned_run, "-n", "1", "--seed", "3", "--allow-copies", "--json")
    data = json.loads(tangstudio(*args, "--plan", "山,水,-,归", home=home).stdout)
    plan = data["poems"][0]["plan"]
    assert plan[:2] == ["山", "水"] and plan[3] == "归" and plan[2] and plan[2] not in "山水归"


def test_the_plan_is_shown_before_the_poem(planned_run, home):
    result = tangstudio(
        "generate", "-m", planned_run, "-n", "1", "--seed", "1", "--allow-copies", "--title", "秋夜",
        "--plan", "月,-,-,-", home=home,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    shown = next(i for i, line in enumerate(lines) if "题 秋夜" in line)
    assert "纲 月 · " in lines[shown]
    assert any("，" in line for line in lines[shown + 1 :])  # the poem comes after the plan


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--plan", "山,水,月"), "has 3 keywords but qijue has 4 lines"),
        (("--plan", "山,水,月,归", "--form", "wulv"), "wulv has 8 lines"),
        (("--title", "Farewell"), "the title must be Chinese characters"),
        (("--title", "送\x07友"), "control character"),
        (("--plan", "山,b,月,归"), "must be Chinese characters"),
        (("--plan", "山,水,明月光,归"), "one or two"),
        (("--plan", "山,鱻,月,归"), "not in the model's vocabulary"),
        (("--title", "送友人", "--beam", "2"), "--beam does not read a title or plan"),
    ],
)
def test_bad_titles_and_plans_get_one_line(planned_run, home, args, needle):
    _one_line_error(tangstudio("generate", "-m", planned_run, "-n", "1", *args, home=home), needle)


def test_an_old_model_refuses_a_title_in_one_line(tiny_corpus, home):
    # A model of its own: the shipped default reads titles since 8febd67.
    old = _tiny_run(tiny_corpus, home, "tiny-old", markers=False)
    result = tangstudio("generate", "-m", old, "-n", "1", "--title", "送友人", home=home)
    _one_line_error(result, "trained without titles and plans")
