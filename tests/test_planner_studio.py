"""The Compose pane's 题 and 纲 (issue 21 §2): a title planned, the plan edited mid-poem, `k` for a new keyword."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from studio_helpers import errors, settle, sync, wait_for

from tangstudio.studio.app import create_app

pytestmark = pytest.mark.usefixtures("no_shipped_models")


@asynccontextmanager
async def _compose_pane(run: Path, home: Path) -> AsyncIterator[tuple[Any, Any, Any]]:
    """The studio on the Compose pane with `run` (a plan-reading model) loaded: (app, pilot, pane)."""
    shutil.copytree(run, home / "runs" / run.name)
    app = create_app(pane="compose", warm_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#compose-pane")
        assert await wait_for(pilot, lambda: pane.session is not None), errors(app)
        yield app, pilot, pane


def _plan_field(pane) -> str:
    from textual.widgets import Input

    return pane.query_one("#cp-plan", Input).value


@sync
async def test_title_field_then_a_planned_plan_that_can_be_edited_and_rerolled(
    seeded_model_run: Path, home: Path
) -> None:
    from textual.widgets import Input

    async with _compose_pane(seeded_model_run, home) as (app, pilot, pane):
        vocab = pane.loaded.vocab
        assert vocab.has_plan and all(c in vocab.stoi for c in "秋夜月山")
        pane.seed = 5
        assert _plan_field(pane) == ""  # no title, no plan: no keywords

        pane.query_one("#cp-title", Input).focus()
        await pilot.press("秋", "夜", "enter")
        await pilot.pause()
        assert pane.composer.poem_plan.title == "秋夜", errors(app)
        assert not any(pane.composer.poem_plan.keywords)  # a title alone: read with no keywords

        pane.query_one("#cp-plan", Input).focus()
        await pilot.press("-", "enter")  # '-' alone: the planner plans every line
        await pilot.pause()
        composer = pane.composer
        assert composer.poem_plan.title == "秋夜", errors(app)
        planned = list(composer.poem_plan.keywords)
        assert len(planned) == 4 and all(planned)
        assert _plan_field(pane) == ",".join(planned)

        await pilot.press("k")  # before anything is written: line 1 gets another keyword
        assert pane.composer.poem_plan.keywords[0] != planned[0]
        assert _plan_field(pane).split(",")[0] == pane.composer.poem_plan.keywords[0]

        for _ in range(8):  # line 1 (seven characters and its comma) and the first of line 2
            await pilot.press("space")
        text = pane.poem_text()
        assert len(text) == 9 and text[7] == "，", errors(app)
        before = list(pane.composer.poem_plan.keywords)
        await pilot.press("k")  # the cursor is on line 2: a new keyword, line 2 written again
        after = pane.composer.poem_plan.keywords
        assert after[1] != before[1] and after[0] == before[0]
        assert pane.poem_text()[:8] == text[:8] and pane.composer.done
        assert _plan_field(pane) == ",".join(after)

        pane.composer.undo(len(pane.composer.history) - 9)  # back into line 2: lines 3 and 4 not begun
        pane.publish()
        field = pane.query_one("#cp-plan", Input)
        field.value = f"{after[0]},{after[1]},月,山"
        field.focus()
        await pilot.press("enter")
        assert pane.composer.poem_plan.keywords == [after[0], after[1], "月", "山"], errors(app)
        assert len(pane.poem_text()) == 9  # the poem in progress is kept

        from tangstudio.engine.corpus.script import convert

        vocab = pane.loaded.vocab
        simple = next(c for c in vocab.itos if len(c) == 1 and convert(c, "simplified", "traditional") != c)
        field.value = f"{after[0]},{after[1]},{convert(simple, 'simplified', 'traditional')},山"
        field.focus()
        await pilot.press("enter")  # typed in traditional mid-poem: read in the model's script
        assert pane.composer.poem_plan.keywords[2] == simple, errors(app)

        field.value = "月,山,x,-"
        field.focus()
        await pilot.press("enter")  # a bad keyword: one line, the poem and its plan kept
        assert any("must be Chinese characters" in e for e in errors(app)), errors(app)
        assert len(pane.poem_text()) == 9 and pane.composer.poem_plan.keywords[2:] == [simple, "山"]


@sync
async def test_an_old_model_refuses_a_title_and_keeps_the_poem(tiny_corpus_file: Path, home: Path) -> None:
    import torch
    from textual.widgets import Input

    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.importer import import_corpus
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.models import ModelConfig, build_model
    from tangstudio.engine.runs.checkpoint import save_checkpoint

    import_corpus(tiny_corpus_file, "tiny")
    corpus = load_corpus("tiny", "simplified")
    vocab = Vocab.build((p.text for p in corpus.select("regulated", "train")), "simplified", markers=False)
    config = ModelConfig(arch="gru", vocab_size=len(vocab), embed=16, hidden=32, layers=1, dropout=0.0)
    torch.manual_seed(0)
    meta = {
        "run": "old-gru",
        "arch": "gru",
        "model": config.to_dict(),
        "vocab": vocab.to_dict(),
        "script": "simplified",
        "corpus": {"name": "tiny", "fingerprint": corpus.fingerprint},
        "forms": "regulated",
        "step": 0,
        "ppl_kind": "causal",
    }
    run = home / "runs" / "old-gru"
    run.mkdir(parents=True)
    (run / "config.toml").write_text('arch = "gru"\ncorpus = "tiny"\n', encoding="utf-8")
    save_checkpoint(run / "checkpoints" / "best", build_model(config).state_dict(), meta)
    app = create_app(pane="compose", warm_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#compose-pane")
        assert await wait_for(pilot, lambda: pane.session is not None), errors(app)
        pane.focus_first()
        await pilot.press("space", "space")
        written = pane.poem_text()
        pane.query_one("#cp-title", Input).focus()
        await pilot.press("秋", "enter")
        assert any("cannot read a title" in e for e in errors(app)), errors(app)
        assert pane.session is not None and pane.poem_text() == written
        pane.focus_first()
        await pilot.press("k")
        assert any("cannot read a keyword" in e for e in errors(app)), errors(app)


@sync
async def test_a_cleared_theme_leaves_no_keywords_in_the_next_poems_plan(
    seeded_model_run: Path, home: Path
) -> None:
    """The 纲 row shows the plan a poem was written with; a theme's characters are that poem's line
    keywords. They stayed in the row and were read as the person's plan by every poem after, the
    theme long cleared. Until the row is edited, a new poem is asked with what the person typed."""
    from textual.widgets import Input

    async with _compose_pane(seeded_model_run, home) as (app, pilot, pane):
        pane.seed = 3
        theme = pane.query_one("#cp-theme", Input)
        theme.focus()
        await pilot.press("月", "秋", "enter")
        await pilot.pause()
        shown = _plan_field(pane)
        assert "月" in shown and "秋" in shown, (shown, errors(app))  # the theme's planned lines
        theme.value = ""
        theme.focus()
        await pilot.press("enter")  # the theme cleared: a new poem
        await pilot.pause()
        assert not any(pane.composer.poem_plan.keywords), pane.composer.poem_plan.keywords
        assert _plan_field(pane) == ""

        plan = pane.query_one("#cp-plan", Input)  # a plan the person types is theirs, and kept
        plan.value = "山,-,-,-"
        plan.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert pane.composer.poem_plan.keywords[0] == "山", errors(app)
        await pilot.press("n")
        await pilot.pause()
        assert pane.composer.poem_plan.keywords[0] == "山", errors(app)


@sync
async def test_u_brings_back_the_title_and_plan_of_the_poem_it_brings_back(
    seeded_model_run: Path, home: Path
) -> None:
    """`u` swapped the poems but left 题 and 纲 showing the replacing poem's, so the bar described
    one poem and the page another, and `n` then wrote a poem like neither (a TUI review)."""
    from textual.widgets import Input

    async with _compose_pane(seeded_model_run, home) as (app, pilot, pane):
        pane.seed = 5
        pane.query_one("#cp-title", Input).focus()
        await pilot.press("秋", "夜", "enter")
        plan = pane.query_one("#cp-plan", Input)
        plan.value = "月,-,-,-"
        plan.focus()
        await pilot.press("enter")
        await pilot.pause()
        pane.focus_first()
        await pilot.press("space", "space")
        first_text, first_plan = pane.poem_text(), _plan_field(pane)
        assert first_plan.startswith("月,") and len(first_plan.split(",")) == 4, (first_plan, errors(app))

        pane.query_one("#cp-title", Input).focus()
        await pilot.press("backspace", "backspace", "春", "enter")  # a new title: a new poem, 纲 cleared
        await pilot.pause()
        pane.focus_first()
        await pilot.press("space")
        assert pane.composer.poem_plan.title == "春" and _plan_field(pane) == "", errors(app)

        await pilot.press("u")
        assert pane.poem_text() == first_text, errors(app)
        assert pane.query_one("#cp-title", Input).value == "秋夜"
        assert _plan_field(pane) == first_plan
        await pilot.press("n")  # a poem like the one brought back: its title and its asked plan
        await pilot.pause()
        assert pane.composer.poem_plan.title == "秋夜", errors(app)
        assert pane.composer.poem_plan.keywords[0] == "月"
