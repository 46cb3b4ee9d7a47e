"""Issue 16's rough edges in the studio (items 3, 6, 9, 11, 14), each driven as a person would.

Pilot tests on the real app, with the tiny corpus and made-up run folders (item 10, the evaluation
cadence, is in test_cadence.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from studio_helpers import settle, shown_text, studio, sync, write_fake_run
from textual.widgets import Input, Select

pytestmark = pytest.mark.usefixtures("no_shipped_models")


def screen_text(app) -> str:
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


async def attach(pilot, path: str) -> None:
    from tangstudio.studio.panes.train import AttachScreen

    await pilot.press("a")
    await pilot.pause()
    assert isinstance(pilot.app.screen, AttachScreen)
    pilot.app.screen.query_one(Input).value = path
    await pilot.press("enter")
    await pilot.pause()


# 3. Attach ---------------------------------------------------------------------------------------


@sync
async def test_attach_refuses_what_is_not_a_run_and_remembers_runs_from_elsewhere(
    home: Path, tmp_path: Path
) -> None:
    elsewhere = write_fake_run(tmp_path / "server", "remote-gru", "gru", 100, 50)
    (tmp_path / "empty").mkdir()
    app = studio(pane="train")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#train-pane")
        for bad, why in (
            ("/nonexistent/run", "no such folder"),
            (str(tmp_path / "empty"), "is not a run folder"),
            (str(elsewhere / "config.toml"), "is a file"),
        ):
            await attach(pilot, bad)
            severity, _title, message = app.notices[-1]
            assert severity == "error" and why in message and "\n" not in message
            assert not pane.followers  # nothing joined the list
        await attach(pilot, str(elsewhere))
        assert str(elsewhere.resolve()) in pane.followers
    remembered = json.loads((home / "attached.json").read_text("utf-8"))
    assert remembered == {"runs": [str(elsewhere.resolve())]}

    app = studio(pane="train")  # a restart still lists it, until x forgets it
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#train-pane")
        assert str(elsewhere.resolve()) in pane.followers
        app.query_one("#run-list").focus()
        await pilot.press("x")
        await pilot.pause()
        assert not pane.followers
    assert json.loads((home / "attached.json").read_text("utf-8")) == {"runs": []}
    assert elsewhere.is_dir()  # forgetting never deletes


# 9. Train pane texts ----------------------------------------------------------------------------


def test_new_runs_take_the_next_free_number(tmp_path: Path) -> None:
    from tangstudio.studio.trainproc import next_run_name

    assert next_run_name(tmp_path, "gru") == "gru-1"
    (tmp_path / "gru-1").mkdir()
    (tmp_path / "lstm-2").mkdir()
    assert next_run_name(tmp_path, "gru") == "gru-2"  # not gru-3: other archs' runs do not count
    (tmp_path / "gru-2").mkdir()
    assert next_run_name(tmp_path, "gru") == "gru-3"


@sync
async def test_a_resume_names_the_runs_arch(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tangstudio.studio.panes.train as train_pane

    class NoChild:
        """Stands in for the child process (what is tested is the pane's text, not the trainer)."""

        def __init__(self, name: str, options: dict, log_dir: Path) -> None:
            self.stopping = False

        def poll(self) -> int | None:
            return None

        def stop(self) -> None:
            self.stopping = True

    monkeypatch.setattr(train_pane, "TrainingProcess", NoChild)
    write_fake_run(home, "gru-1", "gru", 100, 50)
    app = studio(pane="train")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.query_one("#run-list").focus()
        await pilot.press("r")
        await pilot.pause()
        messages = [m for _s, _t, m in app.notices]
        assert any(m.startswith("resumed run gru-1 (gru)") for m in messages), messages
        # a new run from the Model pane gets the next free number
        pane = app.query_one("#train-pane")
        assert pane.start_run({"arch": "gru", "steps": 10}) == "gru-2"


def test_step_axis_ticks_are_whole_numbers() -> None:
    from tangstudio.studio.widgets.loss_chart import step_ticks

    assert step_ticks(20, 42.5) == [20, 25, 30, 35, 40]
    assert step_ticks(0, 9200) == [0, 2000, 4000, 6000, 8000]
    assert step_ticks(3, 3) == [3]
    for lo, hi in ((1, 7), (10, 300), (0.4, 81.6), (123, 130_000)):
        ticks = step_ticks(lo, hi)
        assert ticks and all(isinstance(t, int) and lo <= t <= hi for t in ticks)
        assert len(ticks) <= 6


@sync
async def test_runs_past_the_eighth_keep_colours_of_their_own(home: Path) -> None:
    """The palette holds eight colours; a ninth run used to take the first run's colour."""
    for i in range(11):
        write_fake_run(home, f"run-{i:02d}", "lstm", 50, 30)
    app = studio(pane="train")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        colors = list(app.query_one("#train-pane").run_colors.values())
    assert len(colors) == 11
    assert len(set(colors)) == 11, colors


def _list_labels(app) -> dict[str, str]:
    """The Train list's entries: run folder -> what its line says."""
    runs = app.query_one("#run-list")
    return {
        str(runs.get_option_at_index(i).value): str(runs.get_option_at_index(i).prompt)
        for i in range(runs.option_count)
    }


@sync
async def test_a_bilstm_run_says_its_curve_is_a_pseudo_loss(home: Path) -> None:
    """A student's review: p-bilstm's lower curve sat among the causal ones, unmarked."""
    write_fake_run(home, "p-bilstm", "bilstm", 50, 30)
    write_fake_run(home, "c-lstm", "lstm", 50, 30)
    app = studio(pane="train")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        labels = _list_labels(app)
    assert "bilstm · pseudo-loss" in labels[str(home / "runs" / "p-bilstm")]
    assert "pseudo" not in labels[str(home / "runs" / "c-lstm")]


@sync
async def test_a_damaged_run_says_so_in_the_list(home: Path) -> None:
    """An engineer's review: `arch = 5` in a config.toml listed the run as arch 5, nothing more."""
    write_fake_run(home, "d5", "lstm", 50, 30)
    config = home / "runs" / "d5" / "config.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace('arch = "lstm"', "arch = 5"), encoding="utf-8"
    )
    write_fake_run(home, "ok", "gru", 50, 30)
    app = studio(pane="train")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        labels = _list_labels(app)
    assert labels[str(home / "runs" / "d5")].endswith("damaged"), labels
    assert "damaged" not in labels[str(home / "runs" / "ok")]


