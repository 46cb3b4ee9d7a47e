"""The Compose pane's 题 and 纲 (issue 21 §2): a title planned, the plan edited mid-poem, `k` for a new keyword."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from studio_helpers import errors, settle, sync

from tangstudio.studio.app import create_app

pytestmark = pytest.mark.usefixtures("no_shipped_models")


async def _wait_for(pilot, condition, seconds: float = 30) -> bool:
    for _ in range(int(seconds * 20)):
        if condition():
            return True
        await asyncio.sleep(0.05)
        await pilot.pause()
    return condition()


def _plan_field(pane) -> str:
    from textual.widgets import Input

    return pane.query_one("#cp-plan", Input).value


@sync
async def test_title_field_plans_the_poem_and_the_plan_can_be_edited_and_rerolled(
    seeded_model_run: Path, home: Path
) -> None:
    from textual.widgets import Input

    shutil.copytree(seeded_model_run, home / "runs" / seeded_model_run.name)
    app = create_app(pane="compose", warm_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#compose-pane")
        assert await _wait_for(pilot, lambda: pane.session is not None), errors(app)
        vocab = pane.loaded.vocab
        assert vocab.has_plan and all(c in vocab.stoi for c in "秋夜月山")
        pane.seed = 5
        assert _plan_field(pane) == ""  # no title, no plan: no keywords

        pane.query_one("#cp-title", Input).focus()
        await pilot.press("秋", "夜", "enter")
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

        field.value = "月,山,x,-"
        field.focus()
        await pilot.press("enter")  # a bad keyword: one line, the poem and its plan kept
        assert any("must be Chinese characters" in e for e in errors(app)), errors(app)
        assert len(pane.poem_text()) == 9 and pane.composer.poem_plan.keywords[2:] == ["月", "山"]
