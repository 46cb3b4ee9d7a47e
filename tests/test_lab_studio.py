"""The Lab pane (F5): Pilot tests on a real tiny digits run, and snapshots at 80×24 and 160×48."""

from __future__ import annotations

from pathlib import Path

import pytest
from studio_helpers import errors, no_blink, settle, shown_text, sync, wait_until

from tangstudio.studio.app import create_app

pytestmark = pytest.mark.usefixtures("no_shipped_models")

SIZES = [(80, 24), (160, 48)]


@pytest.fixture(scope="session")
def lab_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny GRU digits run (4 steps, hidden 8, seed 0), trained once per session."""
    import os

    from tangstudio.engine.lab.config import LabConfig
    from tangstudio.engine.lab.train import train_lab

    root = tmp_path_factory.mktemp("lab-home")
    previous = os.environ.get("TANGSTUDIO_HOME")
    os.environ["TANGSTUDIO_HOME"] = str(root)
    try:
        train_lab(LabConfig(run="lab-gru-demo", arch="gru", hidden=8, steps=4, eval_every=2, log_every=1))
    finally:
        if previous is None:
            del os.environ["TANGSTUDIO_HOME"]
        else:
            os.environ["TANGSTUDIO_HOME"] = previous
    return root / "runs" / "lab-gru-demo"


@pytest.fixture
def lab_run(lab_run_dir: Path, home: Path) -> str:
    import shutil

    shutil.copytree(lab_run_dir, home / "runs" / lab_run_dir.name)
    return lab_run_dir.name


async def _to_memory_view(pilot) -> None:
    """The Lab pane's memory view (curves, digit, confusion, then memory), the cursor still."""
    no_blink(pilot.app)
    await settle(pilot)
    await pilot.press("v", "v", "v")
    await settle(pilot)


async def _to_digit_view(pilot) -> None:
    pane = pilot.app.query_one("#lab-pane")
    await pilot.press("v")
    await wait_until(pilot, lambda: pane.reading is not None)
    await settle(pilot)


