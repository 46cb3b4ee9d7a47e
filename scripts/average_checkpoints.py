#!/usr/bin/env python3
"""Average the weights of several checkpoints of one run: AWD-LSTM's last step, done after the fact.

    python scripts/average_checkpoints.py OUT CKPT [CKPT ...]
    python scripts/average_checkpoints.py --keep RUN_DIR [--every 10]

Merity et al. (2017) end training with averaged SGD: the mean of the weights over the last stretch
of training sits nearer the bottom of the valley the optimizer is bouncing around in than any one
iterate. The trainer keeps only `best` and `last`, so `--keep` copies `last` aside (as
`keep/step-NNNNNN`) every few minutes while a run trains, and the first form averages what was kept
into a new checkpoint whose meta.json names its sources. Its validation figures are left empty:
evaluate it (`tangstudio eval OUT`) before choosing it over `best`.

Every source must have the same architecture, vocabulary and tensor shapes; anything else is
refused with one line. Weights are read and written through the engine's checkpoint code (sha256
checked, written atomically, never pickled).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VAL_FIELDS = ("val_loss", "val_ppl", "val_bits_per_char", "best_val_loss")


def average(out: Path, sources: list[Path]) -> dict:
    """Write the mean of the sources' weights to `out`; returns its meta.json."""
    import torch

    from tangstudio.engine.errors import TangError
    from tangstudio.engine.runs.checkpoint import read_meta, read_weights, save_checkpoint

    metas = [read_meta(s) for s in sources]
    first = metas[0]
    for source, meta in zip(sources[1:], metas[1:]):
        for key in ("arch", "model", "vocab", "script"):
            if meta.get(key) != first.get(key):
                raise TangError(f"{source} differs from {sources[0]} in its {key}: cannot average them")
    total: dict[str, torch.Tensor] = {}
    dtypes: dict[str, torch.dtype] = {}
    for source, meta in zip(sources, metas):
        weights = read_weights(source, meta)
        if total and weights.keys() != total.keys():
            raise TangError(f"{source} holds other tensors than {sources[0]}: cannot average them")
        for name, tensor in weights.items():
            if name in total and tensor.shape != total[name].shape:
                raise TangError(
                    f"{source}: {name} has shape {list(tensor.shape)}, not {list(total[name].shape)}"
                )
            total[name] = total.get(name, torch.zeros_like(tensor, dtype=torch.float64)) + tensor.double()
            dtypes[name] = tensor.dtype
    mean = {name: (t / len(sources)).to(dtypes[name]) for name, t in total.items()}
    last = max(metas, key=lambda m: m.get("step") or 0)
    meta = {
        k: v for k, v in last.items() if k not in ("format", "version", "checkpoint_id", "weights_sha256")
    }
    meta.update({k: None for k in VAL_FIELDS})
    meta["averaged_from"] = [{"path": str(s), "step": m.get("step")} for s, m in zip(sources, metas)]
    save_checkpoint(out, mean, meta)
    return meta


def keep(run_dir: Path, every_min: float) -> None:
    """Copy `last` to keep/step-N whenever its step changes; a copy that is torn by a concurrent swap
    is detected by reading it back (sha256) and retried on the next pass."""
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.runs.checkpoint import read_meta, read_weights

    kept = run_dir / "keep"
    kept.mkdir(exist_ok=True)
    while True:
        try:
            step = read_meta(run_dir / "checkpoints" / "last").get("step")
            target = kept / f"step-{step:06d}"
            if not target.exists():
                tmp = kept / f".{target.name}.tmp"
                shutil.rmtree(tmp, ignore_errors=True)
                tmp.mkdir()
                for name in ("meta.json", "model.safetensors"):
                    shutil.copy2(run_dir / "checkpoints" / "last" / name, tmp / name)
                meta = read_meta(tmp)
                read_weights(tmp, meta)  # verifies the sha256: a torn copy raises and is retried
                if meta.get("step") == step:
                    tmp.rename(target)
                    print(f"{time.strftime('%H:%M:%S')} kept step {step}", flush=True)
        except (TangError, OSError) as exc:
            print(f"{time.strftime('%H:%M:%S')} not kept this pass: {exc}", flush=True)
        time.sleep(every_min * 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "paths", nargs="+", type=Path, help="OUT CKPT CKPT ..., or with --keep the run folder"
    )
    parser.add_argument("--keep", action="store_true", help="copy the run's `last` aside as it trains")
    parser.add_argument("--every", type=float, default=10.0, help="minutes between --keep passes")
    args = parser.parse_args()
    from tangstudio.engine.errors import TangError

    try:
        if args.keep:
            keep(args.paths[0], args.every)
        elif len(args.paths) < 3:
            parser.error("give OUT and at least two checkpoints")
        else:
            meta = average(args.paths[0], args.paths[1:])
            print(
                f"averaged {len(args.paths) - 1} checkpoints (steps {[s['step'] for s in meta['averaged_from']]}) → {args.paths[0]}"
            )
    except TangError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
