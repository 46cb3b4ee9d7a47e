"""The craft in the studio: the 对仗 notes while lines 4 and 6 are written, and best of K (`b`)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from compose_helpers import build_vocab, composer, tiny_lm
from rich.cells import cell_len
from studio_helpers import copy_run, errors, settle, shown_text, sync, wait_for

from tangstudio.studio.panes.compose.drafts import draft_rows

ROOT = Path(__file__).resolve().parent.parent


def test_the_panel_names_the_aligned_character_and_each_candidates_pair():
    from tangstudio.engine.prosody.duizhang import load_table
    from tangstudio.studio.panes.compose.panel import pairing_notes
    from tangstudio.studio.sessions import CausalSession

    lm = tiny_lm(build_vocab(["山水"], 60))
    c = composer(lm, form="wulv", seed=2, tones="off", novelty=False)
    session = CausalSession(c)
    while len(c.text) < 12:  # lines 1 and 2, then line 3's first character
        session.advance()
    assert pairing_notes(session) == ()  # line 3 answers nothing
    while len(c.text) < 19:  # the rest of line 3, then line 4's first character
        session.advance()
    notes = [text for text, _ in pairing_notes(session)]
    step = session.panel()
    above = c.text[12]
    assert notes[0].strip().startswith(f"对仗 with line 3: {above} ↔ {step.chosen}")
    table = load_table("simplified")
    first = step.candidates[0][0]
    assert f"{first} {table.pmi(above, first):+.1f}" in notes[-1] + " ".join(notes[2:])
    # No row wider than the 80-column panel's text, so no pair is ever cut between its rows.
    from rich.cells import cell_len

    from tangstudio.studio.panes.compose.panel import GATE_WIDTH

    assert all(cell_len(n.strip("\n")) <= GATE_WIDTH for n in notes[1:]), notes
    assert not any(n.strip().startswith(("+", "-")) for n in notes), notes  # a score with its character


@pytest.fixture
def models_with_critic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Shipped models: only the critic (no default model, so the studio shows what the test trained)."""
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "critic").symlink_to(ROOT / "models" / "critic")
    monkeypatch.setenv("TANGSTUDIO_MODELS", str(folder))
    return folder


