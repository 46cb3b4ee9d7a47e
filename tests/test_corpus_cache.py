"""The corpus cache: built once, reused, rebuilt when stale or damaged, safe to build twice at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tangstudio.engine.corpus import build_corpus
from tangstudio.engine.corpus import cache as C
from tangstudio.engine.corpus.importer import import_corpus

pytestmark = pytest.mark.own_corpus_cache  # these tests watch the cache folder from empty

POEMS = [
    "静夜思:床前明月光，疑是地上霜。举头望明月，低头思故乡。",
    "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。",
    "登鹳雀楼:白日依山尽，黄河入海流。欲穷千里目，更上一层楼。",
]


@pytest.fixture
def mine(tmp_path: Path, home: Path) -> str:
    path = tmp_path / "mine.txt"
    path.write_text("\n".join(POEMS) + "\n", encoding="utf-8")
    import_corpus(path, "mine")
    return "mine"


@pytest.fixture
def notes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    said: list[str] = []
    monkeypatch.setattr(C, "report", said.append)
    return said


def _never() -> None:
    raise AssertionError("the cache should have been used, not a rebuild")


def _same(a: C.CorpusArrays, b: C.CorpusArrays) -> None:
    assert set(a.arrays) == set(b.arrays)
    for name in a.arrays:
        assert np.array_equal(np.asarray(a.arrays[name]), np.asarray(b.arrays[name])), name
    assert (a.fingerprint, a.raw_count, a.cleaning) == (b.fingerprint, b.raw_count, b.cleaning)


def test_first_build_writes_the_cache_under_the_home(mine, home, notes):
    data, built = C.load_arrays(mine, "simplified")
    path = home / "cache" / "corpus" / "mine.simplified.tsc"
    assert path.is_file() and C.cache_path(mine, "simplified") == path
    assert data.origin == "built" and built is not None
    assert data.to_corpus().poems == build_corpus(mine, "simplified").poems
    assert notes == []  # a first build is not news
    assert not list(path.parent.glob(".*.tmp"))  # no temporary file left behind


def test_second_load_reuses_the_file_and_gives_the_same_corpus(mine, notes):
    first, _ = C.load_arrays(mine, "simplified")
    again, built = C.load_arrays(mine, "simplified", build=_never)
    assert again.origin == "cache" and built is None
    _same(first, again)
    assert again.to_corpus().poems == build_corpus(mine, "simplified").poems
    assert isinstance(again.arrays["chars"].base, np.memmap) or isinstance(again.arrays["chars"], np.memmap)
    assert notes == []


def test_scripts_are_cached_apart(mine):
    simplified, _ = C.load_arrays(mine, "simplified")
    traditional, _ = C.load_arrays(mine, "traditional")
    assert "举" in simplified.text and "舉" in traditional.text


def test_a_changed_source_makes_the_cache_stale(mine, tmp_path, notes):
    C.load_arrays(mine, "simplified")
    path = tmp_path / "other.txt"
    path.write_text("\n".join(POEMS[:2]) + "\n", encoding="utf-8")
    import_corpus(path, mine, force=True)
    data, built = C.load_arrays(mine, "simplified")
    assert built is not None and len(data) == 2
    assert len(notes) == 1 and "stale" in notes[0]
    again, _ = C.load_arrays(mine, "simplified", build=_never)
    assert len(again) == 2


def test_changed_cleaning_code_makes_the_cache_stale(mine, notes, monkeypatch):
    C.load_arrays(mine, "simplified")
    monkeypatch.setattr(C, "code_version", lambda: "a-newer-cleaner")
    _, built = C.load_arrays(mine, "simplified")
    assert built is not None and "stale" in notes[0]


@pytest.mark.parametrize(
    "damage, says",
    [
        (lambda b: b[: len(b) // 2], "truncated"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 0xFF]), "corrupt"),
        (lambda b: b"not a cache at all", "damaged"),
        (lambda b: b"", "damaged"),
        (lambda b: b + b"\0" * 64, "trailing"),
        (lambda b: b.replace(b'"format": 1', b'"format": 9', 1), "another version"),
    ],
)
def test_a_damaged_cache_is_rebuilt_with_one_line(mine, notes, damage, says):
    data, _ = C.load_arrays(mine, "simplified")
    path = C.cache_path(mine, "simplified")
    path.write_bytes(damage(path.read_bytes()))
    rebuilt, built = C.load_arrays(mine, "simplified")
    assert built is not None
    assert len(notes) == 1 and says in notes[0] and "\n" not in notes[0]
    _same(data, rebuilt)
    good, _ = C.load_arrays(mine, "simplified", build=_never)  # and the file is whole again
    _same(data, good)


def test_a_cache_folder_that_cannot_be_made_falls_back_to_memory(mine, home, notes):
    (home / "cache").parent.mkdir(parents=True, exist_ok=True)
    (home / "cache").write_text("a file where the cache folder should be")
    data, built = C.load_arrays(mine, "simplified")
    again, _ = C.load_arrays(mine, "simplified")
    assert built is not None and len(data) == 3 and len(again) == 3
    assert len(notes) == 1 and "built in memory" in notes[0]  # said once per process, not per load
    assert not C.can_write(mine, "simplified")  # so the studio builds here, not in a child first


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_cache_folder_falls_back_to_memory(mine, home, notes):
    folder = home / "cache" / "corpus"
    folder.mkdir(parents=True)
    folder.chmod(0o555)
    try:
        data, built = C.load_arrays(mine, "simplified")
        assert built is not None and len(data) == 3
        assert not list(folder.iterdir())
        assert any("built in memory" in n for n in notes)
    finally:
        folder.chmod(0o755)


BUILDER = """
import sys, time
from pathlib import Path
from tangstudio.engine.corpus import cache
go = Path(sys.argv[1])
while not go.exists():
    time.sleep(0.005)
