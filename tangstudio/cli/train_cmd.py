"""`tangstudio train`: open the studio on a training configuration, or train here with --headless.

Headless output: a Rich progress bar in a terminal, plain timestamped lines otherwise (nohup, log
files), nothing with --quiet, metrics as JSON lines with --json. Ctrl+C / SIGTERM / SIGHUP let the
current step finish, write a checkpoint and exit 130 / 143 / 129 with the command that resumes the
run. Output that goes away (a closed terminal: EIO; a pipe's reader gone: EPIPE) is a stop too, never
a failure: the stream is pointed at /dev/null and the run stops as SIGHUP / SIGPIPE would stop it.
"""

from __future__ import annotations

import errno
import math
import os
import sys
import time
from datetime import datetime
from typing import Any

import typer

from tangstudio.cli.app import app


@app.command()
def train(
    ctx: typer.Context,
    headless: bool = typer.Option(
        False, "--headless", help="Train in this terminal instead of opening the studio."
    ),
    arch: str | None = typer.Option(
        None, "--arch", help="rnn, lstm, gru or bilstm. \\[default: lstm]", show_default=False
    ),
    corpus: str | None = typer.Option(
        None,
        "--corpus",
        help="The bundled 'tang' or an imported corpus. \\[default: tang]",
        show_default=False,
    ),
    forms: str | None = typer.Option(
        None,
        "--forms",
        help="all, regulated, or e.g. wujue,qijue. \\[default: regulated]",
        show_default=False,
    ),
    script: str | None = typer.Option(
        None, "--script", help="simplified or traditional. \\[default: simplified]", show_default=False
    ),
    embed: int | None = typer.Option(
        None, "--embed", help="Embedding size. \\[default: 256]", show_default=False
    ),
    hidden: int | None = typer.Option(
        None, "--hidden", help="Hidden units per layer. \\[default: 512]", show_default=False
    ),
    layers: int | None = typer.Option(
        None, "--layers", help="Recurrent layers. \\[default: 2]", show_default=False
    ),
    dropout: float | None = typer.Option(
        None, "--dropout", help="Dropout. \\[default: 0.2]", show_default=False
    ),
    forget_bias: float | None = typer.Option(
        None,
        "--forget-bias",
        help="LSTM/BiLSTM: the forget gate's bias at initialisation (2: f ≈ 0.88, which learnt the lab's long memory; docs/study.md). \\[default: 0, PyTorch's initialisation (f ≈ ½)]",
        show_default=False,
    ),
    tied: bool = typer.Option(False, "--tied", help="Tie the output layer to the embedding."),
    impl: str | None = typer.Option(
        None,
        "--impl",
        help="fused (fast kernels) or cells (the readable cells, slow). \\[default: fused]",
        show_default=False,
    ),
    lr: float | None = typer.Option(
        None, "--lr", help="Peak learning rate (AdamW). \\[default: 2e-3]", show_default=False
    ),
    weight_decay: float | None = typer.Option(
        None, "--weight-decay", help="AdamW weight decay. \\[default: 0.01]", show_default=False
    ),
    batch_size: int | None = typer.Option(
        None,
        "--batch-size",
        help="Poems per step (global, over all processes). \\[default: 64]",
        show_default=False,
    ),
    epochs: int | None = typer.Option(
        None,
        "--epochs",
        help="Train this many passes over the data (default 10 if no budget is given).",
        show_default=False,
    ),
    steps: int | None = typer.Option(None, "--steps", help="Train this many steps.", show_default=False),
    minutes: float | None = typer.Option(
        None,
        "--minutes",
        help="Train for this many minutes of wall time, evaluations included; the final evaluation, "
        "samples and checkpoint come on top (about 10–20 s for a small model on the regulated forms).",
        show_default=False,
    ),
    warmup: int | None = typer.Option(
        None, "--warmup", help="Warm-up steps. \\[default: 200]", show_default=False
    ),
    min_lr_ratio: float | None = typer.Option(
        None, "--min-lr-ratio", help="Cosine floor as a share of --lr. \\[default: 0.1]", show_default=False
    ),
    clip: float | None = typer.Option(
        None, "--clip", help="Gradient-norm clipping. \\[default: 1.0]", show_default=False
    ),
    device: str | None = typer.Option(
        None, "--device", help="auto, cpu, cuda or mps. \\[default: auto]", show_default=False
    ),
    run: str | None = typer.Option(
        None,
        "--run",
        "--run-name",
        help="Run name (folder under <home>/runs); "
        "under torchrun write --run-name (torchrun reads --run as its own --run-path). "
        "\\[default: ARCH-DATE-TIME]",
        show_default=False,
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed. \\[default: 0]", show_default=False),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Continue the run named by --run from its last checkpoint. A budget given with it "
        "(--minutes, --steps, --epochs) is the run's new total, counted from its start.",
    ),
    eval_every: int | None = typer.Option(
        None,
        "--eval-every",
        help="Evaluate (and sample) on the val split every N steps; 0: about 8 times per run, from its "
        "budget. \\[default: 500, or 0 with --minutes]",
        show_default=False,
    ),
    eval_poems: int | None = typer.Option(
        None,
        "--eval-poems",
        help="Evaluate on a fixed sample of this many val poems during training (0 = all; `tangstudio eval` always uses all). \\[default: 500]",
        show_default=False,
    ),
    log_every: int | None = typer.Option(
        None,
        "--log-every",
        help="Log training loss every N steps (metrics.jsonl, --json, the studio). Without a terminal the "
        "plain log prints at most one train line per 10 s, and the last one. \\[default: 20]",
        show_default=False,
    ),
    samples: int | None = typer.Option(
        None, "--samples", help="Poems sampled at each evaluation. \\[default: 3]", show_default=False
    ),
    checkpoint_every: float | None = typer.Option(
        None,
        "--checkpoint-every",
        help="Also write the last checkpoint after this many minutes, whichever of this and "
        "--eval-every comes first. \\[default: 2]",
        show_default=False,
    ),
    max_len: int | None = typer.Option(
        None,
        "--max-len",
        help="Leave out train poems longer than this many tokens. \\[default: 256]",
        show_default=False,
    ),
    mask_min: float | None = typer.Option(
        None,
        "--mask-min",
        help="BiLSTM: least share of masked characters. \\[default: 0.15]",
        show_default=False,
    ),
    mask_max: float | None = typer.Option(
        None,
        "--mask-max",
        help="BiLSTM: largest share of masked characters. \\[default: 0.30]",
        show_default=False,
    ),
    dropout_in: float | None = typer.Option(
        None,
        "--dropout-in",
        help="AWD-LSTM: locked dropout on the embeddings (one mask per poem). \\[default: 0]",
        show_default=False,
    ),
    weight_drop: float | None = typer.Option(
        None,
        "--weight-drop",
        help="AWD-LSTM: DropConnect on the hidden-to-hidden weights. \\[default: 0]",
        show_default=False,
    ),
    embed_dropout: float | None = typer.Option(
        None,
        "--embed-dropout",
        help="AWD-LSTM: drop whole characters from the embedding. \\[default: 0]",
        show_default=False,
    ),
    locked: bool = typer.Option(
        False, "--locked", help="AWD-LSTM: output dropout with one mask per poem instead of per step."
    ),
    init_from: str | None = typer.Option(
        None,
        "--init-from",
        help="Start from this model's weights and vocabulary (`default`, a run, or a checkpoint folder); "
        "its shape and script are taken over. Characters outside its vocabulary become <unk>.",
        show_default=False,
    ),
    author: str | None = typer.Option(
        None,
        "--author",
        help="Train on one poet's poems (e.g. 白居易); the splits stay the same md5 buckets.",
        show_default=False,
    ),
    plan: bool | None = typer.Option(
        None,
        "--plan/--no-plan",
        help="Causal models read each poem's title and one keyword per line. \\[default: on]",
        show_default=False,
    ),
    title_drop: float | None = typer.Option(
        None,
        "--title-drop",
        help="Share of poems trained without their title. \\[default: 0.4]",
        show_default=False,
    ),
    plan_drop: float | None = typer.Option(
        None,
        "--plan-drop",
        help="Share of poems trained without any keyword. \\[default: 0.35]",
        show_default=False,
    ),
    keyword_drop: float | None = typer.Option(
        None,
        "--keyword-drop",
        help="Share of the other poems' line keywords left out. \\[default: 0.2]",
        show_default=False,
    ),
    budget_len: int | None = typer.Option(
        None,
        "--budget-len",
        help="Token budget per batch, as a poem length: a batch holds at most batch-size × this many "
        "token slots, so batches of long poems hold fewer poems and cost what short ones do in time and "
        "memory. 0: always batch-size poems. \\[default: 96]",
        show_default=False,
    ),
    loss_chunk: int | None = typer.Option(
        None,
        "--loss-chunk",
        help="Compute the output layer and its loss only where a character is scored, this many "
        "positions at a time, never holding the whole batch's logits. 0: the plain full-logits path. "
        "\\[default: 4096]",
        show_default=False,
    ),
    head_bf16: str | None = typer.Option(
        None,
        "--head-bf16",
        help="Output layer matmuls in bf16 (softmax and loss stay fp32): auto (where the CPU has "
        "avx512_bf16/AMX or on CUDA), on, off. Needs --loss-chunk above 0. \\[default: auto]",
        show_default=False,
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors and the resume hint."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics events as JSON lines on stdout."),
) -> None:
    """Train a model on the poems. Without --headless, opens the studio's Train pane and starts the run there, to be watched."""
    options = {k: v for k, v in locals().items() if k not in ("ctx", "headless", "quiet", "as_json")}
    from tangstudio.cli.options import given_options
    from tangstudio.engine.training.config import TrainConfig

    given = given_options(ctx) - {"headless", "quiet", "as_json"}
    if quiet and as_json:
        from tangstudio.engine.errors import TangError

        raise TangError(
            "--quiet and --json together: --json prints the metrics as JSON lines, --quiet nothing; choose one"
        )
    if resume and run is None:
        from tangstudio.engine.errors import TangError

        raise TangError("--resume needs --run NAME: the run to continue (see `tangstudio runs list`)")
    if "minutes" in given and "eval_every" not in given and not resume:
        # A time budget says nothing of the step count: 500 steps may never come in a short run.
        options["eval_every"] = 0
        given.add("eval_every")
    if corpus is not None:  # a corpus name, never a path: refused before the run's folder is made
        from tangstudio.engine.corpus.source import existing_corpus_path

        existing_corpus_path(corpus)
    config = TrainConfig(**{k: options[k] for k in given})
    config.validate()
    if not headless:
        # A run name taken, nothing to resume, an unknown poet or source: refused here as headless
        # refuses them, not by a studio that renamed the run r1-2 and started it (an engineer's review).
        refuse_early(config, given)
        if not sys.stdout.isatty():
            from tangstudio.engine.errors import TangError

            raise TangError(
                "without --headless, `tangstudio train` opens the studio, which needs a terminal; "
                "add --headless to train here"
            )
        from tangstudio.cli.launch import launch_studio

        # Only what the user gave (and the run's name): a resumed run keeps its stored options,
        # and the child refuses any option that differs from them.
        launch_studio(pane="train", train_config={**{k: options[k] for k in given}, "run": config.run})
        return
    refuse_early(config, given)
    raise typer.Exit(run_headless(config, given, quiet=quiet, as_json=as_json))


