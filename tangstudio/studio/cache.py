"""Corpora loaded once per process, whichever pane's worker asks first.

`load_corpus` caches too, but two workers missing the cache at the same moment would each spend a
second or two converting the same corpus; the lock makes the second one wait for the first.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()


def corpus(name: str, script: str):
    from tangstudio.engine.corpus import load_corpus

    with _lock:
        return load_corpus(name, script)