data, built = cache.load_arrays("mine", "simplified")
print(len(data), data.origin)
"""


def test_two_processes_building_at_once_both_succeed(mine, home, tmp_path):
    go = tmp_path / "go"
    env = {**os.environ, "TANGSTUDIO_HOME": str(home)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", BUILDER, str(go)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(0.5)  # both are waiting for the start line (not a timed assertion: only a head start)
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err
        assert out.split()[0] == "3" and "Traceback" not in err
    data, built = C.load_arrays(mine, "simplified", build=_never)
    assert built is None and len(data) == 3
    assert not list(C.cache_path(mine, "simplified").parent.glob(".*.tmp"))


def test_line_hash_matches_the_vectorised_span_hashes():
    text = "白日依山尽，黄河入海流。𠀀𠀁山水\n"
    chars = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    starts = np.array([0, 6, 12, 0, 3])
    ends = np.array([5, 11, 16, 1, 4])
    got = C.span_hashes(chars, starts, ends).tolist()
    assert got == [C.line_hash(text[s:e]) for s, e in zip(starts, ends)]
    assert len(set(got)) == len(got)


def test_a_read_only_file_system_falls_back_to_memory(mine, home, notes, monkeypatch):
    """The same as above where permissions cannot stop the writer (root): the file system says EROFS."""
    import errno

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr("tempfile.mkstemp", read_only)  # atomic.write_bytes_atomic makes the temporary
    data, built = C.load_arrays(mine, "simplified")
    assert built is not None and len(data) == 3
    assert not C.cache_path(mine, "simplified").exists()
    assert len(notes) == 1 and "Read-only file system" in notes[0] and "built in memory" in notes[0]


def test_a_child_process_builds_the_cache_and_is_fresh_tells(mine, notes):
    assert not C.is_fresh(mine, "simplified") and C.can_write(mine, "simplified")
    assert C.build_in_child(mine, "simplified")
    assert C.is_fresh(mine, "simplified")
    data, built = C.load_arrays(mine, "simplified", build=_never)
    assert built is None and len(data) == 3
    path = C.cache_path(mine, "simplified")
    path.write_bytes(path.read_bytes()[:-8])
    assert not C.is_fresh(mine, "simplified")


def test_the_cache_lives_in_the_home_when_one_is_given_else_the_user_cache_folder(home, monkeypatch):
    import platformdirs

    assert C.cache_dir() == home / "cache"
    monkeypatch.delenv("TANGSTUDIO_HOME")
    assert C.cache_dir() == platformdirs.user_cache_path("tangstudio", appauthor=False)
