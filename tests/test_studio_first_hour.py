"""Issue 25 ("the first hour, round three"), studio items: each one as a newcomer meets it, in Pilot."""

from __future__ import annotations

from pathlib import Path

import pytest
from studio_helpers import compose_ready, composing, copy_run, errors, settle, studio, sync

pytestmark = pytest.mark.usefixtures("no_shipped_models")


def screen_text(app) -> str:
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


# 1. A refused setting keeps the poem; a valid one keeps the old poem for `u` ------------------------


@sync
async def test_a_refused_setting_leaves_the_poem_in_progress(trained_runs: Path, home: Path) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        await pilot.press(*["space"] * 9)
        written = pane.poem_text()
        assert len(written) >= 9
        pane.query_one("#cp-prefix").focus()
        await pilot.press(*"abc", "enter")
        await settle(pilot)
        assert any("prefix" in e for e in errors(app)), errors(app)
        assert pane.poem_text() == written and pane.session is not None  # the poem is as it was
        assert "".join(pane.poem.chars) == written  # and still shown
        await pilot.press("escape", "space")  # and writing goes on
        assert pane.poem_text().startswith(written) and len(pane.poem_text()) > len(written)


@sync
async def test_a_valid_setting_starts_a_new_poem_and_u_brings_the_old_back(
    trained_runs: Path, home: Path
) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (_app, pilot, pane):
        await pilot.press(*["space"] * 9)
        written = pane.poem_text()
        pane.query_one("#cp-prefix").focus()
        await pilot.press(*"abc", "enter")  # refused: nothing is replaced, nothing is kept
        await settle(pilot)
        assert pane.previous is None
        field = pane.query_one("#cp-prefix")
        field.value = ""
        field.focus()
        await pilot.press("enter")  # valid: a new poem, the old one kept
        await settle(pilot)
        assert pane.poem_text() != written and pane.previous is not None
        await pilot.press("escape", "u")
        assert pane.poem_text() == written


# 2. The compose keys in the footer at 80×24 and 100×30 ---------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
@sync
async def test_the_compose_footer_shows_the_compose_keys_on_a_small_terminal(
    trained_runs: Path, home: Path, size: tuple[int, int]
) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    app = studio(pane="compose")
    async with app.run_test(size=size) as pilot:
        await compose_ready(pilot)
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
    # g Gates over p Play: at 80×24 the gates, the seed's lesson, could not be found (a student's review)
    for key in ("space Next", "⌫ Undo", "n New", "w Save", "g Gates"):
        assert key in footer, footer
    assert "panes" in footer and "? Help" in footer  # the app's keys still fit


# 13. The quit message names the run ---------------------------------------------------------------


