"""Pilot tests of the studio: every pane and flow, driven through keys like a person would."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from studio_helpers import copy_run, errors, settle, shown_text, studio, sync, wait_until, write_fake_run

pytestmark = pytest.mark.usefixtures("no_shipped_models")


# The shell -------------------------------------------------------------------------------------


@sync
async def test_function_keys_switch_panes_and_help_opens_and_closes(tiny_corpus: str) -> None:
    app = studio(pane="corpus", corpus=tiny_corpus)
    async with app.run_test(size=(100, 30)) as pilot:
        from tangstudio.studio.help import HelpScreen

        tabs = app.query_one("#panes")

        def focus_in(pane: str) -> bool:
            return (
                app.focused is not None and app.query_one(f"#{pane}-pane") in app.focused.ancestors_with_self
            )

        await wait_until(pilot, lambda: focus_in("corpus"))  # conditions, not sleeps: load only slows them
        for key, pane in (("f2", "model"), ("f3", "train"), ("f4", "compose"), ("f1", "corpus")):
            await pilot.press(key)
            await wait_until(pilot, lambda pane=pane: tabs.active == pane and focus_in(pane))
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        # Its footer offers the keys that close it, not the pane's below (which do nothing there).
        from textual.widgets import Footer

        keys = [k.key for k in app.screen.query_one(Footer).query("FooterKey")]
        assert "escape" in keys and "space" not in keys, keys
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen))
        # Opened from a pane, the help shows that pane's section (from Compose it opened at the top,
        # four pages above its keys: a TUI review).
        await pilot.press("f4")
        await wait_until(pilot, lambda: tabs.active == "compose")
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        body = app.screen.query_one("#help-body")

        def compose_heading_on_top() -> bool:
            heading = [h for h in app.screen.query("MarkdownH2") if "Compose" in str(h._content)]
            return bool(heading) and 0 <= heading[0].region.y - body.region.y <= 4  # its margin above

        await wait_until(pilot, compose_heading_on_top)
        await pilot.press("escape")


def test_first_frame_is_drawn_before_torch_is_imported(home: Path) -> None:
    import subprocess

    script = (
        "import asyncio, sys\n"
        "from tangstudio.studio.app import create_app\n"
        "assert 'torch' not in sys.modules, 'importing the studio imported torch'\n"
        "async def main():\n"
        "    app = create_app(pane='train', warm_torch=False)\n"
        "    async with app.run_test(size=(100, 30)) as pilot:\n"
        "        await pilot.pause()\n"
        "        print('painted', 'torch' in sys.modules, 'Runs' in str(app.export_screenshot()))\n"
        "asyncio.run(main())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["painted", "False", "True"]


@sync
async def test_every_pane_draws_from_80x24_to_240x70(tiny_corpus: str) -> None:
    app = studio(pane="corpus", corpus=tiny_corpus)
    async with app.run_test(size=(80, 24)) as pilot:
        for size in ((80, 24), (240, 70)):
            await pilot.resize_terminal(*size)
            for key in ("f1", "f2", "f3", "f4"):
                await pilot.press(key)
                await pilot.pause()
                pane = app.query_one(f"#{app.query_one('#panes').active}-pane")
                assert pane.region.width == size[0] and pane.region.height > 0
        await settle(pilot)
        assert not errors(app)


@sync
async def test_narrowed_to_80_columns_the_footer_drops_the_palette_hint_at_once(tiny_corpus: str) -> None:
    """A TUI review: shrunk from 120 to 80 columns, `^p palette` stayed and pushed `? Help` off the
    footer until the focus moved (show_command_palette only repaints)."""
    from textual.widgets import Footer

    app = studio(pane="corpus", corpus=tiny_corpus)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(Footer)
        assert footer.query(".-command-palette")
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert not footer.query(".-command-palette")
        assert "question_mark" in [k.key for k in footer.query("FooterKey")]


@sync
async def test_too_small_window_says_so_and_recovers(home: Path) -> None:
    app = studio(pane="train")
    async with app.run_test(size=(80, 24)) as pilot:
        notice = app.query_one("#too-small")
        assert not notice.display
        await pilot.resize_terminal(79, 24)
        await pilot.pause()
        assert notice.display and not app.query_one("#panes").display
        await pilot.resize_terminal(240, 70)
        await pilot.pause()
        assert not notice.display and app.query_one("#panes").display
        # resized while help is on top (an engineer's review: the notice stayed at 120×36)
        await pilot.resize_terminal(60, 18)
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.resize_terminal(120, 36)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not notice.display and app.query_one("#panes").display


@sync
async def test_command_palette_lists_studio_actions(home: Path) -> None:
    from textual.command import CommandPalette

    app = studio(pane="train")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"show model")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one("#panes").active == "model"


def test_every_pane_key_has_a_command_in_the_palette() -> None:
    """The help says the palette has every action by name, and Ctrl+P `gate` found nothing: each
    action a pane binds to a key (movement and the candidate picks aside) is in COMMANDS."""
    from tangstudio.studio.commands import COMMANDS
    from tangstudio.studio.panes.compose.pane import ComposePane
    from tangstudio.studio.panes.lab.pane import LabPane
    from tangstudio.studio.panes.model import ModelPane
    from tangstudio.studio.panes.train import TrainPane

    listed = {action for _title, _help, action in COMMANDS}
    not_commands = ("move", "pick", "row", "focus_poem", "leave_field", "digit(-1)", "study(-1)")
    missing = [
        f"{pane}: {binding.action}"
        for pane, cls in (
            ("compose", ComposePane),
            ("lab", LabPane),
            ("model", ModelPane),
            ("train", TrainPane),
        )
        for binding in cls.BINDINGS
        if not binding.action.startswith(not_commands)
        and f"app.pane_action('{pane}', '{binding.action}')" not in listed
        # one key, several footer labels (the Lab's g and s): the command runs the action bare
        and f"app.pane_action('{pane}', '{binding.action.split('(')[0]}')" not in listed
    ]
    assert missing == []
    assert {f"app.show_pane('{pane}')" for pane in ("corpus", "model", "train", "compose", "lab")} <= listed


# Corpus ----------------------------------------------------------------------------------------


@sync
async def test_corpus_pane_shows_stats_and_follows_the_form_filter(tiny_corpus: str) -> None:
    from tangstudio.engine.corpus import load_corpus

    poems = load_corpus("tiny", "simplified").select(None)
    app = studio(pane="corpus", corpus=tiny_corpus)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#corpus-pane")
        assert pane.stats["poems"] == len(poems)
        from textual.widgets import Select

        pane.query_one("#corpus-forms", Select).value = "wujue"
        await settle(pilot)
        assert pane.stats["forms_filter"] == "wujue"
        assert pane.stats["poems"] == sum(p.form == "wujue" for p in poems) < len(poems)


@sync
async def test_corpus_pane_reports_an_unknown_corpus_without_crashing(home: Path) -> None:
    app = studio(pane="corpus", corpus="no-such-corpus")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert any("no-such-corpus" in message for message in errors(app))


# Model -----------------------------------------------------------------------------------------


def fill_model_form(pane, corpus: str, **fields: str) -> None:
    """The Model pane's corpus and the given fields (init_from is the "start from" field)."""
    from textual.widgets import Input, Select

    pane.query_one("#hp-corpus", Select).value = corpus
    for name, value in fields.items():
        pane.query_one(f"#hp-{name.replace('_', '-')}", Input).value = value


