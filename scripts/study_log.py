"""One study command run and written down: what the study scripts share (lab_study.py, poem_study.py).

Each `tangstudio …` command runs in a child process, and a JSON line records it with its exit code,
the load average before and after, and its wall and CPU seconds, so every figure in docs/study.md
can be traced to the command and the machine's state that produced it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path


def run_logged(argv: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Run `tangstudio ARGV`, append its record to `log`, return its exit code."""
    line = " ".join(["tangstudio", *argv])
    load = os.getloadavg()
    t0, c0 = time.time(), os.times()
    code = subprocess.call([sys.executable, "-m", "tangstudio", *argv], env=env)
    c1 = os.times()
    record = {
        "command": line,
        "exit": code,
        "load_before": load,
        "load_after": os.getloadavg(),
        "wall_s": time.time() - t0,
        "child_cpu_s": (c1.children_user + c1.children_system) - (c0.children_user + c0.children_system),
    }
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as handle:
        handle.write(json.dumps(record) + "\n")
    return code
