"""scripts/gpu_leg.py's pieces that run without a GPU: what it carries there and what comes back.

The device returns at most 8 files of 16 MiB, so the runs travel as a tar cut into parts; a part
lost or damaged on the way must be caught, and a run already here must never be overwritten.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gpu_leg():
    spec = importlib.util.spec_from_file_location("gpu_leg", ROOT / "scripts" / "gpu_leg.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_run_comes_back_whole_through_small_parts(gpu_leg, seeded_model_run: Path, tmp_path: Path) -> None:
    """A chosen run's checkpoint comes back bit for bit; another run's, only its config and metrics."""
    from tangstudio.engine.runs.checkpoint import read_weights

    out, runs = tmp_path / "out", tmp_path / "runs"
    out.mkdir()
    runs.mkdir()
    song = shutil.copytree(seeded_model_run, tmp_path / "there" / "gpu-song")
    parts = gpu_leg.bundle([song, seeded_model_run], [seeded_model_run], out, part_bytes=50_000)
    assert len(parts) > 2 and all(p.stat().st_size <= 50_000 for p in parts)

    assert gpu_leg.unbundle(out, runs) == sorted(["gpu-song", seeded_model_run.name])
    back = runs / seeded_model_run.name
    assert (back / "config.toml").read_bytes() == (seeded_model_run / "config.toml").read_bytes()
    before = read_weights(seeded_model_run / "checkpoints" / "best")
    after = read_weights(back / "checkpoints" / "best")
    assert before.keys() == after.keys() and all((before[k] == after[k]).all() for k in before)
    assert (runs / "gpu-song" / "config.toml").exists() and not (runs / "gpu-song" / "checkpoints").exists()


def test_a_damaged_part_or_a_run_already_here_is_refused(
    gpu_leg, seeded_model_run: Path, tmp_path: Path
) -> None:
    out, runs = tmp_path / "out", tmp_path / "runs"
    out.mkdir()
    runs.mkdir()
    parts = gpu_leg.bundle([seeded_model_run], [seeded_model_run], out, part_bytes=50_000)
    (runs / seeded_model_run.name).mkdir()
    (runs / seeded_model_run.name / "mine.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(SystemExit, match="already there"):
        gpu_leg.unbundle(out, runs)
    assert [p.name for p in (runs / seeded_model_run.name).iterdir()] == ["mine.txt"]

    shutil.rmtree(runs / seeded_model_run.name)
    damaged = bytearray(parts[1].read_bytes())
    damaged[100] ^= 0xFF
    parts[1].write_bytes(bytes(damaged))
    with pytest.raises(SystemExit, match="do not match"):
        gpu_leg.unbundle(out, runs)
    assert list(runs.iterdir()) == []


def test_the_song_text_keeps_whole_short_poems_with_titles_the_importer_reads(
    gpu_leg, tmp_path: Path
) -> None:
    from tangstudio.engine.corpus.importer import read_poems
    from tangstudio.engine.corpus.poem import Poem

    poems = [
        Poem("a", "春日：寄友", "", "春风吹柳绿，细雨湿花红。", "wujue", "train"),
        Poem("b", "", "", "白日依山尽，黄河入海流。", "free", "train"),
        Poem("c", "残", "", "□□依山尽，黄河入海流。", "free", "train", lost=True),
        Poem("d", "长", "", "长" * 130, "free", "train"),
    ]
    lines = gpu_leg.song_lines(poems)
    assert lines == ["春日寄友:春风吹柳绿，细雨湿花红。", "白日依山尽，黄河入海流。"]
    path = tmp_path / "song.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    rows = read_poems(path, "text")
    assert [(row[1], row[3]) for row in rows] == [
        ("春日寄友", ["春风吹柳绿，细雨湿花红。"]),
        ("", ["白日依山尽，黄河入海流。"]),
    ]


def test_a_checkpoint_beyond_what_a_call_returns_is_left_there(
    gpu_leg, seeded_model_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first product comes back; the next would overflow the 64 MiB, so only its config and metrics do."""
    out, runs = tmp_path / "out", tmp_path / "runs"
    out.mkdir()
    runs.mkdir()
    other = shutil.copytree(seeded_model_run, tmp_path / "there" / "cont-tang")
    size = sum(f.stat().st_size for f in (seeded_model_run / "checkpoints" / "best").iterdir())
    monkeypatch.setattr(gpu_leg, "RETURN_BYTES", int(size * 1.5))
    gpu_leg.bundle([seeded_model_run, other], [seeded_model_run, other], out)
    gpu_leg.unbundle(out, runs)
    assert (runs / seeded_model_run.name / "checkpoints" / "best").is_dir()
    assert (runs / "cont-tang" / "config.toml").exists()
    assert not (runs / "cont-tang" / "checkpoints").exists()


def test_each_phase_is_given_what_is_left_of_the_call(gpu_leg) -> None:
    """A Song phase takes three quarters of what is left after two starts, a Tang phase all but one
    start; never less than the trainer accepts, however late a phase begins."""
    import time

    now = time.monotonic()
    assert float(gpu_leg.phase_minutes("wide-song", now + 480, dry_run=False)) == pytest.approx(
        4.875, abs=0.02
    )
    assert float(gpu_leg.phase_minutes("cont-tang", now + 150, dry_run=False)) == pytest.approx(
        1.75, abs=0.02
    )
    assert gpu_leg.phase_minutes("wide-tang", now + 10, dry_run=False) == "0.20"