@pytest.fixture
def started(monkeypatch) -> list[dict]:
    """The options each run the studio would start (TrainPane.start_run), none started for real."""
    from tangstudio.studio.panes.train import TrainPane

    runs: list[dict] = []
    monkeypatch.setattr(TrainPane, "start_run", lambda self, options: runs.append(options))
    return runs


def test_model_form_defaults_are_the_trainers() -> None:
    from tangstudio.engine.training import TrainConfig
    from tangstudio.studio.panes.model import DEFAULTS

    config = TrainConfig()
    assert {name: getattr(config, name) for name in DEFAULTS} == DEFAULTS


@sync
async def test_model_pane_start_from_counts_the_source_and_refuses_an_unknown_one(
    tiny_corpus: str, seeded_model_run: Path, trained_runs: Path, started: list[dict]
) -> None:
    """ "start from default" made the count fail ('script') and trained at 2×512 while the form
    said otherwise; an unknown source was left to a training process to fail."""
    from textual.widgets import Input

    from tangstudio.engine.models import ModelConfig, count_parameters

    app = studio(pane="model")
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one("#model-pane")
        fill_model_form(pane, tiny_corpus, hidden="12", layers="2", init_from=str(seeded_model_run))
        await pilot.pause(0.5)
        await wait_until(pilot, lambda: pane.source_note != "" and pane.params is not None)
        footer = shown_text(pane.query_one("#model-cost"))
        assert "cannot build" not in footer and "gru 1×32, embedding 16" in footer, footer
        assert "replace the form's" in footer, footer
        meta = json.loads((seeded_model_run / "checkpoints" / "best" / "meta.json").read_text())
        from tangstudio.engine.models import build_model

        source = ModelConfig(**{**meta["model"], "dropout": 0.0})
        assert pane.params == count_parameters(build_model(source))  # the source's size, not 2×12

        bilstm = str(trained_runs / "tiny-bilstm")
        for source, said in (("nosuchmodel", "nosuchmodel"), (bilstm, "is a bilstm model")):
            pane.query_one("#hp-init-from", Input).value = source
            await pilot.pause(0.5)
            await settle(pilot)
            pane.query_one("#arch-list").focus()
            await pilot.press("t")
            await settle(pilot)
            assert started == [] and any("start from" in m and said in m for m in errors(app)), errors(app)


