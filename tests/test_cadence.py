"""The automatic evaluation cadence (issue 16, item 10): about 8 evaluations and samples per run,
whatever its length, bounded by their cost, and a first curve point right after the first step.

Checked on the pure `Cadence` with simulated clocks, and on one tiny real training run.
"""

from __future__ import annotations

import json

import pytest


def test_automatic_cadence_gives_about_eight_evaluations_bounded_by_their_cost() -> None:
    from tangstudio.engine.training.cadence import Cadence

    def evals(cadence: Cadence, steps: int, step_s: float, eval_s: float) -> list[int]:
        done, elapsed = [], 0.0
        for step in range(1, steps + 1):
            elapsed += step_s
            if cadence.due(step, elapsed):
                elapsed += eval_s
                cadence.evaluated(step, elapsed, eval_s)
                done.append(step)
        return done

    # 100 steps (a 3-minute run on a laptop): every 12 steps, the first within seconds
    by_steps = evals(Cadence(total_steps=100, budget_s=None), 100, 1.8, 0.5)
    assert len(by_steps) == 8 and by_steps[0] == 12
    # a 3-minute time budget: every 22.5 s of training
    by_time = evals(Cadence(total_steps=None, budget_s=180), 100, 1.8, 0.5)
    assert 7 <= len(by_time) <= 8 and by_time[0] == 13
    # long runs still evaluate at least every 500 steps
    assert evals(Cadence(total_steps=100_000, budget_s=None), 1200, 0.01, 0.1)[:2] == [500, 1000]
    # an evaluation costing more than a tenth of the time spaces the next ones out
    costly = evals(Cadence(total_steps=100, budget_s=None), 100, 0.1, 5.0)
    assert costly == [12]  # then 45 s of training per evaluation: the 10-s run has no room for more


@pytest.mark.slow
def test_a_run_with_automatic_cadence_shows_a_first_point_and_evaluates_early(tiny_corpus: str) -> None:
    from tangstudio.engine.training import TrainConfig, train

    result = train(
        TrainConfig(
            arch="gru", corpus=tiny_corpus, embed=8, hidden=16, layers=1, batch_size=8, steps=16,
            eval_every=0, log_every=10, samples=1, warmup=1, run="auto-cadence",
        )
    )  # fmt: skip
    events = [json.loads(line) for line in (result.path / "metrics.jsonl").read_text("utf-8").splitlines()]
    train_steps = [e["step"] for e in events if e["event"] == "train"]
    eval_steps = [e["step"] for e in events if e["event"] == "eval"]
    assert train_steps[0] == 1  # a curve point right after the first step
    assert eval_steps[0] == 2  # 16 steps / 8: the first evaluation (and sample) long before the end


def test_cli_minutes_without_eval_every_paces_evaluations_by_the_budget() -> None:
    from tangstudio.engine.training.config import TrainConfig

    assert TrainConfig(eval_every=0).validate() is not None  # 0 is valid: automatic
    with pytest.raises(Exception, match="eval-every"):
        TrainConfig(eval_every=-1).validate()
