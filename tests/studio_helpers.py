"""Helpers of the studio tests (no tests, no fixtures: those live in conftest.py)."""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path


def copy_run(trained_runs: Path, home: Path, name: str) -> Path:
    target = home / "runs" / name
    shutil.copytree(trained_runs / name, target)
    return target


def write_fake_run(
    home: Path,
    name: str,
    arch: str,
    steps: int,
    decay: float,
    budget_steps: int = 400,
    partial_tail: str = "",
) -> Path:
    """A run folder as the trainer writes it, with made-up but well-formed metrics (no timestamps shown)."""
    run = home / "runs" / name
    run.mkdir(parents=True, exist_ok=True)
    (run / "config.toml").write_text(
        f'arch = "{arch}"\ncorpus = "tang"\nforms = "regulated"\nsteps = {budget_steps}\n', encoding="utf-8"
    )
    lines = []
    for step in range(10, steps + 1, 10):
        loss = 3.0 + 4.0 * math.exp(-step / decay)
        lines.append(
            {
                "event": "train",
                "step": step,
                "epoch": step / 200,
                "train_loss": loss,
                "lr": 2e-3,
                "chars_per_s": 9000 + step,
                "elapsed_s": step * 0.5,
                "time": "2026-01-01T00:00:00+00:00",
            }
        )
        if step % 50 == 0:
            lines.append(
                {
                    "event": "eval",
                    "step": step,
                    "val_loss": loss + 0.2,
                    "val_ppl": math.exp(loss + 0.2),
                    "elapsed_s": step * 0.5,
                    "ppl_kind": "pseudo" if arch == "bilstm" else "causal",
                }
            )
    text = "".join(json.dumps(line) + "\n" for line in lines) + partial_tail
    (run / "metrics.jsonl").write_text(text, encoding="utf-8")
    sample = {  # one poem a line, as the trainer's _log_samples writes it
        "step": steps,
        "form": "wujue",
        "text": "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
        "time": "2026-01-01T00:00:00+00:00",
    }
    (run / "samples.jsonl").write_text(json.dumps(sample, ensure_ascii=False) + "\n", encoding="utf-8")
    return run


async def settle(pilot, rounds: int = 2) -> None:
    """Let workers finish and the screen catch up."""
    for _ in range(rounds):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_until(pilot, condition, rounds: int = 500) -> None:
    """Pause until `condition()` holds: a bounded number of event-loop rounds, no wall-clock timeout,
    so a loaded machine makes the test slower, never wrong."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause()
    assert condition(), f"still not true after {rounds} rounds"


def no_blink(app) -> None:
    from textual.widgets import Input

    for field in app.query(Input):
        field.cursor_blink = False


def errors(app) -> list[str]:
    return [message for severity, _title, message in app.notices if severity == "error"]


def sync(test):
    """Run an async Pilot test with asyncio (no async plugin needed); fixtures still arrive by name."""
    import asyncio
    import functools

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


def shown_text(static) -> str:
    """What a Static shows, as plain text (its Rich renderable printed wide)."""
    from rich.console import Console

    with open(os.devnull, "w") as sink:
        console = Console(width=200, record=True, file=sink)
        console.print(static.content)
    return console.export_text()


async def wait_for(pilot, condition, seconds: float = 30) -> bool:
    """Whether `condition()` became true within `seconds` (polled with pauses): for conditions a
    test wants to branch on rather than require, where `wait_until` would fail the test."""
    for _ in range(int(seconds * 20)):
        if condition():
            return True
        await asyncio.sleep(0.05)
        await pilot.pause()
    return condition()


def studio(**options):
    """The real app, as the CLI makes it, without warming torch in the background."""
    from tangstudio.studio.app import create_app

    options.setdefault("warm_torch", False)
    return create_app(**options)


@asynccontextmanager
async def composing(size: tuple[int, int] = (120, 36)) -> AsyncIterator[tuple]:
    """(app, pilot, pane): the studio opened on Compose at `size`, its pane `compose_ready`."""
    app = studio(pane="compose")
    async with app.run_test(size=size) as pilot:
        yield app, pilot, await compose_ready(pilot)


async def compose_ready(pilot):
    """The Compose pane once its model has loaded, on a new poem at seed 5, the poem focused."""
    await settle(pilot)
    pane = pilot.app.query_one("#compose-pane")
    assert await wait_for(pilot, lambda: pane.session is not None), errors(pilot.app)
    pane.seed = 5
    pane.action_new()
    pane.focus_first()
    return pane
