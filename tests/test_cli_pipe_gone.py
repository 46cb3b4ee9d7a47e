"""A reader that quits early (`tangstudio generate -n 1000 | head -1`): every command stops quietly
with exit 141 (128 + SIGPIPE), as a shell expects, never a silent exit 1 or a traceback.

Real subprocesses whose stdout is a pipe that the test closes at once (before the child, still
importing, can have written anything), so the first write meets EPIPE whatever its size.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

POEM = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"


def reader_gone(*args: str, home: Path) -> tuple[int, str]:
    """Run the command with its output piped to a reader that leaves at once; (exit code, stderr)."""
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "COLUMNS": "80", "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen(
        [sys.executable, "-m", "tangstudio", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()
    err = child.stderr.read().decode()
    return child.wait(timeout=120), err


@pytest.mark.parametrize(
    "args",
    [
        ("generate", "-n", "1000", "--form", "wujue"),
        ("score", POEM),
        ("stats", "--corpus", "tiny"),
        ("--help",),  # Rich's own exit on a closed pipe was 1 (an engineer's review)
        ("train", "--help"),
    ],
    ids=["generate", "score", "stats", "help", "train-help"],
)
def test_a_reader_that_leaves_early_ends_the_command_with_141_and_nothing_said(
    args: tuple[str, ...], tiny_corpus: str, home: Path
) -> None:
    code, err = reader_gone(*args, home=home)
    assert code == 141, err
    assert err.strip() == ""
