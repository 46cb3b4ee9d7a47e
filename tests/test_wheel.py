"""Installed like any tool (issue 24): the wheel carries models/, and a clean venv composes with it.

The wheel is built from a copy of this checkout (so a stale build/ or a half-written egg-info here
cannot leak in) and installed into a fresh venv without system site-packages. Every command then
runs from a folder outside the checkout with an empty home, so the only models it can find are the
ones inside the installed wheel.

Torch. The README installs `torch==2.13.0` first; unpacking its ~700 MB takes a minute or more
on this project's 2-core machines, most of the test. So by default the fresh venv gets this
interpreter's torch instead, through one .pth line naming a folder of links to torch and to the
packages torch requires, and nothing else. That is the same install of the same pinned wheel
(scripts/dev.py put it in this venv with `pip install torch==2.13.0`, TANGSTUDIO_TORCH), and pip
sees it as installed exactly as it would the one the README's first command leaves; what this
test is about (the tangstudio wheel, every other dependency resolved from its metadata, the
models found inside it) is unchanged, and neither tangstudio nor its other dependencies can leak
in through that folder. TANGSTUDIO_WHEEL_TORCH=install runs the README's own first command instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
TORCH = os.environ.get("TANGSTUDIO_TORCH", "torch==2.13.0")
SKIP_COPY = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", ".coverage*"
)
HAS_DEFAULT = (MODELS / "default" / "meta.json").is_file()
FULL_TORCH_INSTALL = os.environ.get("TANGSTUDIO_WHEEL_TORCH") == "install"
# Set by the test run or by a developer's shell; none may steer the installed copy back to this checkout.
LEAKY_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "TANGSTUDIO_MODELS", "TANGSTUDIO_HOME", "PIP_TARGET")


def shipped_files() -> list[str]:
    """Every file under models/ that must ship, as a path relative to models/ (what the glob takes)."""
    return sorted(
        path.relative_to(MODELS).as_posix()
        for path in MODELS.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and not path.name.startswith(".")
    )


def torch_links(folder: Path) -> Path:
    """`folder` filled with links to this interpreter's torch and what torch requires (recursively,
    extras left out): every top-level file or package of those distributions, their .dist-info too."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    folder.mkdir()
    seen: set[str] = set()
    todo = ["torch"]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        dist = metadata.distribution(name)
        for spec in dist.requires or []:
            requirement = Requirement(spec)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
        for top in {file.parts[0] for file in dist.files or []} - {"..", "__pycache__"}:
            link = folder / top
            if not link.exists():
                link.symlink_to(Path(str(dist.locate_file(top))))
    assert (folder / "torch").is_dir()
    return folder


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_wheel(work: Path) -> Path:
    """tangstudio's wheel, as `pip wheel .` builds it (with this interpreter's setuptools when it has one)."""
    source = work / "src"
    shutil.copytree(ROOT, source, ignore=SKIP_COPY)
    isolation = ["--no-build-isolation"] if _has_setuptools() else []
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            *isolation,
            "-w",
            str(work / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    shutil.rmtree(source)
    (built,) = (work / "dist").glob("tangstudio-*.whl")
    return built


def _has_setuptools() -> bool:
    import importlib.util

    return importlib.util.find_spec("setuptools") is not None


def check_contents(wheel: Path) -> None:
    """Whatever models/ holds (default/, a critic/ added later, the card) is in the wheel, and nowhere else."""
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"tangstudio/_models/{name}" for name in shipped_files()}
    assert expected and expected <= names, sorted(expected - names)
    assert not [name for name in names if name.startswith("models/")]  # not a top-level package
    assert not [name for name in names if "__pycache__" in name]
    from tangstudio import __version__

    assert wheel.name.startswith(f"tangstudio-{__version__}-")  # the version has one source


VERSION_PROBE = """
import json, sys
sys.argv = ["tangstudio", "--version"]
from tangstudio.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & {"torch", "textual", "numpy"})))
"""


def version(tmp_path: Path, models: Path | None = None) -> list[str]:
    env = {**os.environ, "TANGSTUDIO_HOME": str(tmp_path / "home")}
    env.pop("TANGSTUDIO_MODELS", None)
    if models is not None:
        env["TANGSTUDIO_MODELS"] = str(models)
    done = subprocess.run(
        [sys.executable, "-c", VERSION_PROBE], capture_output=True, text=True, env=env, check=True, timeout=60
    )
    *lines, heavy = done.stdout.splitlines()
    assert json.loads(heavy) == [], "--version imported " + heavy
    return lines


@pytest.mark.skipif(not HAS_DEFAULT, reason="no default model in this checkout")
def test_version_names_the_package_and_the_shipped_models_weights(tmp_path: Path) -> None:
    from tangstudio import __version__

    meta = json.loads((MODELS / "default" / "meta.json").read_text(encoding="utf-8"))
    lines = version(tmp_path)
    assert lines[0] == f"tangstudio {__version__}"
    assert (
        lines[1] == f"default model: {meta['run']} sha256 {sha256(MODELS / 'default' / 'model.safetensors')}"
    )
    shipped = Path(lines[-1].removeprefix("models from "))  # this checkout's models/ when installed editable
    assert sha256(shipped / "default" / "model.safetensors") == sha256(
        MODELS / "default" / "model.safetensors"
    )


