#!/usr/bin/env python3
"""Set up (once) and run tangstudio from a fresh clone: `python3 scripts/dev.py app|test [args]`.

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
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".tangstudio-installed"
TORCH = os.environ.get("TANGSTUDIO_TORCH", "torch==2.13.0")


def say(message: str) -> None:
    print(f"[setup] {message}", file=sys.stderr, flush=True)


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


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in {"app", "test", "setup"}:
        raise SystemExit("usage: python3 scripts/dev.py app|test|setup [args...]")
    command, rest = sys.argv[1], sys.argv[2:]
    ensure_environment()
    os.chdir(ROOT)
    if command == "app":
        os.execv(str(BIN / "tangstudio"), [str(BIN / "tangstudio"), *rest])
    elif command == "test":
        # The whole suite runs on every core (pytest-xdist); given arguments go to pytest as they are.
        args = rest or ["-n", "auto"]
        os.execv(str(PYTHON), [str(PYTHON), "-m", "pytest", *args])


if __name__ == "__main__":
    main()
