"""The critic's numpy tables on disk: a safetensors file beside critic.json, which records its sha256.

The collocation table and the classifier are stored and refused the same way, so that a damaged,
swapped or missing file always ends in one line naming it; each term checks its own arrays.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tangstudio.engine.errors import TangError


def save_arrays(folder: Path, name: str, arrays: dict[str, npt.NDArray[np.generic]]) -> dict[str, str]:
    """Write `name` in `folder`; return the entry critic.json keeps of it (file name and sha256)."""
    from safetensors.numpy import save

    blob = save(arrays)
    (folder / name).write_bytes(blob)
    return {"file": name, "sha256": hashlib.sha256(blob).hexdigest()}


def load_arrays(
    folder: Path, info: object, entry: str, default: str, what: str
) -> tuple[Path, dict[str, npt.NDArray[np.generic]], dict[str, Any]]:
    """The file's path, its arrays and the entry itself (a dict), read and checked against the
    recorded sha256: TangError (one line calling the file the critic's `what`) for anything else."""
    if not isinstance(info, dict):
        raise TangError(f"the critic's {folder / 'critic.json'} has no valid {entry!r} entry")
    path = folder / str(info.get("file", default))
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise TangError(f"cannot read the critic's {what} {path} ({exc.strerror})") from None
    if hashlib.sha256(blob).hexdigest() != info.get("sha256"):
        raise TangError(f"the critic's {what} {path} does not match its recorded sha256")
    from safetensors.numpy import load

    try:
        arrays = load(blob)
    except Exception as exc:  # safetensors raises its own types for a damaged header
        raise TangError(f"the critic's {what} {path} cannot be read ({exc})") from None
    return path, arrays, info