@sync
async def test_model_pane_counts_parameters_validates_and_starts_training(
    tiny_corpus: str, started: list[dict]
) -> None:
    from textual.widgets import Input, OptionList

    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.models import ModelConfig, build_model, count_parameters

    app = studio(pane="model")
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one("#model-pane")
        fill_model_form(pane, tiny_corpus, embed="8", hidden="12")
        pane.query_one("#arch-list", OptionList).highlighted = 2  # gru
        await pilot.pause(0.5)
        await settle(pilot)
        vocab = Vocab.build(
            (p.text for p in load_corpus(tiny_corpus, "simplified").select("regulated", "train")),
            "simplified",
        )
        expected = count_parameters(
            build_model(ModelConfig(arch="gru", vocab_size=len(vocab), embed=8, hidden=12))
        )
        assert pane.params == expected
        assert "GRU" in str(pane.query_one("#arch-equations").border_title)
        # the footer adds the count up, whole: embedding + cells + output (a student's review)
        from tangstudio.engine.models.shapes import parameter_parts

        parts = parameter_parts(ModelConfig(arch="gru", vocab_size=len(vocab), embed=8, hidden=12))
        assert parts is not None and sum(parts.values()) == expected
        footer = shown_text(pane.query_one("#model-cost"))
        said = f"= embedding {parts['embedding']:,} + cells {parts['cells']:,} + output {parts['output']:,}"
        # 2 layers × 12 units × r and z: the candidate's b_x and b_h are in the equations shown
        second = "(cells: 48 of them PyTorch's second biases in b_hh, not in the equations)"
        assert said in footer and second in footer, footer

        # A BiLSTM reads no plan: its vocabulary has no <title> and <kw> (it was counted with them)
        pane.query_one("#arch-list", OptionList).highlighted = 3
        await pilot.pause(0.5)
        await settle(pilot)
        plain = Vocab.build(
            (p.text for p in load_corpus(tiny_corpus, "simplified").select("regulated", "train")),
            "simplified",
            markers=False,
        )
        bilstm = build_model(ModelConfig(arch="bilstm", vocab_size=len(plain), embed=8, hidden=12))
        assert pane.params == count_parameters(bilstm)
        pane.query_one("#arch-list", OptionList).highlighted = 2
        await pilot.pause(0.5)
        await settle(pilot)

        pane.query_one("#hp-hidden", Input).value = "0"
        await pilot.pause()
        await pilot.press("t")
        assert started == [] and any("hidden" in m for m in errors(app))

        pane.query_one("#hp-hidden", Input).value = "12"
        await pilot.pause()
        pane.query_one("#arch-list", OptionList).focus()
        await pilot.press("t")
        await pilot.pause()
        assert (
            started
            and started[0]["arch"] == "gru"
            and started[0]["hidden"] == 12
            and started[0]["minutes"] == 10
        )
        assert app.query_one("#panes").active == "train"


@sync
async def test_model_pane_fine_tunes_a_poet_from_a_model(
    tiny_corpus: str, seeded_model_run: Path, started: list[dict]
) -> None:
    """poet + start from → train --author … --init-from …, without the shape the source fixes."""
    from textual.widgets import Input

    app = studio(pane="model")
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one("#model-pane")
        pane.query_one("#hp-author", Input).value = "白居易"
        pane.query_one("#hp-init-from", Input).value = str(seeded_model_run)
        await pilot.pause()
        pane.query_one("#arch-list").focus()
        await pilot.press("t")
        await pilot.pause()
        assert (
            started and started[0]["author"] == "白居易" and started[0]["init_from"] == str(seeded_model_run)
        )
        assert not {"arch", "embed", "hidden", "layers", "tied", "script"} & set(started[0])


