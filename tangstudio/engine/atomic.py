"""Atomic file writes: a reader (the studio following a run, a crash mid-write) never sees half a file."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path


def write_bytes_atomic(path: Path, data: bytes, point: str = "rename") -> None:
    """Write `path` as a temporary file beside it (`.NAME.XXXX.tmp`), fsynced, renamed over it.

    `point` names the fault point just before the rename (where a kill leaves the temporary
    behind: `sole_writer` clears such leftovers)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; run folders are meant to be copied and shared
        fault_point(point)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def temporaries_of(path: Path) -> list[Path]:
    """The temporary files `write_bytes_atomic(path, …)` leaves when it is killed before its rename."""
    path = Path(path)
    try:
        return [p for p in path.parent.glob(f".{glob.escape(path.name)}.*.tmp") if p.is_file()]
    except OSError:
        return []


@contextlib.contextmanager
def exclusive(lock_path: Path, wait: bool = True) -> Iterator[bool]:
    """Hold a kernel flock on `lock_path` (created if missing) for the block; yields whether it is held.

    False where it cannot be taken: a read-only folder, no flock (Windows), or, with `wait=False`,
    another process holding it. The kernel lets go when the holder dies, however it dies.
    """
    try:
        import fcntl

        Path(lock_path).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except (ImportError, OSError):
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError:  # held elsewhere (LOCK_NB), or a file system without locks
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing lets go of the lock


@contextlib.contextmanager
def sole_writer(path: Path) -> Iterator[bool]:
    """Hold an exclusive lock (`.NAME.lock` beside `path`) for rebuilding `path`, and under it delete
    the temporaries a killed writer left (no live writer can own one while we hold the lock).

    Yields False, clearing nothing, where the lock cannot be taken (a read-only folder, no flock):
    the caller then writes as before, and concurrent writers still each rename a whole file.
    """
    path = Path(path)
    with exclusive(path.with_name(f".{path.name}.lock")) as held:
        if held:
            for stale in temporaries_of(path):
                stale.unlink(missing_ok=True)
        yield held


# ---- whole folders: a checkpoint is switched in as one unit ------------------------------------

RENAME_EXCHANGE = 2  # linux/fs.h: swap two paths in one step


def write_file_synced(path: Path, data: bytes) -> None:
    """Write a new file inside a folder no reader looks at yet, and fsync it before it is switched in."""
    with open(path, "wb") as handle:
        half = len(data) // 2
        handle.write(data[:half])
        handle.flush()
        fault_point("write")  # a kill here leaves a torn file, as a power cut would
        handle.write(data[half:])
        handle.flush()
        fault_point("fsync")
        os.fsync(handle.fileno())
    os.chmod(path, 0o644)


# fsync on a folder fails with these where the file system cannot sync folders at all: only this
# is ignored. Anything else (EIO above all) means the new names may not be on the disk, and is
# raised like a file's fsync error, which stops a run (issue 26: EIO was swallowed, exit 0).
_CANNOT_SYNC_DIR = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF})


