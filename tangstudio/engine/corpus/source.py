"""Where raw poems come from: the bundled Tang file, or a corpus imported into the user's home.

Both are stored the same way — `corpus.json.xz`, a JSON document with `script` and `poems` as
`[id, title, author, paragraphs]` rows — so one loader serves both.
"""

from __future__ import annotations

import hashlib
import json
import lzma
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from tangstudio.engine import paths
from tangstudio.engine.errors import TangError

BUNDLED = "tang"
BUNDLED_FILE = Path(__file__).with_name("data") / "tang.json.xz"
CORPUS_FILE = "corpus.json.xz"

# One stored poem as JSON has it: [id, title, author, paragraphs]; read from a file, so not yet checked.
RawRow: TypeAlias = list[Any]


@dataclass(frozen=True)
class RawCorpus:
    name: str
    source: str
    script: str  # the script the stored text is in
    rows: list[RawRow]  # [id, title, author, paragraphs]
    fingerprint: str  # sha256 of the stored file, first 16 hex digits


def corpus_path(name: str) -> Path:
    """Where corpus `name` is stored. A name is one folder under the home, checked on every command
    that reads one (issue 26: `--corpus ../../x` read and wrote outside the home); a corpus from
    elsewhere comes in through `corpus import`."""
    if name == BUNDLED:
        return BUNDLED_FILE
    paths.check_name(name, "corpus")
    from tangstudio.engine.atomic import recover_dir

    folder = paths.corpora_dir() / name
    recover_dir(folder)  # an `import --force` killed between its renames: the old corpus comes back
    return folder / CORPUS_FILE


def available_corpora() -> list[str]:
    imported = []
    root = paths.corpora_dir()
    if root.is_dir():
        # Hidden folders are imports being written or parked aside, never corpora of their own.
        imported = sorted(
            p.parent.name for p in root.glob(f"*/{CORPUS_FILE}") if not p.parent.name.startswith(".")
        )
    return [BUNDLED, *imported]


def existing_corpus_path(name: str) -> Path:
    """`corpus_path` of a corpus that is there; else the one-line error naming those that are.

    Commands call it before they import torch (seconds), so a mistyped name is refused at once.
    """
    path = corpus_path(name)
    if not path.is_file():
        known = ", ".join(available_corpora())
        raise TangError(
            f"unknown corpus {name!r}; available: {known} (import one with `tangstudio corpus import`)"
        )
    return path


def read_raw(name: str) -> RawCorpus:
    path = existing_corpus_path(name)
    blob = path.read_bytes()
    try:
        document = json.loads(lzma.decompress(blob))
        rows = document["poems"]
    except (lzma.LZMAError, ValueError, KeyError, TypeError) as exc:
        raise TangError(
            f"corpus {name!r} at {path} is damaged ({exc.__class__.__name__}); re-import it"
        ) from None
    return RawCorpus(
        name=name,
        source=document.get("source", str(path)),
        script=document.get("script", "traditional"),
        rows=rows,
        fingerprint=hashlib.sha256(blob).hexdigest()[:16],
    )
