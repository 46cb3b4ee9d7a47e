"""The events the trainer emits, as TypedDicts: the documented schema of `metrics.jsonl` (torch-free).

The training loop hands every event to its callbacks (the CLI's views, the studio, tests); rank 0
also appends `train`, `eval`, `checkpoint` and `done` events to `metrics.jsonl`, one JSON object a
line. A logged line always carries every key of `LoggedBase` (null where it does not apply), then
the keys of its kind. `start`, `progress` and `sample` go to callbacks only (samples have their own
file, `samples.jsonl`). Numbers are nats per character for losses and seconds for times; `step` is
the number of optimizer steps done, counted from the run's start across resumes.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

EventName = Literal["start", "train", "progress", "eval", "sample", "checkpoint", "done"]
LOGGED: tuple[str, ...] = ("train", "eval", "checkpoint", "done")  # the kinds in metrics.jsonl


class LoggedBase(TypedDict):
    """Keys of every metrics.jsonl line (METRIC_KEYS), null when they do not apply.

    A trainer builds a line with `event`, `step` and the keys of its kind; its `RunSession` adds
    the others as null, the run's `ppl_kind`, and the writer the `time`. So a line as read has
    every key: NotRequired only says the trainer may leave them to the session.
    """

    event: str
    step: int
    epoch: NotRequired[float | None]  # epochs done, with the share of the current one
    train_loss: NotRequired[float | None]
    val_loss: NotRequired[float | None]
    val_ppl: NotRequired[float | None]  # exp(val_loss); a pseudo-perplexity for the BiLSTM (see ppl_kind)
    lr: NotRequired[float | None]
    chars_per_s: NotRequired[float | None]  # over all processes
    elapsed_s: NotRequired[float | None]  # training time since the run's start, resumes included
    pad_fraction: NotRequired[float | None]  # padding share of the batches since the last train line
    ppl_kind: NotRequired[Literal["causal", "pseudo"]]
    time: NotRequired[str]  # ISO time the line was written (added by MetricsWriter)


# The base keys in the order a line has them (`time` comes last, from the writer).
METRIC_KEYS: tuple[str, ...] = tuple(k for k in LoggedBase.__annotations__ if k != "time")


class TrainEvent(LoggedBase, total=False):
    """Every `log_every` steps: the mean training loss over the steps since the previous one."""

    # How many steps train_loss averages: --log-every, but fewer in the first line after a resume
    # from a checkpoint between two train lines (absent in runs from before it was recorded).
    window_steps: int


class EvalEvent(LoggedBase):
    """Every `eval_every` steps and at the end: the validation split (or its fixed subset)."""

    val_bits_per_char: float
    val_chars: int
    val_poems: int
    # Characters the loss has counted in training so far, on the trainer's own batches (a
    # study's "characters seen"; absent in runs from before it was recorded, 2026-12-07)
    train_chars: NotRequired[int]


class PlannedEvalFields(TypedDict, total=False):
    """Models that read a title and plan: val_loss is counted with neither (comparable with older
    models); these give the same poems with their own title and every keyword."""

    val_loss_planned: float
    val_ppl_planned: float


class PlannedEvalEvent(EvalEvent, PlannedEvalFields):
    """An eval line of a model with a plan."""


class CheckpointEvent(LoggedBase):
    """A checkpoint folder switched in (`best` after an improved eval, `last` with training state)."""

    kind: Literal["best", "last"]
    path: str
    save_s: float  # seconds spent writing it (the --checkpoint-every cost)


class DoneEvent(LoggedBase, total=False):
    """The last line of a session: finished, interrupted (a signal) or failed (`error` says why)."""

    status: Literal["finished", "interrupted", "failed"]
    error: str


class StartEvent(TypedDict):
    """Callbacks only: what is about to train."""

    event: Literal["start"]
    run: str
    path: str
    params: int
    device: str
    bf16: bool
    world: int
    total_steps: int | None
    minutes: float | None
    steps_per_epoch: int
    train_poems: int
    val_poems: int
    dropped: int
    unknown_chars: int | None  # --init-from: train characters outside the source's vocabulary
    vocab_size: int
    resumed_from: int | None  # the step a --resume continues from (0: it had no checkpoint yet)
    ppl_kind: str
    config: dict[str, Any]
    warmup_steps: int  # the warm-up as run: config's warmup, capped at a tenth of a step budget
    budget_met: bool  # a --resume whose budget is already spent: no step, only the final evaluation
    # a --resume that dropped damaged metrics lines: where the file as it was is kept (else None)
    metrics_kept: str | None


class ProgressEvent(TypedDict, total=False):
    """Callbacks only, every step: what a progress bar shows."""

    event: Literal["progress"]
    step: int
    total_steps: int | None
    fraction: float
    epoch: float
    lr: float
    eta_s: float | None
    elapsed_s: float
    val_ppl: float | None
    train_loss: float | None
    chars_per_s: float | None
    pad_fraction: float | None


class SampleEvent(TypedDict):
    """Callbacks only (and one samples.jsonl line): a poem sampled at an evaluation."""

    event: Literal["sample"]
    step: int
    form: str
    text: str
    time: str


EMPTY_SAMPLE = "(nothing: the model ended the poem at once)"


def sample_shown(text: str) -> str:
    """A sample as the faces show it: an early model's empty poem said so, not a blank line."""
    return text if text.strip() else EMPTY_SAMPLE


def duration_text(seconds: float, compact: bool = False) -> str:
    """A time span as both faces show it: `HH:MM:SS`, or with `compact` `M:SS` / `H:MM:SS` (the
    Train pane's narrow column); whole days in front past 24 hours (`104d 07:05:09`) in both. The
    caller says what a missing or infinite span is. `time.gmtime` had wrapped a months-long ETA at
    24 hours and raised OverflowError past the platform's time_t."""
    days, rest = divmod(max(round(seconds), 0), 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}:{minutes:02d}:{secs:02d}"
    if compact:
        return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"
