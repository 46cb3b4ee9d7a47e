"""Checkpoints: weights as safetensors, everything else as JSON, both verified on load.

A checkpoint directory holds `model.safetensors` and `meta.json` (architecture, vocabulary,
script, corpus name + fingerprint, forms, step, validation loss and its kind, and the sha256 of
the weights file). `last/` also holds the training state for `--resume`: optimizer moments and RNG
states as tensors in `train_state.safetensors`, counters and scalars in `train_state.json`.
Nothing is ever unpickled.

A checkpoint folder is one unit: it is written in full to a hidden temporary folder next to it
(every file fsynced), then switched in with one atomic exchange (`atomic.swap_in_dir`), so the
previous checkpoint stays whole until the new one is complete, and a crash at any moment leaves
one or the other, never a mix. meta.json and train_state.json carry the same `checkpoint_id` and
step, and loading checks both and every sha256, so a set that does not belong together is refused
instead of resuming wrongly. Loading also refuses anything that is not a regular file, sizes that
do not match the safetensors header, shapes that do not match meta.json (before a model is built),
and weights that are not finite.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tangstudio.engine import paths
from tangstudio.engine.atomic import (
    fsync_dir,
    recover_dir,
    remove_leftovers,
    swap_in_dir,
    write_file_synced,
)
from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import PplKind, is_causal, ppl_kind_of
from tangstudio.engine.runs.folder_fd import OpenFolder, opened
from tangstudio.engine.runs.layout import META, STATE, STATE_META, WEIGHTS

if TYPE_CHECKING:  # torch loads only when tensors are read or written: `runs list` reads JSON alone
    import torch

FORMAT = "tangstudio-checkpoint"
VERSION = 1
MAX_JSON_BYTES = 64 << 20  # meta.json holds the vocabulary: a few hundred KB, never this
T = TypeVar("T")


@dataclass
class LoadedModel:
    """A model ready for inference (eval mode) with what is needed to use it."""

    model: torch.nn.Module
    vocab: Any  # tangstudio.engine.corpus.vocab.Vocab
    config: Any  # tangstudio.engine.models.ModelConfig
    meta: dict[str, Any]
    path: Path = field(default_factory=Path)

    @property
    def causal(self) -> bool:
        """Next-character model (rnn, lstm, gru) or fill-in (bilstm): the registry says, by the config's arch."""
        return is_causal(self.config.arch)

    @property
    def ppl_kind(self) -> PplKind:
        return ppl_kind_of(self.causal)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tensors_bytes(tensors: dict[str, torch.Tensor]) -> bytes:
    from safetensors.torch import save as st_save

    # Clone so tied weights (one storage, two names) become separate tensors safetensors accepts.
    return st_save({k: v.detach().to("cpu").clone().contiguous() for k, v in tensors.items()})


def save_checkpoint(
    directory: Path,
    state_dict: dict[str, torch.Tensor],
    meta: dict[str, Any],
    train_tensors: dict[str, torch.Tensor] | None = None,
    train_meta: dict[str, Any] | None = None,
) -> None:
    """Write weights (+ optional training state) into a new folder, then switch it in as one unit.

    Non-finite weights are never written: a diverged model must not become `best` or `last`.
    """
    directory = Path(directory)
    if not all_finite(state_dict):
        raise TangError(f"refusing to write checkpoint {directory}: the weights are not finite (NaN or inf)")
    checkpoint_id = secrets.token_hex(8)
    weights = _tensors_bytes(state_dict)
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=directory.parent))
    try:
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700; run folders are meant to be copied and shared
        if train_tensors is not None:
            state_bytes = _tensors_bytes(train_tensors)
            write_file_synced(tmp / STATE, state_bytes)
            info = {
                **(train_meta or {}),
                "step": meta.get("step"),
                "checkpoint_id": checkpoint_id,
                "sha256": _sha256(state_bytes),
            }
            write_file_synced(tmp / STATE_META, json.dumps(info).encode("utf-8"))
        write_file_synced(tmp / WEIGHTS, weights)
        full = {
            "format": FORMAT,
            "version": VERSION,
            **meta,
            "checkpoint_id": checkpoint_id,
            "weights_sha256": _sha256(weights),
        }
        write_file_synced(tmp / META, json.dumps(full, ensure_ascii=False, indent=1).encode("utf-8"))
        fsync_dir(tmp)
        swap_in_dir(tmp, directory)
    finally:  # after the swap `tmp` holds the previous checkpoint, or nothing
        shutil.rmtree(tmp, ignore_errors=True)