@sync
async def test_model_pane_ties_the_output_layer_as_the_default_model_is(
    tiny_corpus: str, started: list[dict]
) -> None:
    """The shipped default is tied (`train --tied`); the form could not say so, and a student building
    "the default's shape" there counted and trained an untied model 60 % larger (a docs review)."""
    from textual.widgets import Select

    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.models import ModelConfig, build_model, count_parameters
    from tangstudio.studio.trainproc import option_args

    app = studio(pane="model")
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one("#model-pane")
        fill_model_form(pane, tiny_corpus, embed="8", hidden="12")
        vocab = Vocab.build(
            (p.text for p in load_corpus(tiny_corpus, "simplified").select("regulated", "train")),
            "simplified",
        )

        def counted(tied: bool) -> int:
            config = ModelConfig(arch="lstm", vocab_size=len(vocab), embed=8, hidden=12, tied=tied)
            return count_parameters(build_model(config))

        await wait_until(pilot, lambda: pane.params == counted(False))
        pane.query_one("#hp-tied", Select).value = "tied"
        await wait_until(pilot, lambda: pane.params == counted(True))
        assert counted(True) < counted(False)
        pane.query_one("#arch-list").focus()
        await pilot.press("t")
        await pilot.pause()
        assert started and started[0].get("tied") is True and "--tied" in option_args(started[0])


# Train -----------------------------------------------------------------------------------------


@sync
async def test_train_pane_overlays_runs_and_follows_a_growing_file(home: Path) -> None:
    lstm = write_fake_run(home, "lstm-a", "lstm", 100, 50, partial_tail='{"event": "train", "st')
    write_fake_run(home, "gru-b", "gru", 100, 40)
    app = studio(pane="train")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        pane = app.query_one("#train-pane")
        shown = {f.name for f in pane.shown()}
        assert shown == {"lstm-a", "gru-b"}
        follower = next(f for f in pane.shown() if f.name == "lstm-a")
        before = len(follower.train)
        with open(lstm / "metrics.jsonl", "a", encoding="utf-8") as handle:  # finish the half line, add more
            handle.write('ep": 110, "train_loss": 3.1}\n')
            handle.write(json.dumps({"event": "train", "step": 120, "train_loss": 3.0}) + "\n")
        await pilot.pause(0.6)  # a few 5 Hz ticks
        assert len(follower.train) == before + 2 and follower.step == 120
        chart = app.query_one("#chart")
        assert {run.name for run, _ in chart.runs} == {"lstm-a", "gru-b"}
        await pilot.press("v")
        assert chart.metric == "ppl"
        app.query_one("#run-list").focus()
        await pilot.press("space")  # hide the highlighted run
        await pilot.pause()
        assert len(pane.shown()) == 1


@sync
async def test_train_pane_finds_a_run_that_appears_later(home: Path) -> None:
    app = studio(pane="train")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        pane = app.query_one("#train-pane")
        assert pane.shown() == []
        write_fake_run(home, "late", "rnn", 50, 30)
        await pilot.pause(2.5)  # the folder scan runs every 2 s
        assert [f.name for f in pane.shown()] == ["late"]


@sync
async def test_train_pane_details_ask_for_a_run_when_runs_are_listed(home: Path) -> None:
    """The details say "No runs yet" only with an empty list; with runs listed and none highlighted,
    they ask for one."""
    app = studio(pane="train")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        pane = app.query_one("#train-pane")
        details = app.query_one("#run-details")
        assert "No runs yet" in shown_text(details)
        write_fake_run(home, "late", "rnn", 50, 30)
        assert await _wait_for(pilot, lambda: "late" in {f.name for f in pane.followers.values()}, 30)
        from textual.widgets import SelectionList

        pane.query_one("#run-list", SelectionList).highlighted = None
        pane.refresh_view()
        assert pane.highlighted() is None
        assert "No runs yet" not in shown_text(details) and "Select a run" in shown_text(details)
        assert not {"s", "r"} & _offered(app)  # no run highlighted: neither key
        pane.query_one("#run-list", SelectionList).highlighted = 0
        pane.refresh_view()
        await pilot.pause()
        # a run that is not training: Resume, not Stop (the footer offered both always; a TUI review)
        assert "r" in _offered(app) and "s" not in _offered(app)


def _offered(app) -> set[str]:
    """The keys the footer shows now."""
    return {
        key for key, active in app.screen.active_bindings.items() if active.enabled and active.binding.show
    }


@sync
async def test_train_pane_drops_a_run_whose_folder_vanished(home: Path) -> None:
    """A `train` refused after making its folder left a ghost entry listed for good."""
    import shutil

    write_fake_run(home, "kept", "gru", 100, 40)
    gone = write_fake_run(home, "gone", "lstm", 100, 50)
    app = studio(pane="train")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        pane = app.query_one("#train-pane")
        assert {f.name for f in pane.followers.values()} == {"kept", "gone"}
        shutil.rmtree(gone)
        assert await _wait_for(pilot, lambda: len(pane.followers) == 1, 30)
        assert [f.name for f in pane.followers.values()] == ["kept"]
        assert app.query_one("#run-list").option_count == 1
        assert [f.name for f in pane.shown()] == ["kept"] and not errors(app)


