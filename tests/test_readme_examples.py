"""The README's opening examples are the shipped model's real output: each `$ tangstudio generate …`
of its first block, run now, prints what the README shows (a review found the acrostic example
stale after the composer changed)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _generate_examples() -> list[tuple[str, str]]:
    """(command, the output shown under it) for each generate command of the README's first block."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```\n(.*?)```", text, re.S)
    assert block is not None
    examples = []
    for chunk in re.split(r"\n(?=\$ )", block.group(1).strip()):
        command, _, shown = chunk.partition("\n")
        if command.startswith("$ tangstudio generate"):
            examples.append((command[2:], shown.strip("\n")))
    return examples


def test_the_readme_has_generate_examples() -> None:
    assert len(_generate_examples()) >= 2


@pytest.mark.parametrize("command, shown", _generate_examples())
def test_a_readme_example_prints_what_the_readme_shows(command: str, shown: str, tmp_path: Path) -> None:
    env = {**os.environ, "TANGSTUDIO_HOME": str(tmp_path / "home"), "COLUMNS": "100"}
    env.pop("TANGSTUDIO_MODELS", None)  # the shipped default model
    out = subprocess.run(
        [sys.executable, "-m", *shlex.split(command)], capture_output=True, text=True, env=env, check=True
    )
    printed = "\n".join(line.rstrip() for line in out.stdout.strip("\n").splitlines())
    assert printed == "\n".join(line.rstrip() for line in shown.splitlines())
