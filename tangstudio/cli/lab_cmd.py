"""`tangstudio lab ...`: the seed article's own experiments (digits row by row, long memory).

Every import of numpy, torch or the lab engine happens inside the command functions, so
`tangstudio lab --help` stays as light as the rest of the CLI.
"""

from __future__ import annotations

import shlex
import sys

import typer

from tangstudio.cli.app import app, command_group

lab = command_group(
    "The seed article's experiments: digits read row by row (lab digits), long memory and its "
    "vanishing gradients (lab memory run draws both), and the cells' speed (lab speed)."
)
digits = command_group("Handwritten digits read one 28-pixel row per step (seed §4).")
memory = command_group("Long memory: recall a symbol T steps back, past T − 1 distractors (seed §2–§3).")
app.add_typer(lab, name="lab")
lab.add_typer(digits, name="digits")
lab.add_typer(memory, name="memory")

ARCH_HELP = "rnn, lstm, gru or bilstm."


def _secs(seconds: float) -> str:
    """A short run's seconds to a tenth (a 2 s run said 0 CPU-s, 0 s wall), a long one's whole."""
    return f"{seconds:.1f}" if seconds < 10 else f"{seconds:.0f}"


def _plural(count: int, word: str) -> str:
    """ "1 seed", "3 seeds": the tables said "over 1 seeds"."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _rates(rates: dict[str, float]) -> str:
    """A study's learning rates as a person writes them: one number when every cell shares it
    (the summary printed the Python dict {'rnn': 0.003, ...}), else each cell's."""
    if len(set(rates.values())) == 1:
        return f"{next(iter(rates.values())):g}"
    return ", ".join(f"{arch} {rate:g}" for arch, rate in rates.items())


def _in_colour() -> bool:
    """Charts carry ANSI colour only to a terminal: in a pipe or a file they were escape noise."""
    from tangstudio.cli.render import console

    return console.is_terminal and not console.no_color


