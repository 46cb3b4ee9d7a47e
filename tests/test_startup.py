"""Startup and layering: `--help` stays light, and the engine never imports a UI library."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
sys.argv = ["tangstudio", *{argv!r}]
from tangstudio.cli import main
try:
    main()
except SystemExit:
    pass
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & {{"torch", "textual", "numpy", "opencc"}})
help_only = sorted({{"typer.rich_utils", "markdown_it"}} & set(sys.modules))
print("\\n" + json.dumps(help_only))
print(json.dumps(heavy))
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["stats", "--help"],
        ["corpus", "--help"],
        ["corpus", "import", "--help"],
        ["train", "--help"],
        ["generate", "--help"],
        ["check", "--help"],
        ["compare", "--help"],
        ["runs", "--help"],
        ["eval", "--help"],
        ["score", "--help"],
        ["lab", "--help"],
        ["lab", "digits", "train", "--help"],
        ["lab", "digits", "eval", "--help"],
        ["lab", "digits", "show", "--help"],
        ["lab", "memory", "run", "--help"],
        ["lab", "memory", "show", "--help"],
        ["lab", "digits", "report", "--help"],
        ["lab", "speed", "--help"],
    ],
)
def test_help_does_not_import_torch_or_textual(argv):
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, check=True
    )
    assert "Usage" in out.stdout
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize(
    "argv,message",
    [
        (["train", "--headless", "--corpus", "nope", "--run", "n"], "unknown corpus 'nope'"),
        (["compare", "--corpus", "nope", "--steps", "2"], "unknown corpus 'nope'"),
        (["train", "--headless", "--arch", "transformer", "--run", "t"], "unknown architecture"),
        (["eval", "ghost"], "unknown run"),
        (["train", "--headless", "--forms", "sonnet", "--run", "f"], "unknown form 'sonnet'"),
        (["compare", "--forms", "sonnet", "--steps", "2"], "unknown form 'sonnet'"),
        (["train", "--headless", "--init-from", "ghost", "--run", "i"], "unknown run 'ghost'"),
        (["lab", "digits", "report", "--prefix", "nope"], "no finished lab digits runs named nope"),
        (["lab", "memory", "run", "--distances", "0"], "distance T must be"),
        (["train", "--headless", "--author", "李白白", "--run", "a"], "no poet named '李白白'"),
        (
            ["train", "--headless", "--init-from", "default", "--author", "李白白", "--run", "a"],
            "closest: 李白",
        ),
    ],
)
def test_a_mistyped_name_is_refused_before_torch_loads(argv, message, home):
    """A wrong corpus, architecture or run is a one-line error at once, not after torch's seconds."""
    out = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True)
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "torch" not in json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv,message",
    [
        (["train", "--headless", "--arch", "gru", "--steps", "2", "--run", "r"], "run 'r' already exists"),
        (["train", "--headless", "--run", "ghost", "--resume"], "unknown run 'ghost'"),
        (["train", "--headless", "--run", "r", "--resume", "--hidden", "64"], "cannot change --hidden"),
        (["train", "--headless", "--run", "r", "--resume", "--arch", "lstm"], "cannot change --arch"),
        (
            ["lab", "digits", "train", "--run", "x", "--arch", "transformer", "--steps", "1"],
            "unknown architecture",
        ),
        (["lab", "digits", "train", "--run", "x", "--steps", "1", "--seed", "-1"], "--seed must be"),
        (["lab", "digits", "train", "--run", "r", "--steps", "1"], "run 'r' already exists"),
        (["lab", "digits", "train", "--run", "ghost", "--resume"], "unknown run 'ghost'"),
        (["lab", "digits", "eval", "ghost"], "unknown run 'ghost'"),
        (["lab", "digits", "show", "ghost"], "unknown run 'ghost'"),
    ],
)
def test_a_taken_or_missing_run_is_refused_before_torch_loads(argv, message, home):
    """What the trainer would refuse under the run's lock (a name taken, nothing to resume, a model
    that cannot change) is said at once too, not after torch and the corpus have loaded."""
    from tangstudio.engine.runs.config import write_config
    from tangstudio.engine.runs.train_config import TrainConfig

    (home / "runs" / "r").mkdir(parents=True)  # a run killed after writing its config
    write_config(
        home / "runs" / "r" / "config.toml", TrainConfig(arch="gru", hidden=32, steps=2, run="r").to_dict()
    )
    before = {p: p.read_bytes() for p in (home / "runs").rglob("*") if p.is_file()}
    out = subprocess.run([sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True)
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "torch" not in json.loads(out.stdout.strip().splitlines()[-1])
    assert {p: p.read_bytes() for p in (home / "runs").rglob("*") if p.is_file()} == before


def test_checking_a_poem_imports_neither_numpy_nor_torch(home):
    """`check` needs no model: the 对仗 table it reads for a 律诗 is plain Python. numpy (60 ms
    here), which the table's composer bias uses, loads only when the composer asks."""
    qilv = "城阙辅三秦，风烟望五津。与君离别意，同是宦游人。海内存知己，天涯若比邻。无为在歧路，儿女共沾巾。"
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=["check", qilv])],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "颔联" in out.stdout
    assert json.loads(out.stdout.strip().splitlines()[-1]) == ["opencc"]  # the script's reading
    # Typer's help renderer (and rich.markdown under it, about 0.15 s) is for help pages alone
    assert json.loads(out.stdout.strip().splitlines()[-2]) == []


def test_listing_runs_reads_json_without_torch(tmp_path):
    """`runs list` / `runs show` only read JSON and TOML: they must not pay torch's import."""
    import os

    import torch

    from tangstudio.engine.runs.checkpoint import save_checkpoint
    from tangstudio.engine.runs.config import write_config

    run = tmp_path / "runs" / "r1"
    (run / "checkpoints" / "best").mkdir(parents=True)
    write_config(run / "config.toml", {"arch": "lstm", "corpus": "tang", "forms": "regulated"})
    save_checkpoint(run / "checkpoints" / "best", {"w": torch.zeros(2)}, {"params": 2})
    env = {**os.environ, "TANGSTUDIO_HOME": str(tmp_path), "COLUMNS": "200"}
    for argv in (["runs", "list"], ["runs", "show", "r1"]):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(argv=argv)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        assert "r1" in out.stdout, out.stdout
        assert json.loads(out.stdout.strip().splitlines()[-1]) == [], argv


ENGINE_PROBE = """
import importlib, json, pkgutil, sys
import tangstudio.engine as engine
names = [m.name for m in pkgutil.walk_packages(engine.__path__, "tangstudio.engine.")]
for name in names:
    importlib.import_module(name)
ui = sorted({m.split(".")[0] for m in sys.modules} & {"textual", "typer", "rich", "click", "tangstudio.studio", "tangstudio.cli"})
ui += sorted(m for m in sys.modules if m.startswith(("tangstudio.studio", "tangstudio.cli")))
print(json.dumps({"imported": names, "ui": ui}))
"""


def test_engine_imports_no_ui_library():
    out = subprocess.run([sys.executable, "-c", ENGINE_PROBE], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert "tangstudio.engine.corpus.importer" in result["imported"]
    assert result["ui"] == []
