#!/usr/bin/env python3
"""The poem half of docs/study.md (Part II), as the exact CLI commands it ran, one at a time, one thread.

    TANGSTUDIO_HOME=/work/tsstudy python scripts/poem_study.py train [--dry-run]
    TANGSTUDIO_HOME=/work/tsstudy python scripts/poem_study.py report [--json out.json]
    TANGSTUDIO_HOME=/work/tsstudy python scripts/poem_study.py chart [--json out.json] [--png docs/study_poems.png]

`train`, on 五绝 (1 layer, embedding 64, batch 32, dropout 0.1, a fixed --steps so the machine's load
cannot change the schedule):
1. equal hidden size (128): a 3-point learning-rate sweep for each of rnn, lstm, gru and bilstm (seed 0);
2. seeds 1 and 2 at each architecture's best rate (lowest val loss), so every cell has 3 seeds;
3. equal recurrent-parameter count (the LSTM-128's 99,328): rnn 284, gru 152 and bilstm 83 hidden units,
   at the rate their architecture chose in step 1, seeds 0–2.
A run that already finished is skipped, so an interrupted study continues where it stopped. Each command
and the load average around it are appended to <home>/poems/log.jsonl.

`report` reads the best checkpoints and prints, per architecture and size (mean ± sd over the seeds):
val perplexity, the loss at rhyme positions against the other line ends
(`engine/study/rhyme.py`), the rhyme rate of unconstrained samples, and for the BiLSTM its loss written
left to right (its right side masked) beside its pseudo-loss.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
from pathlib import Path

from study_log import run_logged

STEPS = 1500
LRS = ("1e-3", "3e-3", "1e-2")
ARCHS = ("rnn", "lstm", "gru", "bilstm")
BASE_HIDDEN = 128
EQUAL_PARAMS_HIDDEN = {"rnn": 284, "gru": 152, "bilstm": 83}  # recurrent weights ≈ LSTM-128's 99,328
SEEDS = (0, 1, 2)
COMMON = [
    "--headless",
    "--forms", "wujue",
    "--embed", "64",
    "--layers", "1",
    "--dropout", "0.1",
    "--batch-size", "32",
    "--steps", str(STEPS),
    "--warmup", "100",
    "--eval-every", "100",
    "--eval-poems", "0",
    "--samples", "0",
    "--quiet",
]  # fmt: skip


def home() -> Path:
    return Path(os.environ["TANGSTUDIO_HOME"])


def run_name(arch: str, hidden: int, lr: str, seed: int) -> str:
    return f"poem-{arch}-h{hidden}-lr{lr}-s{seed}"


def finished(name: str) -> bool:
    path = home() / "runs" / name / "metrics.jsonl"
    if not path.exists():
        return False
    return any('"done"' in line and '"finished"' in line for line in path.read_text().splitlines())


def best_val_loss(name: str) -> float:
    path = home() / "runs" / name / "metrics.jsonl"
    losses = [json.loads(x)["val_loss"] for x in path.read_text().splitlines() if '"event": "eval"' in x]
    return min(losses)


def train(arch: str, hidden: int, lr: str, seed: int, dry: bool) -> str:
    name = run_name(arch, hidden, lr, seed)
    argv = ["train", *COMMON, "--arch", arch, "--hidden", str(hidden), "--lr", lr, "--seed", str(seed)]
    argv += ["--run", name]
    line = " ".join(["tangstudio", *argv])
    if finished(name):
        print(f"done already: {name}", flush=True)
        return name
    print(line, flush=True)
    if dry:
        return name
    code = run_logged(argv, home() / "poems" / "log.jsonl", {**os.environ, "OMP_NUM_THREADS": "1"})
    if code != 0:
        raise SystemExit(f"error: {name} exited {code}")
    return name


def best_lr(arch: str, dry: bool) -> str:
    if dry:
        return LRS[1]
    return min(LRS, key=lambda lr: best_val_loss(run_name(arch, BASE_HIDDEN, lr, 0)))


def train_all(dry: bool) -> None:
    for arch in ARCHS:
        for lr in LRS:
            train(arch, BASE_HIDDEN, lr, 0, dry)
    chosen = {arch: best_lr(arch, dry) for arch in ARCHS}
    print(f"best rates: {chosen}", flush=True)
    for arch in ARCHS:
        for seed in SEEDS[1:]:
            train(arch, BASE_HIDDEN, chosen[arch], seed, dry)
    for arch, hidden in EQUAL_PARAMS_HIDDEN.items():
        for seed in SEEDS:
            train(arch, hidden, chosen[arch], seed, dry)


def mean_sd(values: list[float], digits: int = 3) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def measure(name: str, arch: str, poems: int) -> dict:
    from tangstudio.engine.study.rhyme import rhyme_position_loss, unconstrained_rhyme_rate

    row: dict = {"run": name, "best_val_loss": best_val_loss(name), **rhyme_position_loss(name)}
    if arch == "bilstm":
        from tangstudio.engine.study.left_to_right import left_to_right_loss

        row["left_to_right_loss"] = left_to_right_loss(name, poems=0)["bilstm_left_to_right"]
    else:
        row["sampled"] = unconstrained_rhyme_rate(name, "wujue", poems)
    return row


def report(json_path: str | None, poems: int) -> None:
    from tangstudio.engine.study.rhyme import corpus_rhyme_rate

    chosen = {arch: best_lr(arch, False) for arch in ARCHS}
    sweep = [(arch, lr, best_val_loss(run_name(arch, BASE_HIDDEN, lr, 0))) for arch in ARCHS for lr in LRS]
    groups: dict[str, list[dict]] = {}
    for arch, hidden in [(arch, BASE_HIDDEN) for arch in ARCHS] + list(EQUAL_PARAMS_HIDDEN.items()):
        names = [run_name(arch, hidden, chosen[arch], seed) for seed in SEEDS]
        groups[f"{arch}-{hidden}"] = [measure(n, arch, poems) for n in names if finished(n)]
    corpus = corpus_rhyme_rate("wujue")
    print("Best val loss (nats/char) by peak learning rate, seed 0, hidden 128:\n")
    print("| arch | " + " | ".join(f"lr {lr}" for lr in LRS) + " |\n|---|" + "---|" * len(LRS))
    for arch in ARCHS:
        print(f"| {arch} | " + " | ".join(f"{loss:.3f}" for a, _, loss in sweep if a == arch) + " |")
    print(
        "\n| arch | hidden | seeds | val loss (ppl) | line 2 (first rhyme) | line 4 (echo rhyme) | lines 1, 3 ends"
        " | unconstrained: 五绝 shape | … and rhyming |\n|---|---|---|---|---|---|---|---|---|"
    )
    for key, rows in groups.items():
        if not rows:
            continue
        arch, hidden = key.rsplit("-", 1)
        loss = [r["best_val_loss"] for r in rows]
        ppl = statistics.mean(math.exp(v) for v in loss)
        cells = [mean_sd([r[k] for r in rows]) for k in ("first_rhyme", "echo_rhyme", "odd_end")]
        if arch == "bilstm":
            cells += ["– (not causal)", "–"]
        else:
            cells += [mean_sd([100 * r["sampled"][k] for r in rows], 1) + " %" for k in ("form", "rhyme")]
        print(
            f"| {arch} | {hidden} | {len(rows)} | {mean_sd(loss)} ({ppl:.1f}) | " + " | ".join(cells) + " |"
        )
    print(
        f"\nval 五绝 ({corpus['poems']}): {100 * corpus['real']:.1f} % rhyme by the checker;"
        f" with the last line taken from the next poem, {100 * corpus['last_line_swapped']:.1f} %."
    )
    bi = [r for key, rows in groups.items() if key.startswith("bilstm") for r in rows]
    if bi:
        print(
            "\n| bilstm run | pseudo-loss (both sides) | left to right (right side masked) |\n|---|---|---|"
        )
        for r in bi:
            print(f"| {r['run']} | {r['best_val_loss']:.3f} | {r['left_to_right_loss']:.3f} |")
    if json_path:
        data = {"chosen_lr": chosen, "sweep": sweep, "groups": groups, "corpus": corpus}
        Path(json_path).write_text(json.dumps(data, indent=1, ensure_ascii=False))


def chart(report_json: str, png: str) -> None:
    """docs/study_poems.png: val loss against step (mean of the seeds) and the loss at line ends."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tangstudio.engine.study.plot import COLORS

    data = json.loads(Path(report_json).read_text())
    fig, (curves, ends) = plt.subplots(1, 2, figsize=(13, 4.8))
    keys = [k for k, rows in data["groups"].items() if rows]
    for key in keys:
        arch, hidden = key.rsplit("-", 1)
        series = []
        for row in data["groups"][key]:
            path = home() / "runs" / row["run"] / "metrics.jsonl"
            evals = [json.loads(x) for x in path.read_text().splitlines() if '"event": "eval"' in x]
            series.append({e["step"]: e["val_loss"] for e in evals})
        steps = sorted(set.intersection(*(set(s) for s in series)))
        mean = [statistics.mean(s[t] for s in series) for t in steps]
        base = int(hidden) == BASE_HIDDEN  # the two BiLSTMs told apart (both were dashed)
        style = ("--" if base else "-.") if arch == "bilstm" else ("-" if base else ":")
        curves.plot(steps, mean, style, color=COLORS[arch], label=f"{arch}-{hidden}")
    curves.set(xlabel="step (batch of 32 poems)", ylabel="val loss, nats/token (bilstm: pseudo)")
    curves.set_title("wujue (5-character quatrains), each cell at its rate, mean of 3 seeds", fontsize=10)
    curves.legend(fontsize=8)
    roles = (
        ("first_rhyme", "line 2 end"),
        ("echo_rhyme", "line 4 end (echo)"),
        ("odd_end", "lines 1, 3 ends"),
    )
    width = 0.8 / len(roles)
    for i, (role, label) in enumerate(roles):
        values = [statistics.mean(r[role] for r in data["groups"][k]) for k in keys]
        errors = [statistics.stdev(r[role] for r in data["groups"][k]) for k in keys]
        x = [j + i * width for j in range(len(keys))]
        ends.bar(x, values, width, yerr=errors, label=label, capsize=2)
    ends.set_xticks([j + width for j in range(len(keys))], keys, rotation=30, fontsize=8)
    ends.set_ylim(5.5, 7.2)
    ends.set(ylabel="val loss at the position, nats (axis from 5.5)")
    # not "the echo is predicted from line 2": no cell rhymes above chance (docs/study.md, item 2)
    ends.set_title("loss at line ends (axis from 5.5 nats)", fontsize=10)
    ends.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=["train", "report", "chart"])
    parser.add_argument("--dry-run", action="store_true", help="print the commands, train nothing")
    parser.add_argument("--json", dest="json_path", help="report: also write the figures here")
    parser.add_argument("--poems", type=int, default=200, help="report: unconstrained samples per run")
    parser.add_argument("--png", default="docs/study_poems.png", help="chart: where the figure goes")
    args = parser.parse_args()
    if "TANGSTUDIO_HOME" not in os.environ:
        raise SystemExit("error: set TANGSTUDIO_HOME to the study's home folder")
    if args.phase == "train":
        train_all(args.dry_run)
    elif args.phase == "report":
        report(args.json_path, args.poems)
    else:
        chart(args.json_path or str(home() / "poems" / "report.json"), args.png)


if __name__ == "__main__":
    main()
