"""benchmarks/gpu_check.sh's pieces that run without a GPU: two ranks sharing one GPU, and reading a run.

The script itself runs on a lent GPU machine (and `--dry-run-on-cpu` here); these check the parts
a CPU can: which device and backend ranks get when there are more ranks than GPUs (the GPU count
is the machine's answer, so it is what is set here), and the step time read from metrics.jsonl.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from benchmarks.gpu_check import run_figures
from tangstudio.engine.training import distributed
from tangstudio.engine.training.device import resolve_device


@pytest.fixture
def gpus(monkeypatch: pytest.MonkeyPatch):
    def set_count(count: int) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count)

    return set_count


def test_ranks_beyond_the_gpus_share_them_in_turn(gpus) -> None:
    gpus(1)
    assert [resolve_device("cuda", rank) for rank in (0, 1)] == [torch.device("cuda", 0)] * 2
    gpus(2)
    assert [resolve_device("cuda", rank).index for rank in (0, 1, 2, 3)] == [0, 1, 0, 1]


@pytest.mark.parametrize(
    ("ranks", "count", "shared"), [(2, 1, True), (2, 2, False), (4, 2, True), (1, 1, False)]
)
def test_nccl_only_with_a_gpu_per_rank(gpus, monkeypatch: pytest.MonkeyPatch, ranks, count, shared) -> None:
    gpus(count)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", str(ranks))
    assert distributed.shares_gpu() is shared


def test_step_time_leaves_out_the_first_window_and_reads_a_cut_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.toml").write_text(
        'arch = "lstm"\nlayers = 2\nhidden = 512\nbatch_size = 64\n', encoding="utf-8"
    )
    lines = [
        {"event": "train", "step": 10, "elapsed_s": 9.0, "chars_per_s": 100.0},  # warm-up: left out
        {"event": "train", "step": 20, "elapsed_s": 10.0, "chars_per_s": 3000.0},
        {"event": "train", "step": 30, "elapsed_s": 11.5, "chars_per_s": 2000.0},
        {"event": "train", "step": 40, "elapsed_s": 12.0, "chars_per_s": 5000.0},
        {"event": "done", "step": 40, "status": "interrupted"},
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    figures = run_figures(run)
    assert figures["step_s"] == pytest.approx(3.0 / 30)
    assert figures["chars_s"] == 3000.0 and figures["timed_steps"] == 30
    assert figures["status"] == "interrupted" and figures["config"]["hidden"] == 512
