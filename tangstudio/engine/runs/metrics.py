"""metrics.jsonl: one JSON object per line, appended while training runs.

The writer appends whole lines and flushes each one, so a follower (the studio, `tail -f`) sees
complete events promptly. A reader can still catch the file mid-write, so every reader here keeps
an incomplete last line back until its newline arrives instead of failing on it. Every line read
goes through the schema (`schema.check_event`): a damaged one is skipped and counted, never
allowed to break `runs list`, `--resume` or the studio.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tangstudio.engine.atomic import write_bytes_atomic, write_text_atomic
from tangstudio.engine.runs.schema import MAX_JSONL_BYTES, DamagedFile, check_event, jsonl_events, read_upto


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class MetricsWriter:
    """Line-buffered appender; every event gets a `time` stamp."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One file kept open across many appends, closed by close(): a with-block cannot span them.
        self._file = open(self.path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def write(self, event: dict[str, Any]) -> dict[str, Any]:
        record = {**event, "time": event.get("time") or now_iso()}
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()
        return record

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> MetricsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """Every complete, valid event in the file (an unfinished last line is ignored)."""
    return read_jsonl(path).events


@dataclass
class JsonlRead:
    """What a read of a JSONL file gave: its valid records and what was wrong with the rest."""

    events: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0  # damaged lines left out
    first_skip: str | None = None  # "line 7: step 'abc' is not a whole number ≥ 0"
    damage: str | None = None  # the whole file is unusable (a folder, a device, too large)

    def problems(self, name: str) -> list[str]:
        """One line per problem, naming the file: what `runs list/show` print."""
        out = [f"{name}: {self.damage}"] if self.damage else []
        if self.skipped:
            out.append(
                f"{name}: {self.skipped} damaged line{'s' * (self.skipped != 1)} skipped ({self.first_skip})"
            )
        return out


def read_jsonl(
    path: Path, check: Callable[[object], tuple[dict[str, Any] | None, str | None]] = check_event
) -> JsonlRead:
    """Read a whole JSONL file through the schema; a missing file is simply empty."""
    follower = MetricsFollower(path, check)
    events = follower.read_new()
    return JsonlRead(events, follower.skipped, follower.first_skip, follower.damage)


# A listing needs a run's last step, its status and its latest evaluations, not every line: a file
# larger than this is read from its end (issue 26: a 200 MB metrics.jsonl made `runs list` take
# 7.5 s and 1.76 GB). Below it, the whole file is read and every damaged line is counted.
TAIL_FROM_BYTES = 4 << 20
TAIL_BYTES = 256 << 10  # about 800 lines: the last status and step, many times over


def read_jsonl_tail(
    path: Path, check: Callable[[object], tuple[dict[str, Any] | None, str | None]] = check_event
) -> JsonlRead:
    """`read_jsonl` for a file up to TAIL_FROM_BYTES; for a larger one, only its last TAIL_BYTES.

    The partial first line of the tail is dropped; damaged lines are counted within the tail and
    numbered within it ("line 3 of the last 256 KB"), since their numbers in the file are unknown.
    """
    try:
        info = os.stat(path)
    except OSError:
        return read_jsonl(path)
    if not stat.S_ISREG(info.st_mode) or info.st_size <= TAIL_FROM_BYTES:
        return read_jsonl(path, check)  # small, missing or not a file: the full read says what it is
    try:
        with open(path, "rb") as handle:
            handle.seek(max(info.st_size - TAIL_BYTES, 0))
            data = handle.read(TAIL_BYTES)
    except OSError as exc:
        return JsonlRead(damage=f"cannot be read ({exc.strerror or exc})")
    data = data[data.find(b"\n") + 1 : data.rfind(b"\n") + 1]  # whole lines only
    events, skipped, first = jsonl_events(data.decode("utf-8", errors="replace"), check)
    if first:
        first += f" of the last {TAIL_BYTES >> 10} KB"
    return JsonlRead(events, skipped, first, None)


def read_kind(path: Path, kind: str) -> list[dict[str, Any]]:
    """Every valid event of one kind (`eval`), streamed: the other lines are never parsed or kept."""
    needle = f'"{kind}"'.encode()
    events: list[dict[str, Any]] = []
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_JSONL_BYTES:
            return []  # never opened: a FIFO would hang; the summary names the damage
        with open(path, "rb", buffering=1 << 20) as handle:
            for line in handle:
                if needle not in line or not line.endswith(b"\n"):
                    continue
                found, _, _ = jsonl_events(line.decode("utf-8", errors="replace"), check_event)
                events += [e for e in found if e.get("event") == kind]
    except OSError:
        return []
    return events


class MetricsFollower:
    """Reads only what was appended since the last call; holds back a half-written last line.

    Lines that are not valid events are skipped and counted (`skipped`, `first_skip`); a path that
    is not a regular file (a folder, /dev/zero) is never read and sets `damage` instead.
    """

    def __init__(
        self, path: Path, check: Callable[[object], tuple[dict[str, Any] | None, str | None]] = check_event
    ) -> None:
        self.path = Path(path)
        self.check = check
        self.offset = 0
        self._partial = b""
        self._lines = 0  # complete lines read so far, to name a damaged one by its number
        self.restarts = 0  # times the file was rewritten under us: a reader should drop what it had
        # (device, inode) of the file read so far. A resume rewrites metrics.jsonl as a new file
        # (temp + rename), which may already be longer than our offset by the next poll: only its
        # identity tells (issue 26: a size check seeked mid-line and called a valid file damaged).
        self._identity: tuple[int, int] | None = None
        self.skipped = 0
        self.first_skip: str | None = None
        self.damage: str | None = None

    def read_new(self) -> list[dict[str, Any]]:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return []
        except OSError as exc:
            self.damage = f"cannot be read ({exc.strerror or exc})"
            return []
        if not stat.S_ISREG(info.st_mode):
            self.damage = "is a folder, not a file" if stat.S_ISDIR(info.st_mode) else "is not a regular file"
            return []
        if info.st_size > MAX_JSONL_BYTES:
            self.damage = f"is {info.st_size:,} bytes, more than the {MAX_JSONL_BYTES:,} it may be"
            return []
        self.damage = None
        try:
            with open(self.path, "rb") as handle:
                now = os.fstat(handle.fileno())
                identity = (now.st_dev, now.st_ino)
                if now.st_size < self.offset or self._identity not in (None, identity):  # rewritten
                    self.offset, self._partial, self._lines = 0, b"", 0
                    self.skipped, self.first_skip = 0, None
                    self.restarts += 1
                self._identity = identity
                handle.seek(self.offset)
                data = read_upto(handle, MAX_JSONL_BYTES)
        except FileNotFoundError:
            return []
        except OSError as exc:
            self.damage = f"cannot be read ({exc.strerror or exc})"
            return []
        self.offset += len(data)
        data = self._partial + data
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]
        text = data[:cut].decode("utf-8", errors="replace")
        events, skipped, first = jsonl_events(text, self.check, self._lines + 1)
        self._lines += text.count("\n")
        self.skipped += skipped
        self.first_skip = self.first_skip or first
        return events


def trim_after(path: Path, step: int) -> Path | None:
    """On resume, drop events logged after the checkpoint we restart from (they will be redone).

    Damaged lines are dropped too, the file as it was kept beside it: returns where (None: no line
    was damaged). A metrics path that is not a file (a folder, a device) is refused before anything
    is written into the run.
    """
    path = Path(path)
    read = read_jsonl(path)
    if read.damage:
        raise DamagedFile(path, read.damage)
    if not path.is_file():
        return None
    kept = [e for e in read.events if e["step"] <= step and e.get("event") != "done"]
    copy = None
    if read.skipped:  # the lines dropped are kept beside it, as they were: evidence, not data to lose
        copy = _damaged_copy(path)
        write_bytes_atomic(copy, path.read_bytes())
    write_text_atomic(path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in kept))
    return copy


def _damaged_copy(path: Path) -> Path:
    """Where a resume keeps a metrics.jsonl with damaged lines before it drops them: the file went
    without a word, its bad lines with it (an engineer's review). An earlier copy is not replaced."""
    copy, n = path.with_name(f"{path.name}.damaged"), 1
    while copy.exists():
        n += 1
        copy = path.with_name(f"{path.name}.damaged-{n}")
    return copy
