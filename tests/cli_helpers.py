"""Running the real CLI in a subprocess, as a script would, and reading a refusal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def env_for(home: Path | None) -> dict[str, str]:
    """The test's environment at 120 columns; `home` None leaves the home to a `--home` argument."""
    env = {k: v for k, v in os.environ.items() if k != "TANGSTUDIO_HOME"}
    env.update({"COLUMNS": "120", "OMP_NUM_THREADS": "1"})
    return {**env, "TANGSTUDIO_HOME": str(home)} if home is not None else env


def tangstudio(*args: str, home: Path | None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tangstudio", *args],
        capture_output=True,
        text=True,
        env=env_for(home),
        cwd=cwd,
        timeout=180,
    )


def refused(done: subprocess.CompletedProcess) -> str:
    """The one error line of a refused command, which printed nothing else."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def interrupt_once_logged(proc: subprocess.Popen, metrics: Path, event: str, seconds: float = 60) -> str:
    """SIGINT to a training `proc` once its metrics.jsonl holds an `event` line ("train", "eval");
    its stderr once it has exited 130 (asserted)."""
    import signal
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not (metrics.is_file() and f'"{event}"' in metrics.read_text()):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    return err
