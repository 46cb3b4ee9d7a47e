"""The cleaned corpus and its line index, built once and kept on disk for every later process.

Converting and cleaning 57k poems costs seconds, and every `generate`, `score` and studio start
used to pay it again. The result is kept in one file per corpus and script,
`<cache>/corpus/<name>.<script>.tsc`, where `<cache>` is `<home>/cache` when a home is given
(`--home`, TANGSTUDIO_HOME) and the platform's user cache folder otherwise.

The file is a fixed header and flat little-endian arrays, read with one memory map — no pickle,
no parsing of the poems themselves:

    magic (16 bytes) | header length (u64) | header JSON | arrays, each 64-byte aligned

    chars         u32[N]   code points of every poem text, each followed by "\\n"
    offsets       i64[n+1] poem i is chars[offsets[i] : offsets[i+1] - 1]
    form split    u8[n]    indices into engine.forms.NAMES and SPLITS
    lost          u8[n]    1 when the poem has □ (characters lost in transmission)
    meta          u8[...]  UTF-8 JSON [[id, title, author], ...] (read only when poems are asked for)
    line_hashes   u64[L]   sorted hashes of every line of the corpus (a clause without its mark)
    prefix_hashes u64[P]   sorted hashes of line[:-1] ...
    prefix_ends   u32[P]   ... with the code point of line[-1]: "which characters would complete
                           this line start into a corpus line" is one binary search

The header holds the key the file was built for — the source file's fingerprint (sha256), the
script, and a fingerprint of the cleaning code itself (the sources of the modules that decide
what a cleaned poem is, and OpenCC's version) — and a CRC-32 of the arrays. A file whose key
differs (stale), whose size or checksum is wrong (truncated, corrupt) is rebuilt, with one line
on stderr saying why; it is never trusted and never a traceback. Writes go to a temporary file
renamed over the old one (`atomic.write_bytes_atomic`), so a reader sees a whole old file or a
whole new one. Builders of one file take turns under a lock beside it: a second process waits and
reads what the first wrote, and under the lock the temporary a killed build left is deleted. A
folder that cannot be written (read-only, full) only costs the speed: the corpus is built in
memory and used, with one line saying so.

Line hashes are a polynomial hash of the code points mod 2⁶⁴ mixed with the length (computed for
every line at once in numpy, and for one line in plain Python when composing); two different lines
sharing a hash would make the novelty check refuse one ending too many, never let a copied line
through.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import sys
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tangstudio.engine.atomic import sole_writer, write_bytes_atomic
from tangstudio.engine.corpus.line_hashes import line_hash as line_hash  # tests reach the hash here
from tangstudio.engine.corpus.line_hashes import span_hashes
from tangstudio.engine.corpus.poem import CLAUSE_END
from tangstudio.engine.corpus.splits import SPLITS
from tangstudio.engine.forms import NAMES

if TYPE_CHECKING:
    from tangstudio.engine.corpus import Corpus

FORMAT = 1
MAGIC = b"TANGSTUDIO-CRP\x00\x01"
SUFFIX = ".tsc"
ALIGN = 64
_ARRAYS: dict[str, str] = {  # name -> dtype, in file order
    "chars": "<u4",
    "offsets": "<i8",
    "form": "u1",
    "split": "u1",
    "lost": "u1",
    "meta": "u1",
    "line_hashes": "<u8",
    "prefix_hashes": "<u8",
    "prefix_ends": "<u4",
}
# The modules whose code decides what a cleaned poem is: a change to any of them is a new cache.
# The form registry and the marks sit one folder up: their order and sets decide the stored codes.
_CODE = (
    "__init__.py",
    "cache.py",
    "line_hashes.py",
    "clean.py",
    "forms.py",
    "poem.py",
    "script.py",
    "source.py",
    "splits.py",
    "../forms.py",
    "../hanzi.py",
)


def _stderr(message: str) -> None:
    print(f"tangstudio: {message}", file=sys.stderr, flush=True)


report: Callable[[str], None] = _stderr  # where the one-line notices go (the studio may redirect)


# ------------------------------------------------------------------------- where and what


def cache_dir() -> Path:
    """`<home>/cache` when a home is given, else the platform's user cache folder."""
    override = os.environ.get("TANGSTUDIO_HOME")
    if override:
        return Path(override).expanduser() / "cache"
    import platformdirs

    return platformdirs.user_cache_path("tangstudio", appauthor=False)


def cache_path(name: str, script: str) -> Path:
    return cache_dir() / "corpus" / f"{name}.{script}{SUFFIX}"


