"""scripts/average_checkpoints.py: the mean of a run's kept checkpoints, and refusals for mismatches."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tangstudio.engine.errors import TangError

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location(
        "average_checkpoints", ROOT / "scripts" / "average_checkpoints.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _variant(seeded_model_run: Path, folder: Path, step: int, shift: float) -> Path:
    """A copy of the seeded checkpoint with every weight moved by `shift`, at `step`."""
    import torch

    from tangstudio.engine.runs.checkpoint import read_meta, read_weights, save_checkpoint

    source = seeded_model_run / "checkpoints" / "best"
    meta = read_meta(source)
    weights = {k: v + shift for k, v in read_weights(source, meta).items()}
    meta = {
        k: v for k, v in meta.items() if k not in ("format", "version", "checkpoint_id", "weights_sha256")
    }
    meta["step"] = step
    save_checkpoint(folder, {k: v.to(torch.float32) for k, v in weights.items()}, meta)
    return folder


def test_average_is_the_mean_of_the_weights_and_loads(seeded_model_run: Path, tmp_path: Path) -> None:
    from tangstudio.engine.runs.checkpoint import load_checkpoint, read_meta, read_weights

    a = _variant(seeded_model_run, tmp_path / "a", 100, 0.0)
    b = _variant(seeded_model_run, tmp_path / "b", 200, 0.5)
    c = _variant(seeded_model_run, tmp_path / "c", 300, -0.2)
    meta = _script().average(tmp_path / "avg", [a, b, c])
    mean = read_weights(tmp_path / "avg")
    wa, wb, wc = (read_weights(p) for p in (a, b, c))
    for name, tensor in mean.items():
        assert tensor.dtype == wa[name].dtype
        assert (tensor - (wa[name] + wb[name] + wc[name]) / 3).abs().max().item() < 1e-6
    assert read_meta(tmp_path / "avg")["step"] == 300
    assert [s["step"] for s in meta["averaged_from"]] == [100, 200, 300]
    assert meta["val_loss"] is None
    load_checkpoint(tmp_path / "avg", device="cpu")  # a real checkpoint the engine loads


def test_average_refuses_other_vocabularies(seeded_model_run: Path, tmp_path: Path) -> None:
    import json

    a = _variant(seeded_model_run, tmp_path / "a", 100, 0.0)
    b = _variant(seeded_model_run, tmp_path / "b", 200, 0.1)
    meta_path = b / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    itos = meta["vocab"]["itos"]
    meta["vocab"]["itos"] = [*itos[:-2], itos[-1], itos[-2]]  # same size, two characters swapped
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(TangError, match="vocab"):
        _script().average(tmp_path / "avg", [a, b])
    assert not (tmp_path / "avg").exists()