def test_a_short_last_train_line_says_what_its_loss_is(tmp_path: Path) -> None:
    """A stop mid-window logs a train line over fewer steps: "5.9681 (3 steps)" said too little."""
    from tangstudio.studio.follow import RunFollower
    from tangstudio.studio.panes.train import _train_loss

    run = tmp_path / "r"
    run.mkdir()
    lines = [(20, 6.5, 20, 60_000.0), (40, 6.2, 20, 61_327.0), (43, 5.9681, 3, 2_976.0)]
    (run / "metrics.jsonl").write_text(
        "".join(
            json.dumps({"event": "train", "step": s, "train_loss": x, "window_steps": w, "chars_per_s": c})
            + "\n"
            for s, x, w, c in lines
        ),
        encoding="utf-8",
    )
    follower = RunFollower(run)
    follower.poll()
    assert str(_train_loss(follower)) == "5.9681, mean of the last 3 steps"
    # Its speed holds the final evaluation's time: the last full window's is the run's (a TUI review).
    assert follower.speed == [(20, 60_000.0), (40, 61_327.0)]


@pytest.mark.parametrize("finished", [False, True])
def test_the_train_curve_goes_on_after_a_resume_and_to_a_finished_runs_last_step(
    tmp_path: Path, finished: bool
) -> None:
    """A stop at step 13 logged a 12-step line; every 10-step line after the resume was then "short"
    and the curve ended at the stop for good. A headless 30-step run drew one point, at step 20."""
    from tangstudio.studio.follow import RunFollower

    run = tmp_path / "r"
    run.mkdir()
    events = [
        {"event": "train", "step": 1, "train_loss": 9.0, "window_steps": 1},
        {"event": "train", "step": 13, "train_loss": 8.0, "window_steps": 12},
        {"event": "done", "status": "interrupted", "step": 13},
        {"event": "train", "step": 14, "train_loss": 7.9, "window_steps": 1},
        {"event": "train", "step": 20, "train_loss": 7.5, "window_steps": 6},
        {"event": "train", "step": 30, "train_loss": 7.0, "window_steps": 10},
    ]
    if finished:
        events.append({"event": "done", "status": "finished", "step": 30})
    (run / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    follower = RunFollower(run)
    follower.poll()
    # The one-step line after the resume is one step's loss: left off, as a stop's last step is.
    assert [step for step, _ in follower.train] == [1, 13, 20, *([30] if finished else [])]
    from tangstudio.studio.panes.train import _train_loss

    assert str(_train_loss(follower)) == "7.0000, mean of the last 10 steps"  # finished or not
    follower.poll()
    assert len(follower.train) == (4 if finished else 3)  # read again: no point twice


@sync
async def test_opening_an_unknown_run_is_a_notification(home: Path) -> None:
    app = studio(run="nope")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert any("nope" in m for _s, _t, m in app.notices)


@sync
async def test_opening_a_folder_that_is_no_run_is_refused_as_attach_refuses_it(
    home: Path, tmp_path: Path
) -> None:
    """An engineer's review: `tangstudio --run /some/folder` listed any folder as a run, "waiting"."""
    folder = tmp_path / "not-a-run"
    folder.mkdir()
    app = studio(run=str(folder))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert any(f"{folder} is not a run folder" in m for m in errors(app)), app.notices
        assert app.query_one("#run-list").option_count == 0
    app = studio(run=str(tmp_path / "nowhere" / "run"))  # a path outside the home is not waited for
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert any("no such folder" in m for m in errors(app)), app.notices


@sync
async def test_a_run_asked_for_before_it_exists_is_selected_when_it_appears(home: Path) -> None:
    """An engineer's review: `tangstudio --run live4` started beside the trainer (its folder comes
    seconds later) left another run highlighted, and `r` resumed that one. Nothing is highlighted
    until the run asked for appears, and then it is."""
    write_fake_run(home, "c1", "lstm", 50, 30)
    app = studio(run="live4")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#train-pane")
        runs = pane.query_one("#run-list")
        assert any("no run 'live4'" in m and "selected when it appears" in m for _s, _t, m in app.notices)
        assert runs.highlighted is None
        write_fake_run(home, "live4", "gru", 20, 30)
        pane.scan()
        await pilot.pause()
        assert runs.get_option_at_index(runs.highlighted).value == str(home / "runs" / "live4")


def _wait_for(pilot, predicate, timeout: float):
    import time

    async def wait() -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return True
            await pilot.pause(0.2)
        return predicate()

    return wait()


TINY_TRAIN = {
    "arch": "gru",
    "corpus": "tiny",
    "embed": 8,
    "hidden": 16,
    "layers": 1,
    "batch_size": 8,
    "steps": 400,
    "log_every": 1,
    "eval_every": 1000,
    "samples": 0,
    "warmup": 1,
}


@pytest.mark.slow
@sync
async def test_train_pane_starts_stops_and_resumes_a_real_run(tiny_corpus: str, home: Path) -> None:
    # As `tangstudio train` (without --headless) opens it: the train pane starts the run itself.
    app = studio(pane="train", train_config={**TINY_TRAIN, "run": "live", "resume": False, "tied": False})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        pane = app.query_one("#train-pane")
        assert "live" in pane.processes
        follower = pane.followers[str(home / "runs" / "live")]
        assert await _wait_for(pilot, lambda: len(follower.train) >= 2, 90), errors(app)
        assert pane.processes["live"].poll() is None  # still training while the UI answers
        app.query_one("#run-list").focus()
        await pilot.pause()
        assert "s" in _offered(app) and "r" not in _offered(app)  # training: Stop, not Resume
        pane.poller.pause()  # no poll between the keys: a run that stopped at once hid its Stop (a fresh clone)
        await pilot.press("s", "s")  # the second says so and sends nothing (it toasted "stopping" twice)
        pane.poller.resume()
        said = [m for _s, _t, m in app.notices if "live" in m]
        assert said[-2:] == [
            "stopping live: it writes a checkpoint first.",
            "live is already stopping: it writes a checkpoint first.",
        ], said
        assert await _wait_for(pilot, lambda: "live" not in pane.processes, 60)
        assert (home / "runs" / "live" / "checkpoints" / "last" / "meta.json").is_file()
        assert not errors(app)
        before = len(follower.train)
        await pilot.press("r")
        assert "live" in pane.processes
        # stopped once it trains again (a SIGINT in the first instant of a process that inherited it
        # ignored, as under a pytest-xdist worker, is lost before Python can install any handler)
        assert await _wait_for(pilot, lambda: len(follower.train) > before, 120), errors(app)
        pane.processes["live"].stop()
        assert await _wait_for(pilot, lambda: "live" not in pane.processes, 60)
        assert not errors(app)


@pytest.mark.slow
@sync
async def test_attach_follows_a_run_written_by_a_separate_headless_process(
    tiny_corpus: str, home: Path, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess

    from tangstudio.studio.trainproc import option_args

    elsewhere = tmp_path / "server-home"
    (elsewhere / "corpora").mkdir(parents=True)
    import shutil

    shutil.copytree(home / "corpora" / "tiny", elsewhere / "corpora" / "tiny")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tangstudio",
            "--home",
            str(elsewhere),
            "train",
            "--headless",
            "--quiet",
            *option_args({**TINY_TRAIN, "run": "remote"}),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ},
    )
    try:
        import time

        end = time.monotonic() + 90  # attach refuses a folder that is not a run yet
        while not (elsewhere / "runs" / "remote" / "config.toml").is_file() and time.monotonic() < end:
            time.sleep(0.2)
        app = studio(pane="train")
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            from textual.widgets import Input

            from tangstudio.studio.panes.train import AttachScreen

            await pilot.press("a")
            await pilot.pause()
            assert isinstance(app.screen, AttachScreen)
            app.screen.query_one(Input).value = str(elsewhere / "runs" / "remote")
            await pilot.press("enter")
            await pilot.pause()
            pane = app.query_one("#train-pane")
            follower = pane.followers[str((elsewhere / "runs" / "remote").resolve())]
            assert await _wait_for(pilot, lambda: len(follower.train) >= 3, 90), process.stderr
            assert follower.arch == "gru" and follower.status() == "running"
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(60)