def test_run_colours_stay_apart() -> None:
    from itertools import combinations

    from tangstudio.studio.widgets.loss_chart import COLORS, run_color

    colors = [run_color(i) for i in range(24)]
    assert colors[: len(COLORS)] == list(COLORS)
    closest = min(sum((a - b) ** 2 for a, b in zip(x, y)) ** 0.5 for x, y in combinations(colors, 2))
    assert closest > 20, closest


# 6. Focus and Esc --------------------------------------------------------------------------------


@sync
async def test_esc_leaves_a_model_field_and_its_keys_work_again(tiny_corpus: str) -> None:
    app = studio(pane="model", corpus=tiny_corpus)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        field = app.query_one("#hp-hidden", Input)
        field.focus()
        await pilot.pause()
        assert app.focused is field
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.focused, (Input, Select))
        assert app.focused is not None and app.query_one("#model-pane") in app.focused.ancestors
        bindings = app.screen.active_bindings
        assert "t" in bindings and "e" in bindings


@sync
async def test_the_focused_control_stands_out(tiny_corpus: str) -> None:
    app = studio(pane="model", corpus=tiny_corpus)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        forms, script = app.query_one("#hp-forms", Select), app.query_one("#hp-script", Select)
        forms.focus()
        await pilot.pause()
        focused_bg = forms.query_one("SelectCurrent").styles.background
        plain_bg = script.query_one("SelectCurrent").styles.background
        field = app.query_one("#hp-embed", Input)
        field.focus()
        await pilot.pause()
        input_bg = field.styles.background
        other_bg = app.query_one("#hp-hidden", Input).styles.background

    def distance(a, b) -> int:
        return sum(abs(x - y) for x, y in zip(a.rgb, b.rgb))

    assert distance(focused_bg, plain_bg) >= 60, (focused_bg, plain_bg)
    assert distance(input_bg, other_bg) >= 60, (input_bg, other_bg)


@sync
async def test_a_typed_budget_survives_choosing_its_unit(tiny_corpus: str) -> None:
    """Typing 30 and then choosing steps gave "budget 2000 steps": the unit's default over the number."""
    app = studio(pane="model", corpus=tiny_corpus)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        budget, unit = app.query_one("#hp-budget", Input), app.query_one("#hp-budget-unit", Select)
        unit.value = "steps"  # the minutes' default: each unit's own default
        await pilot.pause()
        assert budget.value == "2000"
        budget.value = "30"
        unit.value = "epochs"  # a number the unit takes stays
        await pilot.pause()
        assert budget.value == "30"
        budget.value = "0.5"
        unit.value = "steps"  # a number it refuses (half a step) becomes its default
        await pilot.pause()
        assert budget.value == "2000"


# 11. 80×24 -------------------------------------------------------------------------------------------


@sync
async def test_model_forms_field_is_whole_at_80x24(tiny_corpus: str) -> None:
    app = studio(pane="model", corpus=tiny_corpus)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(app)
    assert "regulated" in text and "regulated (4" not in text