@contextlib.asynccontextmanager
async def _composing_with_tiny_gru(trained_runs: Path, home: Path) -> AsyncIterator[tuple[Any, Any, Any]]:
    """The studio on its Compose pane with the test's tiny GRU loaded: (app, pilot, pane)."""
    from tangstudio.studio.app import create_app

    copy_run(trained_runs, home, "tiny-gru")
    app = create_app(pane="compose", warm_torch=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = pilot.app.query_one("#compose-pane")
        assert await wait_for(pilot, lambda: pane.session is not None), errors(app)
        yield app, pilot, pane


@sync
async def test_best_of_k_lists_ranked_drafts_and_a_key_takes_one(
    trained_runs: Path, home: Path, models_with_critic: Path
) -> None:
    async with _composing_with_tiny_gru(trained_runs, home) as (app, pilot, pane):
        pane.seed = 11
        pane.action_new()
        await pilot.press("b")
        assert await wait_for(pilot, lambda: pane.drafts is not None), errors(app)
        drafts = pane.drafts
        scores = [d.critic["critic"] for d in drafts.ranked]
        assert len(scores) == 5 and scores == sorted(scores, reverse=True)
        shown = shown_text(pane.query_one("#candidates"))
        assert "best of 5 drafts" in shown
        assert all(row in shown.splitlines() for row in draft_rows(drafts.ranked[1].text))  # a couplet a row
        await pilot.press("2")
        assert pane.drafts is None
        assert pane.session.text == drafts.ranked[1].text and pane.session.done
        # saved, the poem says which draft it was and the critic's score of it (a poet's review)
        await pilot.press("w")
        await pilot.pause()
        saved = sorted((home / "poems").glob("*.md"))
        assert len(saved) == 1, saved
        note = f"draft 2 of the best of 5 · critic score {scores[1]:.2f}"
        assert note in saved[0].read_text(encoding="utf-8")
        import json

        origin = json.loads(saved[0].with_suffix(".json").read_text(encoding="utf-8"))["origin"]
        assert origin == {"best_of": 5, "draft": 2, "critic": scores[1], "edited": False}


@sync
async def test_the_drafts_field_sets_how_many_drafts_p_keeps_of_each_line(
    trained_runs: Path, home: Path
) -> None:
    from dataclasses import replace

    from textual.widgets import Input

    from tangstudio.engine.compose.generator import Composer

    async with _composing_with_tiny_gru(trained_runs, home) as (app, pilot, pane):
        from tangstudio.engine.compose.settings import LINE_DRAFTS

        field = pane.query_one("#cp-line_drafts", Input)
        assert field.value == str(LINE_DRAFTS)
        field.value = "65"
        await field.action_submit()
        await pilot.pause()
        assert any("line drafts must be a whole number from 1" in e for e in errors(app))
        field.value = "1"
        await field.action_submit()
        await pilot.pause()
        await pilot.press("p")
        assert await wait_for(pilot, lambda: pane.composer.done, 30), errors(app)
        engine = pane.composer
        assert engine.settings.line_drafts == 1
        # each line as first drawn: the poem plain sampling writes at this seed, not the drafted one
        plain = Composer(pane.loaded, replace(engine.settings, seed=engine.seed), novelty=engine.novelty)
        drafted = Composer(
            pane.loaded, replace(engine.settings, seed=engine.seed, line_drafts=8), novelty=engine.novelty
        )
        assert plain.finish().text == pane.poem_text() != drafted.finish().text


@sync
async def test_best_of_k_sets_aside_a_title_the_model_cannot_read_and_says_so(
    tiny_corpus: str, home: Path, models_with_critic: Path
) -> None:
    """`b` on a model trained without titles and plans: the 题 typed stays in its row, the drafts are
    drawn without it, and a warning says so (they were refused before the rows were cleared)."""
    from textual.widgets import Input

    from tangstudio.engine.runs.train_config import TrainConfig
    from tangstudio.engine.training import train
    from tangstudio.studio.app import create_app

    train(TrainConfig(arch="gru", corpus=tiny_corpus, embed=16, hidden=32, layers=1, steps=2, eval_every=2,
                      log_every=1, samples=0, warmup=1, seed=0, plan=False, run="tiny-plain"))  # fmt: skip
    app = create_app(pane="compose", warm_torch=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = pilot.app.query_one("#compose-pane")
        assert await wait_for(pilot, lambda: pane.session is not None), errors(app)
        assert not pane.loaded.vocab.has_plan
        title = "".join(c for c in pane.loaded.vocab.itos if "\u4e00" <= c <= "\u9fff")[:2]
        pane.query_one("#cp-title", Input).value = title
        pane.seed = 3
        await pilot.press("b")
        assert await wait_for(pilot, lambda: pane.drafts is not None), errors(app)
        assert not errors(app)
        assert any("reads no 题: ignored for this model" in message for _s, _t, message in app.notices)
        assert pane.drafts.settings.title == "" and pane.query_one("#cp-title", Input).value == title


def _held_draws(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Drafts drawn only once the returned event is set: what a person does meanwhile comes first."""
    import threading

    from tangstudio.studio.panes.compose import drafts

    release, draw = threading.Event(), drafts.draw

    def held(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(30)
        return draw(*args, **kwargs)

    monkeypatch.setattr(drafts, "draw", held)
    return release


@sync
async def test_drafts_that_arrive_after_another_key_are_dropped(
    trained_runs: Path, home: Path, models_with_critic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`b` then Space at once: the drafts came seconds later and the next number key took a draft
    in place of the step's candidate; the panel's own line says any other key goes on."""
    spaced = _held_draws(monkeypatch)  # a 七律's drafts take seconds: they finish after the Space
    async with _composing_with_tiny_gru(trained_runs, home) as (app, pilot, pane):
        pane.seed = 11
        pane.action_new()
        await pilot.press("b", "space")
        spaced.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert pane.drafts is None and "drafts" not in shown_text(pane.query_one("#candidates"))
        written = "".join(pane.session.text)
        await pilot.press("1")  # the step's first candidate in place of the one drawn, not a draft
        assert not pane.session.done and len("".join(pane.session.text)) == len(written) == 1


def test_the_drafts_panel_shows_what_fits_and_says_how_many() -> None:
    from types import SimpleNamespace

    from tangstudio.studio.panes.compose.drafts import Drafts, drafts_panel

    qilv = "春风一夜入楼台，夏日开筵对御杯。秋草在中何所似，冬云无处自相催。" * 2
    ranked = [SimpleNamespace(text=qilv, copies=1, critic={"critic": 3.0 - i / 10}) for i in range(5)]
    found = Drafts(ranked, None)
    panel, shown = drafts_panel(found)
    assert shown == 5 and panel.message is not None and "fit here" not in panel.message
    rows = panel.message.splitlines()
    assert "春风一夜入楼台，夏日开筵对御杯" in rows and not any(r.startswith(("。", "，")) for r in rows)
    panel, shown = drafts_panel(found, rows=16, width=31)  # the 80×24 panel
    assert shown == 2 and panel.message is not None and "2 of 5 fit here" in panel.message
    assert sum(-(-cell_len(r) // 31) for r in panel.message.splitlines()) <= 16
    assert drafts_panel(found, rows=3, width=31)[1] == 1  # always one, however short
    # Just tall enough for all five with the short foot: all five, not "4 of 5" for the long one.
    whole = drafts_panel(found, width=31)[0].message or ""
    tall = sum(-(-cell_len(r) // 31) for r in whole.splitlines())  # the rows all five take
    panel, shown = drafts_panel(found, rows=tall, width=31)
    assert shown == 5 and panel.message is not None and "fit here" not in panel.message


@sync
async def test_a_gate_trace_arriving_while_drafts_are_drawn_keeps_them(
    trained_runs: Path, home: Path, models_with_critic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a key: a trace that arrives (`g` on) publishes without going on, and the drafts stay."""
    arrived = _held_draws(monkeypatch)
    async with _composing_with_tiny_gru(trained_runs, home) as (app, pilot, pane):
        pane.seed = 11
        pane.action_new()
        await pilot.press("b")
        pane.publish(went_on=False)  # what the gate lens does when its trace arrives
        assert "drawing" in shown_text(pane.query_one("#candidates"))
        arrived.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert pane.drafts is not None
        pane.publish(went_on=False)  # and once they are shown
        assert pane.drafts is not None and "best of 5" in shown_text(pane.query_one("#candidates"))