@digits.command("train")
def digits_train(
    ctx: typer.Context,
    run: str = typer.Option(..., "--run", help="Name of the new run (or the run to resume)."),
    arch: str = typer.Option("lstm", "--arch", help=ARCH_HELP),
    hidden: int = typer.Option(128, "--hidden", help="Hidden units per layer."),
    layers: int = typer.Option(1, "--layers", help="Recurrent layers."),
    lr: float | None = typer.Option(
        None,
        "--lr",
        help="Peak learning rate (AdamW, warm-up then cosine). \\[default: the rate docs/study.md picked "
        "for the cell, rnn 3e-3, lstm, gru and bilstm 1e-2]",
    ),
    batch_size: int = typer.Option(64, "--batch-size", help="Digits per step."),
    steps: int | None = typer.Option(
        None,
        "--steps",
        help="Budget in steps: this or --minutes for a new run (steps are the fair one: load cannot change them).",
    ),
    minutes: float | None = typer.Option(
        None, "--minutes", help="Budget in wall-clock minutes: this or --steps for a new run."
    ),
    seed: int = typer.Option(0, "--seed", help="Initialisation and batch order."),
    eval_every: int = typer.Option(
        200, "--eval-every", help="Steps between evaluations on the 1,000 val digits."
    ),
    threads: int = typer.Option(1, "--threads", help="Torch CPU threads."),
    impl: str = typer.Option("fused", "--impl", help="fused (fast kernels) or cells (the readable cells)."),
    forget_bias: float = typer.Option(
        0.0, "--forget-bias", help="LSTM/BiLSTM: forget-gate bias at initialisation."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue the run from its last checkpoint."),
    as_json: bool = typer.Option(False, "--json", help="Print each event as one JSON line."),
) -> None:
    """Train a many-to-one classifier on the 8,000 train digits; best checkpoint by val accuracy.

    A new run needs one budget, --steps N or --minutes M; a resume keeps its own unless one is given.
    """
    from tangstudio.engine.lab.config import LabConfig, digits_rate

    config = LabConfig(
        run=run,
        task="digits",
        arch=arch,
        hidden=hidden,
        layers=layers,
        lr=digits_rate(arch) if lr is None else lr,
        batch_size=batch_size,
        steps=steps,
        minutes=minutes,
        seed=seed,
        eval_every=eval_every,
        threads=threads,
        impl=impl,
        forget_bias=forget_bias,
        resume=resume,
    )
    from tangstudio.cli.options import given_options

    given = given_options(ctx) - {"as_json"}
    if resume and steps is None and minutes is None:
        config.steps = 1  # placeholder for validation; the stored budget is kept
        given.discard("steps")
    from tangstudio.engine.runs.session import preflight

    preflight(config.validate(), given)  # before torch loads: a wrong option or name answers at once
    raise typer.Exit(_run_training(config, given, as_json))


def _impl_note(impl: str, arch: str = "") -> str:
    """The same network counts fewer parameters on the readable cells (one bias a gate, and the
    GRU's candidate two: b_x and b_h) than on PyTorch's fused kernels (b_ih and b_hh a gate): a
    student saw 82,186 and 81,674 for one LSTM."""
    if impl == "cells":
        return (
            " (cells: one bias a gate, two for the candidate)"
            if arch == "gru"
            else " (cells: one bias a gate)"
        )
    return " (fused: b_ih and b_hh a gate)"


class _LabLines:
    """What a lab run prints as it trains: one line at the start and at each evaluation (JSON lines
    with --json). A view for `stopping.Guarded`, which turns output that went away into a stop."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def __enter__(self) -> _LabLines:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def on_event(self, event: dict) -> None:
        kind = event.get("event")
        if self.as_json:
            if kind != "progress":
                from tangstudio.cli.render import print_json_line

                print_json_line(event)
            return
        if kind == "start":
            print(
                f"{event['run']}: {event['arch']} on {event['task']}, {event['params']:,} parameters"
                + _impl_note(
                    event.get("config", {}).get("impl", "fused"), event.get("config", {}).get("arch", "")
                ),
                flush=True,
            )
        elif kind == "eval":
            print(
                f"step {event['step']:>6}  val loss {event['val_loss']:.4f}  val acc {event['val_acc']:.2%}"
                f"  ({_secs(event['cpu_s'])} CPU-s, {_secs(event['elapsed_s'])} s)",
                flush=True,
            )


def _run_training(config, given: set[str], as_json: bool) -> int:
    from tangstudio.cli.stopping import Guarded, StopSignals, tell
    from tangstudio.engine.lab.train import resume_command, train_lab

    with StopSignals() as stop:
        view = Guarded(_LabLines(as_json), stop.ask)
        try:
            with view:
                result = train_lab(config, callback=view.on_event, should_stop=stop.requested, given=given)
        except KeyboardInterrupt:  # a second Ctrl+C: stopped at once; the previous checkpoint is whole
            tell(
                "stopped at once by a second interrupt, without a new checkpoint; the last one is intact\n"
                f"resume with: {resume_command(config.run, config.task)}"
            )
            return 130
    if result.status == "interrupted":
        tell(f"stopped at step {result.step}; resume with: {resume_command(result.run, config.task)}")
        return stop.exit_code()
    if not as_json:
        tell(
            f"done: step {result.step}, best val accuracy {result.best_val_acc:.2%}; "
            f"{_secs(result.cpu_s)} CPU-s, {_secs(result.elapsed_s)} s wall. "
            f"Test it with: tangstudio lab digits eval {result.run}",
            sys.stdout,
        )
    return 0


@digits.command("eval")
def digits_eval(
    run: str = typer.Argument(..., help="A lab digits run (name or folder)."),
    split: str = typer.Option("test", "--split", help="test, val or train."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Accuracy, per-class accuracy and the confusion matrix of a run's best checkpoint."""
    from tangstudio.cli.render import console, print_json, print_table
    from tangstudio.engine.runs.checkpoint import resolve_checkpoint

    resolve_checkpoint(run)  # an unknown run is refused before torch loads
    from tangstudio.engine.lab.train import evaluate_digits

    result = evaluate_digits(run, split=split)
    if as_json:
        print_json(result)
        return
    from rich.table import Table

    console.print(
        f"[bold]{result['run']}[/bold] · {result['arch']} · step {result['step']} · {split} split: "
        f"accuracy [bold]{result['accuracy']:.2%}[/bold] on {result['count']:,} digits "
        f"(loss {result['loss']:.4f} nats)"
    )
    settled, directions = result.get("settles_at"), result.get("directions")
    if settled:
        console.print(
            f"settles at row {settled['median']:g} (median; quartiles {settled['q1']:g}–{settled['q3']:g}) "
            f"over the {settled['digits']:,} digits read right: the row from which its top class no "
            "longer changes (docs/study.md)",
            highlight=False,
        )
    if directions:
        console.print(
            f"directions: both {directions['both']:.1%} · without the forward {directions['without_forward']:.1%} "
            f"· without the backward {directions['without_backward']:.1%} (each half of the features "
            "replaced by its mean over the split; docs/study.md §4)",
            highlight=False,
        )
    # Above the table, not its title: Rich wraps a title to the table's width (…columns:⏎predicted).
    console.print("confusion matrix: a row per true digit, a column per digit read", highlight=False)
    table = Table(box=None)
    table.add_column("true", justify="right", style="bold")
    for c in range(10):
        table.add_column(str(c), justify="right")
    table.add_column("accuracy", justify="right")
    for t, row in enumerate(result["confusion"]):
        cells = [
            f"[bold green]{n}[/]" if t == p else (f"[red]{n}[/]" if n else "[dim]·[/]")
            for p, n in enumerate(row)
        ]
        acc = result["per_class"][t]
        table.add_row(str(t), *cells, "–" if acc is None else f"{acc:.1%}")
    print_table(table)
    on_split = "" if split == "test" else f" --split {split}"  # show reads the test split unless told
    console.print(
        f"{len(result['misclassified'])} misclassified; see them with: "
        f"tangstudio lab digits show {shlex.quote(run)}{on_split} --wrong",
        highlight=False,
    )


@digits.command("show")
def digits_show(
    run: str = typer.Argument(..., help="A lab digits run (name or folder)."),
    index: int = typer.Option(0, "--index", help="Which digit of the split (0 = its first)."),
    split: str = typer.Option("test", "--split", help="test, val or train."),
    wrong: bool = typer.Option(False, "--wrong", help="Count --index among the misclassified digits only."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Draw a digit with half blocks and the class probabilities after each row the network reads."""
    from tangstudio.cli.render import console, print_json, print_table
    from tangstudio.engine.runs.checkpoint import resolve_checkpoint

    resolve_checkpoint(run)  # an unknown run is refused before torch loads
    from tangstudio.engine.lab.inspect import digit_reading, half_block_lines

    reading = digit_reading(run, index=index, split=split, wrong_only=wrong)
    if as_json:
        print_json({k: v for k, v in reading.items() if k != "image"})
        return
    verdict = "right" if reading["predicted"] == reading["label"] else "wrong"
    mistake = f"mistake {index} with --wrong; " if wrong else ""  # --index counted the mistakes only
    console.print(
        f"{split} digit {reading['position']} ({mistake}digit {reading['digit_index']} of the dataset's 10,000): "
        f"true {reading['label']}, "
        f"read as [bold]{reading['predicted']}[/bold] ({verdict}) by {reading['run']} · {reading['arch']}"
    )
    for line in half_block_lines(reading["image"]):
        console.print("  " + line, highlight=False)
    from rich.table import Table

    table = Table(title="P(class) after each row (%)", title_justify="left", box=None, padding=(0, 1))
    table.add_column("row", justify="right", style="dim")
    for c in range(10):
        table.add_column(str(c), justify="right")
    table.add_column("best", justify="right")
    for row, probs in enumerate(reading["probs_by_row"], start=1):
        best = max(range(10), key=lambda c: probs[c])
        cells = [
            (
                f"[bold reverse]{p * 100:.0f}[/]"
                if c == best
                else (f"{p * 100:.0f}" if p >= 0.005 else "[dim]·[/]")
            )
            for c, p in enumerate(probs)
        ]
        table.add_row(str(row), *cells, str(best))
    print_table(table)
    knows = reading["knows_at_row"]
    console.print(
        f"settles on {reading['predicted']} from row {knows} on" if knows else "never settles on one class",
        highlight=False,
    )
    if reading["arch"] == "bilstm":
        from tangstudio.engine.lab.models import PREFIX_CAVEAT

        console.print(f"[dim]note: {PREFIX_CAVEAT}[/dim]")


def _int_list(text: str, what: str) -> tuple[int, ...]:
    from tangstudio.engine.errors import TangError

    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise TangError(f"{what} must be whole numbers separated by commas, got {text!r}") from None
    if not values:
        raise TangError(f"{what} must name at least one value")
    return values


def _check_png(png: str) -> None:
    """A PNG the command will draw, checked before anything trains (matplotlib there, its folder)."""
    from tangstudio.engine.study.plot import check_plot_path, require_matplotlib

    require_matplotlib("--png")
    check_plot_path(png, "--png")


def _refuse_repeats(values, option: str) -> None:
    """A cell or distance named twice trained twice and counted as two seeds of one."""
    from tangstudio.engine.errors import TangError

    seen: set = set()
    for value in values:
        if value in seen:
            raise TangError(f"{option} names {value} twice: give each once")
        seen.add(value)


@memory.command("run")
def memory_run(
    archs: str = typer.Option(
        "rnn,lstm,lstm-fb2,gru",  # memory.DEFAULT_ARCHS (not imported: --help stays light)
        "--archs",
        help="Cells to compare: rnn, lstm, gru, and lstm-fbN (an LSTM whose forget gate starts at bias N; "
        "lstm-fb2 beside lstm shows why PyTorch's bias 0 forgets).",
    ),
    distances: str = typer.Option(
        "10,50,100,200", "--distances", help="Distances T between cause and effect."
    ),
    seeds: int = typer.Option(3, "--seeds", help="Seeds per cell (0 … N−1)."),
    steps: int = typer.Option(
        600,
        "--steps",
        help="Training steps for every cell (fixed: load cannot change it); 600, as docs/study.md's table.",
    ),
    hidden: int = typer.Option(64, "--hidden", help="Hidden units."),
    lr: str = typer.Option(
        "3e-3",
        "--lr",
        help="Peak learning rate, or one per cell in --archs order "
        "(e.g. 1e-3,3e-3,3e-3,1e-2 for rnn,lstm,lstm-fb2,gru).",
    ),
    batch_size: int = typer.Option(64, "--batch-size", help="Sequences per step."),
    grad_distance: int | None = typer.Option(
        None,
        "--grad-distance",
        help="The T at which gradient norms are recorded: one of --distances. "
        "\\[default: 100 when --distances holds it, else the longest]",
        show_default=False,
    ),
    name: str = typer.Option("memory", "--name", help="Saved as <home>/lab/NAME.json."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite a saved study of the same --name."),
    png: str | None = typer.Option(None, "--png", help="Also draw the charts into this PNG."),
    threads: int = typer.Option(1, "--threads", help="Torch CPU threads."),
) -> None:
    """Train RNN, LSTM (forget bias 0 and 2) and GRU to recall the first symbol T steps back, past T − 1 distractors."""
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.lab.memory import parse_series, results_path, run_memory_study, save_results

    chosen = tuple(a.strip() for a in archs.split(",") if a.strip())
    for series in chosen:
        parse_series(series)
    if not chosen:
        raise TangError(f"--archs takes rnn, lstm, gru and lstm-fbN, got {archs!r}")
    _refuse_repeats(chosen, "--archs")
    Ts = _int_list(distances, "--distances")
    _refuse_repeats(Ts, "--distances")
    # Where it will be saved, said before the grid trains (a bad name used to end a long study).
    saved = results_path(name)
    if saved.exists() and not replace:
        raise TangError(
            f"a memory study named {name!r} is saved already ({saved}): give another --name, or --replace"
        )
    from tangstudio.engine.lab.tasks import check_distance

    for T in Ts:  # a bad T is named before --grad-distance is compared with them
        check_distance(T)
    if grad_distance is None:
        grad_distance = 100 if 100 in Ts else max(Ts)
    if not 1 <= seeds <= 20 or not 1 <= steps <= 1_000_000:
        raise TangError("--seeds must be 1–20 and --steps 1–1,000,000")
    try:
        rates = [float(v) for v in lr.split(",")]
    except ValueError:
        raise TangError(f"--lr must be a number or numbers separated by commas, got {lr!r}") from None
    if len(rates) == 1:
        rates *= len(chosen)
    if len(rates) != len(chosen) or not all(0 < r <= 1 for r in rates):
        raise TangError(f"--lr needs one rate in (0, 1] or one per cell of --archs, got {lr!r}")
    if grad_distance not in Ts:
        raise TangError(f"--grad-distance {grad_distance} must be one of --distances {distances}")
    if png:
        _check_png(png)

    def on_result(r: dict) -> None:
        print(
            f"{r['arch']:>4}  T={r['distance']:<4} seed {r['seed']}  accuracy {r['accuracy']:.1%}  ({r['cpu_s']:.1f} CPU-s)",
            flush=True,
        )

    from tangstudio.engine.lab.memory import StudyInterrupted

    try:
        study = run_memory_study(
            chosen,
            Ts,
            tuple(range(seeds)),
            steps,
            hidden,
            dict(zip(chosen, rates)),
            batch_size,
            grad_distance,
            threads,
            on_result,
        )
    except StudyInterrupted as stopped:  # Ctrl+C: the runs that finished are kept, not thrown away
        done = len(stopped.study["runs"])
        if done:
            path = save_results(stopped.study, name, replace=replace)
            print(
                f"stopped after {done} run{'s' if done > 1 else ''}; saved them to {path} (marked interrupted)",
                file=sys.stderr,
            )
        else:
            print("stopped before the first run finished; nothing to save", file=sys.stderr)
        raise typer.Exit(130) from None
    path = save_results(study, name, replace=replace)
    if path != saved:  # another study of this name was saved while this one trained
        print(
            f"a study named {name!r} was saved while this one ran; this one is {path.stem}", file=sys.stderr
        )
    print(f"saved {path}")
    _show_memory(study, png)


@memory.command("show")
def memory_show(
    names: list[str] = typer.Argument(
        None,
        help="Saved studies (names under <home>/lab, or .json paths); several are merged. "
        "\\[default: the newest saved study, as the studio's Lab pane shows]",
    ),
    png: str | None = typer.Option(None, "--png", help="Draw the charts into this PNG."),
    save: str | None = typer.Option(None, "--save", help="Save the (merged) study as <home>/lab/NAME.json."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Accuracy against T (mean ± sd over seeds) and the gradient norms, drawn in the terminal."""
    from tangstudio.engine.lab.memory import (
        latest_results,
        load_results,
        merge_results,
        save_results,
        summary,
    )

    if names:
        studies = [load_results(n) for n in names]
    else:  # the study the Lab pane shows, of any name: `run --name m1` then `show` showed memory.json
        found = latest_results()
        if found is None:
            from tangstudio.engine.errors import TangError

            raise TangError("no memory study saved yet; run one with: tangstudio lab memory run")
        path, newest = found
        studies = [newest]
        line = f"study {path.stem} · the newest saved memory study (name another to show it)"
        print(line, file=sys.stderr if as_json else sys.stdout, flush=True)  # --json: stdout stays JSON
    study = studies[0] if len(studies) == 1 else merge_results(studies)
    if save:
        print(f"saved {save_results(study, save)}")
    if as_json:
        from tangstudio.cli.render import print_json

        print_json(
            {"settings": study["settings"], "summary": summary(study), "gradients": study["gradients"]}
        )
        return
    if png:
        _check_png(png)
    _show_memory(study, png)


def _show_memory(study: dict, png: str | None) -> None:
    from rich.table import Table

    from tangstudio.cli.render import console, print_table
    from tangstudio.engine.lab.charts import cell_path_note, memory_text_charts, seeds_phrase
    from tangstudio.engine.lab.memory import lstm_note, summary
    from tangstudio.engine.lab.report import spread

    s = study["settings"]
    seeds = len(s["seeds"])
    over = f"mean ± sd of {seeds} seeds" if seeds > 1 else "1 seed, so no spread"
    if study.get("interrupted"):
        over = seeds_phrase(study)
    # Two lines above the table, not its title: Rich wrapped a long title to the table's width.
    console.print(f"recall accuracy after T steps ({over}; chance 12.5%)", highlight=False)
    console.print(
        f"{_plural(s['steps'], 'step')}, batch {s['batch_size']}, hidden {s['hidden']}, lr {_rates(s['lr'])}",
        highlight=False,
    )
    table = Table(box=None)
    table.add_column("arch", style="bold")
    for T in s["distances"]:
        table.add_column(f"T={T}", justify="right")
    rows = summary(study)
    for arch in s["archs"]:
        cells = []
        for T in s["distances"]:
            row = next((r for r in rows if r["arch"] == arch and r["distance"] == T), None)
            cells.append("–" if row is None else spread(row["mean"], row["sd"], row["seeds"], ".1%"))
        table.add_row(arch, *cells)
    print_table(table)
    width = max(40, min(console.width, 100))
    for chart in memory_text_charts(study, width=width, height=16, color=_in_colour()):
        print(chart)
    _gradient_tables(study)
    for note in (cell_path_note(study), lstm_note(study)):
        if note:
            console.print(note, highlight=False)
    if png:
        from tangstudio.engine.lab.charts import memory_png

        print(f"wrote {memory_png(study, png)}")


def _gradient_tables(study: dict) -> None:
    """The gradient charts' figures, a row a series: close curves hide one another in a terminal's
    chart (the GRU under the LSTM and the RNN until T − t = 45: a student's review)."""
    from rich.table import Table

    from tangstudio.cli.render import console, print_table
    from tangstudio.engine.lab.charts import gradient_curves, gradient_points

    for when in ("init", "trained"):
        curves = gradient_curves(study, when, color=False)
        if not curves:
            return
        console.print(
            f"‖∂L/∂h_t‖ (C_t: ‖∂L/∂C_t‖) over its value at t = T, {'at initialisation' if when == 'init' else 'after training'}",
            highlight=False,
        )
        table = Table(box=None)
        table.add_column("series", style="bold")
        for d, _ in gradient_points(curves[0][0]):
            table.add_column(f"T−t={d}", justify="right")
        for rel, label, _style in curves:
            table.add_row(label, *(f"{v:.1e}" for _, v in gradient_points(rel)))
        print_table(table)


@lab.command("speed")
def lab_speed(
    steps: int = typer.Option(60, "--steps", help="Timed training steps per model (after 5 warm-up steps)."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
) -> None:
    """LSTM, GRU and RNN on digits: parameters and training speed, interleaved step by step, one thread."""
    import os

    from tangstudio.cli.render import print_json, print_table
    from tangstudio.engine.lab.speed import interleaved_speed

    load = os.getloadavg()[0]
    rows = interleaved_speed(steps=steps)
    if as_json:
        print_json({"load_before": load, "rows": rows})
        return
    from rich.table import Table

    table = Table(
        title=f"batch 64 digits, one thread, {_plural(steps, 'interleaved step')} each; load {load:.1f}",
        title_justify="left",
    )
    for col in (
        "model",
        "params",
        "cell (W_x, W_h, b_ih, b_hh)",
        "CPU ms/step",
        "wall ms/step",
        "speed vs LSTM",
    ):
        table.add_column(col, justify="left" if col == "model" else "right")
    for r in rows:
        table.add_row(
            r["model"],
            f"{r['params']:,}",
            f"{r['recurrent_params']:,}",
            f"{r['cpu_ms_per_step']:.1f}",
            f"{r['wall_ms_per_step']:.1f}",
            f"×{r['speed_vs_lstm']:.2f}",
        )
    print_table(table)


@digits.command("report")
def digits_report(
    prefix: str = typer.Option(
        "", "--prefix", help="Only the lab digits runs whose names start with this (default: every one)."
    ),
    png: str | None = typer.Option(None, "--png", help="Draw every run's val accuracy into this PNG."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
) -> None:
    """The study's digits tables: learning-rate sweep, seeds (mean ± sd of test accuracy), CPU cost."""
    from tangstudio.cli.render import print_json, print_table
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.lab.report import (
        collect,
        digits_png,
        left_out,
        same_budget,
        seed_summary,
        setting,
        spread,
    )

    if png:
        _check_png(png)
    rows = collect(prefix)
    if not rows:
        raise TangError(
            f"no finished lab digits runs named {prefix}* in this home; see `tangstudio runs list`"
            if prefix
            else "no finished lab digits runs in this home; train one with "
            "`tangstudio lab digits train --arch lstm --steps 500 --run NAME`"
        )
    summary = seed_summary(rows)
    compared_setting = setting(same_budget(rows)[0])
    steps, hidden, layers, impl = compared_setting
    compared = f"{steps} steps, hidden {hidden}, {layers} layer{'s' if layers > 1 else ''}, {impl}"
    others = left_out(rows)
    if as_json:
        print_json(
            {
                "runs": [{k: v for k, v in r.items() if k != "curve"} for r in rows],
                "summary": summary,
                "summary_setting": {"steps": steps, "hidden": hidden, "layers": layers, "impl": impl},
                "left_out": [r["run"] for r in others],
            }
        )
    else:
        from rich.table import Table

        table = Table(title="every run", title_justify="left")
        for col in ("run", "params", "steps", "best val", "test", "CPU s", "wall s", "val ≥ 97 % at"):
            table.add_column(col, justify="left" if col == "run" else "right")
        for r in rows:
            reach = (
                "–"
                if r["val_97_step"] is None
                else f"step {r['val_97_step']} · {_secs(r['val_97_cpu_s'] or 0)} CPU-s"
            )
            table.add_row(
                r["run"],
                f"{r['params']:,}",
                str(r["steps"]),
                f"{r['best_val_acc']:.1%}",
                f"{r['test_acc']:.1%}",
                _secs(r["cpu_s"]),
                _secs(r["wall_s"]),
                reach,
            )
        print_table(table)
        in_summary = same_budget(rows)
        swept = any(
            len({r["lr"] for r in in_summary if r["arch"] == arch}) > 1
            for arch in {r["arch"] for r in in_summary}
        )
        # "its best rate" claims a sweep: a report of one rate per architecture says so instead
        title = (
            "each architecture at its best rate (picked on val, seed 0)"
            if swept
            else "each architecture at the one rate it was run at (no rate sweep)"
        )
        table = Table(title=title, title_justify="left")
        # Short headers: the long ones wrapped in two lines at 80 columns.
        for col in ("arch", "lr", "seeds", "test", "CPU s/run", "val ≥ 97 %", "CPU s to 97 %"):
            table.add_column(col, justify="left" if col == "arch" else "right")
        for s in summary:
            table.add_row(
                s["arch"],
                f"{s['lr']:g}",
                str(s["seeds"]),
                spread(s["test_mean"], s["test_sd"], s["seeds"], ".2%"),
                _secs(s["cpu_s_mean"]),
                s["reached_97"],
                "–" if s["cpu_s_to_97"] is None else _secs(s["cpu_s_to_97"]),
            )
        print_table(table)
        from tangstudio.cli.render import console

        note = f"the summary compares runs of {compared}"
        if others:
            named = ", ".join(f"{r['run']} ({r['arch']}, {_differs(r, compared_setting)})" for r in others)
            note += f"; not in it, being of another setting: {named} (a --prefix picks runs of one setting)"
        console.print(f"[dim]{note}[/dim]", highlight=False)
    if png:
        digits_png(rows, png)
        if not as_json:
            print(f"wrote {png}")


def _differs(row: dict, compared: tuple) -> str:
    """What sets a left-out run apart from the compared setting ("600 steps", "2 layers", "cells")."""
    from tangstudio.engine.lab.report import setting

    mine = setting(row)
    steps, hidden, layers, impl = mine
    said = (f"{steps} steps", f"hidden {hidden}", f"{layers} layers", impl)
    return ", ".join(word for word, own, theirs in zip(said, mine, compared) if own != theirs)