@lru_cache(maxsize=1)
def code_version() -> str:
    """A fingerprint of the cleaning code and of OpenCC: a new version of either is a new cache."""
    digest = hashlib.sha256(f"format {FORMAT}".encode())
    here = Path(__file__).parent
    for name in _CODE:
        digest.update(name.encode() + b"\0" + (here / name).read_bytes())
    digest.update(b"opencc " + _opencc_version().encode())
    return digest.hexdigest()[:16]


def _opencc_version() -> str:
    """OpenCC's installed version from its dist-info folder's name (importlib.metadata costs 25 ms)."""
    from importlib.util import find_spec

    spec = find_spec("opencc")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(p.name for p in Path(folder).parent.glob("opencc-*.dist-info"))
        if found:
            return found[-1]
    return "?"


def source_fingerprint(name: str) -> str:
    """sha256 of the stored corpus file (first 16 hex digits), as RawCorpus.fingerprint has it."""
    from tangstudio.engine.corpus.source import corpus_path, read_raw

    path = corpus_path(name)
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        read_raw(name)  # raises the one-line "unknown corpus" error
        raise


# ------------------------------------------------------------------------- the arrays


@dataclass
class CorpusArrays:
    """A cleaned corpus as flat arrays (memory-mapped when read from the cache)."""

    name: str
    script: str
    source: str
    fingerprint: str
    raw_count: int
    cleaning: dict[str, int]
    arrays: dict[str, np.ndarray]
    origin: str = "built"  # built | cache
    _text: str | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.arrays["offsets"]) - 1

    @property
    def text(self) -> str:
        """Every poem's text, each followed by "\\n" (decoded once, on first use)."""
        if self._text is None:
            self._text = self.arrays["chars"].tobytes().decode("utf-32-le")
        return self._text

    def texts(self) -> list[str]:
        text, offsets = self.text, self.arrays["offsets"].tolist()
        return [text[a : b - 1] for a, b in itertools.pairwise(offsets)]

    def to_corpus(self) -> Corpus:
        from tangstudio.engine.corpus import Corpus
        from tangstudio.engine.corpus.poem import Poem

        meta = json.loads(self.arrays["meta"].tobytes().decode("utf-8"))
        forms = [NAMES[i] for i in self.arrays["form"].tolist()]
        splits = [SPLITS[i] for i in self.arrays["split"].tolist()]
        lost = self.arrays["lost"].tolist()
        poems = [
            Poem(str(m[0]), str(m[1]), str(m[2]), t, f, s, bool(x))
            for m, t, f, s, x in zip(meta, self.texts(), forms, splits, lost)
        ]
        return Corpus(
            self.name, self.script, self.source, self.fingerprint, self.raw_count, poems, dict(self.cleaning)
        )


_BREAKS = np.array([ord(c) for c in CLAUSE_END + "\n"], dtype=np.uint32)


def line_tables(chars: np.ndarray) -> dict[str, np.ndarray]:
    """Sorted line hashes, and (line-start hash, last character) pairs, of "\n"-joined poems.

    A line is what `split_clauses` gives without its mark: a run of 2+ characters between marks.
    """
    breaks = np.isin(chars, _BREAKS)
    edges = np.flatnonzero(np.diff(np.concatenate(([True], breaks, [True])).astype(np.int8)))
    starts, ends = edges[0::2], edges[1::2]  # runs of non-break characters: [start, end)
    keep = ends - starts >= 2
    starts, ends = starts[keep], ends[keep]
    lines = np.sort(span_hashes(chars, starts, ends))
    if len(lines):  # sorted, then repeats dropped: np.unique hashes instead, 5x slower here
        lines = lines[np.concatenate(([True], lines[1:] != lines[:-1]))]
    prefixes = span_hashes(chars, starts, ends - 1)
    last = chars[ends - 1].astype(np.uint32)
    order = np.lexsort((last, prefixes))
    prefixes, last = prefixes[order], last[order]
    fresh = np.ones(len(prefixes), dtype=bool)
    fresh[1:] = (prefixes[1:] != prefixes[:-1]) | (last[1:] != last[:-1])
    return {"line_hashes": lines, "prefix_hashes": prefixes[fresh], "prefix_ends": last[fresh]}


def arrays_from_texts(texts: list[str]) -> dict[str, np.ndarray]:
    """chars, offsets and the line tables of some poem texts (what the novelty index needs)."""
    text = "".join(t + "\n" for t in texts)
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    chars = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    return {"chars": chars, "offsets": offsets, **line_tables(chars)}


