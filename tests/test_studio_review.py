"""Pilot tests of a user review of the studio: fields typed without Enter, the Ctrl+C hint, keys
behind the too-small screen, Esc on the tab bar, and a BiLSTM grid's verdicts on empty places."""

from __future__ import annotations

from pathlib import Path

import pytest
from studio_helpers import composing, copy_run, errors, settle, shown_text, sync

pytestmark = pytest.mark.usefixtures("no_shipped_models")


@sync
async def test_a_title_typed_without_enter_starts_the_poem_it_names(
    seeded_model_run: Path, home: Path
) -> None:
    from textual.widgets import Input

    copy_run(seeded_model_run.parent, home, seeded_model_run.name)
    async with composing((120, 40)) as (app, pilot, pane):
        pane.query_one("#cp-title", Input).focus()
        await pilot.press("秋", "夜", "escape")  # no Enter
        await pilot.press("space")
        assert pane.composer.poem_plan.title == "秋夜", errors(app)
        assert len([s for s in pane.session.steps() if not s.forced]) == 1  # then Space acted
        # Under way now: a changed field does not restart it, and says so once.
        pane.query_one("#cp-title", Input).focus()
        await pilot.press("山", "escape")
        written = pane.poem_text()
        await pilot.press("space", "space")
        assert pane.composer.poem_plan.title == "秋夜" and pane.poem_text().startswith(written)
        told = [m for _s, _t, m in app.notices if "fields changed" in m]
        assert len(told) == 1, app.notices


@sync
async def test_a_poem_whose_plan_the_pane_wrote_back_is_not_restarted(
    seeded_model_run: Path, home: Path
) -> None:
    from textual.widgets import Input

    copy_run(seeded_model_run.parent, home, seeded_model_run.name)
    async with composing((120, 40)) as (app, pilot, pane):
        pane.query_one("#cp-title", Input).focus()
        await pilot.press("秋", "夜", "enter")
        pane.query_one("#cp-plan", Input).focus()
        await pilot.press("-", "enter")  # the planner's keywords, written back into the 纲 row
        await pilot.pause()
        planned = list(pane.composer.poem_plan.keywords)
        assert all(planned) and pane.query_one("#cp-plan", Input).value == ",".join(planned)
        session = pane.session
        await pilot.press("escape", "p")
        assert pane.session is session, "a poem begun with these fields was started again"
        assert not [m for _s, _t, m in app.notices if "fields changed" in m]
        # And 纲 typed without Enter before anything is written: the next poem is asked with it.
        pane.action_new()
        field = pane.query_one("#cp-plan", Input)
        field.value = "月,山,-,-"
        await pilot.press("escape")
        pane.focus_first()
        await pilot.press("1")
        assert pane.composer.poem_plan.keywords[:2] == ["月", "山"], errors(app)


@sync
async def test_the_ctrl_c_hint_shows_no_markup(trained_runs: Path, home: Path) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    async with composing((120, 36)) as (app, pilot, _pane):
        await pilot.press("ctrl+c")
        hints = [m for _s, title, m in app.notices if title == "Do you want to quit?"]
        assert hints and "ctrl+q" in hints[-1] and "[b]" not in hints[-1], app.notices


@sync
async def test_pane_keys_do_nothing_behind_the_too_small_notice(trained_runs: Path, home: Path) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    async with composing((60, 20)) as (app, pilot, pane):
        assert app.screen.has_class("-too-small")
        session = pane.session
        await pilot.press("space", "n", "p", "1", "山")
        await settle(pilot)
        assert pane.session is session and pane.poem_text() == "", pane.poem_text()
        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        pane.focus_first()
        await pilot.press("space")
        assert len(pane.poem_text()) == 1, errors(app)


@sync
async def test_esc_on_the_pane_tabs_goes_back_to_the_poem(trained_runs: Path, home: Path) -> None:
    from textual.widgets._tabbed_content import ContentTabs

    copy_run(trained_runs, home, "tiny-gru")
    async with composing((120, 36)) as (app, pilot, pane):
        await pilot.pause()
        for _ in range(30):  # Tab until the pane tabs have the focus
            if isinstance(app.focused, ContentTabs):
                break
            await pilot.press("tab")
        assert isinstance(app.focused, ContentTabs), app.focused
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is not None and pane in app.focused.ancestors_with_self, app.focused
        await pilot.press("space")
        assert len(pane.poem_text()) == 1, errors(app)


@sync
async def test_a_fill_grid_gives_no_verdicts_on_empty_places(trained_runs: Path, home: Path) -> None:
    copy_run(trained_runs, home, "tiny-bilstm")
    async with composing((120, 36)) as (app, pilot, pane):
        assert pane.filling and "□" in pane.poem_text(), errors(app)

        def shown() -> tuple[str, str]:
            return shown_text(pane.query_one("#poem")), shown_text(pane.query_one("#candidates"))

        poem, panel = shown()
        assert "✓" not in poem and "not in the tables" not in poem, poem
        assert "rhyme —" in poem and "chose □" not in panel, (poem, panel)
        await pilot.press("1")  # one place filled: still no verdict on the rest
        poem, panel = shown()
        assert "□" in pane.poem_text() and "✓" not in poem and "not in the tables" not in poem, poem
        await pilot.press("space")  # every place filled: the checker's verdict
        poem, _panel = shown()
        assert "□" not in pane.poem_text() and "rhyme —" not in poem and "tones —" not in poem, poem
