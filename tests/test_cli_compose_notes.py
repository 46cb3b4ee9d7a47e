"""What `generate` says beside its poems (issue 25, items 7 and 17).

- A short acrostic (`--acrostic 春夏秋` for a 4-line form) is accepted and says which lines start
  freely; an acrostic as long as the poem says nothing, a longer one is refused in one line.
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
        [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.fixture
def heads(trained_runs: Path, tiny_corpus: str, home: Path) -> str:
    """Five characters that open lines in the tiny corpus (so the tiny model has them)."""
    from tangstudio.engine.corpus import load_corpus

    copy_run(trained_runs, home, "tiny-gru")
    poems = load_corpus(tiny_corpus, "simplified").select("regulated", "train")
    return "".join(dict.fromkeys(p.text[0] for p in poems))[:5]


def test_a_short_acrostic_says_which_lines_start_freely(heads: str, home: Path) -> None:
    done = tangstudio("generate", "-m", "tiny-gru", "--form", "wujue", "--acrostic", heads[:3], "-n", "1",
                      "--seed", "1", "--json", home=home)  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert f"the acrostic {heads[:3]} opens lines 1-3 of 4; line 4 starts freely" in data["notes"]
    lines = [line for line in data["poems"][0]["text"].replace("。", "，").split("，") if line]
    assert [line[0] for line in lines[:3]] == list(heads[:3])

    text = tangstudio("generate", "-m", "tiny-gru", "--form", "wulv", "--acrostic", heads[:2], "-n", "1",
                      "--seed", "1", home=home)  # fmt: skip
    assert text.returncode == 0, text.stderr
    assert (
        text.stdout.splitlines()[0]
        == f"the acrostic {heads[:2]} opens lines 1-2 of 8; lines 3-8 start freely"
    )


def test_a_full_acrostic_says_nothing_and_a_long_one_is_refused(heads: str, home: Path) -> None:
    full = tangstudio("generate", "-m", "tiny-gru", "--form", "wujue", "--acrostic", heads[:4], "-n", "1",
                      "--seed", "1", "--json", home=home)  # fmt: skip
    assert full.returncode == 0, full.stderr
    assert not any("acrostic" in note for note in json.loads(full.stdout)["notes"])
    long = tangstudio("generate", "-m", "tiny-gru", "--form", "wujue", "--acrostic", heads[:5], "-n", "1",
                      home=home)  # fmt: skip
    assert long.returncode == 2 and long.stderr.count("\n") == 1 and "acrostic" in long.stderr