@sync
async def test_f5_opens_the_lab_and_steps_through_a_digit(lab_run: str) -> None:
    app = create_app(pane="corpus", warm_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        no_blink(app)
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert app.query_one("#panes").active == "lab"
        pane = app.query_one("#lab-pane")
        assert [r.name for r in pane.runs.values()] == [lab_run]
        assert pane.view == "curves" and pane.shown()[0].val  # the run's evaluations are on the chart
        await _to_digit_view(pilot)
        assert pane.view == "digit" and pane.rows_read == 0
        before = shown_text(app.query_one("#lab-bars"))  # no made-up 10 % bars before a row is read
        assert "%" not in before and "from the first row on" in before, before
        for _ in range(5):
            await pilot.press("right")
        await settle(pilot)
        assert pane.rows_read == 5
        assert "row 5/28: says" in shown_text(app.query_one("#lab-digit-info"))
        bars = shown_text(app.query_one("#lab-bars"))
        assert bars.count("%") == 10  # ten probability bars
        expected = pane.reading["probs"][0][4]
        assert f"{expected[0] * 100:5.1f}%" in bars.splitlines()[0]  # class 0's bar: P after row 5
        # Narrowed to 80 columns and back, the bars follow at once: each wrapped in two until a key
        # was pressed (a TUI review). Ten bars, one line each.
        for size in ((80, 24), (120, 40)):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            lines = app.query_one("#lab-bars").render_lines(app.query_one("#lab-bars").region.reset_offset)
            drawn = [line.text for line in lines if line.text.strip()]
            assert len(drawn) == 10 and all("%" in line for line in drawn), (size, drawn)
        await pilot.press("left")
        assert pane.rows_read == 4
        await pilot.press("right_square_bracket")
        assert pane.position == 1 and pane.rows_read == 0
        await pilot.press("v")  # confusion matrix and the mistakes
        await settle(pilot)
        assert pane.view == "confusion"
        info = shown_text(app.query_one("#lab-wrong-info"))
        wrong = len(pane.reading["wrong"])
        assert (
            f"mistake 0 (of {wrong}; --wrong --index 0) · test digit {pane.reading['wrong'][0]}" in info
            and "read as" in info
        )
        assert sum(map(sum, pane.reading["confusion"])) == 1000
        assert not app.query_one("#lab-confusion").has_class("stacked")  # the digit beside the matrix
        await pilot.press("right_square_bracket")
        assert "mistake 1 (of" in shown_text(app.query_one("#lab-wrong-info"))
        # At 80 columns the mistake was squeezed into 10 columns beside the matrix: it goes under it.
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert app.query_one("#lab-confusion").has_class("stacked")
        info = app.query_one("#lab-wrong-info")
        assert "mistake 1 (of" in shown_text(info) and "a wider window shows the digit" in shown_text(info)
        assert info.size.width >= 50
        await pilot.press("v")
        await settle(pilot)
        assert pane.view == "memory"
        assert "tangstudio lab memory run" in shown_text(app.query_one("#lab-memory-table"))
        assert errors(app) == []


@sync
async def test_lab_pane_with_no_runs_says_what_to_do(home: Path) -> None:
    app = create_app(pane="lab", warm_torch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        no_blink(app)
        await settle(pilot)
        assert "press t" in shown_text(app.query_one("#lab-details"))
        await pilot.press("v")
        await settle(pilot)
        assert "press t" in shown_text(app.query_one("#lab-digit-info"))


@pytest.mark.slow
@sync
async def test_t_trains_a_run_live_in_a_child_process(home: Path) -> None:
    import tangstudio.studio.panes.lab as lab

    app = create_app(pane="lab", warm_torch=False)
    old = lab.TRAIN_STEPS
    lab.TRAIN_STEPS = 30
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("v")  # from the digit view, t goes back to the curves (it went to confusion)
            await settle(pilot)
            assert "s Stop" not in _screen(app).splitlines()[-1]  # nothing of this studio's trains
            await pilot.press("t")
            pane = app.query_one("#lab-pane")
            assert list(pane.processes) == ["lab-lstm"] and pane.view == "curves"
            await settle(pilot)
            assert "s Stop" in _screen(app).splitlines()[-1]
            process = pane.processes["lab-lstm"]
            process.process.wait(timeout=300)
            await wait_until(pilot, lambda: not pane.processes, rounds=2000)
            await settle(pilot)
            assert "s Stop" not in _screen(app).splitlines()[-1]
            run = pane.highlighted()
            await wait_until(pilot, lambda: run.status == "finished", rounds=2000)
            assert run.step == 30 and run.val
            assert (home / "runs" / "lab-lstm" / "checkpoints" / "best" / "model.safetensors").is_file()
    finally:
        lab.TRAIN_STEPS = old


def _prepare(steps=()):
    async def run_before(pilot) -> None:
        no_blink(pilot.app)
        await settle(pilot)
        for step in steps:
            await step(pilot)
        await settle(pilot)

    return run_before


async def _read_twelve_rows(pilot) -> None:
    await _to_digit_view(pilot)
    for _ in range(12):
        await pilot.press("right")


def _screen(app) -> str:
    return "\n".join("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())


@sync
async def test_the_row_pointer_stands_left_of_the_digit_and_each_view_offers_its_own_keys(
    lab_run: str,
) -> None:
    """Issue 25 item 10: "◀5 ▌ 2.3%" read as a mark on class 5; the memory view listed →, p and ]."""
    app = create_app(pane="lab", warm_torch=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        pane = app.query_one("#lab-pane")
        assert "→ Row" not in _screen(app).splitlines()[-1]  # the curves: no digit keys
        await _to_digit_view(pilot)
        await pilot.press(*["right"] * 5)
        image = shown_text(pane.query_one("#lab-digit-image")).splitlines()
        footer = _screen(app).splitlines()[-1]
        assert "◀" not in "".join(image)
        assert [n for n, line in enumerate(image) if line.startswith("▶")] == [2]  # rows 5–6: line 3
        assert "→ Row" in footer and "[ ] Digit" in footer and "p Play" in footer and "? Help" in footer
        await pilot.press("v", "v")  # confusion, then memory
        await settle(pilot)
        assert pane.view == "memory"
        footer = _screen(app).splitlines()[-1]
    assert "→ Row" not in footer and "] Digit" not in footer and "p Play" not in footer, footer
    assert "View" in footer


class _Training:
    """A Lab run's process that is still training, as the pane polls it."""

    def poll(self) -> None:
        return None

    def stop(self) -> None:
        pass


@sync
async def test_at_80_columns_each_view_title_and_footer_fit(home: Path) -> None:
    """A TUI review: at 80 columns the views' titles were cut with "…" (the digit view's lost its
    keys), and the memory view's footer lost "? Help"."""
    from test_lab import fake_study

    from tangstudio.engine.lab.memory import save_results

    save_results(fake_study([3, 5], ["rnn", "lstm"], 0.5), "memory")
    app = create_app(pane="lab", warm_torch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        no_blink(app)
        await settle(pilot)
        pane = app.query_one("#lab-pane")
        for view in ("curves", "digit", "confusion", "memory"):
            assert pane.view == view
            rows = _screen(app).splitlines()
            title = next(row for row in rows if f" {view} " in row)
            assert "…" not in title and title.rstrip().endswith(("val", "only", "misread", "gradients")), (
                title
            )
            assert rows[-1].rstrip().endswith("? Help"), rows[-1]
            await pilot.press("v")
            await settle(pilot)
        # `s` with nothing training: not in the footer, but still says why nothing stopped
        await pilot.press("s")
        await settle(pilot)
        assert any("not training from this studio" in n.message for n in app._notifications)
        # while a run started here trains, Stop takes Train's place, and every footer still fits
        pane.processes["lab-rnn"] = _Training()
        pane.refresh_bindings()
        for view in ("curves", "digit", "confusion", "memory"):
            await settle(pilot)
            assert pane.view == view
            footer = _screen(app).splitlines()[-1].rstrip()
            assert footer.endswith("? Help") and "s Stop" in footer and "t Train" not in footer, footer
            await pilot.press("v")
        pane.processes.clear()
    async with create_app(pane="lab", warm_torch=False).run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        assert "v: next view" in _screen(pilot.app)  # wide enough for the long title


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_lab_pane_digit_view(snap_compare, lab_run: str, size) -> None:
    app = create_app(pane="lab", warm_torch=False)
    assert snap_compare(app, terminal_size=size, run_before=_prepare([_read_twelve_rows]))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_lab_pane_curves(snap_compare, lab_run: str, size) -> None:
    app = create_app(pane="lab", warm_torch=False)
    assert snap_compare(app, terminal_size=size, run_before=_prepare())


@sync
async def test_run_naming_a_lab_run_opens_the_lab_on_it(lab_run: str, home: Path) -> None:
    """`tangstudio --run d1` on a digits run opened the poem Train pane, which plotted it as
    "loss (nats/char)": a lab run now opens the Lab pane with that run highlighted."""
    import shutil

    shutil.copytree(home / "runs" / lab_run, home / "runs" / "zz-other")  # listed last
    app = create_app(run=lab_run, warm_torch=False)
    async with app.run_test(size=(120, 40)) as pilot:
        no_blink(app)
        await settle(pilot)
        assert app.initial_pane == "lab" and app.initial_run is None
        pane = app.query_one("#lab-pane")
        assert pane.run_list.highlighted() is not None and pane.run_list.highlighted().name == lab_run
        assert not errors(app)


def _reading(count: int = 5) -> dict:
    """What read_test_digits hands the views, for `count` test digits (0 and 3 misread)."""
    import numpy as np

    labels = np.arange(count) % 10
    predicted = labels.copy()
    predicted[[0, 3]] = 9
    probs = np.full((count, 28, 10), 0.1)
    return {
        "run": "r",
        "arch": "gru",
        "images": np.zeros((count, 28, 28), dtype=np.uint8),
        "labels": labels,
        "probs": probs,
        "predicted": predicted,
        "accuracy": 0.6,
        "confusion": [[0] * 10 for _ in range(10)],
        "per_class": [None] * 10,
        "wrong": [0, 3],
        "knows": [None] * count,
    }


def test_the_pane_numbers_digits_from_0_as_the_cli_does() -> None:
    """The pane said "test digit 1/1000" for what `lab digits show --index 0` calls test digit 0, then
    "mistake 3 of 0–36" (an index beside a range) and "mistake 0 of 0–0" for one mistake."""
    from tangstudio.studio.panes.lab.digits import Browse, confusion_view, digit_view

    reading = _reading()
    _, info, _ = digit_view(reading, Browse(view="digit", position=0), room=40)
    assert "test digit 0: a 0" in info.plain
    _, info, _ = digit_view(reading, Browse(view="digit", position=2), room=40)
    assert "test digit 2: a 2" in info.plain
    _, info, _ = digit_view(reading, Browse(view="digit", position=1, wrong_only=True), room=40)
    assert "mistake 1 (of 2; --wrong --index 1) · test digit 3" in info.plain
    _, info, _ = confusion_view(reading, Browse(view="confusion", position=0))
    assert "mistake 0 (of 2; --wrong --index 0) · test digit 0" in info.plain
    reading["wrong"] = [3]  # one mistake read "mistake 0 of 0–0"
    _, info, _ = confusion_view(reading, Browse(view="confusion", position=0))
    assert "mistake 0 (of 1; --wrong --index 0) · test digit 3" in info.plain


@sync
async def test_the_memory_view_shows_the_newest_study_of_any_name(home: Path) -> None:
    """After `lab memory run --name m1` the view said "no memory study yet": it read memory.json only."""
    import os

    from test_lab import fake_study

    from tangstudio.engine.lab.memory import save_results

    old = save_results(fake_study([3], ["rnn", "gru"], 0.2), "memory")
    os.utime(old, (1_000_000_000, 1_000_000_000))  # written long ago: m1 is the newest
    save_results(fake_study([3, 5], ["rnn", "lstm"], 0.5, seeds=(0,)), "m1")
    app = create_app(pane="lab", warm_torch=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await _to_memory_view(pilot)
        pane = app.query_one("#lab-pane")
        assert pane.view == "memory"
        table = shown_text(app.query_one("#lab-memory-table"))
        assert "study m1" in table and "no memory study" not in table
        assert "T=5: 50%" in table and "±" not in table  # one seed: no spread
        assert "lstm-fb2" in table  # the note on the plain LSTM's forget gate
        # rnn and lstm read alike here: the rnn, the lesson, is drawn last, on top (it was hidden)
        chart = app.query_one("#lab-memory-chart")
        drawn = "".join(strip.text for strip in chart.render_lines(chart.region.reset_offset))
        assert drawn.count("r") > drawn.count("l") + 5, drawn
        # ] shows the older study (it was hidden for good by the newer one), and wraps round
        await pilot.press("right_square_bracket")
        await settle(pilot)
        table = shown_text(app.query_one("#lab-memory-table"))
        assert "study memory" in table and "2 of 2" in table and "gru" in table
        assert pane.memory_index == 1 and pane.view == "memory"
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "study m1" in shown_text(app.query_one("#lab-memory-table")) and pane.memory_index == 0
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert "study memory" in shown_text(app.query_one("#lab-memory-table"))
        # g: the vanishing gradient, in the studio too (a student's review found it in the shell alone)
        await pilot.press("right_square_bracket")  # m1, whose cells recorded gradients
        await settle(pilot)
        # the footer names what `g` brings next (it said "Gradients" on every chart), and [ as well as ]
        footer = _screen(app).splitlines()[-1]
        assert "g Grads at init" in footer and "[ ] Study" in footer, footer
        await pilot.press("g")
        await settle(pilot)
        table = shown_text(app.query_one("#lab-memory-table"))
        assert pane.memory_chart == "init" and "T−t=1: " in table and "rnn" in table, table
        assert "g Grads trained" in _screen(app).splitlines()[-1]
        chart = app.query_one("#lab-memory-chart")
        drawn = "\n".join(strip.text for strip in chart.render_lines(chart.region.reset_offset))
        assert "T − t" in drawn
        # the log axis ticks at whole powers of ten, not plotext's "-0.00" for 1
        assert "-0.00" not in drawn and " 1┤" in drawn, drawn
        await pilot.press("g")
        await settle(pilot)
        assert pane.memory_chart == "trained" and "T−t=1:" in shown_text(app.query_one("#lab-memory-table"))
        assert "g Recall" in _screen(app).splitlines()[-1]
        await pilot.press("g")
        await settle(pilot)
        assert pane.memory_chart == "accuracy" and "T=5:" in shown_text(app.query_one("#lab-memory-table"))
        assert "g Grads at init" in _screen(app).splitlines()[-1]
        assert errors(app) == []


@sync
async def test_lab_keys_do_nothing_behind_the_too_small_notice(lab_run: str) -> None:
    """The Lab pane's own check_action (which keys each view offers) also asks the Pane base, so `v`
    does not switch views unseen behind the too-small notice."""
    app = create_app(pane="lab", warm_torch=False)
    async with app.run_test(size=(60, 20)) as pilot:
        no_blink(app)
        await settle(pilot)
        pane = app.query_one("#lab-pane")
        assert app.screen.has_class("-too-small") and pane.view == "curves"
        await pilot.press("v", "v")
        await settle(pilot)
        assert pane.view == "curves"
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        pane.focus_first()
        await pilot.press("v")
        await wait_until(pilot, lambda: pane.view != "curves")


@sync
async def test_a_palette_command_for_another_view_says_so(home: Path) -> None:
    """A review: "Memory study: gradients" from the palette did nothing, silently, outside the
    memory view (the pane's check_action refuses it there); now a notice says where it acts."""
    app = create_app(pane="lab", warm_torch=False)
    async with app.run_test(size=(120, 36)) as pilot:
        no_blink(app)
        await settle(pilot)
        pane = app.query_one("#lab-pane")
        assert pane.view == "curves"
        await app.run_action("pane_action('lab', 'memory_chart')")
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert any("another view of the Lab pane" in m for m in said), said
        assert pane.memory_chart == "accuracy"  # nothing ran behind the notice
        await app.run_action("pane_action('lab', 'cycle_view')")  # an action the view allows
        await settle(pilot)
        assert pane.view == "digit" and len(app._notifications) == len(said)
        assert errors(app) == []


@sync
async def test_the_memory_view_keeps_its_study_and_says_when_there_is_none(home: Path) -> None:
    """A TUI review: `g` with no study changed a hidden setting silently; a study saved meanwhile
    left the view stale, and then moved it from m2 to m3 (the same place in a longer list)."""
    import os

    from test_lab import fake_study

    from tangstudio.engine.lab.memory import save_results
    from tangstudio.studio.panes.lab import pane as lab_pane

    app = create_app(pane="lab", warm_torch=False)
    async with app.run_test(size=(120, 36)) as pilot:
        no_blink(app)
        await settle(pilot)
        pane = app.query_one("#lab-pane")
        await pilot.press("v", "v", "v")
        await settle(pilot)
        # with no study, neither g nor [ ] is offered (the footer offered "g Grads at init", a
        # student's review): the view says how to run one, and g changes nothing
        offered = {k for k, b in app.screen.active_bindings.items() if b.enabled and b.binding.show}
        assert not {"g", "left_square_bracket", "right_square_bracket"} & offered, offered
        assert "tangstudio lab memory run" in shown_text(app.query_one("#lab-memory-table"))
        await pilot.press("g")
        await settle(pilot)
        assert pane.memory_chart == "accuracy"
        await app.run_action("pane_action('lab', 'memory_chart')")  # from the palette: says why
        await settle(pilot)
        assert any("No memory study yet" in n.message for n in app._notifications)
        old = save_results(fake_study([3], ["rnn", "gru"], 0.2), "m1")
        os.utime(old, (1_000_000_000, 1_000_000_000))
        save_results(fake_study([3], ["rnn", "lstm"], 0.5, seeds=(0,)), "m2")
        for _ in range(lab_pane.SCAN_EVERY + 1):  # the poll finds the studies saved meanwhile
            pane.tick()
        await settle(pilot)
        table = shown_text(app.query_one("#lab-memory-table"))
        assert "study m2 · 1 of 2, newest first" in table, table
        offered = {k for k, b in app.screen.active_bindings.items() if b.enabled and b.binding.show}
        assert "g" in offered, offered
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "study m1 · 2 of 2" in shown_text(app.query_one("#lab-memory-table"))
        save_results(fake_study([3], ["rnn"], 0.4, seeds=(0,)), "m3")  # newer than both
        for _ in range(lab_pane.SCAN_EVERY + 1):
            pane.tick()
        await settle(pilot)
        assert "study m1 · 3 of 3" in shown_text(app.query_one("#lab-memory-table"))  # still m1
        assert errors(app) == []


@sync
async def test_at_80x24_the_memory_charts_keep_their_rows_and_tick_their_own_rows(home: Path) -> None:
    """A student's review at 80×24: the gradient chart had no rows left (each readout wrapped in two),
    plotext's legend hid where every curve starts, the recall chart's ticks read 83.3 / 66.7 / 16.7
    on rows of 87.5 / 62.5 / 12.5, and its title was not drawn (wider than the chart)."""
    import math
    import re

    from test_lab import fake_study

    from tangstudio.engine.lab.memory import save_results
    from tangstudio.studio.panes.lab.charts import row_values

    archs = ["rnn", "lstm", "lstm-fb2", "gru"]
    study = fake_study([10, 50, 100], archs, 0.5)
    study["settings"]["grad_distance"] = 50

    def norms(rate: float) -> list[float]:
        return [math.exp(-rate * k) for k in range(51)][::-1]

    study["gradients"] = {
        a: {"init": norms(r), "trained": norms(r)} for a, r in zip(archs, (0.5, 0.4, 0.1, 0.45))
    }
    for arch in ("lstm", "lstm-fb2"):
        study["gradients"][arch] |= {"init_C": norms(0.3), "trained_C": norms(0.3)}
    save_results(study, "memory")
    assert row_values(0, 100, 9) == [0, 25, 50, 75, 100]
    app = create_app(pane="lab", warm_torch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await _to_memory_view(pilot)
        chart = app.query_one("#lab-memory-chart")
        screen = _screen(app)
        assert "recall % vs T" in screen  # a title that fits
        rows = chart.size.height - 5  # title, frame, x ticks, x label
        ticks = [
            int(t)
            for t in re.findall(
                r"^\s*▕?\s*(\d+)┤", "\n".join(r.split("▕")[-1] for r in screen.splitlines()), re.M
            )
        ]
        assert ticks and set(ticks) <= {round(v) for v in row_values(0, 100, rows)}, ticks
        await pilot.press("g")
        await settle(pilot)
        assert chart.size.height >= 10
        # every decade tick on a row of its own: six ticks on five rows put "1e-6" on the row of
        # 1e-5 and dropped 1e-4 (a student's review)
        from itertools import pairwise

        rows = _screen(app).splitlines()
        ticked = [
            (r, m.group(1)) for r, row in enumerate(rows) if (m := re.search(r"(1e-\d+|1|10)\s*┤", row))
        ]
        labels = [label for _, label in ticked]
        powers = [0 if label == "1" else 1 if label == "10" else int(label[2:]) for label in labels]
        assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
        assert all(b - a >= 2 for (a, _), (b, _) in pairwise(ticked)), ticked  # a row between
        assert len({a - b for a, b in pairwise(powers)}) == 1, labels  # evenly spaced decades
        low = min(math.log10(v) for g in study["gradients"].values() for n in g.values() for v in n)
        assert powers[0] >= 0 and powers[-1] <= low, (labels, low)  # the values inside the ticks
        table = shown_text(app.query_one("#lab-memory-table"))
        series = [line for line in table.splitlines() if line.startswith(("──", "••"))]
        assert len(series) == 6 and all(len(line.rstrip()) <= 56 for line in series), table
        assert "lstm-fb2 C_t" in table and "T−t=" not in table  # the distances head the columns
        await pilot.resize_terminal(160, 40)  # wider: the readouts as before, without a key pressed
        await settle(pilot)
        assert "T−t=10" in shown_text(app.query_one("#lab-memory-table"))


def test_the_curves_draw_a_diverged_runs_infinite_loss_without_failing(tmp_path: Path) -> None:
    """The loss chart's scale took the ceiling of the largest loss: a diverged run's inf (or nan),
    read back from its metrics.jsonl, raised (a review)."""
    from tangstudio.studio.panes.lab.charts import RowTickedPlot, draw_curves
    from tangstudio.studio.widgets.lab_views import LabRun

    acc, loss = RowTickedPlot(), RowTickedPlot()
    run = LabRun(tmp_path, "rnn", train=[(1, 2.3, 0.1), (2, float("inf"), 0.1), (3, float("nan"), 0.1)])
    draw_curves(acc, loss, [run], {str(tmp_path): (255, 0, 0)})
    assert loss.y_range == (0.0, 2.3) and acc.y_range == (0.0, 100.0)