@sync
async def test_the_quit_message_prints_the_runs_real_name(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tangstudio.studio.panes.train as train_pane

    class Child:  # a child that never exits on its own: it is stopping when the studio quits
        def __init__(self, name: str, options: dict, log_dir: Path) -> None:
            self.name, self.stopping = name, False

        def poll(self) -> int | None:
            return None

        def stop(self) -> None:
            self.stopping = True

    monkeypatch.setattr(train_pane, "TrainingProcess", Child)
    app = studio(pane="train")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.query_one("#train-pane").start_run({"arch": "gru", "steps": 10})
        await pilot.press("ctrl+q")
        await pilot.pause()
    notes = " ".join(app.exit_notes)
    # the studio's home (TANGSTUDIO_HOME here) named: pasted elsewhere, it resumes in the right one
    assert f"tangstudio --home {home} train --headless --run gru-1 --resume" in notes, notes
    assert "NAME" not in notes


# 11. The toast for a refused typed character keeps the tone ----------------------------------------


@sync
async def test_the_toast_for_a_refused_character_names_the_tones(trained_runs: Path, home: Path) -> None:
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        await pilot.press("space", "space", "space")  # by the fourth place of line 1 the tones are set
        composer = pane.composer
        refused = None
        for char in composer.vocab.itos:
            if len(char) == 1 and "\u4e00" <= char <= "\u9fff":
                reason = composer.judge(char).reason or ""
                if "takes a" in reason:
                    refused = char
                    break
        assert refused is not None, "no character is refused for its tone here"
        assert not pane.write(refused)
        message = errors(app)[-1]
    assert f"{refused} is " in message
    assert "(level)" in message and ("(oblique)" in message or "of no known tone" in message), message


# 14. At 80 columns: gate values never part from their names; an acrostic's first character given -----


@sync
async def test_gate_values_fit_the_panel_at_80_columns(trained_runs: Path, home: Path) -> None:
    from rich.cells import cell_len

    from tangstudio.studio.panes.compose.panel import gate_notes

    copy_run(trained_runs, home, "tiny-gru")
    async with composing((80, 24)) as (_app, pilot, pane):
        await pilot.press("space", "space")
        room = pane.query_one("#candidates").content_region.width
        names = ("f", "i", "o", "‖c‖")  # an LSTM's: the longest gate line there is
        gates = tuple(((0.52, 0.48, 0.61, 14.2), (0.5, 0.5, 0.5, 3.1)) for _ in pane.poem_text())
        lines = [text.strip("\n") for text, _ in gate_notes(pane.session, gates, names)]
    assert all(cell_len(line) <= room for line in lines), (room, lines)
    assert any("‖c‖ 14.2" in line for line in lines), lines
    assert any(line.startswith("L1 f .50") for line in lines), lines


@sync
async def test_after_an_acrostic_character_the_panel_offers_the_next_one(
    trained_runs: Path, home: Path
) -> None:
    from studio_helpers import shown_text

    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (_app, pilot, pane):
        pane.query_one("#cp-acrostic").value = "春夏秋冬"
        pane.action_new()
        await settle(pilot)
        before = " ".join(shown_text(pane.query_one("#candidates")).split())
        # It said "Space samples the first character", and Space placed 春 without sampling.
        assert "春 is given (the acrostic's): Space places it." in before, before
        await pilot.press("space")  # places the given 春; nothing sampled yet
        await settle(pilot)
        assert pane.poem_text() == "春"
        panel = shown_text(pane.query_one("#candidates"))
    assert "Space samples the next character" in panel and "first character" not in panel, panel


# 17. `c` says where the poem went ------------------------------------------------------------------


@pytest.mark.skipif(__import__("shutil").which("tmux") is None, reason="tmux is not installed")
@sync
async def test_c_under_tmux_puts_the_poem_in_its_paste_buffer_and_says_so(
    trained_runs: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import subprocess

    socket = f"tangstudio-copy-{os.getpid()}"
    tmux = ["tmux", "-L", socket]
    subprocess.run([*tmux, "new-session", "-d", "-s", "copy"], check=True, timeout=20)
    try:
        path = subprocess.run(
            [*tmux, "display-message", "-p", "#{socket_path}"], capture_output=True, text=True, timeout=20
        ).stdout.strip()
        monkeypatch.setenv("TMUX", f"{path},0,0")  # as inside that server's session
        copy_run(trained_runs, home, "tiny-gru")
        async with composing() as (app, pilot, pane):
            await pilot.press("space", "space", "c")
            poem = pane.poem_text()
        said = app.notices[-1][2]
        buffer = subprocess.run([*tmux, "show-buffer"], capture_output=True, text=True, timeout=20).stdout
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True, timeout=20)
    assert buffer == poem
    assert "tmux's paste buffer" in said and "OSC 52" in said
    assert (home / "poems" / "copied.txt").read_text("utf-8").strip() == poem and "copied.txt" in said


@sync
async def test_c_outside_tmux_says_osc_52_and_the_file(
    trained_runs: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        await pilot.press("space", "c")
        poem = pane.poem_text()
    said = app.notices[-1][2]
    assert "OSC 52" in said and "paste buffer" not in said and "clipboard." not in said
    assert (home / "poems" / "copied.txt").read_text("utf-8").strip() == poem


# 12. One export format for both faces --------------------------------------------------------------


@sync
async def test_w_saves_steps_as_the_cli_writes_them_with_the_models_probability(
    trained_runs: Path, home: Path
) -> None:
    import json

    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (_app, pilot, pane):
        await pilot.press("space", "space", "space")
        cli_keys = set(pane.composer.history[0].to_dict())  # StepInfo.to_dict: what `generate --json` prints
        await pilot.press("w")
        await settle(pilot)
    saved = next((home / "poems").glob("*.json"))
    document = json.loads(saved.read_text("utf-8"))
    steps = document["steps"]
    assert steps and all(set(s) == cli_keys for s in steps), (cli_keys, steps[0])
    assert all(0 < s["model_prob"] <= 1 for s in steps if not s["forced"])
    rows = [
        line for line in saved.with_suffix(".md").read_text("utf-8").splitlines() if line.startswith("| 1 |")
    ]
    assert rows, "no row for the first character"
    model_p = rows[0].split("|")[4].strip()
    assert model_p and 0 < float(model_p) <= 1, rows[0]  # the "model p" column is filled
    # three characters are no poem to judge: no "form ✗ · rhyme ✗ · tones ✗" (a poet's review)
    assert document.get("check") is None and "✗" not in saved.with_suffix(".md").read_text("utf-8")


# 9. The Model pane's LSTM advice, worded for the pane -----------------------------------------------


@sync
async def test_the_lstm_advice_names_a_command_not_a_missing_field(home: Path) -> None:
    from studio_helpers import shown_text
    from textual.widgets import OptionList

    from tangstudio.engine.models.archs import ARCH_NAMES

    app = studio(pane="model")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#model-pane")
        pane.query_one("#arch-list", OptionList).highlighted = ARCH_NAMES.index("lstm")
        await settle(pilot)
        advice = " ".join(shown_text(pane.query_one("#arch-when")).split())
        assert "LSTM" in str(pane.query_one("#arch-equations").border_title)
    assert "forget-gate bias" in advice and "tangstudio train --arch lstm --forget-bias 2" in advice, advice
    assert "only with --forget-bias" not in advice


# 4. The Train pane's details tick between log lines; a stop's one-step loss is not a curve point -----


class _Running:
    """A child the studio started that is still training (poll() None): the run's status is running."""

    stopping = False

    def poll(self) -> int | None:
        return None

    def stop(self) -> None:
        self.stopping = True


@sync
async def test_elapsed_and_eta_tick_between_log_lines(home: Path) -> None:
    from studio_helpers import shown_text, write_fake_run

    write_fake_run(home, "gru-slow", "gru", steps=20, decay=50, budget_steps=400)  # elapsed 10 s at step 20
    app = studio(pane="train")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = app.query_one("#train-pane")
        run = pane.highlighted()
        pane.processes[run.name] = _Running()
        now = [1000.0]
        run.clock = lambda: now[0]
        run.read_at = now[0]  # the last line was read just now
        pane.tick()
        before = " ".join(shown_text(pane.query_one("#run-details")).split())
        now[0] += 40  # forty seconds and no new line
        pane.tick()
        after = " ".join(shown_text(pane.query_one("#run-details")).split())
        drawn = []
        draw = pane._show_details
        pane._show_details = lambda run: (drawn.append(run), draw(run))  # count the redraws from here on
        for _ in range(5):  # five ticks (a second at 5 Hz) with the clock still: nothing to redraw
            pane.tick()
        still = len(drawn)
        now[0] += 1
        pane.tick()
        now[0] += 200  # past the ETA, no new line: the pace slowed
        pane.tick()
        late = " ".join(shown_text(pane.query_one("#run-details")).split())
    assert "elapsed 0:10" in before and "ETA 3:10" in before, before  # (400 − 20) × 10 s / 20
    assert "elapsed 0:50" in after and "ETA 2:30" in after, after
    assert still == 0 and len(drawn) == 2, (still, drawn)  # redrawn once a second, not at 5 Hz
    assert "ETA —" in late and "ETA 0:00" not in late, late  # unknown, not "about to finish"


@sync
async def test_a_run_killed_without_a_last_line_turns_stopped_where_it_is_watched(home: Path) -> None:
    """SIGKILL or the OOM killer writes no done line: the details said running, with `s Stop` in the
    footer, until the highlight moved, while `runs list` said stopped (a reliability review)."""
    import json
    import os
    import socket
    import subprocess
    import sys

    from studio_helpers import shown_text, write_fake_run

    run_dir = write_fake_run(home, "gru-killed", "gru", steps=20, decay=50, budget_steps=400)
    lock = run_dir / "run.lock"
    lock.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}), encoding="utf-8")
    app = studio(pane="train")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = app.query_one("#train-pane")
        pane.refresh_view()
        await pilot.pause()
        before = " ".join(shown_text(pane.query_one("#run-details")).split())
        trains = pane.check_action("stop", ()), pane.check_action("resume", ())
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        )
        lock.write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname()}), encoding="utf-8")
        pane.tick()  # no new line in the log
        await pilot.pause()
        after = " ".join(shown_text(pane.query_one("#run-details")).split())
        stopped = pane.check_action("stop", ()), pane.check_action("resume", ())
    assert "status running" in before and trains == (True, False), (before, trains)
    assert "status stopped" in after and stopped == (False, True), (after, stopped)


