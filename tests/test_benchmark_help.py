"""`python -m benchmarks.bench_X --help` prints its options: it used to run the whole benchmark
(a minute of load for a reader checking the options; a docs review)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("module", ["bench_startup", "bench_compose", "bench_slow_commands"])
def test_a_benchmark_prints_its_help_without_running(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout
    assert "load average" not in done.stdout  # nothing measured
