"""A reviewer's round on the fields: a refused field keeps the focus, errors name a field by its
label, the train loss's note wraps whole, the corpus's form names follow its script, a rhyme
switched off says so, and the 平 groups are listed beside the poem rather than in a toast."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from studio_helpers import composing, copy_run, errors, settle, shown_text, studio, sync, write_fake_run

pytestmark = pytest.mark.usefixtures("no_shipped_models")


def screen_lines(app) -> list[str]:
    return ["".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips()]


async def enter_in(pilot, pane, field: str, value: str) -> None:
    """Type `value` into the field (emptied first) as keys, then Enter, as a person would."""
    from textual.widgets import Input

    widget = pane.query_one(f"#cp-{field}", Input)
    widget.value = ""
    widget.focus()
    await pilot.press(*value, "enter")
    await settle(pilot)


# 1. A refused whole-poem field keeps the focus -----------------------------------------------------


@sync
async def test_a_refused_whole_poem_field_keeps_the_focus(trained_runs: Path, home: Path) -> None:
    """藏头 `ab春` + Enter sent the focus back to the poem: mending the typo took 10–15 Tabs."""
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        await pilot.press("space", "space")
        written = pane.poem_text()
        await enter_in(pilot, pane, "acrostic", "ab春")
        assert any("the acrostic must be Chinese characters" in e for e in errors(app)), errors(app)
        assert app.focused is pane.query_one("#cp-acrostic"), app.focused
        assert pane.poem_text() == written
        await pilot.press("backspace", "backspace", "backspace", "enter")  # mended in place: a new poem
        await settle(pilot)
        assert app.focused is pane.query_one("#poem-scroll") and pane.poem_text() != written
        await enter_in(pilot, pane, "rhyme_group", "七羊")
        assert app.focused is pane.query_one("#cp-rhyme_group"), app.focused
        pane.query_one("#cp-rhyme_group").value = ""
        await enter_in(pilot, pane, "title", "ab")  # 题 goes its own way (PlanDesk): the same there
        assert any("title" in e for e in errors(app)[-1:]), errors(app)
        assert app.focused is pane.query_one("#cp-title"), app.focused


@sync
async def test_a_refused_number_keeps_the_focus_too(trained_runs: Path, home: Path) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        await enter_in(pilot, pane, "line_drafts", "0")
        assert errors(app) and app.focused is pane.query_one("#cp-line_drafts"), app.focused


# 2. An error names the field by its label ----------------------------------------------------------


@sync
async def test_a_refused_number_is_named_by_its_fields_label(trained_runs: Path, home: Path) -> None:
    """The field says `drafts`; the error said "line drafts must be …", and Enter in drafts while
    top-p held 2 said only "top-p must be in (0, 1], got 2.0"."""
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        await enter_in(pilot, pane, "line_drafts", "0")
        assert errors(app)[-1] == "drafts: line drafts must be a whole number from 1 (off) to 64, got 0"
        await enter_in(pilot, pane, "top_p", "2")  # its own label already opens the engine's words
        assert errors(app)[-1] == "top-p must be in (0, 1], got 2.0", errors(app)
        # Enter in drafts, both wrong: the field Enter was pressed in is the one reported.
        await enter_in(pilot, pane, "line_drafts", "0")
        assert errors(app)[-1].startswith("drafts: line drafts must be"), errors(app)
        # drafts right, top-p still wrong: the error says it is about another field.
        await enter_in(pilot, pane, "line_drafts", "4")
        assert errors(app)[-1] == "drafts not applied: top-p must be in (0, 1], got 2.0", errors(app)
        await enter_in(pilot, pane, "temperature", "99")
        assert errors(app)[-1] == "temp: temperature must be between 0 (greedy) and 10, got 99.0"
        assert pane.session.settings.line_drafts != 4  # nothing was applied


# 3. The train loss's note wraps whole ------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 100, 120])
@sync
async def test_a_short_last_train_line_keeps_every_word_in_the_narrow_panel(home: Path, width: int) -> None:
    """At 80–120 columns "6.2975, the last ste" / "alone": the "p" was lost at the fold, and
    "6.3373, mean of the" / "7 steps" lost "last"."""
    for name, last, loss in (("gru-one", 1, 6.2975), ("gru-seven", 7, 6.3373)):
        run_dir = write_fake_run(home, name, "gru", steps=40, decay=50)
        events = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text("utf-8").splitlines()]
        for event in events:
            if event["event"] == "train":
                event["window_steps"] = 10
        stop = {
            "event": "train",
            "step": 40 + last,
            "train_loss": loss,
            "window_steps": last,
            "elapsed_s": 21,
        }
        (run_dir / "metrics.jsonl").write_text(
            "".join(json.dumps(e) + "\n" for e in [*events, stop]), "utf-8"
        )
    app = studio(pane="train")
    async with app.run_test(size=(width, 36)) as pilot:
        await settle(pilot)
        pane = app.query_one("#train-pane")
        runs = app.query_one("#run-list")
        said = {}
        for index in range(runs.option_count):
            runs.highlighted = index
            await settle(pilot)
            region = pane.query_one("#run-details").region
            shown = screen_lines(app)[region.y : region.y + region.height]
            cells = " ".join(line[region.x : region.x + region.width] for line in shown)
            said[pane.highlighted().name] = " ".join(cells.split())
    assert "train loss 6.2975, the last step alone" in said["gru-one"], said
    assert "train loss 6.3373, mean of the last 7 steps" in said["gru-seven"], said


# 4. The corpus's form names in its script --------------------------------------------------------


@sync
async def test_the_form_names_follow_the_corpus_script(tiny_corpus: str) -> None:
    from textual.widgets import Select

    app = studio(pane="corpus", corpus=tiny_corpus)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#corpus-pane")
        assert "五言绝句" in shown_text(app.query_one("#card-forms"))
        app.query_one("#corpus-script", Select).value = "traditional"
        await settle(pilot, 4)
        assert pane.stats["script"] == "traditional"
        card = shown_text(app.query_one("#card-forms"))
        assert "五言絕句" in card and "七言律詩" in card and "绝" not in card, card
        forms = app.query_one("#corpus-forms", Select)
        assert "五絕 wujue" in [str(label) for label, _value in forms._options]
        assert forms.value == "all"


# 5. A rhyme switched off says so -------------------------------------------------------------------


@sync
async def test_a_poem_written_with_the_rhyme_off_says_so(trained_runs: Path, home: Path) -> None:
    """Tab ×5 + Enter turned the rhyme off with "applies from the next character." alone, and the
    finished poem read `rhyme ✗` with nothing saying it was not asked to rhyme."""
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        pane.query_one("#cp-rhyme").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert pane.session.settings.rhyme is False
        said = [m for _s, _t, m in app.notices if "next character" in m]
        assert said == ["rhyme constraint off: applies from the next character."], said
        while not pane.session.done:
            pane.action_step()
        await settle(pilot)
        verdict = next(line for line in shown_text(pane.query_one("#poem")).splitlines() if "rhyme" in line)
        assert "(rhyme off)" in verdict, verdict
        pane.query_one("#cp-rhyme").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.notices[-1][2] == "rhyme constraint on: applies from the next character."
        verdict = next(line for line in shown_text(pane.query_one("#poem")).splitlines() if "rhyme" in line)
        assert "(rhyme was off)" in verdict, verdict  # written without it, whatever the box says now
        while pane.session.text:  # undone back to where the writing without it began: nothing was
            pane.action_undo()
        await settle(pilot)
        assert pane._rhyme_note(pane.session) == ""
        while not pane.session.done:  # written again with the rhyme on
            pane.action_step()
        await settle(pilot)
        verdict = next(line for line in shown_text(pane.query_one("#poem")).splitlines() if "rhyme" in line)
        assert "off" not in verdict, verdict
        await pilot.press("escape", "n")
        await settle(pilot)
        while not pane.session.done:
            pane.action_step()
        await settle(pilot)
        verdict = next(line for line in shown_text(pane.query_one("#poem")).splitlines() if "rhyme" in line)
        assert "off" not in verdict, verdict


# 6. The 平 groups beside the poem, not in a toast ---------------------------------------------------


@sync
async def test_an_unknown_rhyme_group_lists_the_groups_beside_the_poem(
    trained_runs: Path, home: Path
) -> None:
    """韵 七羊 at 120×40: the toast listed the 30 groups and drew 十二侵 as "十  侵" where it crossed
    the panel's edge. The groups are listed in the panel, whole; the toast is short."""
    copy_run(trained_runs, home, "tiny-gru")
    async with composing((120, 40)) as (app, pilot, pane):
        await enter_in(pilot, pane, "rhyme_group", "七羊")
        said = errors(app)[-1]
        assert "rhyme group '七羊'" in said and "十二侵" not in said and "listed beside the poem" in said
        panel = shown_text(pane.query_one("#candidates"))
        assert "羊 rhymes in 七阳" in panel, panel
        screen = "\n".join(screen_lines(app))
        for group in ("一东", "十二侵", "十五删", "十五咸"):
            assert group in screen, (group, screen)
        await pilot.press(*["backspace"] * 2, *"七阳", "enter")  # mended: a poem rhyming in 七阳
        await settle(pilot)
        assert pane.session.settings.rhyme_group == "七阳"
        assert "十二侵" not in shown_text(pane.query_one("#candidates"))


@sync
async def test_an_unknown_rhyme_group_met_by_a_plan_mid_poem_lists_the_groups_too(
    trained_runs: Path, home: Path
) -> None:
    """纲 + Enter mid-poem with 七羊 in 韵: the toast promised the groups beside the poem, and the
    panel was redrawn as before, without them."""
    from textual.widgets import Input

    copy_run(trained_runs, home, "tiny-gru")
    async with composing((120, 40)) as (app, pilot, pane):
        pane.query_one("#poem-scroll").focus()
        await pilot.press("space", "space")
        await settle(pilot)
        written = pane.session.text
        pane.query_one("#cp-rhyme_group", Input).value = "七羊"
        await enter_in(pilot, pane, "plan", "山")
        said = errors(app)[-1]
        assert "rhyme group '七羊'" in said and "listed beside the poem" in said, said
        assert "羊 rhymes in 七阳" in shown_text(pane.query_one("#candidates"))
        assert pane.session.text == written  # nothing changed
