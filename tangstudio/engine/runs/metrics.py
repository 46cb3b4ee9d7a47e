"""metrics.jsonl: one JSON object per line, appended while training runs.

The writer appends whole lines and flushes each one, so a follower (the studio, `tail -f`) sees
complete events promptly. A reader can still catch the file mid-write, so every reader here keeps
an incomplete last line back until its newline arrives instead of failing on it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from tangstudio.engine.atomic import write_text_atomic


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class MetricsWriter:
    """Line-buffered appender; every event gets a `time` stamp."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One file kept open across many appends, closed by close(): a with-block cannot span them.
        self._file = open(self.path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def write(self, event: dict) -> dict:
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


def _parse_lines(chunk: str) -> list[dict]:
    events = []
    for line in chunk.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue  # a line damaged by a crash long ago: skip it, keep the rest
        if isinstance(value, dict):
            events.append(value)
    return events


def read_metrics(path: Path) -> list[dict]:
    """Every complete event in the file (an unfinished last line is ignored)."""
    follower = MetricsFollower(path)
    return follower.read_new()


class MetricsFollower:
    """Reads only what was appended since the last call; holds back a half-written last line."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.offset = 0
        self._partial = b""
        self.restarts = 0  # times the file was rewritten under us: a reader should drop what it had

    def read_new(self) -> list[dict]:
        try:
            with open(self.path, "rb") as handle:
                if os.fstat(handle.fileno()).st_size < self.offset:  # rewritten (resume trimmed it)
                    self.offset, self._partial = 0, b""
                    self.restarts += 1
                handle.seek(self.offset)
                data = handle.read()
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            return []
        self.offset += len(data)
        data = self._partial + data
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]
        return _parse_lines(data[:cut].decode("utf-8", errors="replace"))


def follow(path: Path, poll_s: float = 0.5, stop: Callable[[], bool] | None = None) -> Iterator[dict]:
    """Yield events as they are appended, until a `done` event or `stop()` says so."""
    follower = MetricsFollower(path)
    while True:
        for event in follower.read_new():
            yield event
            if event.get("event") == "done":
                return
        if stop is not None and stop():
            return
        time.sleep(poll_s)


def trim_after(path: Path, step: int) -> None:
    """On resume, drop events logged after the checkpoint we restart from (they will be redone)."""
    path = Path(path)
    if not path.is_file():
        return
    kept = [e for e in read_metrics(path) if int(e.get("step", 0)) <= step and e.get("event") != "done"]
    write_text_atomic(path, "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in kept))
