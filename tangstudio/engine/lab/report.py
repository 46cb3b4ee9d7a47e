"""The digits half of the study, rebuilt from run folders: sweep, seeds, test accuracy, CPU cost.

Every figure comes from what the runs wrote (config.toml, metrics.jsonl with CPU and wall
seconds) and from scoring each run's best checkpoint (chosen on val) on the 1,000 test digits,
so `lab digits report` reproduces the tables of docs/study.md from the runs alone.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import Any

from tangstudio.engine import paths
from tangstudio.engine.errors import TangError
from tangstudio.engine.runs.config import read_config
from tangstudio.engine.runs.metrics import read_metrics

TARGET = 0.97  # the bar (97 %): "steps to reach it" are read off val accuracy, the only one logged


def collect(prefix: str = "") -> list[dict[str, Any]]:
    """One row per finished lab digits run whose name starts with `prefix` (every one by default)."""
    root = paths.runs_dir()
    rows = []
    for path in sorted(root.glob(f"{prefix}*")) if root.is_dir() else []:
        try:
            config = read_config(path / "config.toml")
        except TangError:
            continue
        if config.get("kind") != "lab" or config.get("task") != "digits":
            continue
        events = read_metrics(path / "metrics.jsonl")
        done = [e for e in events if e.get("event") == "done" and e.get("status") == "finished"]
        if not done:
            continue
        evals = [e for e in events if e.get("event") == "eval"]
        reached = next((e for e in evals if e["val_acc"] >= TARGET), None)
        from tangstudio.engine.lab.train import evaluate_digits  # torch: only when a run is there

        test = evaluate_digits(path, "test")
        rows.append(
            {
                "run": path.name,
                "arch": config["arch"],
                "lr": float(config["lr"]),
                "seed": int(config["seed"]),
                "hidden": int(config["hidden"]),
                "layers": int(config.get("layers", 1)),
                "impl": str(config.get("impl", "fused")),
                "steps": int(done[-1]["step"]),
                "params": test["params"],
                "best_val_acc": max(e["val_acc"] for e in evals),
                "best_step": test["step"],
                "test_acc": test["accuracy"],
                "test_loss": test["loss"],
                "cpu_s": float(done[-1]["cpu_s"]),
                "wall_s": float(done[-1]["elapsed_s"]),
                "val_97_step": reached["step"] if reached else None,
                "val_97_cpu_s": reached.get("cpu_s") if reached else None,
                "curve": [(e["step"], e["val_acc"], e.get("cpu_s")) for e in evals],
            }
        )
    return rows


def best_rates(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Each architecture's rate with the best seed-0 val accuracy (the sweep's pick; test unseen)."""
    best: dict[str, tuple[float, float]] = {}
    for r in rows:
        if r["seed"] == 0 and (r["arch"] not in best or r["best_val_acc"] > best[r["arch"]][0]):
            best[r["arch"]] = (r["best_val_acc"], r["lr"])
    return {arch: lr for arch, (_, lr) in best.items()}


def setting(row: dict[str, Any]) -> tuple[int, int, int, str]:
    """What a fair comparison holds fixed besides the seed and rate: budget, size and kernels."""
    return row["steps"], row["hidden"], row.get("layers", 1), row.get("impl", "fused")


