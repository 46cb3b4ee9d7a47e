"""What `tangstudio --version` says: the package's version and the models it ships, by checksum.

A poem depends on the weights as much as on the code, so the version names both: the package
version (its one source is `tangstudio.__version__`, which pyproject.toml reads too) and, for each
shipped model, its run name and the sha256 of its weights, computed from the file rather than
copied from its card; a card whose recorded `weights_sha256` disagrees is said so. Torch-free and
cheap (one hash of ~22 MB), so `--version` answers at once.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tangstudio import __version__
from tangstudio.engine import paths
from tangstudio.engine.runs.layout import META, WEIGHTS

DEFAULT = "default"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_model(folder: Path) -> str:
    """`<folder name> model: <run name> sha256 <hex>`, or why there is no checkpoint there."""
    found = [folder / WEIGHTS] if (folder / WEIGHTS).is_file() else sorted(folder.glob("*.safetensors"))
    if not found:
        return f"{folder.name} model: no *.safetensors weights in {folder}"
    weights = found[0]
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    name = meta.get("run") or folder.name
    digest = file_sha256(weights)
    line = f"{folder.name} model: {name} sha256 {digest}"
    recorded = meta.get("weights_sha256")
    if recorded and recorded != digest:
        line += f" (its {META} records {recorded}: the weights were changed)"
    return line


def version_lines() -> list[str]:
    """The package version, then the default model, then every other shipped model (a critic, ...)."""
    root = paths.shipped_models_dir()
    lines = [f"tangstudio {__version__}"]
    try:
        others = sorted(p for p in root.iterdir() if p.is_dir() and p.name not in (DEFAULT, "__pycache__"))
    except OSError:
        others = []
    if (root / DEFAULT).is_dir():
        lines.append(describe_model(root / DEFAULT))
    else:
        lines.append(f"default model: none ships in {root}")
    lines += [describe_model(folder) for folder in others]
    lines.append(f"models from {root}")
    return lines
