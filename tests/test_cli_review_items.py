"""A user review's findings about what `generate`, `score` and `check` say: real subprocesses on the
shipped model, as a person runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LARGEST_SEED = 2**63 - 1  # torch's and numpy's seeds: a signed 64-bit number


def tangstudio(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": "120", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", *args], capture_output=True, text=True, env=env, timeout=180
    )


def refused(done: subprocess.CompletedProcess) -> str:
    """The one error line of a refused command, which printed nothing else."""
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


# --seed: the whole range of a batch, checked before its first poem ------------------------------


def test_a_batch_whose_last_seed_is_too_large_is_refused_before_its_first_poem(home: Path) -> None:
    line = refused(
        tangstudio("generate", "-n", "2", "--form", "wujue", "--seed", str(LARGEST_SEED), home=home)
    )
    assert f"the largest, {LARGEST_SEED:,}" in line
    assert f"at most {LARGEST_SEED - 1:,}" in line


def test_the_largest_seed_is_the_true_64_bit_bound_and_its_drafts_are_drawn(home: Path) -> None:
    top = ("generate", "-n", "1", "--form", "wujue", "--candidates", "2", "--seed")
    done = tangstudio(*top, str(LARGEST_SEED), home=home)
    assert done.returncode == 0, done.stderr
    assert "#1" in done.stdout
    over = refused(tangstudio(*top, str(LARGEST_SEED + 1), home=home))
    assert f"from 0 to {LARGEST_SEED:,}," in over


# Output formats ----------------------------------------------------------------------------------


def test_json_and_another_format_at_once_is_refused(home: Path) -> None:
    for other in ("md", "text"):
        line = refused(
            tangstudio("generate", "-n", "1", "--form", "wujue", "--json", "--format", other, home=home)
        )
        assert f"--json and --format {other}" in line
    done = tangstudio("generate", "-n", "1", "--form", "wujue", "--json", "--format", "json", home=home)
    assert done.returncode == 0 and done.stdout.lstrip().startswith("{"), done.stderr


# Characters named in a message: as typed, never re-spelt -----------------------------------------


def test_offending_characters_are_listed_in_typed_order_each_once(home: Path) -> None:
    title = refused(tangstudio("generate", "-n", "1", "--title", "hello", home=home))
    assert title.endswith("not h, e, l, o")
    primer = refused(tangstudio("generate", "-n", "1", "--primer", "hello", home=home))
    assert primer.endswith("vocabulary: h, e, l, o")


def test_a_poem_of_unknown_characters_only_is_nothing_to_score(home: Path) -> None:
    line = refused(tangstudio("score", "龘龘龘龘龘，龘龘龘龘龘。", home=home))
    assert line == "error: nothing to score: every character is outside the model's vocabulary (龘)"
    one = tangstudio("score", "龘日依山尽，黄河入海流。", home=home)  # one unknown: scored around
    assert one.returncode == 0, one.stderr


# --format md: forced by the form, given by the person --------------------------------------------


def test_markdown_tells_the_forms_marks_from_the_persons_characters(home: Path) -> None:
    import json

    args = ("generate", "-n", "1", "--form", "wujue", "--acrostic", "春夏", "--seed", "3")
    steps = json.loads(tangstudio(*args, "--json", home=home).stdout)["poems"][0]["steps"]
    md = tangstudio(*args, "--format", "md", home=home).stdout
    rows = {
        int(r.split("|")[1]): r.split("|")[3].strip()
        for r in md.splitlines()
        if r.startswith("| ") and r.split("|")[1].strip().isdigit()
    }
    forced = [s for s in steps if s["forced"] and s["chosen"] != "<eos>"]
    assert {rows[s["position"] + 1] for s in forced if s["chosen"] in "，。"} == {"forced"}
    assert [rows[s["position"] + 1] for s in forced if s["chosen"] in "春夏"] == ["given", "given"]