def fsync_dir(path: Path) -> None:
    """Make a folder's entries (new names, renames) durable; a no-op where folders cannot be synced.

    Windows cannot open a folder at all; elsewhere a folder that cannot be opened for reading
    (write and search permission only) is also skipped, as there is no way to sync it.
    """
    if sys.platform == "win32":
        return
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except PermissionError:
        return
    try:
        fault_point("dirsync")
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in _CANNOT_SYNC_DIR:
            raise
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically (Linux renameat2); False where the system cannot."""
    if sys.platform != "linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), RENAME_EXCHANGE)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # a file system that cannot exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def old_name(target: Path) -> Path:
    """Where the fallback swap parks the previous folder for the moment between its two renames."""
    return target.with_name(f".{target.name}.old")


def swap_in_dir(new: Path, target: Path) -> None:
    """Put the complete folder `new` at `target` in one step; the previous `target` stays whole until then.

    On Linux the two folders are exchanged atomically, then the old one (now at `new`) is removed.
    Elsewhere the old folder is renamed aside first; `recover_dir` puts it back if a crash falls
    between the two renames, so `target` is never lost.
    """
    new, target = Path(new), Path(target)
    fault_point("rename")
    if not target.exists():
        os.rename(new, target)
        fsync_dir(target.parent)
        return
    if _exchange(new, target):
        fsync_dir(target.parent)
        fault_point("remove")
        shutil.rmtree(new, ignore_errors=True)
        return
    parked = old_name(target)
    shutil.rmtree(parked, ignore_errors=True)
    os.rename(target, parked)
    fault_point("rename")
    os.rename(new, target)
    fsync_dir(target.parent)
    shutil.rmtree(parked, ignore_errors=True)


def recover_dir(target: Path) -> None:
    """After a crash: bring back a folder the fallback swap had parked, if nothing replaced it."""
    target = Path(target)
    parked = old_name(target)
    if parked.is_dir() and not target.exists():
        os.rename(parked, target)
        fsync_dir(target.parent)
    elif parked.exists():
        shutil.rmtree(parked, ignore_errors=True)


def remove_leftovers(folder: Path) -> list[Path]:
    """Delete the temporary files and folders a killed writer left in `folder` (`.*.tmp`); returns them."""
    removed: list[Path] = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(".tmp"):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


# ---- the test-only fault hook -------------------------------------------------------------------

FAULT_ENV = "TANGSTUDIO_FAULT"
FAULT_LOG_ENV = "TANGSTUDIO_FAULT_LOG"


class _FaultState:
    spec: str | None = None
    action, wanted, nth = "", "", 0
    counts: dict[str, int] = {}  # noqa: RUF012 - replaced whole when the spec changes


_fault = _FaultState()


def _parse_fault(spec: str) -> tuple[str, str, int]:
    action, point, nth = spec.split(":")
    if action not in ("kill", "enospc", "eio", "log", "pause", "interrupt") or not point:
        raise ValueError(spec)
    return action, point, int(nth)


def fault_point(point: str) -> None:
    """A place where the test suite may kill this process or fill its disk (TANGSTUDIO_FAULT).

    `kill:rename:3` sends SIGKILL to this process at its third rename of a checkpoint;
    `enospc:write:2` fails the second write and every later one with "No space left on device";
    `pause:step:5` stops the process (SIGSTOP) at its fifth step, holding what it holds, until a test
    sends SIGCONT; `interrupt:write:3` raises KeyboardInterrupt there, as a second Ctrl+C does;
    `eio:dirsync:1` fails the first folder fsync with EIO (a dying disk), once;
    `log:any:0` appends each point's name to the file named by TANGSTUDIO_FAULT_LOG, which lets a
    test count the moments a run passes through. Points: write, fsync, dirsync (a folder's fsync),
    rename, remove, step, cache (the corpus cache's write), poem (`generate`, between poems) and
    import (`corpus import`, before it takes the import lock).
    Unset, this costs one dictionary lookup.
    """
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    if spec != _fault.spec:
        _fault.action, _fault.wanted, _fault.nth = _parse_fault(spec)
        _fault.spec, _fault.counts = spec, {}
    action, wanted, nth, counts = _fault.action, _fault.wanted, _fault.nth, _fault.counts
    if action == "log":
        with open(os.environ[FAULT_LOG_ENV], "a", encoding="utf-8") as handle:
            handle.write(point + "\n")
        return
    if wanted not in ("any", point):
        return
    counts[wanted] = counts.get(wanted, 0) + 1
    if counts[wanted] < nth:
        return
    if counts[wanted] == nth:
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif action == "pause":
            os.kill(os.getpid(), signal.SIGSTOP)
        elif action == "interrupt":
            raise KeyboardInterrupt
        elif action == "eio":
            raise OSError(errno.EIO, os.strerror(errno.EIO), point)
    if action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), point)
