"""The training loop: length-bucketed batches, AdamW with warm-up + cosine, clipping, periodic
evaluation, best/last checkpoints, exact resume, and DDP when started by torchrun.

Progress leaves through one callback (a dict per event) so the CLI, the studio and tests render it
as they like; rank 0 also appends every train/eval/checkpoint/done event to metrics.jsonl.
Inside the step loop nothing waits on the device except at logging steps (loss.item() and the
cross-rank sums), which keeps a GPU busy.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import torch

from tangstudio.engine import paths
from tangstudio.engine.atomic import fault_point, remove_leftovers
from tangstudio.engine.corpus.forms import parse_forms
from tangstudio.engine.corpus.vocab import Vocab
from tangstudio.engine.errors import TangError
from tangstudio.engine.forms import NAMES as FORM_NAMES
from tangstudio.engine.models.archs import is_causal
from tangstudio.engine.runs import checkpoint as ckpt
from tangstudio.engine.runs.config import write_config
from tangstudio.engine.runs.lock import RunLock
from tangstudio.engine.runs.metrics import MetricsWriter, now_iso, trim_after
from tangstudio.engine.runs.rundir import RunDir, run_path
from tangstudio.engine.training import distributed as D
from tangstudio.engine.training import state as S
from tangstudio.engine.training.batching import (
    Batch,
    causal_batch,
    masked_batch,
    plan_epoch,
    planned_batch,
    shard,
)
from tangstudio.engine.training.cadence import AUTO, Cadence
from tangstudio.engine.training.config import TrainConfig
from tangstudio.engine.training.data import load_training_data
from tangstudio.engine.training.device import resolve_device, uses_bf16
from tangstudio.engine.training.evaluate import evaluate
from tangstudio.engine.training.init_from import adopt, read_source, run_vocab, transplant, unknown_share
from tangstudio.engine.training.plan_data import PlanDrops, draw
from tangstudio.engine.training.sample import sample_poems
from tangstudio.engine.training.schedule import lr_at, warmup_steps
from tangstudio.engine.training.step import make_optimizer, train_step

Callback = Callable[[dict], None]
METRIC_KEYS = (
    "event",
    "step",
    "epoch",
    "train_loss",
    "val_loss",
    "val_ppl",
    "lr",
    "chars_per_s",
    "elapsed_s",
    "pad_fraction",
    "ppl_kind",
)


@dataclass
class RunResult:
    name: str
    path: Path
    status: str  # finished | interrupted | failed
    step: int
    epoch: float
    best_val_loss: float | None
    best_val_ppl: float | None
    ppl_kind: str
    elapsed_s: float
    resume_command: str

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "path": str(self.path)}


@dataclass
class Counters:
    """Where the loop stands; kept live so a failure is logged at the step it happened."""

    step: int = 0
    epoch: int = 0
    batch_pos: int = 0
    elapsed_s: float = 0.0
    best_val_loss: float | None = None
    best_val_ppl: float | None = None


@dataclass
class _Window:
    """What the steps since the last `train` line add up to (the loss stays on the device)."""

    nats: torch.Tensor
    t: float
    chars: int = 0
    slots: int = 0
    real: int = 0
    steps: int = 0  # fewer than --log-every in the first window after a mid-window resume

    def add(self, nats: torch.Tensor, batch: Batch) -> None:
        self.steps += 1
        self.nats += nats.detach()
        self.chars += batch.chars
        self.slots += batch.slots
        self.real += batch.real_slots


@dataclass
class _Stops:
    """The loop's decisions after a step, agreed between ranks."""

    stop: bool = False  # asked to stop (a signal, the studio): checkpoint and leave
    time_up: bool = False  # the --minutes budget is spent
    save_due: bool = False  # --checkpoint-every has passed since the last `last/`
    eval_due: bool = False  # the automatic cadence (--eval-every 0) wants an evaluation


