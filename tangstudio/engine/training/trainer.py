"""The poem trainer: length-bucketed batches, the trainers' step, periodic evaluation and samples,
best/last checkpoints, exact resume, and DDP when started by torchrun.

The run folder (lock, config, metrics.jsonl, checkpoints, the done line, the resume hint) is held
through `runs.session.RunSession`, as the lab's trainer holds its own; the budget and the
evaluation cadence are `cadence.Budget`'s. Inside the step loop nothing waits on the device except
at logging steps (loss.item() and the cross-rank sums), which keeps a GPU busy.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, cast

import torch

from tangstudio.engine.atomic import fault_point
from tangstudio.engine.corpus.forms import parse_forms
from tangstudio.engine.corpus.vocab import Vocab
from tangstudio.engine.errors import TangError
from tangstudio.engine.forms import NAMES as FORM_NAMES
from tangstudio.engine.models.archs import is_causal
from tangstudio.engine.runs import checkpoint as ckpt
from tangstudio.engine.runs.events import (
    METRIC_KEYS,
    DoneEvent,
    PlannedEvalEvent,
    ProgressEvent,
    SampleEvent,
    StartEvent,
    TrainEvent,
)
from tangstudio.engine.runs.metrics import now_iso
from tangstudio.engine.runs.rundir import RunDir, run_path
from tangstudio.engine.runs.session import Callback, RunSession, callbacks_of
from tangstudio.engine.training import distributed as D
from tangstudio.engine.training import state as S
from tangstudio.engine.training.batching import (
    Batch,
    causal_batch,
    epoch_plan,
    masked_batch,
    planned_batch,
    shard,
)
from tangstudio.engine.training.cadence import AUTO, Budget
from tangstudio.engine.training.config import TrainConfig
from tangstudio.engine.training.data import load_training_data
from tangstudio.engine.training.device import uses_bf16
from tangstudio.engine.training.evaluate import evaluate
from tangstudio.engine.training.init_from import read_source, run_vocab, transplant, unknown_share
from tangstudio.engine.training.plan_data import PlanDrops, draw
from tangstudio.engine.training.progress import Counters, Stops, Window
from tangstudio.engine.training.sample import sample_poems
from tangstudio.engine.training.schedule import lr_at, warmup_steps
from tangstudio.engine.training.step import head_settings, make_optimizer, train_step


def diverged(step: int, what: str, value: float, saved: int | None) -> TangError:
    kept = f"the last checkpoint (step {saved}) is intact" if saved is not None else "nothing was saved"
    return TangError(
        f"training diverged at step {step}: the {what} is {value} (not finite); {kept}; "
        f"start again with a lower --lr or --clip"
    )


def restore_optimizer(optimizer: torch.optim.Optimizer, saved: dict[str, Any]) -> None:
    """Load a saved optimizer state with this device's kernel flags, not the saving one's."""
    for group, current in zip(saved["param_groups"], optimizer.param_groups):
        for key in ("fused", "foreach", "capturable", "differentiable"):
            if key in current:
                group[key] = current[key]
    optimizer.load_state_dict(saved)


class EvaluationAbandoned(Exception):
    """A stop asked while the validation poems were being scored (`Trainer._abandon_if_stopped`)."""


class Trainer:
    """One training session of one poem run; `run()` returns (status, step, epoch, elapsed) when done."""

    def __init__(
        self,
        config: TrainConfig,
        info: D.DistInfo,
        device: torch.device,
        callbacks: Callback | Iterable[Callback] | None,
        should_stop: Callable[[], bool] | None,
        given: set[str],
    ) -> None:
        self.info, self.device = info, device
        self.should_stop = should_stop
        self.callbacks = callbacks_of(callbacks)
        self.given = given | ({"resume"} if config.resume else set())
        self.config = config
        self.bf16 = uses_bf16(device)
        self.session: RunSession | None = None  # rank 0's from `_decide_config`; a silent one elsewhere
        self.fresh_resume = False  # --resume of a run killed before its first checkpoint: from step 0
        self.live = Counters()
        self.last_eval: dict[str, Any] = {}
        self.saved_step: int | None = None  # the step of the newest `last` checkpoint
        self.started = False  # the loop began: a failure before it "could not start" the run
        self.last_save_t = time.monotonic()

    @property
    def folder(self) -> RunDir:
        """The run folder; rank 0 knows it from `_decide_config` on, before anything reads or writes it."""
        if self.session is None:
            raise RuntimeError("the run folder is used before it was decided")
        return self.session.run

    def emit(self, event: Any, log: bool = False) -> None:
        if self.session is not None:
            self.session.emit(event, log=log)

    # ---- setup --------------------------------------------------------------------------------
    def _decide_config(self) -> dict[str, Any]:
        """Rank 0 claims the run and checks the resume request; every rank gets its verdict."""
        verdict: dict[str, Any] = {}
        if self.info.is_main:
            config = self.config
            base = {**dict.fromkeys(METRIC_KEYS), "ppl_kind": config.ppl_kind}
            self.session = RunSession(run_path(config.run or ""), self.callbacks, base=base)
            try:  # the lock first, before the data load: a second trainer is refused at once
                has_checkpoint = self.session.claim(config.resume)
                if config.resume:
                    self.fresh_resume = not has_checkpoint  # killed before its first checkpoint: start over
                    config = config.merged_for_resume(self.session.run.config(), self.given)
                else:  # written before the data load: a run killed during it resumes
                    self.session.write_config(config.to_dict())
                verdict = {"config": config.to_dict(), "path": str(self.session.run.path)}
            except TangError as exc:
                verdict = {"error": str(exc)}
        verdict = cast(dict[str, Any], D.broadcast_object(self.info, verdict))
        if "error" in verdict:
            raise TangError(verdict["error"])
        if self.session is None:
            self.session = RunSession(RunDir(Path(verdict["path"])), main=False)
        return verdict

    def _load_resume_state(self) -> dict[str, Any] | None:
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
        bundle = cast(dict[str, Any], D.broadcast_object(self.info, bundle))
        if "error" in bundle:
            raise TangError(bundle["error"])
        return bundle

    # ---- the run ------------------------------------------------------------------------------
    def run(self) -> tuple[str, float, float]:
        try:
            return self._run()
        finally:
            if self.info.is_main and self.session is not None:
                self.session.close()

    def _run(self) -> tuple[str, float, float]:
        verdict = self._decide_config()
        cfg = self.config = TrainConfig.from_dict(verdict["config"])
        self.head = head_settings(cfg, self.device)
        resume = self._load_resume_state()
        vocab = Vocab.from_dict(resume["meta"]["vocab"]) if resume else None
        source = None
        plan = cfg.plan and is_causal(cfg.arch)
        if cfg.init_from and not resume:
            source = read_source(cfg.init_from)
            vocab = run_vocab(source, plan)
        data = load_training_data(
            cfg.corpus, cfg.script, cfg.forms, cfg.max_len, vocab, cfg.eval_poems, plan, cfg.author,
            check=not cfg.init_from,
        )  # fmt: skip
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
                    f"({_misfit(resume['meta'].get('model'), self.model_config, exc)})"
                ) from None
        elif source is not None:
            transplant(model, source, data.vocab)
        self.model = model.to(self.device)
        self.params = count_parameters(model)
        self.optimizer = make_optimizer(self.model.parameters(), cfg, self.device)
        self._seed_dropout()
        self.mask_gen = torch.Generator().manual_seed(cfg.seed * 7_919 + 1 + self.info.rank)
        if resume:
            restore_optimizer(self.optimizer, resume["optim"])
            rng = resume["rng"]
            if len(rng) == self.info.world:
                S.rng_restore(rng[self.info.rank], self.mask_gen, self.device)
            else:  # a different number of processes: data order is still exact, dropout draws are not
                self._seed_dropout(int(resume["info"]["step"]))
            self.live = Counters.from_info(resume["info"])
            self.saved_step = int(resume["info"]["step"])
        self.net = D.wrap(self.model, self.info, self.device)

        assert self.session is not None
        # A resume whose new budget is already spent trains nothing: the run keeps the budget it
        # was trained with (a review: `--resume --steps 10` at step 40 recorded steps = 10). A budget
        # given and spent is refused on every rank alike, so none waits on the others' collectives.
        spent = cfg.resume and self._budget_met(self._budget()[0])
        if spent:
            self._refuse_a_new_budget_already_spent()
        if self.info.is_main:
            resumed = self.live.step if cfg.resume else None
            config = self.session.run.config() if spent else cfg.to_dict()
            self.session.open(config, resumed, clear_samples=self.fresh_resume)
        try:
            return self._loop()
        except BaseException as exc:
            live = self.live
            fields = {"step": live.step, "epoch": live.epoch, "elapsed_s": live.elapsed_s}
            self.session.fail(exc, {**fields, "val_loss": live.best_val_loss, "val_ppl": live.best_val_ppl})
            raise

    def _seed_dropout(self, offset: int = 0) -> None:
        """The dropout stream, one per rank (offset by the step when a resume cannot restore it)."""
        torch.manual_seed(self.config.seed * 1_000_033 + 17 + self.info.rank + offset)

    # ---- steps --------------------------------------------------------------------------------
    def _batch(self, global_batch: list[int], step: int) -> Batch:
        data, info = self.data, self.info
        seqs = [data.train[i] for i in shard(global_batch, info.rank, info.world)]
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

    def _budget(self) -> tuple[Budget, int]:
        """(the budget, steps per epoch): the run's --steps, --epochs or --minutes over its batches."""
        cfg, info = self.config, self.info
        if cfg.batch_size < info.world:
            raise TangError(
                f"--batch-size {cfg.batch_size} is the global batch; it must be at least the number of "
                f"processes ({info.world})"
            )
        plan = epoch_plan(self.data.lengths, cfg.batch_size, cfg.batch_tokens, cfg.seed, 0, info.world)
        if not plan:
            raise TangError(f"too few train poems for --batch-size {cfg.batch_size}")
        return Budget.of(cfg.budget, len(plan)), len(plan)

    def _refuse_a_new_budget_already_spent(self) -> None:
        """A resume given a budget of its own that the run has already passed (`--resume --steps 1`
        at step 2) is a mistake, refused before the run is touched: it evaluated, wrote best/ and
        called the interrupted run finished (an engineer's review). The run's own budget, spent,
        still resumes to say so and train nothing."""
        cfg, live = self.config, self.live
        name, amount = cfg.budget
        assert self.session is not None  # opened before the budget is read
        stored = self.session.run.config()
        if stored.get(name) == amount:
            return
        at = {"steps": f"step {live.step:,}", "epochs": f"epoch {live.epoch:,}"}.get(
            name, f"{live.elapsed_s / 60:.1f} minutes trained"
        )
        raise TangError(
            f"run {cfg.run} is at {at}: --{name} {amount:g} is already spent; give a larger --{name} "
            f"(the run's new total), or --resume alone to finish it on its own budget"
        )

    def _budget_met(self, budget: Budget) -> bool:
        return budget.reached(self.live.step) or budget.time_up(self.live.elapsed_s)

    def _loop(self) -> tuple[str, float, float]:
        self.started = True
        cfg, info, data, live = self.config, self.info, self.data, self.live
        lengths = data.lengths  # as batched: planned poems with their title and keywords
        chars_of = [len(s) - 1 for s in data.train]  # what the loss counts, plan or not
        budget, steps_per_epoch = self._budget()
        warm = warmup_steps(cfg.warmup, budget.total_steps)
        step, epoch, pos = live.step, live.epoch, live.batch_pos
        start_step, elapsed_before = step, live.elapsed_s
        save_every_s = cfg.checkpoint_every * 60
        cadence = budget.cadence(last_step=step, last_elapsed_s=elapsed_before)  # for eval_every 0
        budget_met = cfg.resume and self._budget_met(budget)
        self.emit(
            StartEvent(
                event="start", run=cfg.run or "", path=str(self.folder.path), params=self.params,
                device=str(self.device), bf16=self.bf16, world=info.world, total_steps=budget.total_steps,
                minutes=cfg.minutes, steps_per_epoch=steps_per_epoch, train_poems=len(data.train),
                val_poems=len(data.val_poems), dropped=data.dropped,
                unknown_chars=unknown_share(data.train)[0] if cfg.init_from else None,
                vocab_size=len(data.vocab), resumed_from=start_step if cfg.resume else None,
                ppl_kind=cfg.ppl_kind, config=cfg.to_dict(), warmup_steps=warm, budget_met=budget_met,
                metrics_kept=str(kept) if (kept := self.session and self.session.metrics_kept) else None,
            )
        )  # fmt: skip
        t0 = self.last_save_t = time.monotonic()
        window = self._new_window(t0)
        last_log: dict[str, float | None] = {"train_loss": None, "chars_per_s": None, "pad_fraction": None}
        plan: list[list[int]] | None = None
        lr = cfg.lr
        status: Literal["finished", "interrupted"] = "finished"

        def elapsed() -> float:
            return elapsed_before + time.monotonic() - t0

        self.model.train()
        while not budget.reached(step) and not budget_met:  # a spent time budget takes no step either
            if plan is None:
                plan = epoch_plan(lengths, cfg.batch_size, cfg.batch_tokens, cfg.seed, epoch, info.world)
            if pos >= len(plan):
                epoch, pos, plan = epoch + 1, 0, None
                continue
            global_batch = plan[pos]
            global_chars = sum(chars_of[i] for i in global_batch)
            batch = self._batch(global_batch, step)

            lr = lr_at(step, budget.fraction(step, elapsed()), cfg.lr, warm, cfg.min_lr_ratio)
            nats = self._step(batch, lr, global_chars)
            step, pos = step + 1, pos + 1
            live.step, live.epoch, live.batch_pos, live.elapsed_s = step, epoch, pos, elapsed()
            live.train_chars += global_chars
            fault_point("step")
            window.add(nats, batch)
            epoch_f = round(epoch + pos / steps_per_epoch, 4)

            # Stop decisions: every step in one process; at logging steps under DDP (one sync).
            stops = Stops()
            if not info.enabled or step % cfg.log_every == 0:
                stops = self._should_stop(
                    budget.time_up(elapsed()),
                    time.monotonic() - self.last_save_t >= save_every_s,
                    cfg.eval_every == AUTO and cadence.due(step, elapsed()),
                )
            finishing = stops.time_up or budget.reached(step)

            # Automatic cadence: also a first point right after the first step, so a curve starts at once.
            first = cfg.eval_every == AUTO and step == start_step + 1
            if step % cfg.log_every == 0 or finishing or stops.stop or first:
                last_log = self._log(window, step, epoch_f, lr, elapsed())
                window = self._new_window(time.monotonic())

            live.elapsed_s = elapsed()
            if (stops.eval_due if cfg.eval_every == AUTO else step % cfg.eval_every == 0) and not stops.stop:
                began = time.monotonic()
                if not self._evaluate_and_save(epoch_f):  # a stop came during it: stop here
                    status = "interrupted"
                    break
                cadence.evaluated(step, elapsed(), time.monotonic() - began)
            elif stops.save_due and not stops.stop and not finishing:  # by wall time, between evaluations
                self._save("last", epoch_f, with_state=True)

            eta = budget.eta_s(step, start_step, time.monotonic() - t0, elapsed())
            self.emit(
                ProgressEvent(
                    event="progress", step=step, total_steps=budget.total_steps,
                    fraction=min(budget.fraction(step, elapsed()), 1.0), epoch=epoch_f, lr=lr, eta_s=eta,
                    elapsed_s=elapsed(), val_ppl=self.last_eval.get("val_ppl"),
                    train_loss=last_log["train_loss"], chars_per_s=last_log["chars_per_s"],
                    pad_fraction=last_log["pad_fraction"],
                )
            )  # fmt: skip
            if stops.stop:
                status = "interrupted"
                break
            if finishing:
                break

        live.elapsed_s = elapsed()
        epoch_f = round(epoch + pos / steps_per_epoch, 4)
        if budget_met and not self.last_eval:  # a resume of a run already done: its last eval stands
            logged = self.session.logged_eval(step) if self.session is not None else None
            if D.any_rank(self.info, [logged is not None], self.device)[0]:  # every rank agrees
                self.last_eval = logged or {"step": step}
        final_eval_due = status == "finished" and self.last_eval.get("step") != step
        if final_eval_due and not self._evaluate_and_save(epoch_f):  # stopped during it
            status = "interrupted"
        if status == "interrupted":
            self._save("last", epoch_f, with_state=True)
        done = DoneEvent(
            event="done", status=status, step=step, epoch=epoch_f, elapsed_s=elapsed(),
            val_loss=live.best_val_loss, val_ppl=live.best_val_ppl, train_loss=last_log["train_loss"],
            chars_per_s=last_log["chars_per_s"], pad_fraction=last_log["pad_fraction"],
        )  # fmt: skip
        self.emit(done, log=True)
        return status, epoch_f, elapsed()

    def _new_window(self, t: float) -> Window:
        return Window(torch.zeros((), device=self.device), t)

    def _step(self, batch: Batch, lr: float, global_chars: int) -> torch.Tensor:
        """One optimizer step; returns the batch's summed loss in nats, still on the device."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        # Mean over the GLOBAL batch's characters; DDP averages over ranks, hence × world.
        return train_step(
            self.net,
            self.optimizer,
            batch,
            self.config.clip,
            self.bf16,
            self.info.world / global_chars,
            self.head,
        )

    def _should_stop(self, time_up: bool, save_due: bool, eval_due: bool) -> Stops:
        """Ask `should_stop` and agree with the other ranks on every decision (one collective)."""
        stop = bool(self.should_stop()) if self.should_stop else False
        flags = D.any_rank(self.info, [stop, time_up, save_due, eval_due], self.device)
        return Stops(*(bool(f) for f in flags))

    def _log(self, window: Window, step: int, epoch_f: float, lr: float, elapsed_s: float) -> dict[str, Any]:
        """The `train` line over the window (summed over ranks); a non-finite loss stops the run."""
        nats_sum, chars, slots, real = D.sum_floats(
            self.info, [float(window.nats), window.chars, window.slots, window.real], self.device
        )
        if not math.isfinite(nats_sum):
            raise diverged(step, "training loss", nats_sum / max(chars, 1), self.saved_step)
        line = TrainEvent(
            event="train", step=step, epoch=epoch_f, lr=lr, elapsed_s=elapsed_s,
            train_loss=nats_sum / max(chars, 1),
            chars_per_s=chars / max(time.monotonic() - window.t, 1e-9),
            pad_fraction=1.0 - real / max(slots, 1),
            window_steps=window.steps,  # the steps train_loss averages: labelled, as a resume cuts it
        )  # fmt: skip
        self.emit(line, log=True)
        return {k: line.get(k) for k in ("train_loss", "chars_per_s", "pad_fraction")}

    # ---- evaluation and checkpoints ---------------------------------------------------------------
    def _evaluate(self, **condition: Any) -> dict[str, Any]:
        info = self.info
        return evaluate(
            self.model, self.data.vocab, self.data.val_poems, device=self.device, autocast=self.bf16,
            rank=info.rank, world=info.world,
            all_reduce=(lambda v: D.sum_floats(info, v, self.device)) if info.enabled else None,
            on_batch=self._abandon_if_stopped if not info.enabled else None, **condition,
        )  # fmt: skip

    def _abandon_if_stopped(self, done: int, total: int) -> None:
        """A stop asked during an evaluation ends it at the next batch: one took 11 s on a small
        model, with nothing said, and a second Ctrl+C then dropped the checkpoint. One process only:
        under DDP every rank must finish the evaluation's all-reduce, so the stop waits for it."""
        if done < total and self.should_stop is not None and self.should_stop():  # a finished one is kept
            raise EvaluationAbandoned

    def _evaluate_and_save(self, epoch_f: float) -> bool:
        """Evaluate, log, and save best/ and last/; False when a stop abandoned the evaluation
        (nothing logged or saved: the caller writes last/ as for any stop)."""
        try:
            return self._evaluated_and_saved(epoch_f)
        except EvaluationAbandoned:  # loss_sums has put the model back in training mode
            return False

    def _evaluated_and_saved(self, epoch_f: float) -> bool:
        live = self.live
        result = self._evaluate()
        step = live.step
        if not math.isfinite(result["loss"]):
            raise diverged(step, "validation loss", result["loss"], self.saved_step)
        line = PlannedEvalEvent(
            event="eval", step=step, epoch=epoch_f, val_loss=result["loss"], val_ppl=result["ppl"],
            val_bits_per_char=result["bits_per_char"], val_chars=result["chars"], val_poems=result["poems"],
            elapsed_s=live.elapsed_s, train_chars=live.train_chars,
        )  # fmt: skip
        if self.data.plans is not None:  # the same poems with their title and plan: how it composes
            with_plan = self._evaluate(condition="planned", keyword_model=self.data.keyword_model)
            line["val_loss_planned"], line["val_ppl_planned"] = with_plan["loss"], with_plan["ppl"]
        self.last_eval = {"step": step, "val_loss": result["loss"], "val_ppl": result["ppl"]}  # both done
        self.emit(line, log=True)
        if self.info.is_main and self.config.samples > 0:
            if self.session is not None:
                self.session.check_still_ours()  # samples.jsonl too: not into a folder made anew
            self._log_samples(step)
        if live.best_val_loss is None or result["loss"] < live.best_val_loss:
            # "best" changes only once best/ holds it (issue 26: a failed save left it claimed)
            before = live.best_val_loss, live.best_val_ppl
            live.best_val_loss, live.best_val_ppl = result["loss"], result["ppl"]
            try:
                self._save("best", epoch_f, with_state=False, val=result)
            except BaseException:
                live.best_val_loss, live.best_val_ppl = before
                raise
        self._save("last", epoch_f, with_state=True, val=result)
        return True

    def _log_samples(self, step: int) -> None:
        chosen = parse_forms(self.config.forms)
        forms = sorted(chosen) if chosen else list(FORM_NAMES)
        wanted = [forms[i % len(forms)] for i in range(self.config.samples)]
        texts = sample_poems(
            self.model, self.data.vocab, wanted, seed=self.config.seed + step, device=self.device
        )
        with open(self.folder.samples_path, "a", encoding="utf-8", buffering=1) as handle:
            for form, text in zip(wanted, texts):
                record = SampleEvent(event="sample", step=step, form=form, text=text, time=now_iso())
                handle.write(
                    json.dumps({k: v for k, v in record.items() if k != "event"}, ensure_ascii=False) + "\n"
                )
                self.emit(record)

    def _save(self, which: str, epoch_f: float, with_state: bool, val: dict[str, Any] | None = None) -> None:
        rng = D.gather_objects(self.info, S.rng_snapshot(self.mask_gen, self.device)) if with_state else None
        if with_state:
            self.last_save_t = time.monotonic()  # every rank, so the next wall-time save agrees
        if not self.info.is_main or self.session is None:
            return
        live = self.live
        weights = self.model.state_dict()
        if not ckpt.all_finite(weights):
            raise diverged(live.step, "model's weights", math.nan, self.saved_step)
        meta = checkpoint_meta(self, epoch_f, val or {})
        state = S.pack(self.optimizer, cast(list[Any], rng), live.to_info()) if with_state else None
        fields = {"epoch": epoch_f, "val_loss": meta["val_loss"], "val_ppl": meta["val_ppl"]}
        self.session.save(which, weights, meta, state, {**fields, "elapsed_s": live.elapsed_s})
        if with_state:
            self.saved_step = live.step


