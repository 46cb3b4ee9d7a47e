"""Startup: `tangstudio --help` and the studio's first paint, each in a fresh process.

- `tangstudio --help` (the installed console script) against `python -c pass`: the ratio is what
  the CLI costs on top of starting an interpreter (it must not import torch or Textual).
- The headless commands a person meets first, with the shipped model and a warm corpus cache (one
  untimed run fills it first): `generate --form wujue -n 1` against `python -c "import torch"`
  (target: ≤ that + 1.0 s, stretch ≤ 1.0 s flat), `score POEM` (≤ 1.5 s) and `check POEM`
  (≤ 0.3 s, it needs no model) against `python -c pass`.
- First paint: a fresh process builds the real studio with `create_app()` and enters
  `App.run_test()` — Textual enters it once the app is mounted and its first screen composed —
  then leaves at once with os._exit (teardown is not startup). Baseline: a minimal Textual app with
  one Static, timed the same way, which is the floor any Textual app pays. Target: < 1.5 s.

Every child gets a throwaway TANGSTUDIO_HOME so the figures do not depend on the user's runs.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import MINIMAL_APP, STUDIO_APP, Row

PAINT = """
import os, asyncio
{make}
async def main():
    async with app.run_test(size=(120, 40)):
        os._exit(0)
asyncio.run(main())
os._exit(3)  # run_test was never entered
"""


def _console_script() -> list[str]:
    script = Path(sys.executable).with_name("tangstudio")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tangstudio"]


def time_command(argv: list[str], repeat: int, env: dict | None = None) -> float:
    """Median wall time of a fresh process running `argv` (must exit 0)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


POEM = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"


def rows(quick: bool = False) -> list[Row]:
    repeat = 3 if quick else 5
    home = tempfile.mkdtemp(prefix="ts-bench-home-")
    env = {**os.environ, "TANGSTUDIO_HOME": home, "TERM": os.environ.get("TERM", "xterm-256color")}
    cli = _console_script()
    generate = [*cli, "generate", "--form", "wujue", "-n", "1", "--seed", "1"]
    try:
        python = time_command([sys.executable, "-c", "pass"], repeat, env)
        help_s = time_command([*cli, "--help"], repeat, env)
        time_command(generate, 1, env)  # fills the corpus cache in this home: the rest is warm
        torch_s = time_command([sys.executable, "-c", "import torch"], repeat, env)
        generate_s = time_command(generate, repeat, env)
        score_s = time_command([*cli, "score", POEM], repeat, env)
        check_s = time_command([*cli, "check", POEM], repeat, env)
        minimal = time_command([sys.executable, "-c", PAINT.format(make=MINIMAL_APP)], repeat, env)
        studio = time_command([sys.executable, "-c", PAINT.format(make=STUDIO_APP)], repeat, env)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return [
        Row(
            "`tangstudio --help`, fresh process (s)",
            help_s,
            "s",
            "python -c pass",
            python,
            "no torch/Textual import",
        ),
        Row(
            "`tangstudio generate --form wujue -n 1`, warm corpus cache (s)",
            generate_s,
            "s",
            "python -c 'import torch'",
            torch_s,
            "≤ baseline + 1.0 s; stretch ≤ 1.0 s",
        ),
        Row("`tangstudio score POEM`, shipped model (s)", score_s, "s", "python -c pass", python, "≤ 1.5 s"),
        Row("`tangstudio check POEM` (s)", check_s, "s", "python -c pass", python, "≤ 0.3 s"),
        Row(
            "studio first paint: create_app() → run_test() entered (s)",
            studio,
            "s",
            "minimal Textual app, one Static",
            minimal,
            "< 1.5 s",
        ),
    ]


if __name__ == "__main__":
    from benchmarks.common import print_rows

    print_rows(rows, __doc__, digits=3)