def resume_command(name: str) -> str:
    """The command that continues run `name`, with --home when the home is not the platform default."""
    home = os.environ.get("TANGSTUDIO_HOME")
    where = f"--home {shlex.quote(str(paths.home()))} " if home else ""
    return f"tangstudio {where}train --headless --run {shlex.quote(name)} --resume"


def _diverged(step: int, what: str, value: float, saved: int | None) -> TangError:
    kept = f"the last checkpoint (step {saved}) is intact" if saved is not None else "nothing was saved"
    return TangError(
        f"training diverged at step {step}: the {what} is {value} (not finite); {kept}; "
        f"start again with a lower --lr or --clip"
    )


def _next_move(config: TrainConfig) -> str:
    """What is true after a failure: a run whose config.toml was never written cannot be resumed."""
    name = config.run or ""
    if not run_path(name).config_path.is_file():
        return f"nothing was saved; start it again with the same command (--run {shlex.quote(name)})"
    return f"the last checkpoint is intact; resume with: {resume_command(name)}"


def given_options(config: TrainConfig) -> set[str]:
    """Options a programmatic caller set away from the defaults (the CLI passes its own set)."""
    default = TrainConfig(run=config.run)
    return {f.name for f in dataclasses.fields(config) if getattr(config, f.name) != getattr(default, f.name)}


def train(
    config: TrainConfig,
    callbacks: Callback | Iterable[Callback] | None = None,
    should_stop: Callable[[], bool] | None = None,
    given: set[str] | None = None,
) -> RunResult:
    """Train (or resume) the run `config.run`; returns when the budget is spent or `should_stop()` says so.

    `given` names the options the user set explicitly; on resume only budget/device options among
    them may differ from the stored config. Raises TangError for bad input before writing anything.
    """
    config = dataclasses.replace(config).validate()
    if config.init_from and not config.resume:  # the source's shape and script, before anything is written
        config = adopt(config, given if given is not None else given_options(config))[0]
    info = D.from_env()
    device = resolve_device(config.device, info.local_rank if info.enabled else None)
    D.init(info, device)
    try:
        return _Trainer(config, info, device, callbacks, should_stop, given).run()
    except TangError:
        raise
    except OSError as exc:  # a full disk, a folder made read-only: one line, the checkpoint is intact
        where = f" ({exc.filename})" if exc.filename else ""
        raise TangError(
            f"run {config.run!r} stopped: {exc.strerror or exc}{where}; {_next_move(config)}"
        ) from None
    except BaseException as exc:
        if info.enabled and not isinstance(exc, KeyboardInterrupt):
            print(
                f"tangstudio: rank {info.rank} of {info.world} stopped: {type(exc).__name__}: {exc}. "
                f"The last checkpoint of run {config.run!r} is intact; resume with: {resume_command(config.run or '')}",
                file=sys.stderr,
                flush=True,
            )
        raise
    finally:
        D.shutdown(info)


