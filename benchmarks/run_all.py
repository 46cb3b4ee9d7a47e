"""Run every benchmark and print one table; record it in docs/benchmarks.md.

    .venv/bin/python -m benchmarks.run_all            # full (under 10 minutes on a 2-core CPU)
    .venv/bin/python -m benchmarks.run_all --quick    # fewer repeats, smaller workloads
    .venv/bin/python -m benchmarks.run_all --no-write # print only

Each `benchmarks/bench_*.py` module exposes `rows(quick) -> list[Row]`; each runs in its own fresh
process (so one module's torch threads, imports or memory cannot colour the next one's figures,
and a hung module can be timed out) and hands its rows back as JSON. A module that is missing or
fails is listed under the table with the reason, and the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import Row, machine  # noqa: E402

# The order; any other bench_*.py found in the folder runs after these.
PREFERRED = ["bench_train", "bench_compose", "bench_corpus", "bench_startup", "bench_launch", "bench_memory"]
DOC = ROOT / "docs" / "benchmarks.md"
BUDGET_S = 570  # the whole suite must finish in under 10 minutes
CAP_S = {  # others: 90 s
    "bench_train": 200,
    "bench_compose": 150,
    "bench_memory": 200,
    "bench_archs": 150,
    "bench_startup": 150,  # generate, score and check each start torch
    "bench_launch": 150,  # the studio launched in tmux, warm and cold, then Space presses
}
RESERVE_S = 30  # kept back for each module still to run, so a slow one cannot starve the rest
ROWS_MARK = "BENCH_ROWS_JSON "


def modules() -> list[str]:
    found = sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py"))
    return [m for m in PREFERRED] + [m for m in found if m not in PREFERRED]


def run_module(name: str, quick: bool, timeout: float) -> tuple[list[Row], str | None, float]:
    """(rows, why it was skipped or None, seconds) for one module, run in a fresh interpreter."""
    if not (ROOT / "benchmarks" / f"{name}.py").is_file():
        return [], "module not written yet", 0.0
    code = (
        f"import json, dataclasses; from benchmarks.{name} import rows; "
        f"print({ROWS_MARK!r} + json.dumps([dataclasses.asdict(r) for r in rows(quick={quick})]))"
    )
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return [], f"timed out after {timeout:.0f} s", time.perf_counter() - start
    seconds = time.perf_counter() - start
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(ROWS_MARK)), None)
    if done.returncode != 0 or line is None:
        last = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return [], f"failed: {last[:200]}", seconds
    return [Row(**r) for r in json.loads(line[len(ROWS_MARK) :])], None, seconds


def fmt(value: float) -> str:
    if value != value:  # NaN
        return "–"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


HEADERS = ["figure", "value", "baseline (same run)", "ratio", "target"]


def cells(row: Row) -> list[str]:
    return [
        row.figure,
        f"{fmt(row.value)} {row.unit}",
        f"{row.baseline}: {fmt(row.baseline_value)} {row.unit}",
        f"×{row.ratio:.2f}" if row.ratio == row.ratio else "–",
        row.target,
    ]


def print_table(results: list[tuple[str, list[Row], str | None, float]], header: str) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # plain fallback
        print(header)
        for _, rows, _, _ in results:
            for row in rows:
                print(" | ".join(cells(row)))
    else:
        table = Table(title=header, title_justify="left")
        for name in HEADERS:
            table.add_column(name, justify="right" if name in ("value", "ratio") else "left", overflow="fold")
        for _, rows, _, _ in results:
            for row in rows:
                table.add_row(*cells(row))
        Console().print(table)
    for name, _, why, _seconds in results:
        if why:
            print(f"skipped {name}: {why}")
    print("module times: " + ", ".join(f"{name} {seconds:.0f} s" for name, _, _, seconds in results))


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "tangstudio", "benchmarks")
    return commit + (" (plus uncommitted changes in tangstudio/ or benchmarks/)" if dirty else "")


def markdown(results, header: str, commit: str, quick: bool, total_s: float, load: str) -> str:
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        "Every figure is measured against a baseline in the same run, because this machine is shared and noisy:",
        "compare ratios between runs, not raw values. Regenerate with `.venv/bin/python -m benchmarks.run_all`",
        "(which rewrites this file).",
        "",
        f"- date: {date}",
        f"- commit: `{commit}`",
        f"- machine: {header}",
        f"- mode: {'--quick' if quick else 'full'}; total wall time {total_s / 60:.1f} min",
        f"- load average (1 min) at start / end: {load}",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---" for _ in HEADERS) + "|",
    ]
    for _, rows, _, _ in results:
        for row in rows:
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells(row)) + " |")
    skipped = [(name, why) for name, _, why, _ in results if why]
    if skipped:
        lines += ["", "Skipped:"] + [f"- `{name}`: {why}" for name, why in skipped]
    lines += ["", "Seconds per module: " + ", ".join(f"`{n}` {s:.0f}" for n, _, _, s in results) + "."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and smaller workloads")
    parser.add_argument("--no-write", action="store_true", help=f"do not rewrite {DOC.relative_to(ROOT)}")
    parser.add_argument("--only", default=None, help="comma-separated module names (e.g. bench_startup)")
    parser.add_argument(
        "--budget",
        type=float,
        default=BUDGET_S,
        help="seconds for the whole suite; each module "
        "gets at most its cap and never eats the share of those still to run",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",")] if args.only else modules()
    header = machine()
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"machine: {header}", flush=True)
    start = time.perf_counter()
    results = []
    for index, name in enumerate(names):
        remaining = args.budget - (time.perf_counter() - start) - RESERVE_S * (len(names) - index - 1)
        timeout = max(min(CAP_S.get(name, 90), remaining), 10)
        print(f"running {name} (up to {timeout:.0f} s) ...", flush=True)
        rows, why, seconds = run_module(name, args.quick, timeout)
        results.append((name, rows, why, seconds))
    total = time.perf_counter() - start
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print_table(results, header)
    print(f"total {total / 60:.1f} min")
    if not args.no_write:
        DOC.write_text(
            markdown(
                results,
                header,
                git_commit(),
                args.quick,
                total,
                f"{load_start:.1f} / {load_end:.1f} on {os.cpu_count()} cores",
            ),
            encoding="utf-8",
        )
        print(f"wrote {DOC.relative_to(ROOT)}")
    return 0 if any(rows for _, rows, _, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