def same_budget(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs of the most common setting (the sweep's step budget, width, depth and kernels): a
    longer extra run, such as the five-minute LSTM, is listed but never mixed into the sweep or the
    seeds. `left_out` names the others, so that an architecture is never dropped without a word."""
    from collections import Counter

    if not rows:
        return rows
    common = Counter(setting(r) for r in rows).most_common(1)[0][0]
    return [r for r in rows if setting(r) == common]


def left_out(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The runs `same_budget` leaves out of the summary."""
    kept = {id(r) for r in same_budget(rows)}
    return [r for r in rows if id(r) not in kept]


def seed_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Test accuracy mean ± sd over the seeds at each architecture's picked rate (same budget only)."""
    rows = same_budget(rows)
    picked = best_rates(rows)
    out = []
    for arch, lr in picked.items():
        mine = [r for r in rows if r["arch"] == arch and r["lr"] == lr]
        accs = [r["test_acc"] for r in mine]
        reach = [r["val_97_cpu_s"] for r in mine if r["val_97_cpu_s"] is not None]
        out.append(
            {
                "arch": arch,
                "lr": lr,
                "seeds": len(mine),
                "test_mean": statistics.fmean(accs),
                "test_sd": statistics.stdev(accs) if len(accs) > 1 else 0.0,
                "test_accs": accs,
                "params": mine[0]["params"],
                "cpu_s_mean": statistics.fmean(r["cpu_s"] for r in mine),
                "reached_97": f"{len(reach)}/{len(mine)}",
                "cpu_s_to_97": statistics.fmean(reach) if reach else None,
            }
        )
    return out


def spread(mean: float, sd: float, runs: int, fmt: str, sep: str = " ± ") -> str:
    """mean ± sd over seeds, or the mean alone from one run: "± 0.0%" claimed a spread nobody
    measured (the CLI's tables and the Lab pane both say it this way)."""
    return f"{mean:{fmt}}" if runs < 2 else f"{mean:{fmt}}{sep}{sd:{fmt}}"


def size_label(rows: list[dict[str, Any]]) -> str:
    """The runs' layers×hidden as the title says it ("1×128", or "1×16, 2×64" for mixed sizes):
    the title said 1×128 whatever size the runs were."""
    sizes = sorted({(int(r.get("layers", 1)), int(r["hidden"])) for r in rows})
    return ", ".join(f"{layers}×{hidden}" for layers, hidden in sizes)


def accuracy_floor(rows: list[dict[str, Any]]) -> float:
    """The bottom of the accuracy axis (%): a multiple of 5 at least 2 points below the lowest val
    accuracy drawn, and never above 80 (the study's runs sit there); a fixed 80–100 put a weaker run off the chart."""
    lowest = min((100 * a for r in rows for _, a, _ in r["curve"]), default=100.0)
    return min(80.0, max(0.0, 5.0 * math.floor((lowest - 2) / 5)))  # 2 points of room below it


def digits_png(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Val accuracy against step (left) and CPU seconds (right), every run; sweep runs thin."""
    import io

    from tangstudio.engine.atomic import write_bytes_atomic

    fig = digits_figure(rows)  # first: it picks the Agg backend before pyplot is imported here
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    write_bytes_atomic(Path(path), buffer.getvalue())
    return Path(path)


def digits_figure(rows: list[dict[str, Any]]) -> Any:
    """The report's figure (matplotlib), apart from writing it so a test can read its axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tangstudio.engine.study.plot import COLORS

    picked = best_rates(same_budget(rows))
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.4))
    seen: set[str] = set()
    for r in rows:
        main = r["lr"] == picked.get(r["arch"])
        label = f"{r['arch']} lr {r['lr']:g}" if main and r["arch"] not in seen else None
        if label:
            seen.add(r["arch"])
        steps = [s for s, _, _ in r["curve"]]
        accs = [100 * a for _, a, _ in r["curve"]]
        cpus = [c for _, _, c in r["curve"]]
        style = {
            "color": COLORS.get(r["arch"], "gray"),
            "alpha": 0.9 if main else 0.3,
            "lw": 1.4 if main else 0.8,
        }
        axes[0].plot(steps, accs, label=label, **style)
        axes[1].plot(cpus, accs, **style)
    for ax, xlabel in zip(axes, ("step (batch 64)", "CPU seconds (one thread)")):
        ax.axhline(100 * TARGET, color="gray", linestyle=":")
        ax.set_ylim(accuracy_floor(rows), 100)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("val accuracy, %")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="best")  # a weak run's curve runs along the bottom
    axes[0].set_title(
        f"digits read row by row, {size_label(rows)}: every run (faint: other rates of the sweep)"
    )
    axes[1].set_title("the same against CPU time; dotted: 97 %")
    fig.tight_layout()
    return fig


def direction_ablation(target: str | Path, split: str = "test") -> dict[str, Any]:
    """Does a BiLSTM classifier use both directions? Test accuracy with each half of its features
    (the forward final state →h_T, the backward final state ←h_1) replaced by its mean over the
    split: if accuracy falls when either half is removed, the decision rests on both."""
    from tangstudio.engine.lab.classify import without_each_direction
    from tangstudio.engine.lab.tasks import DigitsTask
    from tangstudio.engine.lab.train import load_lab_checkpoint

    loaded = load_lab_checkpoint(target)
    if not loaded.model.config.bidirectional:
        raise TangError(f"{target} is not a BiLSTM run")
    data = DigitsTask().split(split)
    return {
        "run": loaded.meta.get("run"),
        "split": split,
        **without_each_direction(loaded.model, data.x, data.y),
    }