def refuse_early(config, given: set[str]) -> None:
    """What the trainer would refuse only after torch loads (seconds), said at once: an unknown
    --init-from model, an unknown poet, a run name taken or nothing to resume (session.preflight)."""
    script = config.script
    if config.init_from:
        from tangstudio.engine.compose.refs import resolve_model
        from tangstudio.engine.runs.checkpoint import read_meta

        # A fine-tune writes in its source's script; a source that is no poem model is refused later.
        script = read_meta(resolve_model(config.init_from)).get("script") or script
    if config.author and not config.resume:  # after the corpus loads, which training needs anyway
        from tangstudio.engine.corpus.selection import check_selection

        check_selection(config.corpus, script, config.forms, config.author)
    if config.run and os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 alone claims the run
        from tangstudio.engine.runs.session import preflight

        preflight(config, given)


def run_headless(config, given: set[str], quiet: bool = False, as_json: bool = False) -> int:
    """Train with signal handling (cli/stopping.py) and the chosen rendering; returns the exit code."""
    from tangstudio.cli.stopping import Guarded, StopSignals, tell
    from tangstudio.engine.training.memory import tame_cpu_memory

    # The handlers go in before torch and the corpus load (seconds): a stop asked while the trainer
    # starts is kept, not lost — a process started with SIGINT ignored (a background job, a test
    # worker) would otherwise drop it until now.
    with StopSignals() as stop:
        tame_cpu_memory(config.forms)  # before torch is imported: its caches read the environment once
        from tangstudio.engine.training import train as train_engine

        view = Guarded(make_view(quiet=quiet, as_json=as_json), stop.ask)
        try:
            with view:
                result = train_engine(
                    config, callbacks=view.on_event, should_stop=stop.requested, given=given
                )
        except KeyboardInterrupt:  # a second Ctrl+C: stopped at once; the previous checkpoint is whole
            from tangstudio.engine.training.loop import next_move

            # what is true of the run: during the data load there is no folder to resume (a
            # reliability review: the advised --resume answered "unknown run")
            tell(f"stopped at once by a second interrupt, without a new checkpoint; {next_move(config)}")
            return 130
    if result.status == "interrupted":
        code = stop.exit_code()
        if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 speaks for the job
            tell(
                f"stopped at step {result.step}; checkpoint saved in {result.path / 'checkpoints' / 'last'}\n"
                f"resume with: {result.resume_command}"
            )
        return code
    return 0


