"""Peak memory (peak RSS, read inside the child: VmHWM, see REPORT) of training and of the studio.

- Training: a short `tangstudio train --headless` at the default model size (2×512 LSTM, embed
  256, batch 64, regulated verse; 20 steps, the full run's memory profile without its length),
  through the real CLI entry point, including its final evaluation (on 100 val poems, to keep it
  short) and checkpoint. Baseline: an interpreter that only imports torch, the floor any
  training process pays.
- Studio: the real `create_app()` inside `App.run_test()` once the first paint is done and its
  start-up workers (the default model read into numpy, the copy-check index) have finished, i.e.
  the idle studio ready to compose (torch is not loaded for that any more);
  against a minimal Textual app with one Static measured the same way.

Every child gets a throwaway TANGSTUDIO_HOME.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from benchmarks.common import MINIMAL_APP, STUDIO_APP, Row

# VmHWM, not ru_maxrss alone: Linux carries the parent's peak across fork+exec into the child's
# ru_maxrss, so a child of a process that imported torch would report at least the parent's peak.
# VmHWM belongs to the child's own address space, created at exec. ru_maxrss is the fallback elsewhere.
REPORT = """import resource, sys
try:
    kb = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))
except (OSError, StopIteration):
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print('MAXRSS_KB', kb, file=sys.stderr)
"""
TORCH = "import torch\n" + REPORT
TRAIN = (
    """
import sys
sys.argv = ["tangstudio", "train", "--headless", "--quiet", "--run", "mem", "--steps", "{steps}", "--samples", "0",
            "--eval-every", "100000", "--eval-poems", "100", "--forms", "{forms}"]
from tangstudio.cli import main
try:
    main()
finally:
"""
    + "\n".join("    " + line for line in REPORT.splitlines())
    + "\n"
)
APP = (
    """
import asyncio, os
{make}
async def main():
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()  # the start-up workers: the model load, the index
"""
    + "\n".join("        " + line for line in REPORT.splitlines())
    + """
        os._exit(0)
asyncio.run(main())
"""
)


def peak_rss_mb(code: str, env: dict, timeout: float = 540) -> float:
    """Max RSS the child reports about itself, in MiB (Linux reports KiB)."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout
    )
    for line in done.stderr.splitlines():
        if line.startswith("MAXRSS_KB"):
            if done.returncode not in (0, None):
                break
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"child failed (exit {done.returncode}): {done.stderr.strip()[-500:]}")


def rows(quick: bool = False) -> list[Row]:
    home = tempfile.mkdtemp(prefix="ts-bench-home-")
    env = {**os.environ, "TANGSTUDIO_HOME": home, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    steps, forms = (10, "wujue") if quick else (20, "regulated")
    try:
        torch_only = peak_rss_mb(TORCH, env)
        train = peak_rss_mb(TRAIN.format(steps=steps, forms=forms), env)
        minimal = peak_rss_mb(APP.format(make=MINIMAL_APP), env)
        studio = peak_rss_mb(APP.format(make=STUDIO_APP), env)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return [
        Row(
            f"peak RSS, `train --headless` 2×512 LSTM, {steps} steps, {forms} (MiB)",
            train,
            "MiB",
            "python + import torch",
            torch_only,
            "",
        ),
        Row(
            "peak RSS, studio started and idle on Compose, default model loaded (MiB)",
            studio,
            "MiB",
            "minimal Textual app, one Static",
            minimal,
            "≤ 400 MiB",
        ),
    ]


if __name__ == "__main__":
    from benchmarks.common import print_rows

    print_rows(rows, __doc__, digits=1)