# Compose ---------------------------------------------------------------------------------------


@sync
async def test_compose_a_wujue_step_by_step_choose_undo_save_copy(trained_runs: Path, home: Path) -> None:
    from textual.widgets import Select

    from tangstudio.engine.corpus.forms import classify

    copy_run(trained_runs, home, "tiny-gru")
    app = studio(pane="compose")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pane = app.query_one("#compose-pane")
        assert pane.composer is not None, errors(app)
        pane.seed = 7
        pane.query_one("#cp-form", Select).value = "wujue"
        # The new form's poem starts when Select.Changed is handled: on a loaded machine, after more
        # than one pause (Space before it wrote on the old poem, which the new one then replaced).
        await wait_until(pilot, lambda: pane.composer.settings.form == "wujue")
        assert pane.composer.settings.form == "wujue"
        pane.focus_first()

        await pilot.press("space")
        first = pane.poem_text()
        assert len(first) == 1
        candidates = pane.composer.history[-1].candidates
        assert len(candidates) == 10 and first == pane.composer.history[-1].chosen
        await pilot.press("3")  # take the third candidate instead
        assert pane.poem_text() == candidates[2][0]
        for _ in range(4):
            await pilot.press("space")
        assert pane.poem_text().endswith("，")  # the forced comma follows the fifth character
        assert len(pane.poem_text()) == 6
        await pilot.press("backspace")  # undoes the fifth character and its comma
        assert len(pane.poem_text()) == 4
        while not pane.composer.done:
            await pilot.press("space")
        text = pane.poem_text()
        assert classify(text) == "wujue"
        steps = pane.steps()
        assert len(steps) == len(text) and all(0 < s.chosen_prob <= 1 for s in steps)

        await pilot.press("w")
        saved = list((home / "poems").glob("*.json"))
        assert len(saved) == 1
        document = json.loads(saved[0].read_text("utf-8"))
        assert document["text"] == text and document["settings"]["form"] == "wujue"
        assert [s["chosen"] for s in document["steps"]] == list(text)  # the CLI's step format
        await pilot.press("c")
        assert app.clipboard == text


