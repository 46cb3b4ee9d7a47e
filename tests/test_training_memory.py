"""training/memory.py: the per-shape caches go off before torch reads them, unless the user says."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tangstudio.engine.training.memory import CACHES, has_long_poems, tame_cpu_memory


@pytest.fixture
def clean_env(monkeypatch):
    """The variables unset for the test and put back as they were after it (tame_cpu_memory writes
    os.environ itself, which monkeypatch would not undo)."""
    saved = dict(os.environ)
    for name in [*CACHES, "TANGSTUDIO_KEEP_ALLOCATOR"]:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch
    os.environ.clear()
    os.environ.update(saved)


def test_sets_the_caches_off(clean_env) -> None:
    done = tame_cpu_memory()
    assert {name: os.environ[name] for name in CACHES} == CACHES
    assert set(CACHES) <= set(done)


def test_a_value_the_user_gave_is_kept(clean_env) -> None:
    clean_env.setenv("LRU_CACHE_CAPACITY", "1024")
    done = tame_cpu_memory()
    assert os.environ["LRU_CACHE_CAPACITY"] == "1024" and "LRU_CACHE_CAPACITY" not in done
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "0"


def test_keep_allocator_leaves_everything_alone(clean_env) -> None:
    clean_env.setenv("TANGSTUDIO_KEEP_ALLOCATOR", "1")
    assert tame_cpu_memory() == {}
    assert not any(name in os.environ for name in CACHES)


def test_long_poems_are_any_form_beyond_the_regulated_four() -> None:
    assert has_long_poems("all") and has_long_poems(None) and has_long_poems("wujue,free")
    assert not has_long_poems("regulated") and not has_long_poems("qilv,五绝")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
@pytest.mark.parametrize("forms", ["all", "regulated"])
def test_the_mmap_threshold_is_fixed_on_glibc_for_long_poems(forms: str) -> None:
    """In a child: the value mallopt accepted is reported (so the call really reached glibc)."""
    import platform

    code = (
        "from tangstudio.engine.training.memory import tame_cpu_memory as t; "
        f"print(t({forms!r}).get('M_MMAP_THRESHOLD'))"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TANGSTUDIO_KEEP_ALLOCATOR", "MALLOC_MMAP_THRESHOLD_")
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    glibc = platform.libc_ver()[0] == "glibc"
    assert out.stdout.strip() == (str(32 << 20) if glibc and forms == "all" else "None")
    # glibc's own variable, set by the user, is theirs: no mallopt over it
    env["MALLOC_MMAP_THRESHOLD_"] = str(1 << 20)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "None"