def checkpoint_meta(trainer: Trainer, epoch_f: float, val: dict[str, Any]) -> dict[str, Any]:
    """meta.json of a poem checkpoint: what the model is, what it was trained on, how it scored."""
    cfg, live = trainer.config, trainer.live
    return {
        "run": cfg.run,
        "arch": cfg.arch,
        "model": trainer.model_config.to_dict(),
        "params": trainer.params,
        "vocab": trainer.data.vocab.to_dict(),
        "script": cfg.script,
        "corpus": {"name": cfg.corpus, "fingerprint": trainer.data.fingerprint},
        "forms": cfg.forms,
        "step": live.step,
        "epoch": epoch_f,
        "val_loss": val.get("loss"),
        "val_ppl": val.get("ppl"),
        "val_bits_per_char": val.get("bits_per_char"),
        "ppl_kind": cfg.ppl_kind,
        "best_val_loss": live.best_val_loss,
        "train_config": cfg.to_dict(),
        "created": now_iso(),
    }


def _misfit(saved: Any, configured: Any, exc: RuntimeError) -> str:
    """What differs between the checkpoint's model and the configured one: the fields by name
    (config.toml edited, another run's checkpoints copied in), else torch's first specific line.
    Its first line alone ("Error(s) in loading state_dict for CausalCharLM:") said nothing."""
    from dataclasses import asdict

    if isinstance(saved, dict):
        wanted = asdict(configured)
        differ = [
            f"{k} {saved[k]} in the checkpoint, {wanted[k]} configured"
            for k in wanted
            if k in saved and saved[k] != wanted[k]
        ]
        if differ:
            return "; ".join(differ)
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[1] if len(lines) > 1 else lines[0] if lines else "the weights' shapes differ"