@sync
async def test_compose_play_finishes_a_qijue(trained_runs: Path, home: Path) -> None:
    from dataclasses import replace

    from tangstudio.engine.compose.generator import Composer
    from tangstudio.engine.corpus.forms import classify

    copy_run(trained_runs, home, "tiny-gru")
    app = studio(pane="compose")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pane = app.query_one("#compose-pane")
        await pilot.press("p")
        assert await _wait_for(pilot, lambda: pane.composer.done, 30)
        assert classify(pane.poem_text()) == "qijue"
        assert "complete" in shown_text(pane.query_one("#compose-status"))
        # each line the best of its drafts, as `generate` writes the poem at the same seed
        engine = pane.composer
        assert engine.settings.line_drafts > 1
        again = Composer(pane.loaded, replace(engine.settings, seed=engine.seed), novelty=engine.novelty)
        assert again.finish().text == pane.poem_text()


@sync
async def test_compose_fill_mode_for_a_bilstm(trained_runs: Path, home: Path) -> None:
    copy_run(trained_runs, home, "tiny-bilstm")
    app = studio(pane="compose")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pane = app.query_one("#compose-pane")
        assert pane.filling, errors(app)
        assert "□" in pane.poem_text()
        await pilot.press("right", "right")
        position = pane.selected
        candidates = pane.composer.candidates(position)
        await pilot.press("2")
        assert pane.poem_text()[position] == candidates[1][0]
        await pilot.press("space")
        assert "□" not in pane.poem_text()
        assert pane.poem_text()[position] == candidates[1][0]  # what the person set stays


@sync
async def test_compose_without_a_model_says_what_to_do(home: Path) -> None:
    app = studio(pane="compose")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("space")
        assert any("Train one" in message for severity, _t, message in app.notices)


@sync
async def test_compose_reports_a_corrupt_checkpoint(trained_runs: Path, home: Path) -> None:
    run = copy_run(trained_runs, home, "tiny-gru")
    for weights in run.glob("checkpoints/*/model.safetensors"):
        weights.write_bytes(weights.read_bytes()[:100])
    app = studio(pane="compose")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert errors(app) and app.query_one("#compose-pane").composer is None


@sync
async def test_compose_rejects_bad_settings_with_a_message(trained_runs: Path, home: Path) -> None:
    from textual.widgets import Input

    copy_run(trained_runs, home, "tiny-gru")
    app = studio(pane="compose")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pane = app.query_one("#compose-pane")
        field = pane.query_one("#cp-acrostic", Input)
        field.focus()
        await pilot.press(*"一二三四五六七八九", "enter")
        await pilot.pause()
        # Refused in one line; the poem in progress stays as it was (issue 25 item 1).
        assert errors(app) and pane.composer is not None and pane.composer.settings.acrostic == ""


@sync
async def test_sampling_settings_change_mid_poem_and_run_option_picks_the_model(
    trained_runs: Path, home: Path
) -> None:
    from textual.widgets import Input

    copy_run(trained_runs, home, "tiny-gru")
    copy_run(trained_runs, home, "tiny-bilstm")
    app = studio(pane="compose", run="tiny-gru")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pane = app.query_one("#compose-pane")
        assert pane.model_target.endswith("tiny-gru") and not pane.filling
        await pilot.press("space", "space")
        written = pane.poem_text()
        field = pane.query_one("#cp-temperature", Input)
        field.value = "0"
        field.focus()
        await pilot.press("enter")
        assert pane.poem_text() == written and pane.composer.settings.temperature == 0
        assert app.focused is pane.query_one("#poem-scroll")
        await pilot.press("space")
        last = pane.composer.history[-1]
        assert last.chosen == last.candidates[0][0]  # greedy from now on


