"""Pilot tests of writing together in the Compose pane: gates, typing, lock and reroll, theme, export."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from studio_helpers import (
    compose_ready,
    composing,
    copy_run,
    errors,
    settle,
    shown_text,
    studio,
    sync,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("no_shipped_models")


@sync
async def test_gate_view_strips_and_cursor_values(trained_runs: Path, home: Path) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        await pilot.press("space", "space", "space")
        await pilot.press("g")
        assert await wait_for(pilot, lambda: pane.poem.gates is not None), errors(app)
        assert len(pane.poem.gates) == len(pane.poem_text()) and pane.poem.gate_names == ("r", "z", "‖h‖")
        shown = shown_text(pane.query_one("#poem"))
        assert "L0 z (replaced)" in shown and "██" in shown
        await pilot.press("left")
        assert pane.session.cursor == len(pane.poem_text()) - 2
        panel = shown_text(pane.query_one("#candidates"))
        assert f"gates on {pane.poem_text()[-2]} (line " in panel and "z " in panel
        assert "they shape the next character" in panel  # not the choice above them (a student's review)
        await pilot.press("g")
        assert pane.poem.gates is None


@sync
async def test_the_gates_shown_are_those_of_the_step_the_panel_shows(trained_runs: Path, home: Path) -> None:
    """At a line's end the panel showed "position 7 · chose 条" and, below it, "gates at ，"."""
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        await pilot.press("g")
        for _ in range(12):
            await pilot.press("space")
            if pane.poem_text()[-1:] in ("，", "。"):
                break
        assert pane.poem_text()[-1:] in ("，", "。"), pane.poem_text()
        assert await wait_for(pilot, lambda: pane.poem.gates is not None), errors(app)
        panel = " ".join(shown_text(pane.query_one("#candidates")).split())
        step = pane.session.panel()  # the cursor follows: the gates are the panel's own step's
        read = pane.poem_text()[step.position]
        assert step.position == len(pane.poem_text()) - 2  # the character before the mark
        # counted as the status line counts, without the marks: "char 31" was the 28th (a review)
        text = pane.poem_text()
        line = text.count("，") + text.count("。")  # the mark just drawn closes this line
        at = f"line {line}, char {len(text[:-1].replace('，', '。').split('。')[-1])}"
        assert f"gates on {read} ({at}) they shape the next" in panel, panel
        assert f"line {line}, character " in panel and "position" not in panel, panel


@sync
async def test_typing_a_character_shows_its_odds_and_refuses_what_breaks_the_form(
    trained_runs: Path, home: Path
) -> None:
    from textual.widgets import Select

    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        pane.query_one("#cp-form", Select).value = "wujue"
        await pilot.pause()
        pane.focus_first()
        await pilot.press("山")  # a key carrying a Chinese character, as an IME delivers it
        assert pane.poem_text() == "山", errors(app)
        panel = shown_text(pane.query_one("#candidates"))
        assert "you typed 山" in panel and "bits" in panel and "rank" in panel
        assert "model p " in panel  # the model's own p, not the bars' drawn distribution (a review)
        # The comma comes after five characters: typing one now is refused with a message.
        assert not pane.write("，")
        assert pane.poem_text() == "山"
        assert any("punctuation" in message for _s, _t, message in app.notices)
        await pilot.press("space")  # the model continues from the typed character
        assert len(pane.poem_text()) == 2 and pane.poem_text()[0] == "山"