@sync
async def test_a_stops_one_step_loss_stays_off_the_curve(home: Path) -> None:
    import json

    from studio_helpers import shown_text, write_fake_run

    run_dir = write_fake_run(home, "gru-stopped", "gru", steps=40, decay=50)
    lines = (run_dir / "metrics.jsonl").read_text("utf-8").splitlines()
    marked = [json.loads(line) for line in lines]
    for event in marked:
        if event["event"] == "train":
            event["window_steps"] = 10  # each line the mean of ten steps
    stop = {"event": "train", "step": 41, "train_loss": 0.5, "window_steps": 1, "elapsed_s": 20.5}
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in [*marked, stop]), "utf-8")
    app = studio(pane="train")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = app.query_one("#train-pane")
        run = pane.highlighted()
        details = " ".join(shown_text(pane.query_one("#run-details")).split())
    assert [step for step, _ in run.train] == [10, 20, 30, 40]  # the one-step line is not a point
    assert min(loss for _, loss in run.train) > 3.0
    assert "0.5000, the last step alone" in details, details


# 5. r on a finished run says so and offers a larger budget -------------------------------------------


@sync
async def test_r_on_a_finished_run_offers_twice_its_budget(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from studio_helpers import write_fake_run

    from tangstudio.studio.panes.train import TrainPane

    run_dir = write_fake_run(home, "gru-done", "gru", steps=40, decay=50, budget_steps=40)
    with open(run_dir / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"event": "done", "step": 40, "status": "finished"}) + "\n")
    started: list[dict] = []
    monkeypatch.setattr(TrainPane, "start_run", lambda self, options: started.append(options))
    app = studio(pane="train")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.query_one("#run-list").focus()
        await pilot.press("r")
        said = app.notices[-1][2]
        assert not started  # nothing runs on the first r
        await pilot.press("r")
    assert "finished" in said and "40 steps" in said and "r again" in said and "80 steps" in said, said
    assert started == [{"run": "gru-done", "resume": True, "steps": 80}]


