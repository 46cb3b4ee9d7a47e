#!/usr/bin/env python3
"""Build the Tang corpus that ships inside tangstudio from the `chinese-poetry` npm package.

Reproducible: the same tarball always gives the same bytes. Usage:

    npm pack chinese-poetry@2.0.1            # -> chinese-poetry-2.0.1.tgz (MIT licensed)
    python scripts/build_corpus.py chinese-poetry-2.0.1.tgz

The tarball is checked against the sha512 that the npm registry publishes for 2.0.1 before anything
is read, so a tampered or truncated download cannot leak into the shipped data. An already
unpacked folder is accepted too (the integrity check is then skipped, with a warning).

The output keeps the original traditional text untouched (id, title, author, paragraphs); all
cleaning and script conversion happen at load time, where they are counted and documented.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import lzma
import re
import sys
import tarfile
from pathlib import Path

PACKAGE_VERSION = "2.0.1"
# `npm view chinese-poetry@2.0.1 dist.integrity`
PUBLISHED_INTEGRITY = (
    "sha512-KtYARvV7CWNtax0na9+Jn6PlhGgSoid7PWyDzXI4KsCEm2odZcqEQyval5koaLygZnM/EQ3lfJ//25K8p3uHNg=="
)
TANG_FILES = re.compile(r"(?:^|/)dist/quantangshi/poet\.tang\.(\d+)\.json$")
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "tangstudio/engine/corpus/data/tang.json.xz"


def integrity_of(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def read_tang_files(source: Path) -> list[tuple[int, list[dict]]]:
    """Return (file index, poems) for every poet.tang.N.json, from a tarball or an unpacked folder."""
    found: list[tuple[int, list[dict]]] = []
    if source.is_dir():
        for path in source.rglob("poet.tang.*.json"):
            match = TANG_FILES.search(path.as_posix())
            if match:
                found.append((int(match.group(1)), json.loads(path.read_text("utf-8"))))
    else:
        with tarfile.open(source, "r:gz") as tar:
            for member in tar.getmembers():
                match = TANG_FILES.search(member.name)
                if match and member.isfile():
                    data = tar.extractfile(member).read().decode("utf-8")
                    found.append((int(match.group(1)), json.loads(data)))
    return sorted(found, key=lambda item: item[0])


def build(source: Path, out: Path) -> dict:
    if source.is_file():
        actual = integrity_of(source)
        if actual != PUBLISHED_INTEGRITY:
            raise SystemExit(f"error: {source}: sha512 does not match chinese-poetry@{PACKAGE_VERSION}")
    elif source.is_dir():
        print(f"warning: {source} is a folder; the tarball integrity check is skipped", file=sys.stderr)
    else:
        raise SystemExit(f"error: {source}: no such file or folder")

    poems = []
    for _, batch in read_tang_files(source):
        for poem in batch:
            poems.append(
                [poem["id"], poem.get("title", ""), poem.get("author", ""), poem.get("paragraphs", [])]
            )
    if not poems:
        raise SystemExit(f"error: {source}: no dist/quantangshi/poet.tang.*.json files found")
    document = {
        "source": f"chinese-poetry@{PACKAGE_VERSION} (npm, MIT) dist/quantangshi/poet.tang.*.json",
        "integrity": PUBLISHED_INTEGRITY,
        "script": "traditional",
        "fields": ["id", "title", "author", "paragraphs"],
        "poems": poems,
    }
    payload = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(lzma.compress(payload, preset=9 | lzma.PRESET_EXTREME))
    tmp.replace(out)
    return {
        "poems": len(poems),
        "bytes": out.stat().st_size,
        "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="chinese-poetry-2.0.1.tgz or its unpacked folder")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    result = build(args.source, args.out)
    print(
        f"wrote {args.out}: {result['poems']} poems, {result['bytes'] / 1e6:.2f} MB, sha256 {result['sha256']}"
    )


if __name__ == "__main__":
    main()
