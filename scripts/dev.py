#!/usr/bin/env python3
"""Set up (once) and run tangstudio from a fresh clone: `python3 scripts/dev.py app|test|check [args]`.

`check` is what CI runs (.ci/run): ruff lint, ruff format --check, mypy, the import-linter
contracts, then the whole suite under coverage (subprocesses included) with the floor from
pyproject.toml. Every step runs even when an earlier one fails, and the exit status is non-zero
if any failed, so one CI log shows everything that is wrong.

Idempotent: the first run creates `.venv`, installs torch 2.13.0 (on this project's machines the CPU
wheel on local disk; an unpinned `torch` would pull a multi-GB CUDA build) only when the venv has no torch yet, then installs this
package in editable mode with its dev extras. Later runs reinstall only when pyproject.toml
changed. Needs nothing but Python 3.11+ and pip.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".tangstudio-installed"
# Every core; an idle worker takes tests queued on the other, so one long test near the end of a
# worker's share (the tmux session, the wheel install) does not hold the whole run up.
PARALLEL = ["-n", "auto", "--dist", "worksteal"]
TORCH = os.environ.get("TANGSTUDIO_TORCH", "torch==2.13.0")


def say(message: str, tag: str = "setup") -> None:
    print(f"[{tag}] {message}", file=sys.stderr, flush=True)


def pip(*args: str) -> None:
    subprocess.check_call([str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args])


def ensure_environment() -> None:
    if not PYTHON.exists():
        say(f"creating {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    has_torch = subprocess.run([str(PYTHON), "-c", "import torch"], capture_output=True).returncode == 0
    if not has_torch:
        say(f"installing {TORCH} (no torch in the venv yet)")
        pip(TORCH)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        say("installing tangstudio and its dependencies")
        pip("-e", f"{ROOT}[dev]")
        STAMP.write_text(wanted)


def check(pytest_args: list[str]) -> int:
    """Run every static check and the covered test suite; 1 if any of them failed."""
    steps = [
        ("ruff check", [str(BIN / "ruff"), "check", "."]),
        ("ruff format", [str(BIN / "ruff"), "format", "--check", "."]),
        ("mypy", [str(BIN / "mypy")]),  # files and options: [tool.mypy]; the engine under --strict
        ("import contracts", [str(BIN / "lint-imports")]),  # [tool.importlinter]
        (
            "tests + coverage",  # floor: [tool.coverage.report] fail_under
            [str(PYTHON), "-m", "pytest", "--cov", "--cov-report=term", *(pytest_args or PARALLEL)],
        ),
    ]
    results = []
    for name, command in steps:
        say(f"{name}: {' '.join([Path(command[0]).name, *command[1:]])}", tag="check")
        start = time.monotonic()
        code = subprocess.run(command, cwd=ROOT).returncode
        results.append((name, code, time.monotonic() - start))
    print("\ncheck summary", file=sys.stderr)
    for name, code, seconds in results:
        print(f"  {'ok  ' if code == 0 else 'FAIL'}  {name:<18} {seconds:6.1f} s", file=sys.stderr)
    return 1 if any(code != 0 for _, code, _ in results) else 0


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"app", "test", "setup", "check"}:
        raise SystemExit("usage: python3 scripts/dev.py app|test|check|setup [args...]")
    command, rest = sys.argv[1], sys.argv[2:]
    ensure_environment()
    os.chdir(ROOT)
    if command == "app":
        os.execv(str(BIN / "tangstudio"), [str(BIN / "tangstudio"), *rest])
    elif command == "test":
        # The whole suite runs on every core (pytest-xdist); given arguments go to pytest as they are.
        args = rest or PARALLEL
        os.execv(str(PYTHON), [str(PYTHON), "-m", "pytest", *args])
    elif command == "check":
        sys.exit(check(rest))


if __name__ == "__main__":
    main()