# Ctrl+Q with a poem not saved asks once; a saved (or copied) one quits at once -------------------


@sync
async def test_ctrl_q_with_an_unsaved_poem_asks_once_and_a_saved_one_quits(
    trained_runs: Path, home: Path
) -> None:
    from textual.widgets import Input

    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, _pane):
        await pilot.press("ctrl+q")  # a fresh poem: nothing to lose
        await pilot.pause()
        assert app._exit, "a fresh poem asked before quitting"

    async with composing() as (app, pilot, _pane):
        await pilot.press(*["space"] * 6)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app._exit, "quit with a poem not saved"
        assert any("the poem is not saved" in m for _s, _t, m in app.notices), app.notices
        await pilot.press("space")  # written on, as `p` goes on playing, but not saved:
        await pilot.press("ctrl+q")  # Ctrl+Q again quits without it
        await pilot.pause()
        assert app._exit

    async with composing() as (app, pilot, _pane):
        await pilot.press(*["space"] * 6, "ctrl+q", "w")  # asked, then saved
        await pilot.pause()
        assert list((home / "poems").glob("*.json"))
        await pilot.press("space", "ctrl+q")  # changed since the save: it asks again, however soon
        await pilot.pause()
        assert not app._exit
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app._exit

    async with composing() as (app, pilot, pane):  # a TUI review: asked from the Train pane, `w` did
        await pilot.press(*["space"] * 6, "f3", "ctrl+q")  # nothing there; the poem is shown, and saves
        await pilot.pause()
        assert not app._exit and app.query_one("#panes").active == "compose"
        app.notify("another note", title="Elsewhere")  # not the Quit warning: it stays
        await pilot.press("w")
        await pilot.pause()
        assert len(list((home / "poems").glob("*.json"))) == 2
        # and the warning is gone with the reason for it: a screenshot now would not say "not saved"
        assert not any("not saved" in n.message for n in app._notifications)
        assert any(n.title == "Elsewhere" for n in app._notifications)  # that one only is gone
        await pilot.press("space", "shift+tab")  # a settings field focused: `w` went into it
        await pilot.pause()
        field = app.focused
        assert isinstance(field, Input)
        before = field.value
        await pilot.press("ctrl+q", "w")
        await pilot.pause()
        assert field.value == before and not app._exit
        assert len(list((home / "poems").glob("*.json"))) == 3

    async with composing() as (app, pilot, pane):  # an engineer's review: the poem kept for `u`
        await pilot.press(*["space"] * 6, "n")
        await pilot.pause()
        assert pane.previous is not None and not pane.poem_text()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app._exit, "quit with the earlier poem not saved"
        assert any("the earlier poem (u brings it back) is not saved" in m for _s, _t, m in app.notices)


