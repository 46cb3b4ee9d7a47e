"""The Python half of benchmarks/gpu_check.sh: what each step measured, as JSON, then one Markdown table.

The shell script runs every step as its own process under a timeout (so one hung step cannot eat
the 8-minute budget) and keeps going when one fails; this module does the measuring and reading:

    info OUT --device cuda|cpu       the machine, the GPU, torch / CUDA / cuDNN (exit 1: no CUDA GPU)
    throughput OUT                   bench_train's GPU (bf16, batch 512) vs CPU (fp32, batch 128) chars/s
    recipe OUT NAME RUN_DIR          a `tangstudio train` run's step time and chars/s from its metrics.jsonl
    table OUT                        the Markdown section for docs/benchmarks.md, from everything above

Every figure sits beside a baseline measured in the same script on the same machine (the CPU, one
process), in docs/benchmarks.md's columns, so the printed table pastes in as it is.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import Row  # noqa: E402
from benchmarks.run_all import HEADERS, cells  # noqa: E402


def write(out: Path, name: str, data: dict) -> None:
    (out / f"{name}.json").write_text(json.dumps(data, indent=1), encoding="utf-8")


def read(out: Path, name: str) -> dict | None:
    path = out / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def info(out: Path, device: str) -> int:
    import torch

    data = {
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cpu": f"{platform.machine()} · {os.cpu_count()} cores · Python {platform.python_version()}",
        "threads": torch.get_num_threads(),
        "device": device,
    }
    if device == "cuda":
        if not torch.cuda.is_available():
            print(
                f"gpu_check: no CUDA GPU visible to PyTorch (torch {torch.__version__}, CUDA {torch.version.cuda})"
            )
            return 1
        props = torch.cuda.get_device_properties(0)
        data |= {
            "gpu": f"{props.name}, {props.total_memory / 2**30:.0f} GiB",
            "gpus": torch.cuda.device_count(),
            "cudnn": torch.backends.cudnn.version(),
            "bf16": torch.cuda.is_bf16_supported(),
        }
    else:
        data |= {"gpu": "none: a dry run on the CPU (tiny settings)", "gpus": 0}
    write(out, "info", data)
    print(" · ".join(f"{k} {v}" for k, v in data.items()))
    return 0


def throughput(out: Path) -> int:
    """bench_train's same-model GPU-vs-CPU comparison (emb 128, 2×LSTM 256, length buckets)."""
    from benchmarks.bench_train import gpu_vs_cpu, print_gpu_table

    result = gpu_vs_cpu()
    print_gpu_table(result)
    write(out, "throughput", result)
    return 0


def run_figures(run: Path) -> dict:
    """Step time and chars/s of a finished run, from the train lines after the first (warm-up) window.

    elapsed_s counts training time since the start, so consecutive train lines give the seconds per
    step, evaluation and checkpoints included only if one fell between them (the script asks for
    none before the end). chars_per_s is summed over all processes of a torchrun job.
    """
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    train = [e for e in lines if e.get("event") == "train" and e.get("elapsed_s") is not None]
    done = [e for e in lines if e.get("event") == "done"]
    if len(train) < 2:
        raise SystemExit(f"{run}: fewer than two train lines in metrics.jsonl")
    first, last = train[0], train[-1]
    config = tomllib.loads((run / "config.toml").read_text(encoding="utf-8"))
    return {
        "status": done[-1].get("status") if done else "no done line",
        "steps": last["step"],
        "timed_steps": last["step"] - first["step"],
        "step_s": (last["elapsed_s"] - first["elapsed_s"]) / (last["step"] - first["step"]),
        "chars_s": statistics.median(e["chars_per_s"] for e in train[1:]),
        "final_train_loss": last.get("train_loss"),
        "config": {k: config.get(k) for k in ("arch", "layers", "hidden", "embed", "batch_size", "forms")},
    }


def recipe(out: Path, name: str, run: Path) -> int:
    figures = run_figures(run)
    write(out, name, figures)
    print(json.dumps(figures))
    return 0 if figures["status"] == "finished" else 1


