"""Importing other corpora into the user's home, all or nothing.

Accepted: chinese-poetry JSON (a file, or a folder of them: a list of objects with `paragraphs`,
and `title` or `rhythmic`, `author`, `id`), and plain UTF-8 text (one poem per line, optionally
`title:body`). Everything is validated in memory first, written to a temporary folder, and
switched into place (`atomic.swap_in_dir`: one exchange on Linux), so a failed import never leaves
half a corpus and never touches an existing one unless `force` is given and the new one is
complete; an import killed between the fallback's two renames is undone on the next import.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

from tangstudio.engine import paths
from tangstudio.engine.atomic import exclusive, fault_point, recover_dir, swap_in_dir
from tangstudio.engine.corpus.clean import Cleaned, clean_body
from tangstudio.engine.corpus.poem import split_clauses
from tangstudio.engine.corpus.script import guess_script
from tangstudio.engine.corpus.source import BUNDLED, CORPUS_FILE, RawRow, available_corpora
from tangstudio.engine.errors import TangError
from tangstudio.engine.hanzi import CLAUSE_END, is_han

FORMATS = ("auto", "chinese-poetry", "text")
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_POEM_CHARS = 20_000
# "title:poem"; ":春风…" has no title (the colon was kept in the verse)
_TITLE_SPLIT = re.compile(r"^([^:：，。！？]{0,40})[:：](.+)$")


def check_name(name: str, force: bool) -> Path:
    paths.check_name(name, "corpus")
    if name == BUNDLED:
        raise TangError(f"{BUNDLED!r} is the bundled corpus; choose another name")
    target = paths.corpora_dir() / name
    recover_dir(target)  # an import --force killed between its two renames: the old corpus comes back
    if (target / CORPUS_FILE).exists() and not force:
        raise TangError(f"corpus {name!r} already exists; pass --force to replace it")
    return target


def _read_text(path: Path) -> str:
    if path.exists() and not path.is_file():  # a folder named like a file, a device, a pipe
        raise TangError(f"{path}: not a regular file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise TangError(f"{path}: cannot read ({exc.strerror})") from None
    if size == 0:
        raise TangError(f"{path}: the file is empty")
    if size > MAX_FILE_BYTES:
        raise TangError(f"{path}: {size / 1e6:.0f} MB is larger than the {MAX_FILE_BYTES // 2**20} MB limit")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TangError(f"{path}: cannot read ({exc.strerror})") from None
    if b"\x00" in data[:65536]:
        raise TangError(f"{path}: looks like a binary file, not UTF-8 text or JSON")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TangError(f"{path}: not valid UTF-8 at byte {exc.start}{_legacy_hint(data)}") from None
    if not text.strip():
        raise TangError(f"{path}: the file holds only white space")
    return text


LEGACY = {"BIG5": "big5", "GB18030": "gb18030"}  # iconv's name: Python's codec


def _legacy_hint(data: bytes) -> str:
    """Which legacy encoding the bytes read as verse in. Nearly any Big5 file also decodes as
    GB18030, into nonsense (琄辨:瓣瘆猠れ…), so the hint named GB18030 for a traditional file and
    `iconv` then made mojibake that imported without a word (a scholar's review): each decoding is
    scored by the share of its characters that are common ideographs or Chinese marks (a Big5 poem
    read right scores 0.97, read as GB18030 0.41)."""
    best, best_share = "", 0.0
    for name, codec in LEGACY.items():
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        chars = [c for c in text if ord(c) > 127]  # a JSON file's keys and brackets are ASCII either way
        ideographs = sum("\u4e00" <= c <= "\u9fa5" for c in chars)
        if ideographs < 10:  # Latin-1's ü and ß pair into a few GB18030 ideographs: no verse
            continue
        share = (ideographs + sum(c in CLAUSE_END for c in chars)) / len(chars)
        if share > best_share:
            best, best_share = name, share
    if not best or best_share < 0.5:
        return ""
    return f" (it reads as {best}: convert it with `iconv -f {best} -t UTF-8`)"


def _poem_id(*parts: str) -> str:
    return hashlib.md5("\x1f".join(parts).encode("utf-8")).hexdigest()


def _check_body(path: Path, where: str, body: str) -> None:
    if len(body) > MAX_POEM_CHARS:
        raise TangError(
            f"{path}: {where} is {len(body):,} characters long; a poem may have at most {MAX_POEM_CHARS:,}"
        )


def _rows_from_json(path: Path, text: str, strict: bool) -> list[RawRow]:
    """Rows from one chinese-poetry JSON file. With strict=False a file of another shape
    (e.g. authors.tang.json beside the poems) yields nothing instead of an error."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # json's "Invalid control character at" and "Unterminated string starting at" end in the
        # position its own message appends: without it the line stopped mid-sentence (a review)
        what = re.sub(r"(?: starting)? at$", "", exc.msg)
        raise TangError(f"{path}: malformed JSON at line {exc.lineno}, column {exc.colno}: {what}") from None
    except RecursionError:  # e.g. 100,000 nested brackets: no poem file is shaped like that
        raise TangError(f"{path}: JSON nested too deeply to be a list of poems") from None
    if isinstance(data, dict):
        data = [data]
    shaped = isinstance(data, list) and any(isinstance(d, dict) and "paragraphs" in d for d in data)
    if not shaped:
        if strict:
            raise TangError(
                f"{path}: JSON of the wrong shape; expected a list of poems with a 'paragraphs' list of strings"
            )
        return []
    rows = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or "paragraphs" not in item:
            raise TangError(f"{path}: poem {index} has no 'paragraphs' list")
        if not isinstance(item["paragraphs"], list):  # it has one, of another type (a scholar's review)
            kind = type(item["paragraphs"]).__name__
            raise TangError(f"{path}: poem {index}'s 'paragraphs' is a {kind}, not a list of strings")
        paragraphs = item["paragraphs"]
        if not all(isinstance(p, str) for p in paragraphs):
            raise TangError(f"{path}: poem {index} has a paragraph that is not a string")
        title = item.get("title", item.get("rhythmic", ""))
        author = item.get("author", "")
        if not isinstance(title, str) or not isinstance(author, str):
            raise TangError(f"{path}: poem {index} has a title or author that is not a string")
        _check_body(path, f"poem {index}", "".join(paragraphs))
        poem_id = item.get("id") if isinstance(item.get("id"), str) else _poem_id(title, author, *paragraphs)
        rows.append([poem_id, title, author, paragraphs])
    return rows


def _rows_from_text(path: Path, text: str) -> list[RawRow]:
    rows: list[RawRow] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        _check_body(path, f"line {number}", line)
        title, body = "", line
        match = _TITLE_SPLIT.match(line)
        if match:
            title, body = match.group(1).strip(), match.group(2).strip()
        rows.append([_poem_id(title, body), title, "", [body]])
    return rows


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise TangError(f"unknown format {fmt!r}; choose {', '.join(FORMATS)}")


def _detect_format(text: str) -> str:
    return "chinese-poetry" if text.lstrip()[:1] in "[{" else "text"


def read_poems(path: Path, fmt: str = "auto") -> list[RawRow]:
    """Validate and read every poem at `path` (a file or a folder of JSON files) into rows."""
    check_format(fmt)
    path = Path(path).expanduser()
    if not path.exists():
        raise TangError(f"{path}: no such file or folder")
    if path.is_dir():
        files = (
            sorted(p for p in path.rglob("*.json") if p.is_file())
            if fmt != "text"
            else sorted(p for p in path.rglob("*.txt") if p.is_file())
        )
        if not files:
            raise TangError(f"{path}: the folder holds no {'.txt' if fmt == 'text' else '.json'} files")
        rows = []
        for file in files:
            text = _read_text(file)
            rows.extend(
                _rows_from_text(file, text) if fmt == "text" else _rows_from_json(file, text, strict=False)
            )
        if not rows:
            raise TangError(f"{path}: none of its {len(files)} JSON files holds poems with 'paragraphs'")
        return rows
    text = _read_text(path)
    kind = _detect_format(text) if fmt == "auto" else fmt
    rows = (
        _rows_from_json(path, text, strict=True) if kind == "chinese-poetry" else _rows_from_text(path, text)
    )
    if not rows:
        raise TangError(f"{path}: no poems found")
    return rows


class Imported(TypedDict):
    """What `import_corpus` reports: counts, the script guessed, and where the corpus now lives."""

    name: str
    poems: int
    usable: int
    script: str
    path: str
    lost: int  # poems kept but flagged lost (□, characters no encoding holds): never trained on
    repeated: int  # entries left out for repeating an earlier one word for word (title, author, body)
    overlapping: int  # poems left out for sharing a line with another corpus's val or test poems
    not_chinese: int  # entries left out for holding no Chinese character


MIN_SHARED_LINE = 5  # a shared line of four characters is a commonplace (何处不), not a copy


def _long_lines(text: str) -> list[str]:
    return [c.rstrip(CLAUSE_END) for c in split_clauses(text) if len(c.rstrip(CLAUSE_END)) >= MIN_SHARED_LINE]


def held_out_lines(corpus: str) -> frozenset[str]:
    """Every line of five characters or more of `corpus`'s val and test poems, in simplified script:
    training reads simplified by default, where variant forms (為 爲, 裏 裡) are one character."""
    from tangstudio.engine.corpus import load_corpus

    poems = load_corpus(corpus, "simplified").poems
    # a copy (a val or test poem that is a train poem too) counts as held out, as it was when the
    # Song import of models/README.md was made: the recipe leaves out the same 1,317 poems
    held = ("val", "test", "copy")
    return frozenset(line for p in poems if p.split in held for line in _long_lines(p.text))


def without_overlap(
    rows: list[RawRow], cleaned: list[Cleaned | None], script: str, held: frozenset[str]
) -> tuple[list[RawRow], list[Cleaned | None]]:
    """The rows (and their cleaned texts) none of whose cleaned lines, in simplified script, is a
    held-out line: a model trained on the import and scored on the other corpus must not have read
    the poems it is scored on (the Song collection holds Tang poems word for word, and lines of others)."""
    from tangstudio.engine.corpus.script import convert_many

    texts = convert_many([c.text if c is not None else "" for c in cleaned], script, "simplified")
    kept = [not any(line in held for line in _long_lines(text)) for text in texts]
    return [r for r, k in zip(rows, kept) if k], [c for c, k in zip(cleaned, kept) if k]


def _first_of_each(
    rows: list[RawRow], cleaned: list[Cleaned | None]
) -> tuple[list[RawRow], list[Cleaned | None], int]:
    """The rows without entries that repeat an earlier one word for word: they were stored twice
    under one id (a scholar's review). The same text under another title stays, a poem of its own;
    if it falls in val or test, loading sets it apart as a copy (splits.set_copies_apart)."""
    seen: set[tuple[Any, ...]] = set()  # the whole entry: two poems given one id in a JSON file are two
    kept_rows, kept_cleaned = [], []
    for row, clean in zip(rows, cleaned):
        key = (row[0], row[1], row[2], tuple(row[3]))
        if key not in seen:
            seen.add(key)
            kept_rows.append(row)
            kept_cleaned.append(clean)
    return kept_rows, kept_cleaned, len(rows) - len(kept_rows)


def import_corpus(
    path: Path,
    name: str,
    fmt: str = "auto",
    force: bool = False,
    without_lines_of: str | None = None,
    before_replacing: Callable[[str], None] | None = None,
) -> Imported:
    """`before_replacing(name)`, when a corpus of that name is there to be replaced, may refuse it:
    the CLI asks the runs layer whether runs were trained on it (corpus may not import runs)."""
    check_format(fmt)  # a bad option first, before what the import would do to the home
    target = check_name(name, force)
    if before_replacing is not None and (target / CORPUS_FILE).exists():
        before_replacing(name)
    if without_lines_of is not None and without_lines_of not in available_corpora():
        known = ", ".join(available_corpora())
        raise TangError(f"--without-lines-of: no corpus named {without_lines_of!r} (corpora: {known})")
    rows = read_poems(path, fmt)
    from collections import Counter

    cleaned = [clean_body(r[3], Counter()) for r in rows]  # once: counted here, read by the filter
    if all(c is None for c in cleaned):
        raise TangError(f"{path}: every poem is empty after cleaning; nothing to import")
    # A line of no Chinese character is not a poem ("hello world" in a text file, a stray "标题:"'s
    # colon): left out, and counted, rather than stored as verse that `stats` counts as 古体.
    chinese = [c is None or any(map(is_han, c.text)) for c in cleaned]
    not_chinese = chinese.count(False)
    rows = [r for r, keep in zip(rows, chinese) if keep]
    cleaned = [c for c, keep in zip(cleaned, chinese) if keep]
    rows, cleaned, repeated = _first_of_each(rows, cleaned)
    if all(c is None for c in cleaned):
        raise TangError(f"{path}: no poem holds a Chinese character; nothing to import")
    sample = "".join("".join(r[3]) for r in rows[:2000])
    script = guess_script(sample)
    overlapping = 0
    if without_lines_of is not None:
        before = len(rows)
        rows, cleaned = without_overlap(rows, cleaned, script, held_out_lines(without_lines_of))
        overlapping = before - len(rows)
    usable = sum(1 for c in cleaned if c is not None and not c.lost)  # a lost poem is never trained on
    lost = sum(1 for c in cleaned if c is not None and c.lost)
    if without_lines_of is not None and usable + lost == 0:
        raise TangError(
            f"{path}: every poem shares a line with {without_lines_of}'s val or test poems; nothing to import"
        )
    document = {
        "source": f"imported from {Path(path).name}",
        "script": script,
        "fields": ["id", "title", "author", "paragraphs"],
        "poems": rows,
    }
    blob = lzma.compress(
        json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), preset=6
    )
    root = paths.corpora_dir()
    root.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "name": name,
        "poems": len(rows),
        "script": script,
        "source": str(Path(path).resolve()),
    }
    if without_lines_of is not None:
        meta["without_lines_of"] = without_lines_of
        meta["left_out"] = overlapping
    fault_point("import")  # where a test holds one import while another of the same name finishes
    with exclusive(root.parent / IMPORT_LOCK) as held:  # one import at a time: its leftovers are known dead
        if held:
            clear_staging(root)
        # Asked again under the lock: two imports of one name at once both passed the check above,
        # and the later replaced the earlier without --force, each told it had imported (a fuzzing review).
        check_name(name, force)
        if before_replacing is not None and (target / CORPUS_FILE).exists():
            before_replacing(name)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=root))
        try:
            os.chmod(staging, 0o755)  # mkdtemp makes 0700; a home is meant to be copied and shared
            (staging / CORPUS_FILE).write_bytes(blob)
            (staging / "meta.json").write_text(
                json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8"
            )
            swap_in_dir(staging, target)  # one atomic exchange where the system has it; else recoverable
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return {
        "name": name,
        "poems": len(rows),
        "usable": usable,
        "lost": lost,
        "repeated": repeated,
        "overlapping": overlapping,
        "not_chinese": not_chinese,
        "script": script,
        "path": str(target),
    }