@sync
async def test_a_sampling_field_typed_without_enter_is_said_not_in_effect(
    trained_runs: Path, home: Path
) -> None:
    """An engineer's review: `temp 99` typed and left with Esc stayed on screen while the poem went
    on at 0.9, with no word. The next key that writes says so, once."""
    from textual.widgets import Input

    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        await pilot.press("space")
        pane.query_one("#cp-temperature", Input).value = "1.5"
        await pilot.press("space", "space")
        await pilot.pause()
        told = [m for _s, _t, m in app.notices if "in effect" in m]
        assert told == [
            f"temp 1.5 ({pane.session.settings.temperature:g} in effect): Enter in a field applies it."
        ]
        assert pane.session.settings.temperature != 1.5
        # a value Enter would refuse is not "applied by Enter": it says why (a TUI review)
        pane.query_one("#cp-temperature", Input).value = "-1"
        await pilot.press("space")
        await pilot.pause()
        said = [m for _s, _t, m in app.notices if "in effect" in m][-1]
        assert said.startswith("temp -1 (") and "not applied: " in said and "between 0" in said, said


@sync
async def test_w_twice_on_the_same_poem_writes_it_once(trained_runs: Path, home: Path) -> None:
    """An engineer's review: `w w w` wrote …-qijue.md, -2 and -3 of one unchanged poem."""
    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, _pane):
        await pilot.press("space", "space", "w")
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        assert len(list((home / "poems").glob("*.md"))) == 1
        assert any(m.startswith("already saved, unchanged: ") for _s, _t, m in app.notices), app.notices
        await pilot.press("space", "w")  # changed: saved anew
        await pilot.pause()
        assert len(list((home / "poems").glob("*.md"))) == 2


@sync
async def test_a_save_that_fails_says_why_in_words(trained_runs: Path, home: Path) -> None:
    """An engineer's review: "could not save: [Errno 17] File exists: '…/poems'"."""
    copy_run(trained_runs, home, "tiny-gru")
    (home / "poems").write_text("not a folder", encoding="utf-8")
    async with composing() as (app, pilot, _pane):
        await pilot.press("space", "w")
        await pilot.pause()
        said = [m for s, _t, m in app.notices if s == "error" and m.startswith("could not save")]
        assert said and "Errno" not in said[0] and "a file stands where a folder should be" in said[0], said


@sync
async def test_the_rhyme_group_field_sets_the_poems_rhyme(trained_runs: Path, home: Path) -> None:
    """A poet's first ask, in the studio too: 韵 七阳, Enter, and the poem rhymes in it."""
    from textual.widgets import Input

    from tangstudio.engine.prosody import check_poem

    copy_run(trained_runs, home, "tiny-gru")
    async with composing() as (app, pilot, pane):
        field = pane.query_one("#cp-rhyme_group", Input)
        field.focus()
        field.value = "七阳"
        await pilot.press("enter")
        await pilot.pause()
        assert pane.session.settings.rhyme_group == "七阳"
        while not pane.session.done:
            pane.session.advance()
        check = check_poem(pane.session.text, pane.session.settings.form)
        assert check.rhyme_ok and check.rhyme_group == "七阳", pane.session.text
        field.focus()
        field.value = "一董"
        await pilot.press("enter")
        await pilot.pause()
        assert any("一董 is a 仄 (oblique) rhyme group" in m for m in errors(app)), app.notices


def test_a_typed_tone_character_is_not_glossed_as_a_tone() -> None:
    """A TUI review: typing 平 where a 仄 belongs said "平 (level) is 平 (level), but …"."""
    from tangstudio.studio.panes.compose.panel import gloss_tones

    said = gloss_tones("平 is 平, but line 1, character 6 takes a 仄 character here (tones loose)")
    assert (
        said == "平 is 平 (level), but line 1, character 6 takes a 仄 (oblique) character here (tones loose)"
    )
    assert gloss_tones("月 is 仄") == "月 is 仄 (oblique)"


@sync
async def test_at_80_columns_the_status_line_wraps_instead_of_losing_its_end(
    trained_runs: Path, home: Path
) -> None:
    """A TUI review: "… complete: w save · c copy · n new ·" ended on a dangling dot at 80 columns
    and the corpus span after it (or a relaxed rule) was lost."""
    from rich.text import Text

    copy_run(trained_runs, home, "tiny-gru")
    async with composing(size=(80, 24)) as (_app, pilot, pane):
        status = pane.query_one("#compose-status")
        long = "default model · 28 chosen · mean p 0.25 · complete: w save · c copy · n new · longest corpus span: 春风又绿江南岸"
        pane.status = Text(long)
        await pilot.pause()
        lines = [line.text.strip() for line in status.render_lines(status.region.reset_offset)]
        assert status.size.height == 2 and "江南岸" in " ".join(lines), lines
        # and it breaks between two parts, never inside one: no dot left at a line's end or start
        assert not any(line.endswith("·") or line.startswith("·") for line in lines), lines
        parts = long.split(" · ")
        assert all(any(part in line for line in lines) for part in parts), lines