def test_version_lists_every_model_folder_and_a_changed_weight(tmp_path: Path) -> None:
    """A second model (a critic) is listed by its own checksum; weights that differ from the card are named."""
    models = tmp_path / "models"
    for name, weights, recorded in (("default", b"weights one", None), ("critic", b"weights two", "0" * 64)):
        (models / name).mkdir(parents=True)
        (models / name / "model.safetensors").write_bytes(weights)
        card = {"run": f"{name}-run", **({"weights_sha256": recorded} if recorded else {})}
        (models / name / "meta.json").write_text(json.dumps(card), encoding="utf-8")
    lines = version(tmp_path, models)
    assert lines[1] == f"default model: default-run sha256 {hashlib.sha256(b'weights one').hexdigest()}"
    assert lines[2].startswith(
        f"critic model: critic-run sha256 {hashlib.sha256(b'weights two').hexdigest()}"
    )
    assert "records " + "0" * 64 in lines[2]
    assert (
        version(tmp_path, tmp_path / "nowhere")[1] == f"default model: none ships in {tmp_path / 'nowhere'}"
    )


@pytest.mark.slow
@pytest.mark.wheel
def test_the_wheel_carries_models_and_composes_in_a_clean_venv(tmp_path: Path) -> None:
    """One test, so that pytest-xdist builds the wheel once (a module fixture is built once per worker)."""
    wheel = build_wheel(tmp_path / "wheel")
    check_contents(wheel)
    if not HAS_DEFAULT:
        pytest.skip("no default model in this checkout to compose with")
    env_dir = tmp_path / "venv"
    # No pip inside (ensurepip alone takes ~10 s here): this interpreter's pip installs into it
    # through --python, exactly as the venv's own pip would.
    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / ("python.exe" if os.name == "nt" else "python")
    env = {key: value for key, value in os.environ.items() if key not in LEAKY_ENV}
    env = {key: value for key, value in env.items() if not key.startswith(("COV_CORE", "COVERAGE_"))}
    env |= {"TANGSTUDIO_HOME": str(tmp_path / "home"), "COLUMNS": "120", "PYTHONNOUSERSITE": "1"}
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-compile"]
    if FULL_TORCH_INSTALL:
        # torch pinned in the same resolution as the wheel: what README's two commands install, without
        # a second start of pip (an unpinned torch is what would pull a CUDA build from PyPI).
        requirements = [TORCH, str(wheel)]
    else:
        (site,) = (
            (env_dir / "lib").glob("python3*/site-packages")
            if os.name != "nt"
            else [env_dir / "Lib" / "site-packages"]
        )
        (site / "torch-from-the-test-venv.pth").write_text(
            f"{torch_links(tmp_path / 'torch')}\n", encoding="utf-8"
        )
        requirements = [str(wheel)]
    try:
        done = subprocess.run([*pip, *requirements], capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        outside = tmp_path / "elsewhere"
        outside.mkdir()

        def run(*args: str) -> str:
            done = subprocess.run(
                args, cwd=outside, env=env, capture_output=True, text=True, encoding="utf-8", timeout=180
            )
            assert done.returncode == 0, f"{args}: {done.stderr}"
            return done.stdout

        tangstudio = str(bin_dir / "tangstudio")
        where = json.loads(run(str(python), "-c", WHERE))
        shipped = Path(where["package"]) / "_models"  # site-packages/tangstudio/_models
        assert Path(where["models"]) == shipped and ROOT not in shipped.parents, where
        from importlib.metadata import version as installed

        assert FULL_TORCH_INSTALL or where["torch"] == installed("torch"), where  # the linked torch works

        lines = run(tangstudio, "--version").splitlines()
        from tangstudio import __version__

        assert lines[0] == f"tangstudio {__version__}"
        assert sha256(MODELS / "default" / "model.safetensors") in lines[1], lines
        assert lines[-1] == f"models from {shipped}"

        poems = json.loads(run(tangstudio, "generate", "-n", "1", "--form", "wujue", "--json"))
        assert Path(poems["model"]) == shipped / "default"
        (poem,) = [entry["text"] for entry in poems["poems"]]
        checked = json.loads(run(tangstudio, "check", "--json", poem))
        assert checked["form"] == "wujue" and checked["form_ok"] and checked["rhyme_ok"], checked

        frame = json.loads(run(str(python), "-c", FIRST_FRAME).strip().splitlines()[-1])
        assert frame == {"pane": "compose", "ready": True}, frame
    finally:
        shutil.rmtree(env_dir, ignore_errors=True)  # about 1 GB with torch


# Where the installed package and its models are, as the installed code itself says.
WHERE = """
import json, tangstudio
from pathlib import Path
from tangstudio.engine.paths import shipped_models_dir
import torch
print(json.dumps({"package": str(Path(tangstudio.__file__).parent), "models": str(shipped_models_dir()),
                  "torch": torch.__version__}))
"""

# The studio's first frame on a fresh home: it opens on Compose (only when a default model ships)
# and says the model is ready to sample, read from the screen Textual would draw.
FIRST_FRAME = """
import asyncio, html, json
from tangstudio.studio.app import create_app

async def main():
    app = create_app(warm_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        ready = False
        for _ in range(600):
            await pilot.pause(0.05)
            screen = html.unescape(app.export_screenshot()).replace("\\xa0", " ")
            if "Space samples the first" in screen:
                ready = True
                break
        pane = app.query_one("#panes").active
    print(json.dumps({"pane": pane, "ready": ready}))

asyncio.run(main())
"""