@sync
async def test_lock_line_one_and_reroll_line_three(trained_runs: Path, home: Path) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        await pilot.press("l")  # an empty line: locked, then written into by Space (a TUI review)
        assert pane.session.locked == set() and any("not written yet" in m for _s, _t, m in app.notices)
        pane.action_step()
        await pilot.press("l")  # half written: not yet either
        assert pane.session.locked == set()
        while not pane.session.done:
            pane.action_step()
        before = pane.poem_text()
        pane.session.cursor = 0
        await pilot.press("l")
        assert pane.session.locked == {0} and pane.poem.locked == (0,)
        pane.session.cursor = 17  # line 3 of a 七绝
        for _try in range(5):
            await pilot.press("r")
            if pane.poem_text() != before:
                break
        after = pane.poem_text()
        assert after[:16] == before[:16]  # lines 1 and 2 byte for byte
        assert after != before and len(after) == len(before)
        assert "locked" in shown_text(pane.query_one("#poem"))
        # A locked last line is written back as given by a reroll above it; Backspace then took the
        # last choice before it and the locked line with it, the mark left on new text (a poet's
        # review). Now Backspace and a candidate key leave it, and say why.
        pane.session.cursor = len(after) - 1
        await pilot.press("l")
        assert pane.session.locked == {0, 3}
        pane.session.cursor = 17
        await pilot.press("r")
        kept = pane.poem_text()
        assert kept[24:] == after[24:] and kept[:16] == before[:16]
        for key in ("backspace", "3"):
            shown = len(app.notices)
            await pilot.press(key)
            assert pane.poem_text() == kept, key
            assert any("line 4 is locked" in m for _s, _t, m in app.notices[shown:]), app.notices[shown:]
        pane.session.cursor = len(kept) - 1
        await pilot.press("l")  # unlocked: now Backspace takes the last choice back
        await pilot.press("backspace")
        assert len(pane.poem_text()) < len(kept)


@sync
async def test_theme_field_and_markdown_export(trained_runs: Path, home: Path) -> None:
    from textual.widgets import Input

    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (_app, pilot, pane):
        field = pane.query_one("#cp-theme", Input)
        field.value = "月,秋"
        field.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert pane.session.settings.theme == "月,秋"
        await pilot.press("u")  # the poem the theme replaced was empty: nothing to bring back
        while not pane.session.done:
            pane.action_step()
        text = pane.poem_text()
        assert "月" in text and "秋" in text
        await pilot.press("w")
        saved = sorted((home / "poems").glob("*.md"))
        assert len(saved) == 1
        markdown = saved[0].read_text("utf-8")
        assert "| theme | 月,秋 |" in markdown and "| # | char | p |" in markdown
        assert json.loads(saved[0].with_suffix(".json").read_text("utf-8"))["text"] == text
        await pilot.press("W")
        assert list((home / "poems").glob("*.svg"))


@sync
async def test_a_new_form_keeps_the_old_poem_for_u(trained_runs: Path, home: Path) -> None:
    from textual.widgets import Select

    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        await pilot.press("space", "space")
        written = pane.poem_text()
        assert app.query_one("#cp-model", Select).is_blank() is False
        pane.query_one("#cp-form", Select).value = "wulv"
        await pilot.pause()
        assert pane.poem_text() == "" and pane.session.settings.form == "wulv"
        pane.focus_first()
        await pilot.press("backspace")  # an empty new poem: Backspace brings the old one back
        assert pane.poem_text() == written
        assert pane.query_one("#cp-form", Select).value == "qijue"
        await pilot.press("u")  # and u swaps again
        assert pane.session.settings.form == "wulv"


@sync
async def test_model_list_offers_no_blank_when_models_exist(trained_runs: Path, home: Path) -> None:
    from textual.widgets import Select

    copy_run(trained_runs, home, "tiny-gru")
    app = studio(pane="compose")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        select = app.query_one("#cp-model", Select)
        labels = [str(prompt) for prompt, _value in select._options]
        assert not any("no model yet" in label for label in labels), labels


@sync
async def test_help_explains_the_new_keys_and_zhong(home: Path) -> None:
    from tangstudio.studio.help import HELP

    for key in ("`g`", "`l`", "`r`", "`u`", "`W`", "`#`", "中"):
        assert key in HELP, key