@sync
async def test_corpus_cards_show_their_last_rows(tiny_corpus: str) -> None:
    app = studio(pane="corpus", corpus=tiny_corpus)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for card in ("summary", "lengths", "cleaning"):
            static = app.query_one(f"#card-{card}")
            lines = shown_text(static).rstrip().splitlines()
            assert static.region.height >= len(lines), (card, static.region, lines)
        assert "top 5k cover" in shown_text(app.query_one("#card-summary"))


@sync
async def test_after_f1_the_footer_never_offers_the_compose_keys(home: Path) -> None:
    from textual.widgets import TabbedContent

    app = studio(pane="compose")
    focus_when_switched: list[object] = []

    def hook(message) -> None:  # the footer redraws for the new tab with whatever has the focus then
        if isinstance(message, TabbedContent.TabActivated) and str(message.pane.id) == "corpus":
            focus_when_switched.append(app.focused)

    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await settle(pilot)
        compose = app.query_one("#compose-pane")
        assert app.focused is not None and compose in app.focused.ancestors_with_self
        await pilot.press("f1")
        await settle(pilot)
        assert focus_when_switched
        assert all(f is None or compose not in f.ancestors_with_self for f in focus_when_switched)
        assert app.focused is not None and app.query_one("#corpus-pane") in app.focused.ancestors


@sync
async def test_at_80_columns_the_footer_keeps_the_pane_switches_and_help(home: Path) -> None:
    write_fake_run(home, "gru-demo", "gru", 100, 50)
    app = studio(pane="train")  # the pane with the most keys of its own
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
    assert "v Chart" in footer and "a Attach" in footer
    assert "f1 f2 f3 f4" in footer and "panes" in footer and footer.rstrip().endswith("? Help")


# 14. Quitting while a run is stopped ---------------------------------------------------------------


@sync
async def test_quitting_stops_the_studios_runs_and_says_so(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tangstudio.studio.panes.train as train_pane

    signals: list[str] = []

    class Child:
        def __init__(self, name: str, options: dict, log_dir: Path) -> None:
            self.name, self.stopping = name, False

        def poll(self) -> int | None:
            return None

        def stop(self) -> None:
            signals.append(self.name)
            self.stopping = True

    monkeypatch.setattr(train_pane, "TrainingProcess", Child)
    app = studio(pane="train")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.query_one("#train-pane").start_run({"arch": "gru", "steps": 10})
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert signals == ["gru-1"]
    assert app.exit_notes and app.exit_notes[0].startswith("stopping gru-1: writing a checkpoint")


@sync
async def test_r_on_an_attached_mirror_never_resumes_the_home_run_of_its_name(
    home: Path, tmp_path: Path
) -> None:
    """An engineer's review: `r` twice on an attached, finished mirror of home run r1 trained the home
    r1 on (its config rewritten to a larger budget): the finished check came before the outside one,
    and the studio's processes are keyed by name."""
    done = json.dumps({"event": "done", "status": "finished", "step": 100, "elapsed_s": 50.0}) + "\n"
    mine = write_fake_run(home, "r1", "gru", 100, 50, budget_steps=100, partial_tail=done)
    mirror = write_fake_run(tmp_path / "mirror", "r1", "gru", 100, 50, budget_steps=100, partial_tail=done)
    config_before = (mine / "config.toml").read_bytes()
    app = studio(pane="train")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#train-pane")
        await attach(pilot, str(mirror))
        runs = app.query_one("#run-list")
        runs.focus()
        keys = [str(runs.get_option_at_index(i).value) for i in range(runs.option_count)]
        runs.highlighted = keys.index(str(mirror.resolve()))
        await pilot.pause()
        assert pane.highlighted().path == mirror.resolve()
        assert "attached" in str(runs.get_option_at_index(runs.highlighted).prompt)
        for _ in range(2):
            await pilot.press("r")
            await pilot.pause()
        _severity, _title, message = app.notices[-1]
        assert "outside your runs folder" in message, app.notices
        assert not pane.processes
    assert (mine / "config.toml").read_bytes() == config_before


@sync
async def test_a_run_of_a_symlinked_home_is_the_homes_own(tmp_path: Path, monkeypatch) -> None:
    """A review of this stop's diff: the attached check compared paths unresolved, so with a home
    reached through a symlink its own runs were marked attached and `r` refused them."""
    real = tmp_path / "real-home"
    real.mkdir()
    link = tmp_path / "link-home"
    link.symlink_to(real)
    monkeypatch.setenv("TANGSTUDIO_HOME", str(link))
    write_fake_run(link, "r1", "gru", 100, 50)
    app = studio(pane="train")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#train-pane")
        (follower,) = pane.followers.values()
        assert pane._in_home(follower)
        # A run of the home reached by its real path (as `a` resolves it) is the home's too.
        write_fake_run(real, "r2", "gru", 100, 50)
        await attach(pilot, str(real / "runs" / "r2"))
        await settle(pilot)
        second = next(f for f in pane.followers.values() if f.name == "r2")
        assert pane._in_home(second), (second.path, pane.runs_root)
        runs = app.query_one("#run-list")
        assert not any(
            "attached" in str(runs.get_option_at_index(i).prompt) for i in range(runs.option_count)
        )


@sync
async def test_the_corpus_panes_scroller_shows_its_focus(home: Path) -> None:
    """An engineer's review: one Tab stop of the Corpus pane (its scroller) showed no focus."""
    app = studio(pane="corpus")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        body = app.query_one("#corpus-body")
        app.set_focus(None)
        await pilot.pause()
        unfocused = body.styles.background
        body.focus()
        await pilot.pause()
        assert app.focused is body and body.styles.background != unfocused


@sync
async def test_the_prefix_field_holds_a_line_at_80_columns(home: Path) -> None:
    """A TUI review: after 藏头 on the row of numbers the prefix field was 7 cells at 80 columns,
    not room for one 五言 line with its mark. Beside the plan it holds a 七言 line and more."""
    app = studio(pane="compose")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        prefix = app.query_one("#cp-prefix", Input)
        assert prefix.region.width >= 2 * 8 + 2, prefix.region  # seven characters and a mark, and the cursor
        assert app.query_one("#cp-plan", Input).region.width >= 20


def _damage_copies(trained_runs: Path, home: Path) -> dict[str, Path]:
    """Copies of a trained run, each damaged as a reviewer damaged them, beside one left whole."""
    runs = {}
    for name in ("whole", "cut", "gone", "short", "twice", "mirror"):
        runs[name] = home / "runs" / name
        shutil.copytree(trained_runs / "tiny-gru", runs[name])
    for name in ("cut", "mirror"):
        weights = runs[name] / "checkpoints" / "best" / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:-100])
    # a mirror synced from a server keeps the server's lock after the run's done line (a review)
    (runs["mirror"] / "run.lock").write_text(json.dumps({"pid": 1, "host": "gpu-server"}), encoding="utf-8")
    shutil.rmtree(runs["gone"] / "checkpoints")
    for name, edit in (("short", lambda itos: itos[:10]), ("twice", lambda itos: [*itos[:-1], itos[-2]])):
        for which in ("best", "last"):
            meta_path = runs[name] / "checkpoints" / which / "meta.json"
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            meta["vocab"]["itos"] = edit(meta["vocab"]["itos"])
            meta_path.write_text(json.dumps(meta), encoding="utf-8")
    return runs


