"""Kill a training run at every write and rename of its checkpoints and at seeded random moments;
after each kill, `--resume` must finish with weights equal to the uninterrupted run's, or refuse in
one line. It must never continue from a mixed or torn checkpoint.

The figures of the last run are printed (pytest -s) and quoted in docs/reliability.md.
"""

from __future__ import annotations

import random

import pytest

pytestmark = pytest.mark.slow
SEED = 20261130
RANDOM_KILLS = 20


def survive(lab, run: str, fault: str) -> str:
    """Train `run` with `fault`, then resume until it finishes; 'same' or 'refused', else fail."""
    killed = lab.train(run, fault=fault)
    assert killed.code == -9, f"{fault}: the hook did not fire ({killed.code}): {killed.output[-800:]}"
    assert "Traceback" not in killed.output
    resumed = lab.resume(run)
    if resumed.code != 0:
        assert resumed.refused_in_one_line, f"{fault}: {resumed.code} {resumed.output[-1500:]}"
        return "refused"
    assert lab.same_as(run), f"{fault}: resumed, but the weights differ from the uninterrupted run"
    assert not lab.leftovers(run), f"{fault}: temporary files left behind: {lab.leftovers(run)}"
    return "same"


def test_kill_at_every_checkpoint_write_and_rename(lab):
    points = lab.points("count")
    writes = points.count("write")
    renames = points.count("rename")
    assert writes >= 10 and renames >= 4, points  # best + last at steps 8 and 16, and config.toml
    results = {}
    for kind, total in (("write", writes), ("rename", renames)):
        for n in range(1, total + 1):
            results[f"kill:{kind}:{n}"] = survive(lab, f"{kind}{n}", f"kill:{kind}:{n}")
    print(f"\nkills at every write ({writes}) and rename ({renames}): {results}")
    assert set(results.values()) <= {"same", "refused"}
    refused = [fault for fault, r in results.items() if r == "refused"]
    assert refused in ([], ["kill:rename:1"]), refused  # only a kill before config.toml is in place


def test_kill_at_seeded_random_moments(lab):
    points = lab.points("count2")
    rng = random.Random(SEED)
    chosen = sorted(rng.sample(range(1, len(points) + 1), RANDOM_KILLS))
    results = {n: survive(lab, f"random{n}", f"kill:any:{n}") for n in chosen}
    print(f"\n{RANDOM_KILLS} random kills among {len(points)} moments: {results}")
    config_written = points.index("rename") + 1  # before it, the run has no config.toml yet
    assert all(r == "same" for n, r in results.items() if n > config_written), results


def test_kill_during_a_resume_then_resume_again(lab):
    assert lab.train("twice", fault="kill:step:11").code == -9  # after the step-8 checkpoint
    again = lab.cli("train", "--headless", "--run", "twice", "--resume", fault="kill:write:3")
    assert again.code == -9  # inside the step-16 checkpoint of the resumed run
    assert lab.leftovers("twice")  # the torn temporary folder is there...
    final = lab.resume("twice")
    assert final.code == 0, final.output
    assert lab.same_as("twice") and not lab.leftovers("twice")  # ...and cleaned up, never loaded