@sync
async def test_cursor_moves_by_line_and_a_unit_can_be_pinned(trained_runs: Path, home: Path) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        while not pane.session.done:
            pane.action_step()
        await pilot.press("up")
        assert pane.session.cursor == 31 - 8  # same column, one line up (a 七绝: 8 cells a line)
        await pilot.press("up", "up", "up")
        assert pane.session.cursor == 7 and pane.session.cursor_line() == 0
        await pilot.press("number_sign")
        await pilot.pause()
        await pilot.press(*"h0:3", "enter")
        assert await wait_for(pilot, lambda: pane.poem.pin is not None), errors(app)
        assert len(pane.poem.pin) == len(pane.poem_text()) and pane.poem.pin_label == "h0:3"
        assert "coloured by unit h0:3" in shown_text(pane.query_one("#poem"))
        # The panel gives the pinned unit's value at the cursor (the colours say it only roughly).
        at = pane.session.cursor
        note = f"h0:3 at {pane.session.text[at]}: {pane.poem.pin[at]:+.2f}"
        assert any(note in text for text, _ in pane.panel.notes), pane.panel.notes
        await pilot.press("number_sign")
        await pilot.pause()
        await pilot.press(*"x9", "enter")  # not a unit: one line, and nothing pinned changes
        assert any("h<layer>:<index>" in message for message in errors(app))
        await pilot.press("number_sign")
        await pilot.pause()
        from textual.widgets import Input

        app.screen.query_one(Input).value = "h9:99999"  # a unit the model does not have
        await pilot.press("enter")
        await pilot.pause()
        assert any("the model has 1 layer of" in message for message in errors(app)), errors(app)
        assert pane.poem.pin_label == "h0:3"  # the unit pinned before stays


@sync
async def test_a_new_model_keeps_the_old_poem_with_its_own_model(trained_runs: Path, home: Path) -> None:
    from textual.widgets import Select

    copy_run(trained_runs, home, "tiny-gru")
    copy_run(trained_runs, home, "tiny-bilstm")
    app = studio(pane="compose", run="tiny-gru")
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await compose_ready(pilot)
        assert not pane.filling, errors(app)
        await pilot.press("space", "space", "space")
        written, gru = pane.poem_text(), pane.loaded
        select = pane.query_one("#cp-model", Select)
        select.value = next(value for _label, value in select._options if str(value).endswith("tiny-bilstm"))
        assert await wait_for(pilot, lambda: pane.filling), errors(app)
        pane.focus_first()
        await pilot.press("u")
        assert pane.poem_text() == written and not pane.filling
        assert pane.loaded is gru and pane.model_target.endswith("tiny-gru")
        assert str(select.value).endswith("tiny-gru")


@sync
async def test_a_bilstm_sets_aside_the_title_and_plan_a_left_to_right_model_left(
    trained_runs: Path, home: Path
) -> None:
    """题 and 纲 typed for an LSTM stay in their rows when the person switches to a bilstm, which
    reads neither: its poems are filled without them and a warning says so, where every new poem
    was refused until the rows were cleared. Back on the LSTM, the rows are read again."""
    from textual.widgets import Input, Select

    copy_run(trained_runs, home, "tiny-gru")
    copy_run(trained_runs, home, "tiny-bilstm")
    app = studio(pane="compose", run="tiny-gru")
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await compose_ready(pilot)
        title = "".join(c for c in pane.loaded.vocab.itos if "\u4e00" <= c <= "\u9fff")[:3]
        pane.query_one("#cp-title", Input).value = title
        select = pane.query_one("#cp-model", Select)
        select.value = next(value for _label, value in select._options if str(value).endswith("tiny-bilstm"))
        assert await wait_for(pilot, lambda: pane.filling), errors(app)
        assert not errors(app)
        assert any("reads no 题" in message for _s, _t, message in app.notices)
        assert pane.query_one("#cp-title", Input).value == title
        await pilot.press("space")
        assert "□" not in pane.poem_text() and not errors(app)
        select.value = next(value for _label, value in select._options if str(value).endswith("tiny-gru"))
        assert await wait_for(pilot, lambda: not pane.filling), errors(app)
        assert pane.composer.settings.title == title and not errors(app)


def test_a_model_without_titles_and_plans_sets_aside_only_those_rows() -> None:
    from compose_helpers import build_vocab, tiny_lm

    from tangstudio.engine.compose.settings import ComposeSettings
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.studio.composing import readable_settings

    lm = tiny_lm(Vocab.build(build_vocab(["月"], 5).itos[5:], "simplified", markers=False))
    assert not lm.vocab.has_plan
    asked = ComposeSettings(title="月", plan=["月", "", "", ""], theme="月")
    kept, warning = readable_settings(lm, asked)
    assert (kept.title, kept.plan, kept.theme) == ("", [], "月")
    assert "trained without titles and plans and reads no 题, 纲" in warning
    assert readable_settings(lm, ComposeSettings(theme="月")) == (ComposeSettings(theme="月"), "")