IMPORT_LOCK = ".corpora.lock"  # beside corpora/ in the home, so it is never an entry of it


def clear_staging(root: Path) -> list[Path]:
    """Delete the staging folders of imports that were killed (`.NAME.XXXX.tmp`, and `.NAME.XXXX`
    from before they were marked), 5 MB each in issue 26's probe. Call only under IMPORT_LOCK: no
    live import then owns one. A folder parked aside (`.NAME.old`) is left to `recover_dir`."""
    removed = []
    for entry in root.iterdir():
        hidden = entry.name.startswith(".") and not entry.name.endswith(".old")
        if hidden and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def list_imported() -> list[dict[str, Any]]:
    """Each imported corpus's meta.json as stored (JSON objects: the CLI and the studio show them)."""
    root = paths.corpora_dir()
    out: list[dict[str, Any]] = []
    if root.is_dir():
        with exclusive(root.parent / IMPORT_LOCK, wait=False) as held:  # no import running: clear what died
            if held:
                clear_staging(root)
        for parked in root.glob(".*.old"):  # an import --force killed between its two renames
            recover_dir(root / parked.name[1:-4])
        for meta in sorted(root.glob("*/meta.json")):
            if meta.parent.name.startswith("."):  # an import being written, or one parked aside
                continue
            try:
                info = json.loads(meta.read_text("utf-8"))
                if not isinstance(info, dict):
                    raise ValueError("not an object")
                out.append(info)
            except (OSError, ValueError, RecursionError):
                out.append(
                    {
                        "name": meta.parent.name,
                        "poems": "?",
                        "script": "?",
                        "source": "(unreadable meta.json)",
                    }
                )
    return out
