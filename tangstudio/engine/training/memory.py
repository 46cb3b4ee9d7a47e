"""A long CPU run's memory, kept flat (issue 24, docs/long_poems.md "The long run's memory").

Token-budget batches give a run of long poems hundreds of distinct batch shapes, and each new
shape left native memory behind: a 2×256 LSTM on `--forms all` peaked at 1,477 MB by step 80 and
kept climbing, while its Python objects and live tensors stayed the same. Two caches and one
allocator habit hold it, and all three must go for the peak to stop moving (measured one at a time
and together, same run: with all three, 936 MB at step 80 and 942 MB at step 240; with any one
left as it was, still climbing: 988–1,119 MB by step 160–240):

- ideep's computation cache (`LRU_CACHE_CAPACITY`, 1024 entries by default): one entry per shape;
- oneDNN's primitive cache (`ONEDNN_PRIMITIVE_CACHE_CAPACITY`, 1024): the same;
- glibc's sliding mmap threshold: once a large block is freed, blocks of that size come from the
  heap instead of their own mapping, and a heap of many sizes fragments. A fixed threshold
  (`mallopt(M_MMAP_THRESHOLD)`) gives every block above it back to the system when freed.

The caches are read when libtorch first needs them, so `tame_cpu_memory()` runs before torch is
imported (the CLI's `train --headless`, which the studio's runs use too) and again in `train()`
for programmatic callers; a value already in the environment is left as it is, so a user can
put the caches back (`LRU_CACHE_CAPACITY=1024`). The price is a few per cent of speed in
`benchmarks/bench_train.py` on long poems; a run on short poems has few shapes either way.
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


def tame_cpu_memory() -> dict[str, str]:
    """Turn off the per-shape caches and fix glibc's mmap threshold; returns what was set."""
    if os.environ.get(_ENV_OFF) == "1":
        return {}
    done = {name: value for name, value in CACHES.items() if os.environ.setdefault(name, value) == value}
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            if libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1:
                done["M_MMAP_THRESHOLD"] = str(MMAP_THRESHOLD)
        except (OSError, AttributeError):  # no glibc to ask: nothing to fix
            pass
    return done
