"""Children the studio starts (the trainer, the corpus cache's builder) run this very package,
whatever folder the person started the studio in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import tangstudio
from tangstudio.engine.child import python_command
from tangstudio.studio.trainproc import cli_command


def test_a_child_runs_this_package_not_a_tangstudio_folder_where_it_starts(tmp_path: Path) -> None:
    """A reviewer's install: the studio, opened in a folder holding a `tangstudio/` package (a source
    checkout of another version, or a stub), trained with that folder's code."""
    stub = tmp_path / "tangstudio"
    stub.mkdir()
    (stub / "__init__.py").write_text("raise SystemExit('the stub ran')\n")
    (stub / "__main__.py").write_text("raise SystemExit('the stub ran')\n")
    found = subprocess.run(
        python_command("import tangstudio; print(tangstudio.__file__)"),
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert Path(found.stdout.strip()) == Path(tangstudio.__file__).resolve()
    version = subprocess.run(
        cli_command("--version"), cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0 and "stub" not in version.stderr, version.stderr
    assert tangstudio.__version__ in version.stdout
    plain = subprocess.run(  # what the studio ran before: the folder's stub
        [*python_command("")[:1], "-m", "tangstudio", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert "the stub ran" in plain.stderr


def test_a_checkout_whose_path_starts_like_this_one_is_not_taken_for_it(tmp_path: Path) -> None:
    """A review: the package found was accepted when its path merely began with the parent's
    folder, so /src/tang-old passed for /src/tang."""
    import os
    import sys

    from tangstudio.engine.child import _BOOT

    for folder, says in (("tang", "this package"), ("tang-old", "the other checkout")):
        (tmp_path / folder / "tangstudio").mkdir(parents=True)
        (tmp_path / folder / "tangstudio" / "__init__.py").write_text(f"WHO = {says!r}\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "tang-old")}  # found first without the fix
    argv = [
        sys.executable,
        "-P",
        "-c",
        _BOOT + "import tangstudio; print(tangstudio.WHO)",
        str(tmp_path / "tang"),
    ]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "this package"
