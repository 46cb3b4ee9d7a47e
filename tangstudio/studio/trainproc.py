"""Training runs the studio starts: `tangstudio train --headless` in a child Python on this very
package (`engine.child`: `python -P -c …`, never a `tangstudio/` folder where the studio was started).

The child writes its run directory exactly as a run started from a shell would, and the train
pane follows that directory like any other, so the UI thread never trains and never waits.
Stopping is SIGINT (the trainer finishes its step, writes a checkpoint and exits 130); resuming
is the same command with `--resume`. No Textual here.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

from tangstudio.engine.child import python_command

INTERRUPTED = (130, 143, -signal.SIGINT, -signal.SIGTERM)


def option_args(options: dict) -> list[str]:
    """`{"batch_size": 64, "resume": True, "steps": None}` → `["--batch-size", "64", "--resume"]`."""
    args: list[str] = []
    for key, value in options.items():
        if value is None or value is False or key in ("headless", "json"):
            continue
        flag = "--" + key.replace("_", "-")
        args += [flag] if value is True else [flag, str(value)]
    return args


def unique_run_name(runs_root: Path, base: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]", "-", base).strip("-.") or "run"
    name, n = base, 2
    while (runs_root / name).exists():
        name, n = f"{base}-{n}", n + 1
    return name


def next_run_name(runs_root: Path, arch: str) -> str:
    """`gru-1`, `gru-2`, …: the first number whose run folder does not exist yet."""
    base = re.sub(r"[^A-Za-z0-9_.-]", "-", arch).strip("-.") or "run"
    n = 1
    while (runs_root / f"{base}-{n}").exists():
        n += 1
    return f"{base}-{n}"


def resume_command(command: tuple[str, ...], name: str) -> str:
    """The shell command that continues run `name` (`command` is a process's COMMAND, JSON output dropped),
    with the studio's home when it was given one: without it, pasted, it resumed in the platform's home."""
    import shlex

    from tangstudio.engine.paths import home_args

    words = [w for w in command if w != "--json"]
    return shlex.join(["tangstudio", *home_args(), *words, "--run", name, "--resume"])


def cli_command(*args: str) -> list[str]:
    """argv for `tangstudio ARGS` in a child Python, on the package this studio runs (not a
    `tangstudio/` folder where the person started it)."""
    return python_command(
        "sys.argv[0] = 'tangstudio'; from tangstudio.cli import main; sys.exit(main())", *args
    )


class TrainingProcess:
    """One child `tangstudio train --headless --json` process and its stderr log."""

    COMMAND: tuple[str, ...] = ("train", "--headless", "--json")  # after `tangstudio`

    def __init__(self, name: str, options: dict, log_dir: Path) -> None:
        self.name = name
        self.argv = cli_command(*self.COMMAND, *option_args(options))  # this package's, whatever the folder
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        with open(self.log_path, "wb") as log:
            # Own session: a Ctrl+C meant for the studio's terminal never reaches the trainer by accident.
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
                env=os.environ.copy(),
            )
        self.stopping = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def stop(self) -> None:
        """SIGINT: the trainer checkpoints and exits. Only once: a second SIGINT stops it without a checkpoint."""
        if self.process.poll() is None and not self.stopping:
            self.stopping = True
            self.process.send_signal(signal.SIGINT)

    def failure(self) -> str | None:
        """None while running or after a clean or interrupted exit; else the error's last line."""
        code = self.process.poll()
        if code is None or code == 0 or code in INTERRUPTED:
            return None
        try:
            lines = [
                ln.strip()
                for ln in self.log_path.read_text("utf-8", errors="replace").splitlines()
                if ln.strip()
            ]
        except OSError:
            lines = []
        last = lines[-1] if lines else f"exit code {code}"
        return last.removeprefix("error: ")
