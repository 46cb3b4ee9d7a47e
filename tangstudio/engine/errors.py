"""The one error type the engine raises for bad input.

Both faces catch `TangError` and show its message as a single line (exit code 2 in the CLI, a
notification in the studio); anything else escaping is a bug.
"""


class TangError(Exception):
    """A problem with the user's input or data, explained in one line."""

    exit_code = 2


def describe_os_error(exc: OSError) -> str:
    """One line for a failure of the system rather than of the input: a full disk, a read-only
    folder, a home that is a file; the CLI exits 2 with it (the person can fix it), the studio
    shows it where it showed "[Errno 17] File exists: …"."""
    import errno

    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"no space left on the device{where}; free some space and try again"
    if exc.errno == errno.EDQUOT:
        return f"disk quota exceeded{where}"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"cannot write there: {exc.strerror}{where}; choose another --home or fix its permissions"
    if exc.errno in (errno.ENOTDIR, errno.EISDIR, errno.EEXIST):
        return f"{exc.strerror}{where}: a file stands where a folder should be, or the other way round"
    if exc.errno == errno.ENOENT:  # `--home /proc/nosuch`: the raw message alone (an engineer's review)
        return f"{exc.strerror}{where}: a folder on the way is missing and cannot be made there; check the path or choose another --home"
    return f"{exc.strerror or exc}{where}"