def clean_checkpoints(folder: Path) -> list[Path]:
    """Before training a run (under its lock): finish or undo what a killed writer left behind.

    Temporary folders are deleted (the checkpoint they replaced is still in place), and a folder
    parked by the non-Linux swap is put back. Returns what was removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    for name in ("best", "last"):
        recover_dir(folder / name)
    return remove_leftovers(folder)


def all_finite(tensors: dict[str, torch.Tensor]) -> bool:
    import torch

    floats = [t.detach() for t in tensors.values() if t.is_floating_point()]
    return not floats or bool(torch.stack([torch.isfinite(t).all() for t in floats]).all())


def tensor_shapes(path: Path) -> dict[str, list[int]]:
    """Names and shapes from a safetensors file's header, checked against its size; reads no tensor."""
    with opened(Path(path).parent) as folder:
        return folder.tensor_shapes(Path(path).name)


def _read_tensors(folder: OpenFolder, name: str, expected_sha: object) -> dict[str, torch.Tensor]:
    folder.tensor_shapes(name)  # a regular file whose size is what its header says, before reading it all
    blob = folder.read(name)
    if not isinstance(expected_sha, str) or _sha256(blob) != expected_sha:
        raise TangError(
            f"checkpoint file {folder.path / name} does not match its recorded sha256 (truncated or tampered with)"
        )
    from safetensors import SafetensorError
    from safetensors.torch import load as st_load

    try:
        return st_load(blob)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise TangError(f"checkpoint file {folder.path / name} cannot be read ({exc})") from None


def read_meta(directory: Path | OpenFolder) -> dict[str, Any]:
    with opened(directory) as folder:
        meta = folder.read_json(META, MAX_JSON_BYTES)
        directory = folder.path
    if meta.get("format") != FORMAT:
        raise TangError(f"{directory} is not a tangstudio checkpoint")
    version = meta.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise TangError(f"checkpoint {directory} is damaged (its format version {version!r} is not a number)")
    if version > VERSION:
        raise TangError(
            f"checkpoint {directory} was written by a newer tangstudio (format {meta.get('version')})"
        )
    return meta


