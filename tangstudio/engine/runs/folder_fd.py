"""A checkpoint folder opened once, its files read through that one descriptor (openat).

A trainer switches a new checkpoint in with one exchange of two folders (`atomic.swap_in_dir`)
while the studio or `generate` may be reading it. A reader that opens `meta.json` and then
`model.safetensors` by path can get one file from each side of an exchange, and then refuses a
good checkpoint as "does not match its recorded sha256" (issue 26: 1 of 35 tries under a run that
switched at every step). Opened through the folder's descriptor, both files come from the same
folder, whatever is renamed meanwhile; if the trainer deletes that (old) folder between the two
reads, the second read finds nothing and the caller tries again on the new one
(`checkpoint.read_stable`).

Every file is opened with O_NOFOLLOW (a link to /dev/zero is refused, not read) and O_NONBLOCK
(a FIFO is refused, not waited on), and must be a regular file no larger than its kind may be.
Torch-free.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tangstudio.engine.errors import TangError

MAX_HEADER_BYTES = 16 << 20  # a safetensors header lists names, dtypes and shapes
_AT = os.open in os.supports_dir_fd  # openat; without it (Windows) files are opened by path


class OpenFolder:
    """A folder held open by descriptor; `read(name)` reads a regular file inside it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.fd: int | None = None
        if not _AT:
            return
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            self.fd = os.open(self.path, flags)
        except FileNotFoundError:
            raise TangError(f"checkpoint {self.path} is missing") from None
        except OSError as exc:
            raise TangError(f"checkpoint {self.path} cannot be opened ({exc.strerror})") from None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def identity(self) -> tuple[int, int] | None:
        """(device, inode) of the folder this descriptor holds: what a switch changes under the path."""
        try:
            info = os.fstat(self.fd) if self.fd is not None else os.stat(self.path)
        except OSError:
            return None
        return info.st_dev, info.st_ino

    @contextlib.contextmanager
    def open(self, name: str, limit: int | None = None) -> Iterator[tuple[int, int]]:
        """(descriptor, size) of regular file `name`, or one line saying why it cannot be read."""
        where = self.path / name
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        flags |= getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(name, flags, dir_fd=self.fd) if self.fd is not None else os.open(where, flags)
        except FileNotFoundError:
            raise TangError(f"checkpoint file {where} is missing") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link
                raise TangError(
                    f"checkpoint file {where} is not a regular file (a link, folder or device); refusing it"
                ) from None
            raise TangError(f"checkpoint file {where} cannot be read ({exc.strerror})") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise TangError(
                    f"checkpoint file {where} is not a regular file (a link, folder or device); refusing it"
                )
            if limit is not None and info.st_size > limit:
                raise TangError(
                    f"checkpoint file {where} is too large ({info.st_size:,} bytes) to be what it claims"
                )
            yield fd, info.st_size
        finally:
            os.close(fd)

    def read(self, name: str, limit: int | None = None) -> bytes:
        """The whole of regular file `name` (refused when it changed size while being read)."""
        with self.open(name, limit) as (fd, size):
            try:
                with os.fdopen(os.dup(fd), "rb") as handle:
                    data = handle.read(size + 1)
            except OSError as exc:
                raise TangError(
                    f"checkpoint file {self.path / name} cannot be read ({exc.strerror})"
                ) from None
        if len(data) != size:
            raise TangError(f"checkpoint file {self.path / name} changed while it was read; try again")
        return data

    def read_json(self, name: str, limit: int) -> dict[str, Any]:
        where = self.path / name
        try:
            data = json.loads(self.read(name, limit).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise TangError(f"checkpoint file {where} is truncated or damaged (not valid JSON)") from None
        if not isinstance(data, dict):
            raise TangError(f"checkpoint file {where} is damaged (not a JSON object)")
        return data

    def tensor_shapes(self, name: str) -> dict[str, list[int]]:
        """Names and shapes from a safetensors header, checked against the file's size; reads no tensor."""
        where = self.path / name
        damaged = f"checkpoint file {where} is truncated or damaged (bad safetensors header)"
        with self.open(name) as (fd, size):
            try:
                head = os.pread(fd, 8, 0)
                if len(head) != 8:
                    raise TangError(damaged)
                (length,) = struct.unpack("<Q", head)
                if length > min(MAX_HEADER_BYTES, size - 8):
                    raise TangError(damaged)
                header = json.loads(os.pread(fd, length, 8).decode("utf-8"))
            except OSError as exc:
                raise TangError(f"checkpoint file {where} cannot be read ({exc.strerror})") from None
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise TangError(damaged) from None
        if not isinstance(header, dict):
            raise TangError(damaged)
        shapes, end = {}, 0
        for key, entry in header.items():
            if key == "__metadata__":
                continue
            try:
                shape = [int(d) for d in entry["shape"]]
                start, stop = (int(o) for o in entry["data_offsets"])
            except (TypeError, KeyError, ValueError):
                raise TangError(damaged) from None
            if min(shape, default=0) < 0 or not 0 <= start <= stop:
                raise TangError(damaged)
            shapes[key], end = shape, max(end, stop)
        if 8 + length + end != size:
            raise TangError(f"checkpoint file {where} is truncated or padded: its header and size disagree")
        return shapes

    def __enter__(self) -> OpenFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def opened(directory: Path | OpenFolder) -> Iterator[OpenFolder]:
    """`directory` held open for the block (an OpenFolder given is used as it is, not closed)."""
    if isinstance(directory, OpenFolder):
        yield directory
        return
    with OpenFolder(Path(directory)) as folder:
        yield folder
