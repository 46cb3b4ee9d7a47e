"""A long CPU run's memory, kept flat (issue 24; docs/long_poems.md, "The real trainer").

Token-budget batches give a run of long poems hundreds of distinct batch shapes, and each new
shape left native memory behind: a 2×256 LSTM on `--forms all` peaked at 1,477 MB by step 80 and
kept climbing, while its Python objects and live tensors stayed the same. Two caches and one
allocator habit hold it, and all three must go for the peak to stop moving (measured one at a time
and together, same run: with all three, 978 MB from step 60 to 240, and in-process 992 MB from
step 240 to 480; with any one left as it was, still climbing: 988–1,119 MB by step 160–240):

- ideep's computation cache (`LRU_CACHE_CAPACITY`, 1024 entries by default): one entry per shape;
- oneDNN's primitive cache (`ONEDNN_PRIMITIVE_CACHE_CAPACITY`, 1024): the same;
- glibc's sliding mmap threshold: once a large block is freed, blocks of that size come from the
  heap instead of their own mapping, and a heap of many sizes fragments. A fixed threshold
  (`mallopt(M_MMAP_THRESHOLD)`) gives every block above it back to the system when freed.

The caches are read when libtorch first needs them, so `tame_cpu_memory()` runs before torch is
imported (the CLI's `train --headless`, which the studio's runs use too) and again in `train()`
for programmatic callers; a value already in the environment is left as it is, so a user can
put the caches back (`LRU_CACHE_CAPACITY=1024`). The caches cost nothing measurable; the fixed
threshold costs `--forms all` about 3 % of its speed and is left out for the regulated forms alone
(`bench_train.py`: −13 % there, where few shapes leave little to fragment).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

CACHES = {"LRU_CACHE_CAPACITY": "1", "ONEDNN_PRIMITIVE_CACHE_CAPACITY": "0"}
MMAP_THRESHOLD = 32 << 20  # bytes: blocks from 32 MiB up always get their own mapping, returned on free
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number (malloc.h)
_ENV_OFF = "TANGSTUDIO_KEEP_ALLOCATOR"  # set to 1 to leave every cache and the allocator alone


def has_long_poems(forms: str | None) -> bool:
    """Does a run on these forms (`all`, `regulated`, a list) train on poems beyond the four
    regulated forms, whose lengths give a batch plan hundreds of shapes?"""
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.forms import REGULATED_NAMES, parse_many

    try:
        chosen = parse_many(forms)
    except TangError:  # refused with its own line where the config is checked
        return True
    return chosen is None or not chosen <= REGULATED_NAMES


def tame_cpu_memory(forms: str | None = "all") -> dict[str, str]:
    """Turn off the per-shape caches and, for runs with long poems, fix glibc's mmap threshold;
    returns what was set. Regulated poems alone keep the threshold sliding: they have few shapes,
    and fresh mappings cost their steps 13 % (bench_train --forms regulated)."""
    if os.environ.get(_ENV_OFF) == "1":
        return {}
    done = {name: value for name, value in CACHES.items() if os.environ.setdefault(name, value) == value}
    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    if has_long_poems(forms) and glibc and "MALLOC_MMAP_THRESHOLD_" not in os.environ:  # a user's own kept
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            if libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1:
                done["M_MMAP_THRESHOLD"] = str(MMAP_THRESHOLD)
        except (OSError, AttributeError):  # no glibc to ask: nothing to fix
            pass
    return done
