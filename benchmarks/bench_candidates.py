"""`generate -n 1 --candidates K` end to end, warm: what best of K costs against K = 1 (issue 22).

    python -m benchmarks.bench_candidates [--forms qilv,wujue] [--ks 1,2,4,8] [--repeats 3]

Each command runs once to warm the file cache, then `--repeats` times; the best wall time is kept
(the machine is shared: the minimum is the least disturbed run). Printed per form and K: seconds
and the ratio to K = 1 of the same run, and the load average, since absolute seconds on a shared
machine mean little. The budget (issue 22): `generate -n 1` within 1.5 s warm.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time


def wall(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "tangstudio", "generate", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forms", default="qilv,wujue")
    parser.add_argument("--ks", default="1,2,4,8")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f} at start")
    print("| form | K | seconds (best of runs) | × K = 1 |")
    print("|---|---|---|---|")
    for form in args.forms.split(","):
        base = None
        for k in (int(x) for x in args.ks.split(",")):
            cmd = ["-n", "1", "-f", form, "--seed", "1", "--candidates", str(k)]
            wall(cmd)
            best = min(wall(cmd) for _ in range(args.repeats))
            base = base or best
            print(f"| {form} | {k} | {best:.2f} | {best / base:.2f} |")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
