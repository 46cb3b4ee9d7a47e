"""`tangstudio compare`: the architecture study — each cell trained in turn under one budget, one table.

Progress is one Rich bar per architecture in a terminal, plain lines otherwise; the table comes
at the end (or JSON with --json). Ctrl+C stops the run in progress at a checkpoint and the study
there, and still prints what was measured.
"""

from __future__ import annotations

import sys
import time

import typer

from tangstudio.cli.app import app
from tangstudio.engine.models.archs import ARCH_NAMES, is_causal

DEFAULT_MINUTES = 5.0


@app.command()
def compare(
    archs: str = typer.Option(
        ",".join(ARCH_NAMES), "--archs", help="Architectures to compare, comma-separated."
    ),
    minutes: float | None = typer.Option(
        None,
        "--minutes",
        help=f"Training minutes per architecture (wall time, evaluations included). \\[default: {DEFAULT_MINUTES:g}]",
        show_default=False,
    ),
    steps: int | None = typer.Option(
        None, "--steps", help="Training steps per architecture, instead of --minutes.", show_default=False
    ),
    corpus: str = typer.Option("tang", "--corpus", help="The bundled 'tang' or an imported corpus."),
    forms: str = typer.Option("regulated", "--forms", help="all, regulated, or e.g. wujue,qijue."),
    script: str = typer.Option("simplified", "--script", help="simplified or traditional."),
    embed: int = typer.Option(256, "--embed", help="Embedding size."),
    hidden: int = typer.Option(512, "--hidden", help="Hidden units per layer."),
    layers: int = typer.Option(2, "--layers", help="Recurrent layers."),
    dropout: float = typer.Option(0.2, "--dropout", help="Dropout."),
    forget_bias: float = typer.Option(
        0.0, "--forget-bias", help="LSTM/BiLSTM: the forget gate's bias at initialisation (0 = PyTorch's)."
    ),
    lr: float = typer.Option(2e-3, "--lr", help="Peak learning rate (AdamW)."),
    batch_size: int = typer.Option(64, "--batch-size", help="Poems per step."),
    seed: int = typer.Option(0, "--seed", help="Random seed (the same batches for every architecture)."),
    eval_every: int = typer.Option(
        100, "--eval-every", help="Evaluate on the val split every N steps (the curves' resolution)."
    ),
    eval_poems: int | None = typer.Option(
        None,
        "--eval-poems",
        help="Val poems in each periodic evaluation (a fixed subset; 0 = the whole split). \\[default: the engine's]",
        show_default=False,
    ),
    target_loss: float | None = typer.Option(
        None,
        "--target-loss",
        help="Val loss (nats/char) to time each architecture to. \\[default: the worst causal architecture's best]",
        show_default=False,
    ),
    prefix: str | None = typer.Option(
        None, "--prefix", help="Runs are named PREFIX-ARCH. \\[default: study-DATE-TIME]", show_default=False
    ),
    plot: str | None = typer.Option(
        None, "--plot", help="Save the val-loss curves to this PNG.", show_default=False
    ),
    threads: int | None = typer.Option(
        None,
        "--threads",
        help="CPU threads for torch (the same for every architecture). \\[default: torch's choice]",
        show_default=False,
    ),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda or mps."),
    show: str | None = typer.Option(
        None,
        "--show",
        help="Print (and with --plot, draw) the saved study PREFIX again, or several as one table (PREFIX,PREFIX); trains nothing.",
        show_default=False,
    ),
    positions: bool = typer.Option(
        False,
        "--positions",
        help="With --show: also each best checkpoint's val loss by position in the poem.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the study as JSON instead of a table."),
    markdown: bool = typer.Option(
        False, "--markdown", help="With --show: print the tables as Markdown, ready for a document."
    ),
) -> None:
    """Train each architecture under the same data, seed and budget and compare them in one table."""
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.study.compare import default_prefix, parse_archs, plan_study
    from tangstudio.engine.study.plot import check_plot_path, require_matplotlib
    from tangstudio.engine.training.config import TrainConfig

    if show is not None:
        if markdown and as_json:  # the JSON was printed and --markdown dropped without a word (a review)
            raise TangError("--markdown and --json ask for two output formats: give one of them")
        _show(show, plot, as_json, positions, markdown)
        return
    if positions or markdown:
        raise TangError(
            f"--{'positions' if positions else 'markdown'} reads a saved study: add --show PREFIX"
        )

    if minutes is not None and steps is not None:
        raise TangError("give only one of --minutes and --steps")
    if threads is not None and not 1 <= threads <= 256:  # as lab's: 100000 crashed torch (a fuzzing review)
        raise TangError(f"--threads must be between 1 and 256 (got {threads})")
    if minutes is None and steps is None:
        minutes = DEFAULT_MINUTES
    names = parse_archs(archs)
    from tangstudio.engine.corpus.source import existing_corpus_path

    existing_corpus_path(corpus)  # a name, never a path, and one there: refused before a run is written
    base = TrainConfig(
        corpus=corpus,
        forms=forms,
        script=script,
        embed=embed,
        hidden=hidden,
        layers=layers,
        dropout=dropout,
        forget_bias=forget_bias,
        lr=lr,
        batch_size=batch_size,
        seed=seed,
        minutes=minutes,
        steps=steps,
        eval_every=eval_every,
        samples=0,
        device=device,
    )
    if eval_poems is not None:
        base.eval_poems = eval_poems
    base.validate()
    prefix = prefix or default_prefix()
    plan_study(base, names, prefix)  # refuse taken names and bad options before any training
    if plot is not None:
        require_matplotlib()
        check_plot_path(plot)
    if threads is not None:
        from tangstudio.engine.training.device import set_threads

        set_threads(threads)
    study = _run(base, names, prefix, target_loss, quiet=as_json)
    plot_path = None
    if plot is not None and any(a.curve for a in study.archs):
        from tangstudio.engine.study.plot import plot_curves

        plot_path = plot_curves(study, plot)
    if as_json:
        from tangstudio.cli.render import print_json

        print_json({**study.to_dict(), "plot": str(plot_path) if plot_path else None})
    else:
        _print_table(study, plot_path)
    if study.stopped_early:
        _say_how_to_go_on(study, names)
        raise typer.Exit(130)


