"""Train each architecture in turn under one budget, then line the runs up.

Fairness: every run gets the same corpus, forms, script, sizes, optimiser, seed and budget. What
differs is the recurrent cell, and with it what a run reads: a causal run reads each poem's title
and keywords (`--plan`), the BiLSTM does not, so their batches, planned by length under a token
budget, are not the very same (an RNN student's review); each curve is drawn against the
characters its own run trained on.

What is measured, and why it is measured this way:
- chars/s: the median of the engine's train events. The engine's window after an evaluation
  also contains the evaluation's time, so the median (not the mean) is the honest rate.
- training time: the engine's elapsed time minus the time spent evaluating and checkpointing
  (measured here, between the train event that precedes an evaluation and the next progress
  event). A `--minutes` budget is wall time, evaluations included, as in `tangstudio train`.
- characters seen: the trainer's own count (`train_chars` in each eval line), so the curves can
  be compared per character read, which a busy shared machine cannot distort.
- time to target: the first evaluation at or below the target loss; its resolution is the
  evaluation interval. The BiLSTM's loss is a pseudo-loss (each character predicted from both
  sides), not comparable with a causal loss, so it is never held to a causal target.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tangstudio.engine import paths
from tangstudio.engine.atomic import write_text_atomic
from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import ARCH_NAMES, pairs_state
from tangstudio.engine.training.config import TrainConfig

if TYPE_CHECKING:
    from tangstudio.engine.training.loop import RunResult

TARGET_RULE_GIVEN = "given with --target-loss"
TARGET_RULE_WORST = "the worst causal architecture's best val loss, so every causal architecture reaches it"


@dataclass
class EvalPoint:
    step: int
    elapsed_s: float  # wall time of the run when the evaluation started (evaluations before it included)
    train_s: float  # the same, less the time earlier evaluations and checkpoints took
    chars: int  # characters (targets) the model has trained on
    val_loss: float
    val_ppl: float


@dataclass
class ArchResult:
    arch: str
    run: str
    path: str
    params: int | None
    status: str
    steps: int
    epochs: float
    elapsed_s: float
    train_s: float
    chars_seen: int
    chars_per_s: float | None  # median of the train events
    best_val_loss: float | None
    best_val_ppl: float | None
    ppl_kind: str  # causal | pseudo
    curve: list[EvalPoint] = field(default_factory=list)
    target_step: int | None = None
    target_train_s: float | None = None
    target_chars: int | None = None
    load_avg: list[float] | None = None  # the machine's 1-minute load before and after the run (shared CPUs)

    @property
    def causal(self) -> bool:
        return self.ppl_kind == "causal"


@dataclass
class StudyResult:
    prefix: str
    archs: list[ArchResult]
    target_loss: float | None
    target_rule: str
    config: dict[str, Any]  # the shared training options (arch and run name vary)
    started: str
    stopped_early: bool = False

    def get(self, arch: str) -> ArchResult | None:
        return next((a for a in self.archs if a.arch == arch), None)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudyResult:
        archs = [ArchResult(**{**a, "curve": [EvalPoint(**p) for p in a["curve"]]}) for a in data["archs"]]
        return cls(**{**data, "archs": archs})


def parse_archs(text: str | list[str]) -> list[str]:
    """'rnn,lstm' → ['rnn', 'lstm']; refuses unknown names, repeats and an empty list."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n]
    if not names:
        raise TangError(f"--archs is empty; choose from {', '.join(ARCH_NAMES)}")
    for name in names:
        if name not in ARCH_NAMES:
            raise TangError(f"unknown architecture {name!r} in --archs; choose from {', '.join(ARCH_NAMES)}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise TangError(f"--archs names {repeated[0]!r} twice")
    return names


def default_prefix() -> str:
    return f"study-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


def study_path(prefix: str) -> Path:
    """Where the study's summary (this module's StudyResult as JSON) is kept in the home."""
    return paths.home() / "studies" / f"{prefix}.json"


def plan_study(base: TrainConfig, archs: list[str], prefix: str) -> list[TrainConfig]:
    """One validated config per architecture; refuses before training anything if a name is taken."""
    from tangstudio.engine.runs.rundir import check_name, run_path

    if base.resume:
        raise TangError("a comparison always starts new runs; --resume does not apply")
    if base.epochs is None and base.steps is None and base.minutes is None:
        raise TangError("give the comparison a budget: --minutes or --steps per architecture")
    check_name(prefix)
    if study_path(prefix).exists():
        raise TangError(
            f"a study named {prefix!r} already exists ({study_path(prefix)}); choose another --prefix"
        )
    eval_every = base.eval_every
    log_every = math.gcd(
        eval_every, base.log_every
    )  # every evaluation follows a train event (see module doc)
    configs = []
    chosen = parse_archs(archs)
    gated = [arch for arch in chosen if pairs_state(arch)]
    if base.forget_bias and not gated:
        raise TangError("--forget-bias sets the LSTM's forget gate; none of these architectures has one")
    for arch in chosen:
        name = check_name(f"{prefix}-{arch}")
        if run_path(name).exists():
            raise TangError(f"run {name!r} already exists; choose another --prefix")
        # The forget bias is the LSTM's and BiLSTM's; the RNN and GRU beside them train without it.
        forget_bias = base.forget_bias if arch in gated else 0.0
        configs.append(
            dataclasses.replace(
                base, arch=arch, run=name, log_every=log_every, forget_bias=forget_bias
            ).validate()
        )
    return configs


def cumulative_chars(
    lengths: list[int], batch_size: int, seed: int, steps: int, tokens: int = 0
) -> list[int]:
    """cum[s] = characters trained on after s steps under the trainer's batch plan (`epoch_plan`,
    with the token budget `tokens`), for sequences of these lengths. A study reads the trainer's
    own count instead (`train_chars` in each eval line); this stands in for runs from before it."""
    from tangstudio.engine.training.batching import epoch_plan

    cum, epoch = [0], 0
    while len(cum) <= steps:
        plan = epoch_plan(lengths, batch_size, tokens, seed, epoch, 1)
        if not plan:
            break
        for batch in plan:
            cum.append(cum[-1] + sum(lengths[i] - 1 for i in batch))
            if len(cum) > steps:
                break
        epoch += 1
    return cum


class _Recorder:
    """Listens to one run's events: keeps train rates and evaluations, times the evaluation overhead."""

    def __init__(self) -> None:
        self.start: dict[str, Any] = {}
        self.rates: list[float] = []
        self.evals: list[dict[str, Any]] = []
        self.overhead_s = 0.0
        self._logged_at: tuple[int, float] | None = None
        self._eval_step: int | None = None

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        now = time.monotonic()
        if kind == "start":
            self.start = event
        elif kind == "train":
            if event.get("chars_per_s"):
                self.rates.append(float(event["chars_per_s"]))
            self._logged_at = (event["step"], now)
        elif kind == "eval":
            self.evals.append({**event, "overhead_before": self.overhead_s})
            self._eval_step = event["step"]
        elif kind == "progress":
            if self._eval_step == event["step"] and self._logged_at and self._logged_at[0] == event["step"]:
                self.overhead_s += now - self._logged_at[1]
            self._eval_step = None


def _summarize(config: TrainConfig, result: RunResult, recorder: _Recorder, lengths: list[int]) -> ArchResult:
    @functools.cache
    def rebuilt() -> list[int]:  # only for an eval line without the trainer's count
        return cumulative_chars(lengths, config.batch_size, config.seed, result.step, config.batch_tokens)

    def chars_at(event: dict[str, Any]) -> int:
        """The trainer's own count: its batches are planned on each run's lengths (a causal run's
        include its title and keywords) under a token budget, which the rebuilt count only
        approximates (an RNN student's review: 320,000 said, 317,525 trained)."""
        told = event.get("train_chars")
        if isinstance(told, int):
            return told
        cum = rebuilt()
        return cum[min(int(event["step"]), len(cum) - 1)]

    curve = [
        EvalPoint(
            step=e["step"],
            elapsed_s=e["elapsed_s"],
            train_s=e["elapsed_s"] - e["overhead_before"],
            chars=chars_at(e),
            val_loss=e["val_loss"],
            val_ppl=e["val_ppl"],
        )
        for e in recorder.evals
    ]
    best = min(curve, key=lambda p: p.val_loss, default=None)
    return ArchResult(
        arch=config.arch,
        run=str(config.run),  # set by TrainConfig.__post_init__
        path=str(result.path),
        params=recorder.start.get("params"),
        status=result.status,
        steps=result.step,
        epochs=result.epoch,
        elapsed_s=result.elapsed_s,
        train_s=result.elapsed_s - recorder.overhead_s,
        chars_seen=chars_at(
            next((e for e in reversed(recorder.evals) if e["step"] == result.step), {"step": result.step})
        ),
        chars_per_s=statistics.median(recorder.rates) if recorder.rates else None,
        best_val_loss=best.val_loss if best else None,
        best_val_ppl=best.val_ppl if best else None,
        ppl_kind=config.ppl_kind,
        curve=curve,
    )


def apply_target(archs: list[ArchResult], target: float | None) -> tuple[float | None, str]:
    """Fill in time/characters to reach the target loss; without one, use the worst causal best.

    A causal target is never applied to a pseudo-loss (nor the other way round): the BiLSTM only
    gets a time-to-target in a study of BiLSTMs alone.
    """
    causal = [a for a in archs if a.causal and a.best_val_loss is not None]
    pool = causal or [a for a in archs if a.best_val_loss is not None]
    rule = TARGET_RULE_GIVEN
    if target is None:
        if not pool:
            return None, "no evaluation finished"
        target = max(a.best_val_loss or 0.0 for a in pool)  # never None in the pool
        rule = TARGET_RULE_WORST
        # an architecture stopped before its first evaluation does not reach it: "every causal
        # architecture reaches it" sat under its "not reached" (an engineer's review)
        unevaluated = [a.arch for a in archs if a.causal and a.best_val_loss is None]
        if causal and unevaluated:
            rule = rule.replace(
                "every causal architecture reaches it",
                f"every causal architecture evaluated reaches it ({', '.join(unevaluated)}: no evaluation)",
            )
    for arch in pool:
        hit = next((p for p in arch.curve if p.val_loss <= target + 1e-12), None)
        if hit is not None:
            arch.target_step, arch.target_train_s, arch.target_chars = hit.step, hit.train_s, hit.chars
    return target, rule


def run_study(
    base: TrainConfig,
    archs: list[str],
    prefix: str | None = None,
    target_loss: float | None = None,
    on_event: Callable[[str, dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> StudyResult:
    """Train `archs` one after the other with `base`'s options; `on_event(arch, event)` sees every event.

    If a run is interrupted (should_stop), the study stops there and summarises what it has.
    The summary is also written to `study_path(prefix)`.
    """
    from tangstudio.engine.training import train
    from tangstudio.engine.training.data import load_training_data

    if target_loss is not None and not (target_loss > 0 and math.isfinite(target_loss)):
        raise TangError(f"--target-loss must be a positive number of nats per character (got {target_loss})")
    prefix = prefix or default_prefix()
    configs = plan_study(base, parse_archs(archs), prefix)
    first = configs[0]
    data = load_training_data(
        first.corpus, first.script, first.forms, first.max_len
    )  # errors before any run starts
    lengths = [len(s) for s in data.train]
    started = datetime.now().isoformat(timespec="seconds")
    results: list[ArchResult] = []
    stopped = False
    for config in configs:
        recorder = _Recorder()
        callbacks: list[Callable[[dict[str, Any]], None]] = [recorder.on_event]
        if on_event is not None:
            callbacks.append(functools.partial(on_event, config.arch))
        load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        result = train(config, callbacks=callbacks, should_stop=should_stop, given=None)
        results.append(_summarize(config, result, recorder, lengths))
        if load_before is not None:
            results[-1].load_avg = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        if result.status != "finished":
            stopped = True
            break
    target, rule = apply_target(results, target_loss)
    shared = {k: v for k, v in first.to_dict().items() if k not in ("arch", "run")}
    study = StudyResult(
        prefix=prefix,
        archs=results,
        target_loss=target,
        target_rule=rule,
        config=shared,
        started=started,
        stopped_early=stopped,
    )
    write_text_atomic(study_path(prefix), json.dumps(study.to_dict(), ensure_ascii=False, indent=2) + "\n")
    return study


def load_studies(prefixes: str | list[str]) -> StudyResult:
    """One saved study, or several ('a,b') shown as one: e.g. architectures trained as separate
    studies side by side. They must share every training option both record; the target is
    worked out again over the whole set."""
    names = [p.strip() for p in (prefixes.split(",") if isinstance(prefixes, str) else prefixes) if p.strip()]
    if not names:
        raise TangError("--show needs a study name")
    studies = [load_study(name) for name in names]
    if len(studies) == 1:
        return studies[0]
    first = studies[0]
    archs: list[ArchResult] = []
    for study in studies:
        common = sorted((set(first.config) & set(study.config)) - {"device"})
        differ = [k for k in common if first.config[k] != study.config[k]]
        if differ:
            raise TangError(
                f"studies {first.prefix!r} and {study.prefix!r} differ in {differ[0]} "
                f"({first.config[differ[0]]!r} vs {study.config[differ[0]]!r}); they cannot share a table"
            )
        for arch in study.archs:
            if any(a.arch == arch.arch for a in archs):
                raise TangError(
                    f"architecture {arch.arch!r} is in more than one of the studies {', '.join(names)}"
                )
            archs.append(dataclasses.replace(arch, target_step=None, target_train_s=None, target_chars=None))
    archs.sort(key=lambda a: ARCH_NAMES.index(a.arch))
    given = first.target_loss if first.target_rule == TARGET_RULE_GIVEN else None
    target, rule = apply_target(archs, given)
    return StudyResult(
        prefix="+".join(names),
        archs=archs,
        target_loss=target,
        target_rule=rule,
        config=first.config,
        started=min(s.started for s in studies),
        stopped_early=any(s.stopped_early for s in studies),
    )


def load_study(prefix: str) -> StudyResult:
    path = study_path(prefix)
    if not path.is_file():
        raise TangError(f"no study named {prefix!r} (no {path})")
    try:
        return StudyResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError, KeyError) as exc:
        raise TangError(f"study file {path} is damaged ({exc})") from None
