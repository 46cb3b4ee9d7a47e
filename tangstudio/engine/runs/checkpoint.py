"""Checkpoints: weights as safetensors, everything else as JSON, both verified on load.

A checkpoint directory holds `model.safetensors` and `meta.json` (architecture, vocabulary,
script, corpus name + fingerprint, forms, step, validation loss and its kind, and the sha256 of
the weights file). `last/` also holds the training state for `--resume`: optimizer moments and RNG
states as tensors in `train_state.safetensors`, counters and scalars in `train_state.json`.
Nothing is ever unpickled; each file is written atomically and meta.json is written last, so its
sha256 is the commit point: a torn or edited weights file fails the check instead of loading.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tangstudio.engine import paths
from tangstudio.engine.atomic import write_bytes_atomic, write_text_atomic
from tangstudio.engine.errors import TangError

if TYPE_CHECKING:  # torch loads only when tensors are read or written: `runs list` reads JSON alone
    import torch

FORMAT = "tangstudio-checkpoint"
VERSION = 1
WEIGHTS = "model.safetensors"
META = "meta.json"
STATE = "train_state.safetensors"
STATE_META = "train_state.json"


@dataclass
class LoadedModel:
    """A model ready for inference (eval mode) with what is needed to use it."""

    model: torch.nn.Module
    vocab: Any  # tangstudio.engine.corpus.vocab.Vocab
    config: Any  # tangstudio.engine.models.ModelConfig
    meta: dict
    path: Path = field(default_factory=Path)

    @property
    def causal(self) -> bool:
        return bool(getattr(self.model, "causal", True))

    @property
    def ppl_kind(self) -> str:
        return self.meta.get("ppl_kind", "causal")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tensors_bytes(tensors: dict[str, torch.Tensor]) -> bytes:
    from safetensors.torch import save as st_save

    # Clone so tied weights (one storage, two names) become separate tensors safetensors accepts.
    return st_save({k: v.detach().to("cpu").clone().contiguous() for k, v in tensors.items()})


def save_checkpoint(
    directory: Path,
    state_dict: dict[str, torch.Tensor],
    meta: dict,
    train_tensors: dict[str, torch.Tensor] | None = None,
    train_meta: dict | None = None,
) -> None:
    """Write weights (+ optional training state) and then meta.json, each atomically."""
    directory = Path(directory)
    weights = _tensors_bytes(state_dict)
    if train_tensors is not None:
        state_bytes = _tensors_bytes(train_tensors)
        write_bytes_atomic(directory / STATE, state_bytes)
        write_text_atomic(
            directory / STATE_META, json.dumps({**(train_meta or {}), "sha256": _sha256(state_bytes)})
        )
    write_bytes_atomic(directory / WEIGHTS, weights)
    full = {"format": FORMAT, "version": VERSION, **meta, "weights_sha256": _sha256(weights)}
    write_text_atomic(directory / META, json.dumps(full, ensure_ascii=False, indent=1))


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TangError(f"checkpoint file {path} is missing") from None
    except (ValueError, UnicodeDecodeError):
        raise TangError(f"checkpoint file {path} is truncated or damaged (not valid JSON)") from None
    if not isinstance(data, dict):
        raise TangError(f"checkpoint file {path} is damaged (not a JSON object)")
    return data


def _read_tensors(path: Path, expected_sha: str | None) -> dict[str, torch.Tensor]:
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise TangError(f"checkpoint file {path} is missing") from None
    if expected_sha is None or _sha256(blob) != expected_sha:
        raise TangError(
            f"checkpoint file {path} does not match its recorded sha256 (truncated or tampered with)"
        )
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    try:
        return st_load(blob)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise TangError(f"checkpoint file {path} cannot be read ({exc})") from None


def read_meta(directory: Path) -> dict:
    meta = _read_json(Path(directory) / META)
    if meta.get("format") != FORMAT:
        raise TangError(f"{directory} is not a tangstudio checkpoint")
    if meta.get("version", 0) > VERSION:
        raise TangError(
            f"checkpoint {directory} was written by a newer tangstudio (format {meta.get('version')})"
        )
    return meta


def read_weights(directory: Path, meta: dict | None = None) -> dict[str, torch.Tensor]:
    meta = meta if meta is not None else read_meta(directory)
    return _read_tensors(Path(directory) / WEIGHTS, meta.get("weights_sha256"))


def read_train_state(directory: Path) -> tuple[dict[str, torch.Tensor], dict]:
    directory = Path(directory)
    info = _read_json(directory / STATE_META)
    return _read_tensors(directory / STATE, info.get("sha256")), info


def resolve_checkpoint(target: str | Path, which: str = "best") -> Path:
    """A checkpoint directory from a checkpoint dir, a run dir, or the name of a run in the home."""
    path = Path(target).expanduser()
    if not path.exists() and "/" not in str(target) and "\\" not in str(target):
        path = paths.runs_dir() / str(target)
        if not path.exists():
            raise TangError(f"unknown run {str(target)!r} (no such checkpoint or run in {paths.runs_dir()})")
    if (path / META).is_file():
        return path
    ckpts = path / "checkpoints"
    for name in (which, "last" if which == "best" else "best"):
        if (ckpts / name / META).is_file():
            return ckpts / name
    if path.is_dir():
        raise TangError(f"{path} has no checkpoint yet")
    raise TangError(f"no checkpoint or run at {path}")


def load_checkpoint(
    target: str | Path, device: str | torch.device = "cpu", which: str = "best"
) -> LoadedModel:
    """Rebuild a trained model for inference; the public entry point for composer and studio."""
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.models import ModelConfig, build_model

    directory = resolve_checkpoint(target, which)
    meta = read_meta(directory)
    try:
        config = ModelConfig.from_dict(meta["model"])
        vocab = Vocab.from_dict(meta["vocab"])
    except TangError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise TangError(f"checkpoint {directory} has malformed metadata ({exc})") from None
    if getattr(config, "vocab_size", len(vocab)) != len(vocab):
        raise TangError(
            f"checkpoint {directory}: vocabulary size {len(vocab)} does not match the model's {config.vocab_size}"
        )
    weights = read_weights(directory, meta)
    model = build_model(config)
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise TangError(f"checkpoint {directory} does not fit its architecture ({first})") from None
    model.to(device).eval()
    return LoadedModel(model, vocab, config, meta, directory)
