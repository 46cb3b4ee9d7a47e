"""Turning engine errors into one line on stderr and their exit code (2 for bad input)."""

from __future__ import annotations

import sys


def say(message: str) -> None:
    """One `error:` line on stderr, with control characters escaped: a message that echoes what a
    person typed (a poem, a name) must not ring the bell or recolour the terminal."""
    from tangstudio.engine.typed_text import printable

    line = printable(" ".join(str(message).split("\n")))
    print(f"error: {line}", file=sys.stderr)


def report_and_exit(exc: BaseException) -> None:
    say(str(exc))
    sys.exit(getattr(exc, "exit_code", 2))


def describe_os_error(exc: OSError) -> str:
    """One line for a failure of the system rather than of the input: a full disk, a read-only
    folder, a home that is a file. Exit code 2 like bad input: the person can fix it."""
    import errno

    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"no space left on the device{where}; free some space and try again"
    if exc.errno == errno.EDQUOT:
        return f"disk quota exceeded{where}"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"cannot write there: {exc.strerror}{where}; choose another --home or fix its permissions"
    if exc.errno in (errno.ENOTDIR, errno.EISDIR):
        return f"{exc.strerror}{where}: a file stands where a folder should be, or the other way round"
    return f"{exc.strerror or exc}{where}"
