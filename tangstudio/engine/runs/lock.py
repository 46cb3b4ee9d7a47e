"""The run lock: one process trains a run at a time, and a lock left by a dead process never blocks.

`run.lock` holds JSON (pid, host, the process's start time) for readers such as `runs list` and the
studio. Where the system has `flock` (Linux, macOS), the kernel holds the lock itself and lets go
when the process dies, however it dies, so a stale file is simply taken over. Elsewhere the file is
created exclusively, and a file whose process is dead, or whose pid now belongs to a process that
started later (pid reuse), is recovered.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import stat
from pathlib import Path
from typing import Any

from tangstudio.engine.errors import TangError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def process_start(pid: int) -> str | None:
    """The start time of process `pid` in clock ticks since boot (Linux /proc), or None if unknown."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = text[text.rfind(")") + 2 :].split()  # the command name may hold spaces and parentheses
    return fields[19] if len(fields) > 19 else None


def lock_info() -> dict[str, Any]:
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "started": process_start(pid)}


def holder_alive(info: dict[str, Any]) -> int | None:
    """The pid named by a lock when that very process still runs on this host, else None."""
    try:
        pid = int(info["pid"])
        os.kill(pid, 0)
    except PermissionError:  # alive, but someone else's
        pid = int(info["pid"])
    except (OSError, KeyError, ValueError, TypeError, OverflowError):
        return None
    started = info.get("started")
    if started is not None and process_start(pid) not in (None, str(started)):
        return None  # the pid was reused by a later process
    return pid


def read_lock(path: Path) -> dict[str, Any] | None:
    """The lock's JSON, or None when there is none or it is damaged (never reads a device or folder)."""
    from tangstudio.engine.runs.schema import read_text

    try:
        info = json.loads(read_text(Path(path), 64 << 10))
    except (OSError, ValueError, RecursionError, TangError):
        return None
    return info if isinstance(info, dict) else None


def _busy(name: str, info: dict[str, Any] | None) -> TangError:
    who = f" (pid {info.get('pid')} on {info.get('host')})" if info else ""
    return TangError(f"run {name!r} is being trained by another process right now{who}")


class RunLock:
    """Held from before the data is loaded until the trainer exits; `release()` is idempotent."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = Path(path), fd

    @classmethod
    def acquire(cls, path: Path, name: str) -> RunLock:
        path = Path(path)
        for _ in range(20):
            lock = cls._try_flock(path, name) if fcntl is not None else cls._try_exclusive(path, name)
            if lock is not None:
                return lock
        raise _busy(name, read_lock(path))

    @classmethod
    def _try_flock(cls, path: Path, name: str) -> RunLock | None:
        not_a_file = TangError(
            f"{path} is not a regular file (a link, folder or device); delete it to train run {name!r}"
        )
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except (IsADirectoryError, NotADirectoryError):
            raise not_a_file from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a symbolic link, which O_NOFOLLOW refuses
                raise not_a_file from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise not_a_file
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise _busy(name, read_lock(path)) from None
            try:  # the holder before us may have unlinked the file between our open and flock
                same = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                return None
            previous = read_lock(path)
            if previous and previous.get("host") not in (None, socket.gethostname()):
                raise TangError(
                    f"run {name!r} is locked by host {previous.get('host')} (pid {previous.get('pid')}); "
                    f"if nothing trains it there, delete {path}"
                )
            data = json.dumps(lock_info()).encode("utf-8")
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.close(fd)
            raise
        return cls(path, fd)

    @classmethod
    def _try_exclusive(cls, path: Path, name: str) -> RunLock | None:  # pragma: no cover - no flock
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            info = read_lock(path)
            if info is not None and holder_alive(info) is not None:
                raise _busy(name, info) from None
            path.unlink(missing_ok=True)  # stale: its process is gone or its pid was reused
            return None
        os.write(fd, json.dumps(lock_info()).encode("utf-8"))
        os.fsync(fd)
        return cls(path, fd)

    def still_held(self) -> bool:
        """Whether the run's lock file is still the one this process holds. A run folder deleted (or
        moved and replaced) under a live trainer let a second trainer lock a new file of the same
        name, and the two wrote one folder: one model's config and log, the other's checkpoints (a
        reliability review)."""
        if self.fd < 0:
            return False
        try:
            held, named = os.fstat(self.fd), os.stat(self.path)
        except FileNotFoundError:
            return False
        return (held.st_dev, held.st_ino) == (named.st_dev, named.st_ino)

    def release(self) -> None:
        if self.fd < 0:
            return
        try:
            # while still held, so no newcomer locks a doomed file; and only our own: after the folder
            # was deleted under us, `run.lock` is a new trainer's, and unlinking it let a third in
            if self.still_held():
                self.path.unlink(missing_ok=True)
        finally:
            os.close(self.fd)
            self.fd = -1
