"""Training a digits run from the Lab pane: `tangstudio lab digits train` in a child process.

The child writes an ordinary run folder, which the pane follows like any other, so a run started
here and one started from a shell look the same; `s` stops it with SIGINT (a checkpoint is written).
"""

from __future__ import annotations

from pathlib import Path

from tangstudio.studio.trainproc import TrainingProcess, unique_run_name

TRAIN_STEPS = 1500  # under a CPU-minute (an LSTM 1×128: about 10–20 CPU-s), ~97 % val accuracy


class LabProcess(TrainingProcess):
    """`tangstudio lab digits train --json` in its own session; stop (SIGINT) and failure as for poems."""

    COMMAND = ("lab", "digits", "train", "--json")


def start_run(runs_root: Path, log_dir: Path, arch: str, steps: int) -> LabProcess:
    """Start training `arch` for `steps` under a fresh name (`lab-<arch>`, `lab-<arch>-2`, …); OSError if it cannot."""
    name = unique_run_name(runs_root, f"lab-{arch}")
    options = {"run": name, "arch": arch, "steps": steps, "eval_every": 100, "threads": 1}
    return LabProcess(name, options, log_dir)


def ended(name: str, process: LabProcess) -> tuple[str, bool]:
    """What to say when a child has exited: (line, failed)."""
    failure = process.failure()
    if failure:
        return f"lab run {name} failed: {failure}", True
    return f"lab run {name} {'stopped' if process.stopping else 'finished'}; v shows its digits.", False