def _say_how_to_go_on(study, names: list[str]) -> None:
    """After a Ctrl+C, what was kept and what to do: the same command again was refused with only
    "already exists", and compare has no --resume (an engineer's review)."""
    done = [a.arch for a in study.archs if a.status == "finished"]
    stopped = next((a for a in study.archs if a.status != "finished"), None)
    left = [n for n in names if n not in done and (stopped is None or n != stopped.arch)]
    said = f"compare stopped: the study {study.prefix!r} keeps what ran ({', '.join(done) or 'nothing finished'})"
    if stopped is not None:
        said += f"; {stopped.run} stopped with a checkpoint ({stopped.status})"
    if left:
        said += f"; not trained: {', '.join(left)}"
    typer.echo(
        f"{said}. A comparison always trains its runs afresh under one budget: run it again with "
        f"another --prefix (`compare --show {study.prefix}` shows the saved table).",
        err=True,
    )


def _show(prefix: str, plot: str | None, as_json: bool, positions: bool, markdown: bool = False) -> None:
    from tangstudio.engine.study.compare import load_studies
    from tangstudio.engine.study.plot import plot_curves

    study = load_studies(prefix)
    plot_path = plot_curves(study, plot) if plot is not None else None
    by_position = []
    if positions:
        from tangstudio.engine.study.positions import loss_by_position

        by_position = [loss_by_position(a.run) for a in study.archs if a.curve]
    if as_json:
        from tangstudio.cli.render import print_json

        print_json(
            {
                **study.to_dict(),
                "plot": str(plot_path) if plot_path else None,
                **({"positions": by_position} if positions else {}),
            }
        )
        return
    rows = _position_rows(by_position) if by_position else []
    if markdown:
        from tangstudio.engine.study.report import markdown_table, target_line

        print(markdown_table(study) + "\n" + target_line(study))
        if rows:
            print(
                "\n"
                + "\n".join(
                    "| " + " | ".join(row) + " |" for row in [rows[0], ["---"] * len(rows[0]), *rows[1:]]
                )
            )
        return
    _print_table(study, plot_path)
    if rows:
        from rich.table import Table

        from tangstudio.cli.render import print_table

        table = Table(title=POSITIONS_TITLE, title_justify="left")
        for i, label in enumerate(rows[0]):
            table.add_column(label, justify="left" if i == 0 else "right")
        for row in rows[1:-1]:
            table.add_row(*row)
        table.add_row(*rows[-1], style="dim")
        print_table(table)