def read_config(directory: Path, meta: dict[str, Any]) -> tuple[Any, Any]:
    """The ModelConfig and Vocab meta.json describes, or one line; torch-free, so fast_model shares it."""
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.models.config import ModelConfig

    if meta.get("kind") == "lab":  # a lab classifier has no vocabulary: say what it is instead
        from tangstudio.engine.runs.kinds import lab_refusal

        raise TangError(lab_refusal(directory, meta))
    try:
        return ModelConfig.from_dict(meta["model"]), Vocab.from_dict(meta["vocab"])
    except TangError as exc:  # "hidden must be a whole number" named no file (an engineer's review)
        raise TangError(f"checkpoint {directory / META} is damaged: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise TangError(f"checkpoint {directory} has malformed metadata ({exc})") from None


def read_weights(directory: Path | OpenFolder, meta: dict[str, Any] | None = None) -> dict[str, torch.Tensor]:
    """The weights, checked by sha256 and refused unless every value is finite."""
    with opened(directory) as folder:
        meta = meta if meta is not None else read_meta(folder)
        weights = _read_tensors(folder, WEIGHTS, meta.get("weights_sha256"))
        directory = folder.path
    if not all_finite(weights):
        raise TangError(
            f"checkpoint {directory} holds weights that are not finite (NaN or inf): the run diverged; "
            f"refusing to load it"
        )
    return weights


def read_train_state(
    directory: Path | OpenFolder, meta: dict[str, Any] | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The optimizer/RNG state, refused unless it was written with this folder's meta.json."""
    with opened(directory) as folder:
        meta = meta if meta is not None else read_meta(folder)
        info = folder.read_json(STATE_META, MAX_JSON_BYTES)
        if info.get("step") != meta.get("step") or info.get("checkpoint_id") != meta.get("checkpoint_id"):
            raise TangError(
                f"checkpoint {folder.path} is inconsistent: its training state (step {info.get('step')}) "
                f"was not written with its weights (step {meta.get('step')}); refusing to resume from it"
            )
        return _read_tensors(folder, STATE, info.get("sha256")), info


def resolve_checkpoint(target: str | Path, which: str = "best") -> Path:
    """A checkpoint directory from a checkpoint dir, a run dir, or the name of a run in the home.

    A bare name is the home's run of that name first, as `eval`, `runs show` and `--resume` read it:
    a folder of the name in the current directory (an old copy of the run) was composed with
    instead, or said "no checkpoint yet" (a reliability review); `./k9` still names that folder."""
    text = str(target)
    path = Path(target).expanduser()
    if "/" not in text and "\\" not in text and text not in (".", ".."):
        in_home = paths.runs_dir() / text
        if in_home.exists() or not path.exists():
            path = in_home
        if not path.exists():
            raise TangError(f"unknown run {text!r} (no such checkpoint or run in {paths.runs_dir()})")
    if (path / META).is_file():
        return path
    ckpts = path / "checkpoints"
    for name in (which, "last" if which == "best" else "best"):
        if os.path.lexists(ckpts / name / META):  # a damaged one is refused on reading, not skipped
            return ckpts / name
    if path.is_dir():
        raise TangError(f"{path} has no checkpoint yet")
    raise TangError(f"no checkpoint or run at {path}")


def load_checkpoint(
    target: str | Path, device: str | torch.device = "cpu", which: str = "best"
) -> LoadedModel:
    """Rebuild a trained model for inference; the public entry point for composer and studio.

    A trainer may switch a new folder in while this reads (the studio loads `best` of a run that
    is training): the folder is read through one descriptor, and retried if it was replaced.
    """
    return read_stable(target, which, lambda folder: _load_from(folder, device))


def read_stable(target: str | Path, which: str, reader: Callable[[OpenFolder], T]) -> T:
    """`reader(folder)` on the checkpoint `target` names, its files read through one descriptor.

    Both files come from one folder, so an exchange between two reads cannot mix two checkpoints
    (issue 26). If the trainer deleted the folder held (after switching a new one in) before its
    files were read, that read fails; it is retried on the folder now at the path, three times at
    most. A failure on a folder still in place is the checkpoint's own, and is raised at once.
    """
    for attempt in range(3):
        directory = resolve_checkpoint(target, which)
        with OpenFolder(directory) as folder:
            try:
                return reader(folder)
            except TangError:
                if attempt == 2 or _folder_id(directory) == folder.identity():
                    raise
    raise AssertionError("unreachable")


def _folder_id(directory: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(directory)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _load_from(folder: OpenFolder, device: str | torch.device) -> LoadedModel:
    import torch

    from tangstudio.engine.models import build_model

    directory = folder.path
    meta = read_meta(folder)
    config, vocab = read_config(directory, meta)
    if getattr(config, "vocab_size", len(vocab)) != len(vocab):
        raise TangError(
            f"checkpoint {directory}: vocabulary size {len(vocab)} does not match the model's {config.vocab_size}"
        )
    from tangstudio.engine.models.shapes import fused_causal_shapes

    expected = fused_causal_shapes(config)  # written down: the meta device imports torch._dynamo (s)
    if expected is None:
        with torch.device("meta"):  # shapes only: nothing is allocated for what meta.json claims
            expected = {k: list(v.shape) for k, v in build_model(config).state_dict().items()}
    found = folder.tensor_shapes(WEIGHTS)
    if found != expected:
        raise TangError(
            f"checkpoint {directory} does not fit its architecture (meta.json and the weights' shapes differ)"
        )
    weights = read_weights(folder, meta)
    model = build_model(config)
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise TangError(f"checkpoint {directory} does not fit its architecture ({first})") from None
    model.to(device).eval()
    return LoadedModel(model, vocab, config, meta, directory)