def recipe_label(figures: dict) -> str:
    config = figures["config"]
    cut = "" if figures["status"] == "finished" else f"; run {figures['status']}, cut short"
    return (
        f"{config.get('arch')} {config.get('layers')}×{config.get('hidden')}, emb {config.get('embed')}, "
        f"batch {config.get('batch_size')}, forms {config.get('forms')}; {figures['timed_steps']} timed steps{cut}"
    )


def rows(out: Path) -> list[Row]:
    found: list[Row] = []
    info_ = read(out, "info") or {}
    gpu = "GPU" if info_.get("device") == "cuda" else "dry run, CPU"
    bench = read(out, "throughput")
    if bench:
        g, c = bench["gpu"], bench["cpu"]
        found.append(
            Row(
                f"train chars/s, bucketed (emb 128, 2×LSTM 256), {gpu} {'bf16' if g['bf16'] else 'fp32'} batch {g['batch']}",
                g["chars_s"],
                "chars/s",
                f"same model, this machine's CPU, fp32 batch {c['batch']}",
                c["chars_s"],
            )
        )
    on_gpu, on_cpu, ddp = read(out, "recipe-gpu"), read(out, "recipe-cpu"), read(out, "ddp")
    if on_gpu and on_cpu:
        label = recipe_label(on_gpu)
        found.append(
            Row(
                f"new default's recipe ({label}): ms per training step, {gpu}",
                on_gpu["step_s"] * 1e3,
                "ms",
                f"the same on this machine's CPU ({on_cpu['timed_steps']} timed steps)",
                on_cpu["step_s"] * 1e3,
            )
        )
        found.append(
            Row(
                f"new default's recipe ({label}): chars/s, {gpu}",
                on_gpu["chars_s"],
                "chars/s",
                "the same on this machine's CPU",
                on_cpu["chars_s"],
            )
        )
    if on_gpu and ddp:
        found.append(
            Row(
                f"2-process torchrun on one {'GPU (gloo: the ranks share it)' if gpu == 'GPU' else 'CPU (gloo)'}, "
                f"chars/s of both ({ddp['timed_steps']} timed steps{'' if ddp['status'] == 'finished' else ', cut short'})",
                ddp["chars_s"],
                "chars/s",
                "1 process, same recipe and device",
                on_gpu["chars_s"],
            )
        )
    return found


def commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "tangstudio", "benchmarks")
    return (git("rev-parse", "--short", "HEAD") or "unknown") + (
        " (plus uncommitted changes)" if dirty else ""
    )


def status(rc: str) -> str:
    return {"0": "ok", "124": "TIMED OUT", "skipped": "SKIPPED (budget spent)"}.get(rc, f"FAILED (exit {rc})")


def table(out: Path, total_s: float) -> int:
    info_ = read(out, "info") or {}
    steps = [
        line.split("\t") for line in (out / "steps.tsv").read_text(encoding="utf-8").splitlines() if line
    ]
    lines = [
        "## GPU check (`benchmarks/gpu_check.sh`)",
        "",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; commit `{commit()}`",
        f"- GPU: {info_.get('gpu', '?')} ({info_.get('gpus', '?')} visible) · torch {info_.get('torch', '?')} · "
        f"CUDA {info_.get('cuda')} · cuDNN {info_.get('cudnn')} · bf16 {info_.get('bf16')}",
        f"- CPU baseline: {info_.get('cpu', '?')}, {info_.get('threads', '?')} torch threads",
        f"- total wall time {total_s / 60:.1f} min; steps: "
        + ", ".join(f"{name} {status(rc)} {s} s" for name, rc, s in steps),
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---" for _ in HEADERS) + "|",
    ]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in cells(row)) + " |" for row in rows(out)]
    print("\n".join(lines))
    return 0 if all(rc == "0" for _, rc, _ in steps) else 1


def main(argv: list[str]) -> int:
    command, out = argv[0], Path(argv[1])
    if command == "info":
        return info(out, argv[3] if argv[2:3] == ["--device"] else "cuda")
    if command == "throughput":
        return throughput(out)
    if command == "recipe":
        return recipe(out, argv[2], Path(argv[3]))
    if command == "table":
        return table(out, float(argv[2]) if len(argv) > 2 else float("nan"))
    raise SystemExit(f"unknown command {command!r}; see the module's docstring")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