@sync
async def test_the_poem_takes_back_the_focus_a_passing_hide_gave_the_tab_bar(
    trained_runs: Path, home: Path
) -> None:
    """Under load a layout pass while a model loads can drop the pane from one frame: Textual's Hide
    hands the focus to the tab bar, where Space did nothing (seen in CI). The Show takes it back,
    unless the person moved it meanwhile."""
    from textual import events
    from textual.widgets import Input

    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        scroll = pane.query_one("#poem-scroll")
        await settle(pilot)
        assert app.focused is scroll
        scroll.post_message(events.Hide())
        assert await wait_for(pilot, lambda: app.focused is not scroll)
        scroll.post_message(events.Show())
        assert await wait_for(pilot, lambda: app.focused is scroll)
        await pilot.press("space")
        assert len(pane.poem_text()) == 1 and not errors(app)

        scroll.post_message(events.Hide())
        assert await wait_for(pilot, lambda: app.focused is not scroll)
        title = pane.query_one("#cp-title", Input)
        title.focus()
        scroll.post_message(events.Show())
        await settle(pilot)
        assert app.focused is title


def test_a_poem_saved_from_a_shipped_model_names_it_as_generate_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The studio recorded "model: /…/models/default" where `generate --format md` says "default"."""
    from tangstudio.studio.composing import shipped_name

    shipped = tmp_path / "models"
    (shipped / "default").mkdir(parents=True)
    monkeypatch.setenv("TANGSTUDIO_MODELS", str(shipped))
    assert shipped_name(str(shipped / "default")) == "default"
    assert shipped_name(str(tmp_path / "runs" / "mine")) == str(tmp_path / "runs" / "mine")
    assert shipped_name(str(shipped / "critic")) == str(shipped / "critic")  # not a --model name
    assert shipped_name("tiny-gru") == "tiny-gru"


@sync
async def test_a_run_trained_meanwhile_is_offered_when_the_model_list_is_reached(
    trained_runs: Path, home: Path
) -> None:
    """A student's review: a run trained headless while Compose was open appeared in its model list
    only after leaving the pane and coming back."""
    from textual.widgets import Select

    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, _pane):
        select = app.query_one("#cp-model", Select)
        offered = lambda: [value for _, value in select._options]  # noqa: E731
        assert not any(str(v).endswith("later-gru") for v in offered())
        shutil.copytree(trained_runs / "tiny-gru", home / "runs" / "later-gru")  # written meanwhile
        select.focus()
        await pilot.pause()
        assert any(str(v).endswith("later-gru") for v in offered()), offered()
        assert str(select.value).endswith("tiny-gru")  # the model in use stays chosen


@sync
async def test_at_80x24_a_lushi_follows_the_cursor_and_the_arrows_move_it(
    trained_runs: Path, home: Path
) -> None:
    """A poet's review: at 80×24 a finished 七律's line 8 and verdict were below the fold, and ↑ ↓
    scrolled the view while the cursor stayed (the container's own keys took the arrows)."""
    from textual.widgets import Select

    copy_run(trained_runs, home, "tiny-gru")
    async with composing(size=(80, 24)) as (app, pilot, pane):
        app.query_one("#cp-form", Select).value = "qilv"
        await settle(pilot)
        pane.focus_first()
        while not pane.session.done:
            pane.action_step()
        await settle(pilot)
        lines = pane.poem_text().replace("。", "，").split("，")
        shown = _screen_text(app)
        assert lines[7] in shown and "tones loose" in shown, shown  # the last line and the verdict
        await pilot.press("up")
        await settle(pilot)
        assert pane.session.cursor is not None and pane.session.cursor < 56  # a line up
        for _ in range(7):
            await pilot.press("up")
            await settle(pilot)
        assert pane.session.cursor < 8 and lines[0] in _screen_text(app)  # the first line, in view


def _screen_text(app) -> str:
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


def test_the_candidates_keep_their_percentages_whole_in_a_narrow_panel() -> None:
    """A poet's review: at 80 columns a free poem's "⏎ end" candidate widened the character column
    and the percentages were cut to "57.…"; the bars give way instead."""
    import asyncio

    from textual.app import App

    from tangstudio.studio.widgets.prob_bars import PanelState, ProbBars

    class Narrow(App):
        CSS = "ProbBars { width: 30; }"

        def compose(self):
            yield ProbBars()

    async def run() -> str:
        app = Narrow()
        async with app.run_test(size=(60, 12)) as pilot:
            bars = app.query_one(ProbBars)
            cands = (("<eos>", 0.571), ("山", 0.2), ("水", 0.1))
            bars.panel = PanelState(3, cands, "<eos>", 0.1, message=None)
            await pilot.pause()
            return "\n".join(strip.text for strip in bars.render_lines(bars.region.reset_offset))

    shown = asyncio.run(run())
    assert "57.1%" in shown and "20.0%" in shown and "…" not in shown, shown


def test_the_poem_view_counts_the_rows_a_wrapped_line_takes() -> None:
    """A review: a free poem's gate strips wrap at 40 columns (13 characters: 26 cells and a label),
    and the view, counting one row a line, stopped following the cursor after line 5."""
    import asyncio

    from textual.app import App

    from tangstudio.studio.widgets.poem_view import PoemView

    class Narrow(App):
        CSS = "PoemView { width: 20; }"

        def compose(self):
            yield PoemView()

    async def run() -> tuple[int, int]:
        app = Narrow()
        async with app.run_test(size=(40, 10)) as pilot:
            view = app.query_one(PoemView)
            await pilot.pause()
            view._lines = ["██" * 13 + "  L0 z (replaced)", "一二三", "█" * 20]
            return view._screen_rows(1), view._screen_rows(3)

    assert asyncio.run(run()) == (3, 5)  # 43 cells: 3 rows at 20 columns; then 1, and 20 cells: 1


def test_the_status_line_keeps_the_style_of_a_separator_inside_a_part() -> None:
    """Broken between its parts, the status line redrew "w save · c copy · n new" with dim dots
    inside its bold green (a review of the diff)."""
    from rich.console import Console
    from rich.text import Text

    from tangstudio.studio.panes.compose.status import BrokenBetweenParts

    line = Text.assemble(
        ("default model", "dim"), (" · ", "dim"), ("complete: w save · c copy", "bold green")
    )
    console = Console(width=80)

    def styled(renderable: object) -> list[tuple[str, object]]:  # each cell and its style
        return [(ch, seg.style) for seg in console.render(renderable) for ch in seg.text if ch != "\n"]

    assert styled(BrokenBetweenParts(line)) == styled(line)  # at a width that holds it: the very line


def test_the_status_line_means_what_the_composer_drew_and_counts_what_was_typed() -> None:
    """Three typed characters read "3 chosen · mean p 0.00" (a typed character the composer would not
    draw has p 0 in what it draws from), which looked broken (a student's review)."""
    from types import SimpleNamespace

    from tangstudio.engine.compose.settings import StepInfo
    from tangstudio.studio.composing import Step, as_step
    from tangstudio.studio.panes.compose.status import status_text

    def step(p: float, typed: bool = False, forced: bool = False) -> Step:  # as the pane holds them
        return as_step(StepInfo(0, [], 0.0, "山", p, forced=forced, typed=typed))

    def line(steps: list[Step]) -> str:
        session = SimpleNamespace(steps=lambda: steps, hint="", done=False, backoffs=[])
        return status_text("models/default", session, lambda: None).plain

    assert "3 typed" in line([step(0.0, typed=True)] * 3) and "mean p" not in line(
        [step(0.0, typed=True)] * 3
    )
    assert "1 chosen · mean p 0.0040" in line([step(0.004)])  # the first character's flat odds, not "0.00"
    assert "1 chosen · mean p 0.00023" in line([step(0.00023)])  # seen as "0.000" in a fresh clone
    assert "1 chosen · mean p 0.000023" in line([step(0.000023)])  # not "2.3e-05" (a review of the diff)
    assert "2 drawn, 1 typed · mean p 0.40" in line(
        [step(0.3), step(0.5), step(0.0, typed=True), step(1.0, forced=True)]
    )


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@sync
async def test_a_number_key_takes_only_a_candidate_on_screen(trained_runs: Path, home: Path, size) -> None:
    """With notes under the bars (the gates, a typed character, 对仗) the list was cut to five whatever
    the room, and `8` still took the eighth, never shown (a TUI review): a tall panel shows all ten, and
    a key past those shown is refused, the poem unchanged."""
    copy_run(trained_runs, home, "tiny-gru")
    async with composing(size) as (app, pilot, pane):
        await pilot.press("space", "space", "g")
        assert await wait_for(pilot, lambda: pane.poem.gates is not None), errors(app)
        await settle(pilot)
        bars = pane.query_one("#candidates")
        before = pane.poem_text()
        if size == (160, 48):
            assert bars.shown == 10
            return
        assert 0 < bars.shown < 8, bars.shown
        await pilot.press("8")
        await settle(pilot)
        assert pane.poem_text() == before
        assert any("candidate 8 is not shown" in n.message for n in app._notifications)


@sync
async def test_a_model_that_loads_late_does_not_replace_the_one_chosen_after_it(
    trained_runs: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Choose a slow model, then another at once: the first finished loading last and took the
    pane, while the picker showed the second (a thread worker runs on when replaced)."""
    from textual.widgets import Select

    copy_run(trained_runs, home, "tiny-gru")
    copy_run(trained_runs, home, "tiny-bilstm")
    release = hold_loads(monkeypatch, lambda target: target.endswith("tiny-bilstm"))
    app = studio(pane="compose", run="tiny-gru")
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await compose_ready(pilot)
        select = pane.query_one("#cp-model", Select)
        options = {str(value).rsplit("/", 1)[-1]: value for _label, value in select._options}
        select.value = options["tiny-bilstm"]  # held in slow_bilstm
        await pilot.pause(0.3)
        select.value = options["tiny-gru"]
        assert await wait_for(pilot, lambda: not pane.loading and pane.session is not None), errors(app)
        release.set()
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert not pane.filling and pane.model_target.endswith("tiny-gru"), pane.model_target
        assert str(select.value).endswith("tiny-gru")


@sync
async def test_a_traditional_model_names_its_form_in_traditional(tiny_corpus: str, home: Path) -> None:
    """A scholar's traditional model showed 七绝 beside the form list (its verdicts under the poem:
    test_inner_tones.py)."""
    from textual.widgets import Label

    from tangstudio.engine.training import TrainConfig, train

    tiny = {"embed": 8, "hidden": 16, "layers": 1, "batch_size": 8, "samples": 0, "warmup": 1}
    train(TrainConfig(corpus=tiny_corpus, script="traditional", arch="gru", steps=1, run="trad", **tiny))
    app = studio(pane="compose", run="trad")
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await compose_ready(pilot)
        assert pane.script == "traditional"
        assert str(pane.query_one("#cp-form-name", Label).render()) == "七絕"
        pane.query_one("#cp-form").value = "wujue"
        await pilot.pause()
        assert str(pane.query_one("#cp-form-name", Label).render()) == "五絕"


@sync
async def test_a_model_still_loading_when_u_brings_a_poem_back_is_dropped(
    trained_runs: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poem under A kept, one under B shown; pick A again and press `u` before it loads: the kept
    poem came back under A, then A's late load replaced it with a new poem (a review of the diff:
    the picker showed A, so the guard let it through). The load `u` overtook is dropped."""
    import threading

    from textual.widgets import Select

    copy_run(trained_runs, home, "tiny-gru")
    copy_run(trained_runs, home, "tiny-bilstm")
    hold = threading.Event()
    release = hold_loads(monkeypatch, lambda _target: hold.is_set())
    app = studio(pane="compose", run="tiny-gru")
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await compose_ready(pilot)
        await pilot.press("space", "space")
        written = pane.poem_text()
        select = pane.query_one("#cp-model", Select)
        options = {str(value).rsplit("/", 1)[-1]: value for _label, value in select._options}
        select.value = options["tiny-bilstm"]  # a new poem under B; the first is kept for u
        assert await wait_for(pilot, lambda: pane.filling), errors(app)
        hold.set()
        select.value = options["tiny-gru"]  # A again, held while it loads
        await pilot.pause(0.3)
        pane.focus_first()
        await pilot.press("u")
        assert pane.poem_text() == written and not pane.filling, errors(app)
        release.set()
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert pane.poem_text() == written, errors(app)


@sync
async def test_u_brings_back_the_fields_as_typed_not_as_the_model_read_them(
    trained_runs: Path, home: Path
) -> None:
    """A bilstm sets a typed 题 aside (it reads none) and keeps it in its row; `u` back to its poem
    emptied the row, restoring what the model read instead of what was typed (a review of the diff)."""
    from textual.widgets import Input, Select

    copy_run(trained_runs, home, "tiny-gru")
    copy_run(trained_runs, home, "tiny-bilstm")
    app = studio(pane="compose", run="tiny-bilstm")
    async with app.run_test(size=(120, 36)) as pilot:
        pane = await compose_ready(pilot)
        title = pane.query_one("#cp-title", Input)
        title.value = "秋夜"
        title.focus()
        await pilot.press("enter")  # a new bilstm poem, its title set aside, the row kept
        await pilot.pause()
        assert pane.filling and pane.session.settings.title == "" and title.value == "秋夜", errors(app)
        pane.focus_first()
        await pilot.press("space")
        select = pane.query_one("#cp-model", Select)
        select.value = next(value for _label, value in select._options if str(value).endswith("tiny-gru"))
        assert await wait_for(pilot, lambda: not pane.filling and pane.session is not None), errors(app)
        title.value = ""
        pane.focus_first()
        await pilot.press("u")
        assert pane.filling and title.value == "秋夜", (title.value, errors(app))


@sync
async def test_a_title_in_the_other_script_is_read_in_the_models_and_said_once(
    seeded_model_run: Path, home: Path
) -> None:
    """A title typed in traditional was refused ("try '秋夜'"); read in the model's script, the note
    came with every `n`: it is said once per note."""
    from textual.widgets import Input

    from tangstudio.engine.corpus.script import convert

    shutil.copytree(seeded_model_run, home / "runs" / seeded_model_run.name)
    app = studio(pane="compose")
    async with app.run_test(size=(120, 40)) as pilot:
        pane = await compose_ready(pilot)
        vocab = pane.loaded.vocab
        simple = next(c for c in vocab.itos if len(c) == 1 and convert(c, "simplified", "traditional") != c)
        title = pane.query_one("#cp-title", Input)
        title.value = convert(simple, "simplified", "traditional")
        title.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert pane.composer.poem_plan.title == simple and not errors(app), errors(app)
        pane.focus_first()
        await pilot.press("n")
        said = [m for _s, _t, m in app.notices if "read in the model's simplified script" in m]
        assert said == [f"read in the model's simplified script: the title {simple}"], app.notices


def hold_loads(monkeypatch: pytest.MonkeyPatch, held) -> Any:
    """Models for which `held(target)` is true load only once the returned event is set: a load
    overtaken by a choice or a key, as on a slow disk."""
    import threading

    from tangstudio.studio import composing

    release, load = threading.Event(), composing.load_model

    def maybe_held(target: str):
        if held(target):
            release.wait(20)
        return load(target)

    monkeypatch.setattr(composing, "load_model", maybe_held)
    return release


@sync
async def test_the_poem_is_complete_note_goes_once_the_poem_is_not(trained_runs: Path, home: Path) -> None:
    """Space on a finished poem says it is complete; after Backspace the note stayed over an unfinished
    poem for its whole timeout (a TUI review at 80×24, where the toasts cover the panel)."""
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        while not pane.session.done:
            pane.action_step()
        await pilot.press("space")
        await pilot.pause()

        def complete_notes() -> list[str]:
            return [n.message for n in app._notifications if n.message.startswith("the poem is complete")]

        assert complete_notes(), list(app._notifications)
        await pilot.press("backspace")
        await pilot.pause()
        assert not pane.session.done and not complete_notes()