@sync
async def test_the_train_pane_and_runs_list_agree_on_damaged_checkpoints(
    trained_runs: Path, home: Path
) -> None:
    """A review: truncated weights, checkpoints/ deleted, a vocabulary cut short or holding an entry
    twice; `runs list` said damaged for the first alone (finished for the rest), the studio for none."""
    from tangstudio.engine.runs.rundir import RunDir, summarize

    runs = _damage_copies(trained_runs, home)
    listed = {name: summarize(RunDir(path)) for name, path in runs.items()}
    assert {name: s.status for name, s in listed.items()} == {
        "whole": "finished", "cut": "damaged", "gone": "damaged", "short": "damaged", "twice": "damaged",
        "mirror": "damaged",
    }, {name: s.problems for name, s in listed.items()}  # fmt: skip
    assert "twice" in listed["twice"].problems[0] and "none left" in listed["gone"].problems[0]
    app = studio(pane="train")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.pause(0.5)
        await settle(pilot)
        labels = _list_labels(app)
        # and the details say why, whole (a TUI review: "problem  checkpoints/best/m…" at 120 columns)
        listed = app.query_one("#run-list")
        listed.highlighted = [
            str(listed.get_option_at_index(i).value) for i in range(listed.option_count)
        ].index(str(runs["cut"]))
        await settle(pilot)
        panel = app.query_one("#run-details")
        drawn = "".join(strip.text.strip() for strip in panel.render_lines(panel.region.reset_offset))
        assert "doesnotmatchitsrecordedsha256" in drawn.replace(" ", ""), drawn
    assert "damaged" not in labels[str(runs["whole"])]
    damaged = ("cut", "gone", "short", "twice", "mirror")
    assert all(labels[str(runs[name])].endswith("damaged") for name in damaged), labels


@sync
async def test_a_dialog_shows_its_own_keys_not_the_panes_under_it(home: Path) -> None:
    """The attach dialog left the Train pane's footer (v Chart, s Stop …) under it, whose keys went
    into the path field, and Esc, the way out, was nowhere in it (a TUI review)."""
    app = studio(pane="train")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        footer = screen_text(app).splitlines()[-1]
        assert "esc Cancel" in footer and "v Chart" not in footer, footer
        await pilot.press("escape")
        await settle(pilot)
        assert "v Chart" in screen_text(app).splitlines()[-1]
