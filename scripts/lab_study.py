#!/usr/bin/env python3
"""The lab half of docs/study.md, as the exact CLI commands it ran (one at a time, one thread each).

    TANGSTUDIO_HOME=/work/tsstudy python scripts/lab_study.py digits [--dry-run]
    TANGSTUDIO_HOME=/work/tsstudy python scripts/lab_study.py headline
    TANGSTUDIO_HOME=/work/tsstudy python scripts/lab_study.py equal-params

`digits`: for rnn, lstm and gru, a 3-point learning-rate sweep (seed 0), then seeds 1 and 2 at
each architecture's best val accuracy, then the BiLSTM at the LSTM's best rate (seed 0); all
with the same fixed --steps. `headline`: one LSTM 1×128 with about five CPU-minutes of steps. `equal-params`: the RNN and the GRU
with as many recurrent weights as the LSTM-128 (270 and 150 units), 3 seeds each, at their rates.
Each command and the load average before it are appended to <home>/lab/digits_log.jsonl; the
runs themselves hold every figure (metrics.jsonl has CPU and wall seconds).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from study_log import run_logged

STEPS = 2000
LRS = ("1e-3", "3e-3", "1e-2")
ARCHS = ("rnn", "lstm", "gru")
HEADLINE_STEPS = 20000


def home() -> Path:
    return Path(os.environ["TANGSTUDIO_HOME"])


def run(argv: list[str], dry: bool) -> None:
    print(" ".join(["tangstudio", *argv]), flush=True)
    if not dry:
        run_logged(argv, home() / "lab" / "digits_log.jsonl")


def best_val_acc(name: str) -> float:
    path = home() / "runs" / name / "metrics.jsonl"
    accs = [json.loads(x).get("val_acc") for x in path.read_text().splitlines() if '"eval"' in x]
    return max(a for a in accs if a is not None)


def train(name: str, arch: str, lr: str, seed: int, steps: int, dry: bool, hidden: int = 128) -> None:
    if (home() / "runs" / name / "config.toml").exists():
        print(f"# {name} exists, skipped", flush=True)
        return
    run(
        [
            "lab",
            "digits",
            "train",
            "--run",
            name,
            "--arch",
            arch,
            "--hidden",
            str(hidden),
            "--lr",
            lr,
            "--seed",
            str(seed),
            "--steps",
            str(steps),
            "--eval-every",
            "200",
            "--threads",
            "1",
        ],
        dry,
    )


def digits(dry: bool) -> None:
    for arch in ARCHS:
        for lr in LRS:
            train(f"lab-{arch}-lr{lr}-s0", arch, lr, 0, STEPS, dry)
    best = {}
    for arch in ARCHS:
        best[arch] = LRS[1] if dry else max(LRS, key=lambda lr: best_val_acc(f"lab-{arch}-lr{lr}-s0"))
        for seed in (1, 2):
            train(f"lab-{arch}-lr{best[arch]}-s{seed}", arch, best[arch], seed, STEPS, dry)
    for seed in (0,):  # once, as docs/study.md's table has it (the 16 runs; a student's review)
        train(f"lab-bilstm-lr{best['lstm']}-s{seed}", "bilstm", best["lstm"], seed, STEPS, dry)


# Recurrent weights equal to the LSTM-128's 80,896 (input 28): rnn 270 → 81,000, gru 150 → 81,000.
EQUAL_PARAMS = {"rnn": (270, "3e-3"), "gru": (150, "1e-2")}  # at the rate each chose at 128 units


def equal_params(dry: bool) -> None:
    for arch, (hidden, lr) in EQUAL_PARAMS.items():
        for seed in (0, 1, 2):
            train(f"lab-{arch}-h{hidden}-lr{lr}-s{seed}", arch, lr, seed, STEPS, dry, hidden)


def headline(dry: bool, lr: str) -> None:
    train(f"lab-lstm-5min-lr{lr}", "lstm", lr, 0, HEADLINE_STEPS, dry)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("part", choices=("digits", "headline", "equal-params"))
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--lr", default="3e-3")
    args = parser.parse_args()
    if args.part == "digits":
        digits(args.dry_run)
    elif args.part == "equal-params":
        equal_params(args.dry_run)
    else:
        headline(args.dry_run, args.lr)


if __name__ == "__main__":
    main()
