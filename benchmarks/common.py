"""What every benchmark shares: a row format, timing helpers, and the machine description.

A benchmark module exposes `rows(quick: bool) -> list[Row]`; `benchmarks/run_all.py` prints them
as one table. Every figure carries a baseline measured in the same run, because these machines
are shared and noisy: only ratios travel between runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Row:
    figure: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    target: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline_value if self.baseline_value else float("nan")


def median_time(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_subprocess(code: str, repeat: int = 3) -> float:
    """Median wall time of a fresh interpreter running `code` (cold imports each time)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> str:
    try:
        import torch

        torch_info = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        torch_info = "no torch"
    return (
        f"{platform.machine()} · {os.cpu_count()} cores · Python {platform.python_version()} · {torch_info}"
    )


def print_rows(rows: Callable[..., list[Row]], doc: str | None, digits: int = 3) -> None:
    """What `python -m benchmarks.bench_X` does: its own --quick, a --help that prints help (it ran the
    whole benchmark, a minute of load, for a reader checking the options), the machine and its load,
    then each row beside its same-run baseline."""
    parser = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller workloads")
    args = parser.parse_args()
    print(machine(), "· load average", " ".join(f"{x:.1f}" for x in os.getloadavg()), flush=True)
    for row in rows(quick=args.quick):
        said = (
            f"{row.figure}: {row.value:,.{digits}f} {row.unit} (baseline {row.baseline}: "
            f"{row.baseline_value:,.{digits}f}, ×{row.ratio:.3f})"
        )
        print(f"{said} target {row.target}" if row.target else said, flush=True)


# Child-process snippets that build the app whose start-up or memory is measured: the real studio,
# and the baseline every Textual app pays (one Static).
STUDIO_APP = "from tangstudio.studio.app import create_app\napp = create_app()"
MINIMAL_APP = """
from textual.app import App
from textual.widgets import Static
class Minimal(App):
    def compose(self):
        yield Static("hello")
app = Minimal()
"""
