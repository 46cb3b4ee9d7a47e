"""Snapshot tests: each pane at 80×24 and 160×48 with deterministic content.

Content is pinned: the tiny corpus, made-up run metrics without timestamps, a tiny untrained model
built from a fixed seed and a composer seed; no shipped default model; input cursors do not blink.
Update with `pytest tests/test_studio_snapshots.py --snapshot-update` and look at the SVGs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from studio_helpers import no_blink, settle, write_fake_run

from tangstudio.studio.app import create_app

pytestmark = pytest.mark.usefixtures("no_shipped_models")

SIZES = [(80, 24), (160, 48)]


def _prepare(pilot_steps=()):
    async def run_before(pilot) -> None:
        no_blink(pilot.app)
        await settle(pilot)
        for step in pilot_steps:
            await step(pilot)
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_corpus_pane(snap_compare, tiny_corpus: str, size) -> None:
    app = create_app(pane="corpus", corpus=tiny_corpus, warm_torch=False)
    assert snap_compare(app, terminal_size=size, run_before=_prepare())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_model_pane(snap_compare, tiny_corpus: str, size) -> None:
    async def wait_for_count(pilot) -> None:
        await pilot.pause(0.5)  # the parameter count starts 0.3 s after the last edit

    app = create_app(pane="model", corpus=tiny_corpus, warm_torch=False)
    assert snap_compare(app, terminal_size=size, run_before=_prepare([wait_for_count]))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_train_pane(snap_compare, home: Path, size) -> None:
    write_fake_run(home, "lstm-demo", "lstm", 300, 120)
    write_fake_run(home, "gru-demo", "gru", 200, 90)
    app = create_app(run="lstm-demo", warm_torch=False)
    assert snap_compare(app, terminal_size=size, run_before=_prepare())


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_compose_pane(snap_compare, seeded_model_run: Path, home: Path, size) -> None:
    import shutil

    shutil.copytree(seeded_model_run, home / "runs" / seeded_model_run.name)

    async def write_some(pilot) -> None:
        pane = pilot.app.query_one("#compose-pane")
        pane.seed = 3
        pane.action_new()
        for _ in range(9):
            pane.action_step()
        await pilot.press("2")

    app = create_app(pane="compose", warm_torch=False)
    assert snap_compare(app, terminal_size=size, run_before=_prepare([write_some]))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_compose_form_dropdown_open(snap_compare, seeded_model_run: Path, home: Path, size) -> None:
    """Issue 16 item 5: the opened form dropdown shows every row whole (no half-drawn CJK)."""
    import shutil

    shutil.copytree(seeded_model_run, home / "runs" / seeded_model_run.name)

    async def open_forms(pilot) -> None:
        pilot.app.query_one("#cp-form").focus()
        await pilot.pause()
        await pilot.press("enter")

    app = create_app(pane="compose", warm_torch=False)
    assert snap_compare(app, terminal_size=size, run_before=_prepare([open_forms]))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_compose_gate_view_and_a_typed_character(
    snap_compare, seeded_model_run: Path, home: Path, size
) -> None:
    import asyncio
    import shutil

    shutil.copytree(seeded_model_run, home / "runs" / seeded_model_run.name)

    async def write_and_look(pilot) -> None:
        pane = pilot.app.query_one("#compose-pane")
        pane.seed = 3
        pane.action_new()
        for _ in range(6):
            pane.action_step()
        pane.write(pane.composer.preview().candidates[1][0])  # typed by hand: the second candidate
        pane.focus_first()
        await pilot.press("g")
        for _ in range(400):
            if pane.poem.gates is not None:
                break
            await asyncio.sleep(0.05)
            await pilot.pause()
        await pilot.press("left")

    app = create_app(pane="compose", warm_torch=False)
    assert snap_compare(app, terminal_size=size, run_before=_prepare([write_and_look]))


def test_too_small(snap_compare, home: Path) -> None:
    app = create_app(pane="train", warm_torch=False)
    assert snap_compare(app, terminal_size=(60, 20))