@sync
async def test_damaged_runs_show_what_is_wrong_and_the_rest_still_draws(home: Path) -> None:
    broken = home / "runs" / "broken"
    broken.mkdir(parents=True)
    (broken / "config.toml").write_text("arch = \n", encoding="utf-8")
    (broken / "metrics.jsonl").write_bytes(
        b'\xff\xfe garbage\n{"event": "train", "step": 1, "train_loss": NaN}\n'
        b'{"event": "train", "step": 2, "train_loss": 4.0}\n'
    )
    write_fake_run(home, "fine", "gru", 30, 20)
    app = studio(run="broken")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pane = app.query_one("#train-pane")
        follower = pane.followers[str(broken)]
        assert follower.train == [(2.0, 4.0)] and follower.config_error
        assert "config.toml unreadable" in shown_text(pane.query_one("#run-details"))
        assert {f.name for f in pane.shown()} >= {"broken", "fine"}
        assert not errors(app)


@sync
async def test_a_panes_notes_go_when_another_pane_is_shown(home: Path) -> None:
    """The note "the previous poem is kept: u brings it back" stayed over the Train pane, where no `u` is (a
    TUI review). A pane's notes go with it; a note that is no pane's (a run finished) stays."""
    app = studio(pane="compose")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.notify("u brings it back", title="Compose")
        app.notify("top-p must be …", title="Compose settings")
        app.notify("run r finished.", title="Training")
        await pilot.press("f3")  # the Train pane
        await settle(pilot)
        shown = {(note.title, note.message) for note in app._notifications}
        assert ("Compose", "u brings it back") not in shown and (
            "Compose settings",
            "top-p must be …",
        ) not in shown
        assert ("Training", "run r finished.") in shown


@sync
async def test_a_slow_count_finishing_late_does_not_replace_the_count_of_the_model_shown(
    tiny_corpus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LSTM → GRU → BiLSTM → RNN quickly: the BiLSTM's count (built with torch, slow) finished after
    the RNN's and its 13 M stood under the RNN's equations (a review). A count is shown only if the
    form has not changed since it was asked."""
    import threading

    from textual.widgets import OptionList

    from tangstudio.engine.models import ModelConfig
    from tangstudio.engine.models.shapes import parameter_count
    from tangstudio.studio.panes.model import ModelPane

    release = threading.Event()
    build = ModelPane._build

    def slow_build(self, options: dict):  # the BiLSTM's count, held until the RNN's is shown
        release.wait(20)
        return build(self, options)

    monkeypatch.setattr(ModelPane, "_build", slow_build)
    app = studio(pane="model")
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one("#model-pane")
        fill_model_form(pane, tiny_corpus, embed="8", hidden="12")
        archs = pane.query_one("#arch-list", OptionList)
        archs.highlighted = 3  # bilstm: its count waits in slow_build
        await pilot.pause(0.6)
        archs.highlighted = 0  # rnn: counted from its shapes at once
        await wait_until(pilot, lambda: pane.params is not None)
        rnn = parameter_count(ModelConfig(arch="rnn", vocab_size=pane.vocab_size, embed=8, hidden=12))
        assert pane.params == rnn
        release.set()  # the BiLSTM's count now finishes, late
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert pane.params == rnn and "RNN" in str(pane.query_one("#arch-equations").border_title)


@sync
async def test_corpus_stats_finishing_late_do_not_replace_those_of_the_filters_shown(
    tiny_corpus: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stats asked for one filter and finished after those of the filter chosen next were shown over
    them (a thread worker is not stopped when a newer one replaces it)."""
    import threading

    from textual.widgets import Select

    from tangstudio.engine.corpus import stats as stats_module

    release = threading.Event()
    compute = stats_module.corpus_stats

    def slow_for_wujue(poems, forms):  # the 五绝 stats held until the 七绝 ones are shown
        if forms == "wujue":
            release.wait(20)
        return compute(poems, forms)

    monkeypatch.setattr(stats_module, "corpus_stats", slow_for_wujue)
    app = studio(pane="corpus", corpus=tiny_corpus)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.query_one("#corpus-pane")
        forms = pane.query_one("#corpus-forms", Select)
        forms.value = "wujue"
        await pilot.pause(0.3)
        forms.value = "qijue"
        await wait_until(pilot, lambda: pane.stats["forms_filter"] == "qijue")
        release.set()
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert pane.stats["forms_filter"] == "qijue"
