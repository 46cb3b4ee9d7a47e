"""DDP under torchrun on CPU (gloo): same parameters as one process, and a dying rank stops the job cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.slow
SMALL = [
    "--corpus",
    "tiny",
    "--arch",
    "lstm",
    "--embed",
    "12",
    "--hidden",
    "16",
    "--layers",
    "2",
    "--dropout",
    "0",
    "--batch-size",
    "16",
    "--samples",
    "0",
    "--log-every",
    "2",
    "--head-bf16",  # bf16 rounds each process's share of the gradient: exact equality needs fp32
    "off",
]


def env_for(home: Path) -> dict:
    return {
        **os.environ,
        "TANGSTUDIO_HOME": str(home),
        "OMP_NUM_THREADS": "1",
        "TANGSTUDIO_DIST_TIMEOUT": "60",
    }


def torchrun_argv(nproc: int, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc-per-node={nproc}",
        "-m",
        "tangstudio",
        *args,
    ]


def params(run: Path) -> dict[str, torch.Tensor]:
    from tangstudio.engine.runs import load_checkpoint

    return load_checkpoint(run / "checkpoints" / "last").model.state_dict()


def test_two_gloo_processes_match_one_process(tiny_corpus, home):
    steps = ["--steps", "6", "--eval-every", "3"]
    single = subprocess.run(
        [sys.executable, "-m", "tangstudio", "train", "--headless", *SMALL, *steps, "--run", "one"],
        capture_output=True,
        text=True,
        env=env_for(home),
        timeout=180,
    )
    assert single.returncode == 0, single.stderr
    ddp = subprocess.run(
        torchrun_argv(2, "train", "--headless", *SMALL, *steps, "--run-name", "two"),
        capture_output=True,
        text=True,
        env=env_for(home),
        timeout=300,
    )
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    a, b = params(home / "runs" / "one"), params(home / "runs" / "two")
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5, rtol=0), (key, (a[key] - b[key]).abs().max())
    # Only rank 0 wrote: one 'done', one start line in the log; the val loss is reduced over both ranks.
    events = [json.loads(x) for x in (home / "runs" / "two" / "metrics.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events].count("done") == 1
    assert ddp.stdout.count("run two ·") == 1 and "2 process(es)" in ddp.stdout
    one = [json.loads(x) for x in (home / "runs" / "one" / "metrics.jsonl").read_text().splitlines()]
    evals_one = [e["val_loss"] for e in one if e["event"] == "eval"]
    evals_two = [e["val_loss"] for e in events if e["event"] == "eval"]
    assert len(evals_one) == len(evals_two) == 2
    assert all(abs(x - y) < 1e-5 for x, y in zip(evals_one, evals_two))
    trains_one = [e["train_loss"] for e in one if e["event"] == "train"]
    trains_two = [e["train_loss"] for e in events if e["event"] == "train"]
    assert all(abs(x - y) < 1e-5 for x, y in zip(trains_one, trains_two))


def _worker_with_rank(parent: int, rank: int) -> int | None:
    """The pid of torchrun's worker whose environment says RANK=rank (Linux /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().split(")")[-1].split()[1]) != parent:
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if f"RANK={rank}".encode() in environ:
            return int(entry.name)
    return None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the worker through /proc")
def test_a_dying_rank_stops_the_job_and_keeps_the_checkpoint(tiny_corpus, home):
    proc = subprocess.Popen(
        torchrun_argv(
            2, "train", "--headless", *SMALL, "--steps", "100000", "--eval-every", "2", "--run-name", "dies"
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(home),
    )
    meta = home / "runs" / "dies" / "checkpoints" / "last" / "meta.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not meta.is_file():
        time.sleep(0.2)
    assert meta.is_file(), "no checkpoint appeared"
    victim = _worker_with_rank(proc.pid, 1)
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    _out, err = proc.communicate(timeout=150)
    assert proc.returncode != 0
    assert (
        "rank 0 of 2 stopped" in err
        and "is intact; resume with: tangstudio --home " in err
        and "train --headless --run dies --resume" in err
    )
    params(home / "runs" / "dies")  # the last checkpoint still loads (its sha256 verifies)
    events = [json.loads(x) for x in (home / "runs" / "dies" / "metrics.jsonl").read_text().splitlines()]
    assert events[-1]["event"] == "done" and events[-1]["status"] == "failed"
    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "tangstudio",
            "train",
            "--headless",
            "--run",
            "dies",
            "--resume",
            "--steps",
            str(json.loads(meta.read_text())["step"] + 2),
        ],
        capture_output=True,
        text=True,
        env=env_for(home),
        timeout=180,
    )
    assert resumed.returncode == 0, resumed.stderr


def test_ctrl_c_under_torchrun_checkpoints_on_all_ranks_agreeing(tiny_corpus, home):
    proc = subprocess.Popen(
        torchrun_argv(
            2, "train", "--headless", *SMALL, "--steps", "100000", "--eval-every", "3", "--run-name", "halt"
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(home),
    )
    meta = home / "runs" / "halt" / "checkpoints" / "last" / "meta.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not meta.is_file():
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # the launcher forwards it to both workers
    _out, err = proc.communicate(timeout=150)
    assert "resume with: tangstudio --home " in err and "train --headless --run halt --resume" in err
    events = [json.loads(x) for x in (home / "runs" / "halt" / "metrics.jsonl").read_text().splitlines()]
    assert events[-1]["status"] == "interrupted"
    assert json.loads(meta.read_text())["step"] == events[-1]["step"]