def arrays_from_corpus(corpus: Corpus) -> CorpusArrays:
    poems = corpus.poems
    arrays = arrays_from_texts([p.text for p in poems])
    form_ix = {f: i for i, f in enumerate(NAMES)}
    split_ix = {s: i for i, s in enumerate(SPLITS)}
    arrays["form"] = np.fromiter((form_ix[p.form] for p in poems), dtype=np.uint8, count=len(poems))
    arrays["split"] = np.fromiter((split_ix[p.split] for p in poems), dtype=np.uint8, count=len(poems))
    arrays["lost"] = np.fromiter((p.lost for p in poems), dtype=np.uint8, count=len(poems))
    meta = json.dumps([[p.id, p.title, p.author] for p in poems], ensure_ascii=False)
    arrays["meta"] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    return CorpusArrays(
        corpus.name,
        corpus.script,
        corpus.source,
        corpus.fingerprint,
        corpus.raw_count,
        dict(corpus.cleaning),
        arrays,
    )


# ------------------------------------------------------------------------- the file


class CacheInvalid(Exception):
    """The file is not a usable cache for this key (the message says why, for the one-line notice)."""


def _align(n: int) -> int:
    return -(-n // ALIGN) * ALIGN


def encode(data: CorpusArrays, key: dict[str, str]) -> bytes:
    """The file's bytes: magic, header length, header, aligned arrays."""
    layout, offset, chunks = {}, 0, []
    for name, dtype in _ARRAYS.items():
        array = np.ascontiguousarray(data.arrays[name], dtype=dtype)
        blob = array.tobytes()
        layout[name] = [dtype, list(array.shape), offset, len(blob)]
        pad = _align(len(blob)) - len(blob)
        chunks.append(blob + b"\0" * pad)
        offset += len(blob) + pad
    payload = b"".join(chunks)
    header = {
        "format": FORMAT,
        "key": key,
        "corpus": {
            "name": data.name,
            "script": data.script,
            "source": data.source,
            "fingerprint": data.fingerprint,
            "raw_count": data.raw_count,
            "cleaning": data.cleaning,
        },
        "arrays": layout,
        "payload": len(payload),
        "crc32": zlib.crc32(payload),
    }
    head = json.dumps(header, ensure_ascii=False).encode("utf-8")
    start = _align(len(MAGIC) + 8 + len(head))
    prefix = MAGIC + len(head).to_bytes(8, "little") + head
    return prefix + b"\0" * (start - len(prefix)) + payload


def decode(path: Path, key: dict[str, str]) -> CorpusArrays:
    """Map a cache file and check it whole; CacheInvalid says what is wrong with it."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            first = handle.read(len(MAGIC) + 8)
            if len(first) < len(MAGIC) + 8 or first[: len(MAGIC)] != MAGIC:
                raise CacheInvalid("is not a corpus cache file (damaged)")
            n = int.from_bytes(first[len(MAGIC) :], "little")
            if n > size:
                raise CacheInvalid("is truncated")
            header = json.loads(handle.read(n).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CacheInvalid(f"has a damaged header ({exc.__class__.__name__})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise CacheInvalid("was written by another version of tangstudio")
    if header.get("key") != key:
        raise CacheInvalid("is stale (the corpus, the script or the cleaning code changed)")
    start = _align(len(MAGIC) + 8 + n)
    try:
        payload_size = int(header["payload"])
        corpus = header["corpus"]
        layout = header["arrays"]
        crc = int(header["crc32"])
    except (KeyError, TypeError, ValueError):
        raise CacheInvalid("has a damaged header") from None
    if size != start + payload_size:
        raise CacheInvalid("is truncated" if size < start + payload_size else "has trailing bytes")
    mapped = np.memmap(path, dtype=np.uint8, mode="r", offset=start, shape=(payload_size,))
    if zlib.crc32(mapped.data) != crc:
        raise CacheInvalid("is corrupt (checksum mismatch)")
    arrays = {}
    try:
        for name, dtype in _ARRAYS.items():
            kind, shape, offset, nbytes = layout[name]
            if kind != dtype or offset < 0 or offset + nbytes > payload_size:
                raise CacheInvalid("has a damaged layout")
            arrays[name] = mapped[offset : offset + nbytes].view(dtype).reshape(shape)
    except (KeyError, TypeError, ValueError):
        raise CacheInvalid("has a damaged layout") from None
    return CorpusArrays(
        str(corpus["name"]),
        str(corpus["script"]),
        str(corpus["source"]),
        str(corpus["fingerprint"]),
        int(corpus["raw_count"]),
        {str(k): int(v) for k, v in dict(corpus["cleaning"]).items()},
        arrays,
        origin="cache",
    )


def write(path: Path, blob: bytes) -> None:
    """Temp file in the same folder, then rename (atomic.py, fault point `cache`): a whole file or none."""
    write_bytes_atomic(path, blob, point="cache")


# ------------------------------------------------------------------------- the entry point

_lock = threading.Lock()  # one build per process at a time: two panes asking at once share it
_unwritable: set[str] = set()  # folders already reported as not writable


def is_fresh(name: str, script: str) -> bool:
    """True when a cache file for this key exists and its header and size are right (no checksum)."""
    path = cache_path(name, script)
    try:
        with open(path, "rb") as handle:
            first = handle.read(len(MAGIC) + 8)
            if len(first) < len(MAGIC) + 8 or first[: len(MAGIC)] != MAGIC:
                return False
            n = int.from_bytes(first[len(MAGIC) :], "little")
            header = json.loads(handle.read(min(n, 1 << 20)).decode("utf-8"))
        size = path.stat().st_size
        return (
            header.get("format") == FORMAT
            and header.get("key") == key_for(name, script)
            and size == _align(len(MAGIC) + 8 + n) + int(header["payload"])
        )
    except (OSError, ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError):
        return False


def can_write(name: str, script: str) -> bool:
    """Whether the cache file's folder exists or can be made, and may be written to."""
    folder = cache_path(name, script).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


_CHILD = "from tangstudio.engine.corpus.cache import load_arrays; load_arrays(sys.argv[1], sys.argv[2])"


def build_in_child(name: str, script: str, timeout: float = 600) -> bool:
    """Build the cache in a separate process; True if the cache is fresh afterwards.

    The studio builds a missing cache this way: cleaning 57k poems is Python work that, in a thread,
    would hold the GIL against the model loading and the first frames; a child runs on the other
    core. Its one-line notices are dropped (a studio has no stderr to show). False (then build here) when the
    child cannot start, fails, or could not write the file (a read-only cache folder).
    """
    import subprocess

    from tangstudio.engine.child import python_command

    try:
        subprocess.run(
            python_command(_CHILD, name, script),  # this package, not a tangstudio/ in the current folder
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return is_fresh(name, script)


def key_for(name: str, script: str) -> dict[str, str]:
    return {"name": name, "script": script, "source": source_fingerprint(name), "code": code_version()}


def load_arrays(
    name: str, script: str, build: Callable[[], Corpus] | None = None
) -> tuple[CorpusArrays, Corpus | None]:
    """(arrays, the Corpus if it had to be built else None) for a corpus, from the cache if it is good.

    `build` makes the Corpus from the source (the cleaning pipeline); by default the one in
    `tangstudio.engine.corpus`. Raises only the TangError of an unknown or damaged source.
    """
    from tangstudio.engine import paths

    paths.check_name(name, "corpus")  # the file's name: never a path out of the cache folder
    with _lock:
        key = key_for(name, script)
        path = cache_path(name, script)
        found, why = _read_cached(path, key)
        if found is not None:
            return found, None
        # One builder at a time per file (a second waits, then reads what the first wrote); under
        # that lock the temporaries of a killed build are deleted (issue 26: ~29 MB each, forever).
        with sole_writer(path):
            found, why = _read_cached(path, key) if path.is_file() else (None, why)
            if found is not None:
                return found, None
            return _build(name, script, path, key, why, build)


def _read_cached(path: Path, key: dict[str, str]) -> tuple[CorpusArrays | None, str | None]:
    """(the cached arrays, None), or (None, why the file cannot be used; None when it is absent)."""
    if not path.is_file():
        return None, None
    try:
        return decode(path, key), None
    except CacheInvalid as exc:
        return None, str(exc)
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc.__class__.__name__})"


def _build(
    name: str,
    script: str,
    path: Path,
    key: dict[str, str],
    why: str | None,
    build: Callable[[], Corpus] | None,
) -> tuple[CorpusArrays, Corpus | None]:
    if build is None:
        from tangstudio.engine.corpus import build_corpus

        def build() -> Corpus:
            return build_corpus(name, script)

    corpus = build()
    data = arrays_from_corpus(corpus)
    if why:
        report(f"corpus cache {path} {why}: rebuilt it")
    try:
        write(path, encode(data, key))
    except OSError as exc:
        folder = str(path.parent)
        if folder not in _unwritable:
            _unwritable.add(folder)
            reason = exc.strerror or exc.__class__.__name__
            report(f"cannot write the corpus cache in {folder} ({reason}): the corpus is built in memory")
    return data, corpus