POSITIONS_TITLE = "val loss (nats/char) by position in the poem, best checkpoints"


def _position_rows(by_position: list[dict]) -> list[list[str]]:
    """Header, one row per architecture, and the token counts last."""
    rows = [["arch", *by_position[0]["labels"]]]
    for row in by_position:
        name = row["arch"] + (" (pseudo)" if row["ppl_kind"] == "pseudo" else "")
        rows.append([name, *["–" if v is None else f"{v:.3f}" for v in row["loss"]]])
    rows.append(["tokens", *[f"{c:,}" for c in by_position[0]["count"]]])
    return rows


def _run(base, names: list[str], prefix: str, target_loss: float | None, quiet: bool):
    import signal

    from tangstudio.engine.study.compare import run_study

    received: list[int] = []

    def on_signal(signum, frame) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    view = _QuietView() if quiet else (_RichView(names) if sys.stdout.isatty() else _PlainView())
    try:
        with view:
            return run_study(
                base, names, prefix, target_loss, on_event=view.on_event, should_stop=lambda: bool(received)
            )
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


class _QuietView:
    def on_event(self, arch: str, event: dict) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


class _PlainView(_QuietView):
    """For logs: one line per evaluation and per finished architecture."""

    def say(self, text: str) -> None:
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}", flush=True)

    def on_event(self, arch: str, event: dict) -> None:
        kind = event.get("event")
        label = " (pseudo)" if event.get("ppl_kind") == "pseudo" or not is_causal(arch) else ""
        if kind == "start":
            self.say(f"{arch}: run {event['run']} · {event['params']:,} params · {event['device']}")
        elif kind == "eval":
            self.say(
                f"{arch}: step {event['step']} val loss {event['val_loss']:.4f}{label} "
                f"ppl {event['val_ppl']:.2f}{label} at {event['elapsed_s']:.0f} s"
            )
        elif kind == "done":
            self.say(f"{arch}: {event['status']} at step {event['step']} after {event['elapsed_s']:.0f} s")


class _RichView(_PlainView):
    def __init__(self, names: list[str]) -> None:
        self.names = names

    def __enter__(self):
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description:>7}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
        )
        self.progress.__enter__()
        self.tasks = {
            n: self.progress.add_task(n, total=1000, info="waiting", start=False) for n in self.names
        }
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def say(self, text: str) -> None:
        self.progress.console.print(text, highlight=False, markup=False)

    def on_event(self, arch: str, event: dict) -> None:
        task = self.tasks[arch]
        kind = event.get("event")
        if kind == "start":
            self.progress.start_task(task)
        elif kind == "progress":
            val = event.get("val_ppl")
            label = "ppl" if is_causal(arch) else "pseudo-ppl"
            info = (
                f"step {event['step']} · loss {event['train_loss'] or 0:.3f} · val {label} "
                f"{'–' if val is None else f'{val:.1f}'} · {event.get('chars_per_s') or 0:,.0f} chars/s"
            )
            self.progress.update(task, completed=1000 * event["fraction"], info=info)
        elif kind == "done":
            self.progress.update(
                task,
                completed=1000 if event["status"] == "finished" else None,
                info=f"{event['status']} at step {event['step']}",
            )
            self.progress.stop_task(task)
        elif kind in ("eval", "start"):
            pass


def _print_table(study, plot_path) -> None:
    from rich.table import Table

    from tangstudio.cli.render import console, print_table
    from tangstudio.engine.study.report import HEADERS, PSEUDO_NOTE, table_rows, target_line

    table = Table(title=f"architecture study {study.prefix}", title_justify="left")
    for name in HEADERS:
        table.add_column(name, justify="left" if name in ("arch", "status") else "right")
    for row in table_rows(study):
        table.add_row(*row)
    print_table(table)
    console.print(target_line(study) + ".", highlight=False)
    if any(not a.causal for a in study.archs):
        console.print(PSEUDO_NOTE, highlight=False)
    if plot_path is not None:
        console.print(f"curves saved to {plot_path}", highlight=False)
    console.print(
        f"runs: {', '.join(a.run for a in study.archs)} (overlay them in the studio)", highlight=False
    )
