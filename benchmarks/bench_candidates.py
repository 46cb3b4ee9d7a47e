"""`generate -n 1 --candidates K` end to end, warm: what best of K costs against K = 1 (issue 22).

    python -m benchmarks.bench_candidates [--forms qilv,wujue] [--ks 1,2,4,8] [--repeats 3] [--title 送友人]

Each command runs once to warm the file cache, then `--repeats` times; the best wall time is kept
(the machine is shared: the minimum is the least disturbed run). Printed per form and K: seconds
and the ratio to K = 1 of the same run, and the load average, since absolute seconds on a shared
machine mean little. The budget (issue 22): `generate -n 1` within 1.5 s warm. With --title, each
K runs twice, with title guidance off (`--guidance 0`, the baseline) and at the default, which reads
the model twice per character (engine/compose/craft/guidance.py).
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
    parser.add_argument("--title", default="", help="compose under this title, with guidance off and on")
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f} at start")
    print("| form | K | guidance | seconds (best of runs) | × K = 1 |")
    print("|---|---|---|---|---|")
    guidances = [["--guidance", "0"], []] if args.title else [[]]
    titled = ["--title", args.title] if args.title else []
    for form in args.forms.split(","):
        base = None
        for k in (int(x) for x in args.ks.split(",")):
            for guidance in guidances:
                cmd = ["-n", "1", "-f", form, "--seed", "1", "--candidates", str(k), *titled, *guidance]
                wall(cmd)
                best = min(wall(cmd) for _ in range(args.repeats))
                base = base or best
                label = "off" if guidance else ("default" if args.title else "—")
                print(f"| {form} | {k} | {label} | {best:.2f} | {best / base:.2f} |")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