class _Trainer:
    def __init__(
        self,
        config: TrainConfig,
        info: D.DistInfo,
        device: torch.device,
        callbacks: Callback | Iterable[Callback] | None,
        should_stop: Callable[[], bool] | None,
        given: set[str] | None,
    ) -> None:
        self.info, self.device = info, device
        self.should_stop = should_stop
        if callbacks is None:
            self.callbacks: list[Callback] = []
        elif callable(callbacks):
            self.callbacks = [callbacks]
        else:
            self.callbacks = list(callbacks)
        self.given = (given if given is not None else given_options(config)) | (
            {"resume"} if config.resume else set()
        )
        self.config = config
        self.bf16 = uses_bf16(device)
        self.writer: MetricsWriter | None = None
        self.run_dir: RunDir | None = None
        self.lock: RunLock | None = None
        self.created_dir = False  # this process made the run folder: remove it if nothing was written
        self.config_written = False  # ...and its config.toml, until training starts
        self.fresh_resume = False  # --resume of a run killed before its first checkpoint: from step 0
        self.live = Counters()
        self.best_loss: float | None = None
        self.best_ppl: float | None = None
        self.last_eval: dict = {}
        self.saved_step: int | None = None  # the step of the newest `last` checkpoint
        self.last_save_t = time.monotonic()
        self.save_s = 0.0  # time spent writing checkpoints, for the --checkpoint-every cost

    @property
    def folder(self) -> RunDir:
        """The run folder; rank 0 knows it from `_decide_config` on, before anything reads or writes it."""
        if self.run_dir is None:
            raise RuntimeError("the run folder is used before it was decided")
        return self.run_dir

    # ---- events -------------------------------------------------------------------------------
    def emit(self, event: dict, log: bool = False) -> None:
        if not self.info.is_main:
            return
        if log:
            record: dict = {key: None for key in METRIC_KEYS}
            record.update(event)
            record["ppl_kind"] = self.config.ppl_kind
            event = self.writer.write(record) if self.writer else record
        for callback in self.callbacks:
            callback(event)

    # ---- setup --------------------------------------------------------------------------------
    def _decide_config(self) -> dict:
        """Rank 0 checks the run name and resume request; every rank gets its verdict."""
        verdict: dict
        if self.info.is_main:
            try:
                config, run = self.config, run_path(self.config.run or "")
                self._take_lock(run)  # before the data load: a second trainer is refused at once
                if config.resume:
                    if not run.exists():
                        raise TangError(
                            f"cannot resume run {config.run!r}: it stopped before its configuration was "
                            f"written (no {run.config_path}); start it again without --resume"
                        )
                    if not (run.last_dir / ckpt.META).is_file():
                        self.fresh_resume = True  # killed before its first checkpoint: start over
                    run.check_files()  # a damaged run is refused before anything is written into it
                    config = config.merged_for_resume(run.config(), self.given)
                elif run.exists():
                    raise TangError(
                        f"run {config.run!r} already exists at {run.path}; add --resume to continue it "
                        f"or choose another --run name"
                    )
                if not config.resume:  # written before the data load: a run killed during it resumes
                    write_config(run.config_path, config.to_dict())
                    self.config_written = True
                verdict = {"config": config.to_dict(), "path": str(run.path)}
            except TangError as exc:
                verdict = {"error": str(exc)}
        else:
            verdict = {}
        verdict = cast(dict, D.broadcast_object(self.info, verdict))
        if "error" in verdict:
            raise TangError(verdict["error"])
        return verdict

    def _take_lock(self, run: RunDir) -> None:
        """Lock the run folder (creating it for a new run) and clear what a killed writer left."""
        if not run.path.is_dir():
            if self.config.resume:
                raise TangError(f"cannot resume: unknown run {self.config.run!r} (no {run.path})")
            run.path.mkdir(parents=True)
            self.created_dir = True
        self.run_dir = run
        self.lock = run.lock()
        ckpt.clean_checkpoints(run.checkpoints)
        remove_leftovers(run.path)

    def _release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        if self.created_dir and self.run_dir is not None and self.writer is None:
            with contextlib.suppress(OSError):  # a new run that failed before training: no burnt name
                if self.config_written:
                    self.run_dir.config_path.unlink()
                self.run_dir.path.rmdir()

    def _load_resume_state(self) -> dict | None:
        """Rank 0 reads the last checkpoint and hands it to the other ranks in memory."""
        fresh = D.broadcast_object(self.info, self.fresh_resume)
        if not self.config.resume or fresh:
            return None
        bundle = None
        if self.info.is_main:
            try:
                directory = self.folder.last_dir
                meta = ckpt.read_meta(directory)
                weights = ckpt.read_weights(directory, meta)
                tensors, info = ckpt.read_train_state(directory, meta)
                optim_sd, rng = S.unpack(tensors, info)
                bundle = {"meta": meta, "weights": weights, "optim": optim_sd, "rng": rng, "info": info}
            except TangError as exc:
                bundle = {"error": str(exc)}
        bundle = cast(dict, D.broadcast_object(self.info, bundle))
        if "error" in bundle:
            raise TangError(bundle["error"])
        return bundle

    # ---- the run ------------------------------------------------------------------------------
    def run(self) -> RunResult:
        try:
            return self._run()
        finally:
            if self.info.is_main:
                if self.writer is not None:
                    self.writer.close()
                self._release()

    def _run(self) -> RunResult:
        verdict = self._decide_config()
        cfg = self.config = TrainConfig.from_dict(verdict["config"])
        self.run_dir = RunDir(Path(verdict["path"]))
        resume = self._load_resume_state()
        vocab = Vocab.from_dict(resume["meta"]["vocab"]) if resume else None
        source = None
        plan = cfg.plan and is_causal(cfg.arch)
        if cfg.init_from and not resume:
            source = read_source(cfg.init_from)
            vocab = run_vocab(source, plan)
        data = load_training_data(
            cfg.corpus,
            cfg.script,
            cfg.forms,
            cfg.max_len,
            vocab,
            cfg.eval_poems,
            plan,
            cfg.author,
            check=not cfg.init_from,
        )
        self.data = data

        from tangstudio.engine.models import build_model, count_parameters

        torch.manual_seed(cfg.seed)
        self.model_config = cfg.model_config(len(data.vocab))
        model = build_model(self.model_config)
        if resume:
            try:
                model.load_state_dict(resume["weights"])
            except RuntimeError as exc:
                raise TangError(
                    f"run {cfg.run!r}: its checkpoint does not fit the configured model "
                    f"({str(exc).splitlines()[0]})"
                ) from None
        elif source is not None:
            transplant(model, source, data.vocab)
        self.model = model.to(self.device)
        self.params = count_parameters(model)
        self.optimizer = make_optimizer(self.model.parameters(), cfg, self.device)
        self._seed_dropout()
        self.mask_gen = torch.Generator().manual_seed(cfg.seed * 7_919 + 1 + self.info.rank)
        counters = {
            "step": 0,
            "epoch": 0,
            "batch_pos": 0,
            "elapsed_s": 0.0,
            "best_val_loss": None,
            "best_val_ppl": None,
        }
        if resume:
            for saved, current in zip(resume["optim"]["param_groups"], self.optimizer.param_groups):
                for key in ("fused", "foreach", "capturable", "differentiable"):  # this device's kernels,
                    if key in current:  # not the saving one's
                        saved[key] = current[key]
            self.optimizer.load_state_dict(resume["optim"])
            rng = resume["rng"]
            if len(rng) == self.info.world:
                S.rng_restore(rng[self.info.rank], self.mask_gen, self.device)
            else:  # a different number of processes: data order is still exact, dropout draws are not
                self._seed_dropout(int(resume["info"]["step"]))
            counters.update({k: resume["info"][k] for k in counters if k in resume["info"]})
            self.saved_step = int(resume["info"]["step"])
        self.live = Counters(
            step=int(counters["step"] or 0),
            epoch=int(counters["epoch"] or 0),
            batch_pos=int(counters["batch_pos"] or 0),
            elapsed_s=float(counters["elapsed_s"] or 0.0),
        )
        self.net = D.wrap(self.model, self.info, self.device)

        if self.info.is_main:
            self._open_run_dir(int(counters["step"] or 0) if cfg.resume else None)
        try:
            return self._loop(counters)
        except BaseException as exc:
            if self.info.is_main and self.writer is not None:
                status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
                error = str(exc) if isinstance(exc, TangError) else f"{type(exc).__name__}: {exc}"
                with contextlib.suppress(OSError):  # on a full disk this line cannot be written either
                    self.emit(
                        {
                            "event": "done",
                            "status": status,
                            "step": self.live.step,
                            "epoch": self.live.epoch,
                            "elapsed_s": self.live.elapsed_s,
                            "val_loss": self.best_loss,
                            "val_ppl": self.best_ppl,
                            "error": error,
                        },
                        log=True,
                    )
            raise

    def _seed_dropout(self, offset: int = 0) -> None:
        """The dropout stream, one per rank (offset by the step when a resume cannot restore it)."""
        torch.manual_seed(self.config.seed * 1_000_033 + 17 + self.info.rank + offset)

    def _open_run_dir(self, resumed_step: int | None) -> None:
        run = self.run_dir
        assert run is not None, "the run folder is decided first"
        run.path.mkdir(parents=True, exist_ok=True)
        write_config(run.config_path, self.config.to_dict())
        if resumed_step is not None:
            trim_after(run.metrics_path, resumed_step)
            if self.fresh_resume and run.samples_path.is_file():
                run.samples_path.write_text("", encoding="utf-8")
        self.writer = MetricsWriter(run.metrics_path)

    # ---- steps --------------------------------------------------------------------------------
    def _batch(self, global_batch: list[int], step: int) -> Batch:
        data, info = self.data, self.info
        mine = shard(global_batch, info.rank, info.world)
        seqs = [data.train[i] for i in mine]
        if data.plans is not None:  # titles and keywords dropped by a draw of (seed, step): resume-exact
            gen = torch.Generator().manual_seed(self.config.seed * 1_000_003 + step * 7 + 5)
            drops = PlanDrops(self.config.title_drop, self.config.plan_drop, self.config.keyword_drop)
            items = draw([data.plans[i] for i in global_batch], data.vocab, drops, gen)
            batch = planned_batch(shard(items, info.rank, info.world))
        elif self.model.causal:
            batch = causal_batch(seqs)
        else:
            batch = masked_batch(seqs, self.mask_gen, self.config.mask_min, self.config.mask_max)
        if self.device.type == "cuda":
            return batch.pin_memory().to(self.device, non_blocking=True)
        return batch.to(self.device)

    def _loop(self, c: dict) -> RunResult:
        cfg, info, data = self.config, self.info, self.data
        lengths = data.lengths  # as batched: planned poems with their title and keywords
        chars_of = [len(s) - 1 for s in data.train]  # what the loss counts, plan or not
        if cfg.batch_size < info.world:
            raise TangError(
                f"--batch-size {cfg.batch_size} is the global batch; it must be at least the number of "
                f"processes ({info.world})"
            )
        steps_per_epoch = len(plan_epoch(lengths, cfg.batch_size, cfg.seed, 0, info.world))
        if steps_per_epoch == 0:
            raise TangError(f"too few train poems for --batch-size {cfg.batch_size}")
        kind, amount = cfg.budget
        total = (
            int(amount) if kind == "steps" else (int(amount) * steps_per_epoch if kind == "epochs" else None)
        )
        budget_s = amount * 60 if kind == "minutes" else None
        warm = warmup_steps(cfg.warmup, total)
        step, epoch, pos = int(c["step"]), int(c["epoch"]), int(c["batch_pos"])
        start_step, elapsed_before = step, float(c["elapsed_s"])
        self.best_loss, self.best_ppl = c["best_val_loss"], c["best_val_ppl"]
        self.last_eval = {}
        save_every_s = cfg.checkpoint_every * 60
        cadence = Cadence(total, budget_s, last_step=step, last_elapsed_s=elapsed_before)  # eval_every 0
        self.emit(
            {
                "event": "start",
                "run": cfg.run,
                "path": str(self.folder.path),
                "params": self.params,
                "device": str(self.device),
                "bf16": self.bf16,
                "world": info.world,
                "total_steps": total,
                "minutes": cfg.minutes,
                "steps_per_epoch": steps_per_epoch,
                "train_poems": len(data.train),
                "val_poems": len(data.val_poems),
                "dropped": data.dropped,
                "unknown_chars": unknown_share(data.train)[0] if cfg.init_from else None,
                "vocab_size": len(data.vocab),
                "resumed_from": start_step if cfg.resume else None,
                "ppl_kind": cfg.ppl_kind,
                "config": cfg.to_dict(),
            }
        )
        t0 = self.last_save_t = time.monotonic()
        window = self._new_window(t0)
        last_log: dict = {"train_loss": None, "chars_per_s": None, "pad_fraction": None}
        plan: list[list[int]] | None = None
        lr = cfg.lr
        status = "finished"
        vocab_size = len(data.vocab)

        def elapsed() -> float:
            return elapsed_before + time.monotonic() - t0

        def progress_fraction() -> float:
            if total:
                return step / total
            return elapsed() / budget_s if budget_s else 0.0

        self.model.train()
        while True:
            if total is not None and step >= total:
                break
            if plan is None:
                plan = plan_epoch(lengths, cfg.batch_size, cfg.seed, epoch, info.world)
            if pos >= len(plan):
                epoch, pos, plan = epoch + 1, 0, None
                continue
            global_batch = plan[pos]
            global_chars = sum(chars_of[i] for i in global_batch)
            batch = self._batch(global_batch, step)

            lr = lr_at(step, progress_fraction(), cfg.lr, warm, cfg.min_lr_ratio)
            nats = self._step(batch, lr, global_chars, vocab_size)
            step, pos = step + 1, pos + 1
            live = self.live
            live.step, live.epoch, live.batch_pos, live.elapsed_s = step, epoch, pos, elapsed()
            fault_point("step")
            window.add(nats, batch)
            epoch_f = round(epoch + pos / steps_per_epoch, 4)

            # Stop decisions: every step in one process; at logging steps under DDP (one sync).
            stops = _Stops()
            if not info.enabled or step % cfg.log_every == 0:
                stops = self._should_stop(
                    budget_s is not None and elapsed() >= budget_s,
                    time.monotonic() - self.last_save_t >= save_every_s,
                    cfg.eval_every == AUTO and cadence.due(step, elapsed()),
                )
            stop, time_up, save_due, eval_due = stops.stop, stops.time_up, stops.save_due, stops.eval_due
            finishing = time_up or (total is not None and step >= total)

            # Automatic cadence: also a first point right after the first step, so a curve starts at once.
            first = cfg.eval_every == AUTO and step == start_step + 1
            if step % cfg.log_every == 0 or finishing or stop or first:
                last_log = self._log(window, step, epoch_f, lr, elapsed())
                window = self._new_window(time.monotonic())

            counters = {"step": step, "epoch": epoch, "batch_pos": pos, "elapsed_s": elapsed()}
            if (eval_due if cfg.eval_every == AUTO else step % cfg.eval_every == 0) and not stop:
                began = time.monotonic()
                self._evaluate_and_save(counters, epoch_f)
                cadence.evaluated(step, elapsed(), time.monotonic() - began)
            elif save_due and not stop and not finishing:  # by wall time, between evaluations
                self._save("last", counters, epoch_f, with_state=True)

            done_share = progress_fraction()
            session = time.monotonic() - t0
            eta: float | None
            if total:
                eta = (total - step) * session / max(step - start_step, 1)
            else:
                eta = max(budget_s - elapsed(), 0.0) if budget_s else None
            self.emit(
                {
                    "event": "progress",
                    "step": step,
                    "total_steps": total,
                    "fraction": min(done_share, 1.0),
                    "epoch": epoch_f,
                    "lr": lr,
                    "eta_s": eta,
                    "elapsed_s": elapsed(),
                    "val_ppl": self.last_eval.get("val_ppl"),
                    **last_log,
                }
            )
            if stop:
                status = "interrupted"
                break
            if finishing:
                break

        counters = {"step": step, "epoch": epoch, "batch_pos": pos, "elapsed_s": elapsed()}
        epoch_f = round(epoch + pos / steps_per_epoch, 4)
        if status == "finished" and self.last_eval.get("step") != step:
            self._evaluate_and_save(counters, epoch_f)
        elif status == "interrupted":
            self._save("last", counters, epoch_f, with_state=True)
        self.emit(
            {
                "event": "done",
                "status": status,
                "step": step,
                "epoch": epoch_f,
                "elapsed_s": elapsed(),
                "val_loss": self.best_loss,
                "val_ppl": self.best_ppl,
                "train_loss": last_log["train_loss"],
                "chars_per_s": last_log["chars_per_s"],
                "pad_fraction": last_log["pad_fraction"],
            },
            log=True,
        )
        return RunResult(
            cfg.run or "",
            self.folder.path,
            status,
            step,
            epoch_f,
            self.best_loss,
            self.best_ppl,
            cfg.ppl_kind,
            elapsed(),
            resume_command(cfg.run or ""),
        )

    def _new_window(self, t: float) -> _Window:
        return _Window(torch.zeros((), device=self.device), t)

    def _step(self, batch: Batch, lr: float, global_chars: int, vocab_size: int) -> torch.Tensor:
        """One optimizer step; returns the batch's summed loss in nats, still on the device."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        # Mean over the GLOBAL batch's characters; DDP averages over ranks, hence × world.
        return train_step(
            self.net, self.optimizer, batch, self.config.clip, self.bf16, self.info.world / global_chars
        )

    def _should_stop(self, time_up: bool, save_due: bool, eval_due: bool) -> _Stops:
        """Ask `should_stop` and agree with the other ranks on every decision (one collective)."""
        stop = bool(self.should_stop()) if self.should_stop else False
        flags = D.any_rank(self.info, [stop, time_up, save_due, eval_due], self.device)
        return _Stops(*(bool(f) for f in flags))

    def _log(self, window: _Window, step: int, epoch_f: float, lr: float, elapsed_s: float) -> dict:
        """The `train` line over the window (summed over ranks); a non-finite loss stops the run."""
        nats_sum, chars, slots, real = D.sum_floats(
            self.info, [float(window.nats), window.chars, window.slots, window.real], self.device
        )
        if not math.isfinite(nats_sum):
            raise _diverged(step, "training loss", nats_sum / max(chars, 1), self.saved_step)
        shown = {
            "train_loss": nats_sum / max(chars, 1),
            "chars_per_s": chars / max(time.monotonic() - window.t, 1e-9),
            "pad_fraction": 1.0 - real / max(slots, 1),
        }
        self.emit(
            {"event": "train", "step": step, "epoch": epoch_f, "lr": lr, "elapsed_s": elapsed_s, **shown}
            | {"window_steps": window.steps},  # the steps train_loss averages: labelled, as a resume cuts it
            log=True,
        )
        return shown

    # ---- evaluation and checkpoints ---------------------------------------------------------------
    def _evaluate_and_save(self, counters: dict, epoch_f: float) -> None:
        info = self.info
        result = evaluate(
            self.model,
            self.data.vocab,
            self.data.val_poems,
            device=self.device,
            autocast=self.bf16,
            rank=info.rank,
            world=info.world,
            all_reduce=(lambda v: D.sum_floats(info, v, self.device)) if info.enabled else None,
        )
        step = counters["step"]
        if not math.isfinite(result["loss"]):
            raise _diverged(step, "validation loss", result["loss"], self.saved_step)
        self.last_eval = {"step": step, "val_loss": result["loss"], "val_ppl": result["ppl"]}
        planned: dict = {}
        if self.data.plans is not None:  # the same poems with their title and plan: how it composes
            with_plan = evaluate(
                self.model,
                self.data.vocab,
                self.data.val_poems,
                device=self.device,
                autocast=self.bf16,
                rank=info.rank,
                world=info.world,
                all_reduce=(lambda v: D.sum_floats(info, v, self.device)) if info.enabled else None,
                condition="planned",
                keyword_model=self.data.keyword_model,
            )
            planned = {"val_loss_planned": with_plan["loss"], "val_ppl_planned": with_plan["ppl"]}
        self.emit(
            {
                "event": "eval",
                "step": step,
                "epoch": epoch_f,
                "val_loss": result["loss"],
                "val_ppl": result["ppl"],
                "val_bits_per_char": result["bits_per_char"],
                "val_chars": result["chars"],
                "val_poems": result["poems"],
                "elapsed_s": counters["elapsed_s"],
                **planned,
            },
            log=True,
        )
        if info.is_main and self.config.samples > 0:
            self._log_samples(step)
        improved = self.best_loss is None or result["loss"] < self.best_loss
        if improved:  # "best" changes only once best/ holds it (issue 26: a failed save left it claimed)
            before = self.best_loss, self.best_ppl
            self.best_loss, self.best_ppl = result["loss"], result["ppl"]
            try:
                self._save("best", counters, epoch_f, with_state=False, val=result)
            except BaseException:
                self.best_loss, self.best_ppl = before
                raise
        self._save("last", counters, epoch_f, with_state=True, val=result)

    def _log_samples(self, step: int) -> None:
        chosen = parse_forms(self.config.forms)
        forms = sorted(chosen) if chosen else list(FORM_NAMES)
        wanted = [forms[i % len(forms)] for i in range(self.config.samples)]
        texts = sample_poems(
            self.model, self.data.vocab, wanted, seed=self.config.seed + step, device=self.device
        )
        with open(self.folder.samples_path, "a", encoding="utf-8", buffering=1) as handle:
            for form, text in zip(wanted, texts):
                record = {"step": step, "form": form, "text": text, "time": now_iso()}
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
                self.emit({"event": "sample", **record})

    def _save(
        self, which: str, counters: dict, epoch_f: float, with_state: bool, val: dict | None = None
    ) -> None:
        rng = D.gather_objects(self.info, S.rng_snapshot(self.mask_gen, self.device)) if with_state else None
        if with_state:
            self.last_save_t = time.monotonic()  # every rank, so the next wall-time save agrees
        if not self.info.is_main:
            return
        started = time.perf_counter()
        weights = self.model.state_dict()
        if not ckpt.all_finite(weights):
            raise _diverged(counters["step"], "model's weights", math.nan, self.saved_step)
        cfg = self.config
        val = val or {}
        meta = {
            "run": cfg.run,
            "arch": cfg.arch,
            "model": self.model_config.to_dict(),
            "params": self.params,
            "vocab": self.data.vocab.to_dict(),
            "script": cfg.script,
            "corpus": {"name": cfg.corpus, "fingerprint": self.data.fingerprint},
            "forms": cfg.forms,
            "step": counters["step"],
            "epoch": epoch_f,
            "val_loss": val.get("loss"),
            "val_ppl": val.get("ppl"),
            "val_bits_per_char": val.get("bits_per_char"),
            "ppl_kind": cfg.ppl_kind,
            "best_val_loss": self.best_loss,
            "train_config": cfg.to_dict(),
            "created": now_iso(),
        }
        directory = self.folder.checkpoints / which
        if with_state:
            tensors, info = S.pack(
                self.optimizer,
                cast(list, rng),
                {**counters, "best_val_loss": self.best_loss, "best_val_ppl": self.best_ppl},
            )
            ckpt.save_checkpoint(directory, weights, meta, tensors, info)
            self.saved_step = counters["step"]
        else:
            ckpt.save_checkpoint(directory, weights, meta)
        save_s = time.perf_counter() - started
        self.save_s += save_s
        self.emit(
            {
                "event": "checkpoint",
                "step": counters["step"],
                "epoch": epoch_f,
                "kind": which,
                "path": str(directory),
                "val_loss": meta["val_loss"],
                "val_ppl": meta["val_ppl"],
                "elapsed_s": counters["elapsed_s"],
                "save_s": round(save_s, 4),
            },
            log=True,
        )