# ---- rendering the engine's events -------------------------------------------------------------

METRIC_EVENTS = ("train", "eval", "checkpoint", "done")
PLAIN_EVERY_S = 10.0


def eta_text(seconds: float) -> str:
    """Time left as `HH:MM:SS`, days in front past 24 hours; "–" for no finite figure."""
    from tangstudio.engine.runs.events import duration_text

    return duration_text(seconds) if math.isfinite(seconds) else "–"


def _ppl_label(kind: str | None) -> str:
    return "pseudo-ppl" if kind == "pseudo" else "ppl"


def _fmt(value, spec: str, missing: str = "–") -> str:
    return missing if value is None else format(value, spec)


class QuietView:
    def on_event(self, event: dict) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


class JsonView(QuietView):
    def on_event(self, event: dict) -> None:
        if event.get("event") in METRIC_EVENTS:
            from tangstudio.cli.render import print_json_line

            print_json_line(event)


class PlainView(QuietView):
    """Timestamped lines for logs: every eval/best checkpoint/done, train lines at most every 10 s
    (a log of a long run stays readable whatever --log-every is) and the last one before `done`,
    so a short run's log shows its train loss too."""

    def __init__(self) -> None:
        self.last_train = 0.0
        self.kind = "causal"
        self.unsaid_train: dict | None = None  # the latest train line the 10 s limit held back

    def say(self, text: str) -> None:
        print(f"{datetime.now().strftime('%Y-%m-%d %H:%M:%S')} {text}", flush=True)

    def on_event(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "start":
            self.kind = event["ppl_kind"]
            budget = _budget(event)
            resumed = (
                f", resuming at step {event['resumed_from']}" if event.get("resumed_from") is not None else ""
            )
            config = event["config"]
            # the script said: a traditional corpus trained without --script wrote simplified (a scholar)
            self.say(
                f"run {event['run']} · {config['arch']} · {event['params']:,} params · {config.get('corpus')} in "
                f"{config.get('script')} · {event['device']} · {event['world']} process(es) · {budget}{resumed}"
                f" · {event['path']}"
            )
            if event.get("metrics_kept"):  # the damaged lines a resume dropped went without a word (a review)
                self.say(
                    f"metrics.jsonl had damaged lines, dropped; the file as it was is kept as {event['metrics_kept']}"
                )
            if event.get("unknown_chars"):
                self.say(
                    f"{event['unknown_chars']:,} train characters are outside the vocabulary of "
                    f"--init-from {event['config']['init_from']} and are read as <unk>"
                )
            for note in start_notes(event):
                self.say(note)
        elif kind == "progress" and time.monotonic() - self.last_train >= 3 * PLAIN_EVERY_S:
            self.last_train = time.monotonic()  # slow steps: still say something every 30 s
            total = event.get("total_steps")
            eta = event.get("eta_s")
            self.say(
                f"step {event['step']}"
                + (f"/{total}" if total else "")
                + f" ({event['fraction']:.0%})"
                + ("" if eta is None else f", ETA {eta_text(eta)}")
            )
        elif kind == "train":
            if time.monotonic() - self.last_train >= PLAIN_EVERY_S:
                self._say_train(event)
            else:
                self.unsaid_train = event
        elif kind == "eval":
            self._say_unsaid_train()  # the train loss beside the val loss, in step order
            self.say(
                f"eval step {event['step']}: val loss {event['val_loss']:.4f} nats/char, "
                f"{event['val_bits_per_char']:.3f} bits/char, {_ppl_label(self.kind)} {event['val_ppl']:.2f}"
            )
        elif kind == "sample":
            from tangstudio.engine.runs.events import sample_shown

            self.say(f"sample ({event['form']}): {sample_shown(event['text'])}")
        elif kind == "checkpoint" and event.get("kind") == "best":
            self.say(f"best checkpoint at step {event['step']} → {event['path']}")
        elif kind == "done":
            self._say_unsaid_train()
            self.say(
                f"{event['status']} at step {event['step']} after {_fmt(event.get('elapsed_s'), '.0f')} s of training; "
                f"best val {_ppl_label(self.kind)} {_fmt(event.get('val_ppl'), '.2f')}"
            )

    def _say_unsaid_train(self) -> None:
        if self.unsaid_train is not None:
            self._say_train(self.unsaid_train)

    def _say_train(self, event: dict) -> None:
        self.last_train = time.monotonic()
        self.unsaid_train = None
        self.say(
            f"step {event['step']} epoch {event['epoch']:.2f} loss {event['train_loss']:.4f} lr {event['lr']:.2e} "
            f"{event['chars_per_s']:,.0f} chars/s pad {event['pad_fraction']:.1%}"
        )


def _budget(start: dict) -> str:
    """The run's budget as the start line says it: its steps (--epochs are counted in steps), or
    its minutes."""
    return f"{start['total_steps']} steps" if start.get("total_steps") else f"{start['minutes']:g} min"


def start_notes(start: dict) -> list[str]:
    """What the start line cannot say: a warm-up shorter than asked (runs show gives both), a resume
    with nothing left to train."""
    notes = []
    config, steps = start["config"], start.get("total_steps")
    asked, warm = config.get("warmup"), start.get("warmup_steps")
    warmed = (start.get("resumed_from") or 0) >= (warm or 0) > 0  # a resume past the warm-up: old news
    if start.get("budget_met"):
        at = start.get("resumed_from")
        notes.append(
            f"run {start['run']} is at step {at}: its budget of {_budget(start)} is already spent, so nothing is "
            "trained; give a larger --steps, --minutes or --epochs (the run's new total) to train on"
        )
    elif steps and isinstance(asked, int) and isinstance(warm, int) and warm < asked and not warmed:
        notes.append(
            f"warm-up: {warm} step{'s' if warm != 1 else ''}, not {asked}: "
            f"it takes at most a tenth of the {steps}-step budget"
        )
    return notes


REDRAW_S = 0.25  # the progress bar is redrawn at most this often


class RichView(PlainView):
    """A live progress bar with step, loss, val perplexity, chars/s and ETA; events print above it.
    It stops at `done`, showing the run's last state, so the final lines come after it."""

    def __init__(self, console: Any = None) -> None:
        super().__init__()
        self.console = console  # a Rich Console (tests record one); None: Rich's own, on stdout

    def __enter__(self):
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TextColumn("ETA {task.fields[eta]}"),
            transient=False,
            console=self.console,
            # Drawn from the training thread only (`_show`), never from Rich's refresh thread: a
            # write to a closed terminal must fail where Guarded sees it, at once. Drawn from a
            # thread of its own, the EIO killed that thread and the run went on blind to it.
            auto_refresh=False,
        )
        self.drawn_at = 0.0
        self.was_terminal = self.progress.console.is_terminal
        self.progress.__enter__()
        self.task = self.progress.add_task("training", total=1000, info="", eta="–")
        self.val_ppl: float | None = None
        self.last_progress: dict | None = None
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def say(self, text: str) -> None:
        self.progress.console.print(text, highlight=False, markup=False)

    def _show(self, event: dict, now: bool = False) -> None:
        eta = event.get("eta_s")
        shown_eta = "–" if eta is None else eta_text(eta)
        total = event.get("total_steps")
        step = f"step {event['step']}" + (f"/{total}" if total else "")
        info = (
            f"{step} · loss {_fmt(event.get('train_loss'), '.3f')} · val {_ppl_label(self.kind)} "
            f"{_fmt(self.val_ppl, '.1f')} · {_fmt(event.get('chars_per_s'), ',.0f')} chars/s"
        )
        self.progress.update(self.task, completed=1000 * event["fraction"], info=info, eta=shown_eta)
        if now or time.monotonic() - self.drawn_at >= REDRAW_S:
            self.drawn_at = time.monotonic()
            if self.was_terminal and not self.progress.console.is_terminal:
                # A hung-up terminal is no terminal (isatty's ioctl fails with EIO), so Rich stops
                # drawing to it and nothing would ever write and fail: say what happened.
                raise OSError(errno.EIO, "the terminal went away")
            self.progress.refresh()

    def on_event(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "progress":
            self.last_progress = event
            if event.get("val_ppl") is not None:
                self.val_ppl = event["val_ppl"]
            self._show(event)
            return
        if kind == "eval" and event.get("val_ppl") is not None:
            # The final evaluation comes after the last progress event: without this the bar ended on "–".
            self.val_ppl = event["val_ppl"]
            if self.last_progress is not None:
                self._show(self.last_progress)
        if kind == "done":
            self._finish(event)
        if kind == "train":
            return  # the bar shows it
        if event.get("event") == "start":
            self.progress.update(self.task, description=event["run"])
        super().on_event(event)

    def _finish(self, done: dict) -> None:
        """Show the run's last state and stop the bar before the final lines: redrawn under them, it
        read as stale (the values from before the final evaluation or the stop)."""
        if self.val_ppl is None:  # no evaluation this session: the best one, from the done line
            self.val_ppl = done.get("val_ppl")
        if self.last_progress is not None:
            final = {**self.last_progress, "step": done["step"]}
            if done.get("train_loss") is not None:
                final["train_loss"] = done["train_loss"]
            final["eta_s"] = None  # nothing left to wait for
            self._show(final, now=True)
        self.progress.stop()


def make_view(quiet: bool, as_json: bool):
    if as_json:
        return JsonView()
    if quiet:
        return QuietView()
    return RichView() if sys.stdout.isatty() else PlainView()
