"""Training a lab classifier: an ordinary run folder, metrics, checkpoints and resume, a small loop.

A lab run is an ordinary run folder (`<home>/runs/<name>/`: config.toml, metrics.jsonl,
checkpoints/{best,last}/ as safetensors + JSON, run.lock), held through the same `RunSession` as a
poem run, so `runs list` shows it and the studio can follow it. The loop itself is far simpler than
the poem loop (fixed-length sequences, one class per sequence): the trainers' AdamW
(training/step.py), warm-up + cosine (training/schedule.py), clipping, the budget read as the poem
loop reads it (training/cadence.Budget), an evaluation on the whole val split every `eval_every`
steps, `best/` chosen by val accuracy and `last/` with the optimizer for `--resume`.

Batches are a function of (seed, step) (see tasks.py), so a resumed run repeats nothing and
skips nothing, and `--steps` fixes the whole schedule whatever the machine's load. Every event
carries wall time and CPU time (time.process_time), since on a shared machine only the latter
measures the work.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from tangstudio.engine.errors import TangError
from tangstudio.engine.lab.classify import (
    EVAL_CHUNK,
    LoadedClassifier,
    classify,
    evaluate_digits,
    load_lab_checkpoint,
    score,
)
from tangstudio.engine.lab.config import LabConfig
from tangstudio.engine.lab.models import (
    ClassifierConfig,
    SequenceClassifier,
    build_classifier,
    count_parameters,
)
from tangstudio.engine.lab.tasks import Batch, make_task
from tangstudio.engine.runs import checkpoint as ckpt
from tangstudio.engine.runs.kinds import lab_command
from tangstudio.engine.runs.metrics import now_iso
from tangstudio.engine.runs.rundir import run_path
from tangstudio.engine.runs.session import Callback, RunSession
from tangstudio.engine.runs.session import resume_command as _resume_command
from tangstudio.engine.training import state as S
from tangstudio.engine.training.cadence import Budget
from tangstudio.engine.training.schedule import lr_at, warmup_steps
from tangstudio.engine.training.step import make_optimizer

__all__ = [
    "EVAL_CHUNK",
    "LabResult",
    "LoadedClassifier",
    "classify",
    "evaluate_digits",
    "load_lab_checkpoint",
    "resume_command",
    "score",
    "train_lab",
]


@dataclass
class LabResult:
    run: str
    path: Path | None
    status: str  # finished | interrupted
    step: int
    params: int
    best_val_acc: float | None
    best_val_loss: float | None
    final_val_acc: float | None
    elapsed_s: float
    cpu_s: float
    model: SequenceClassifier | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in dataclasses.asdict(self).items() if k != "model"}
        data["path"] = str(self.path) if self.path else None
        return data


def resume_command(name: str, task: str = "digits") -> str:
    return _resume_command(name, lab_command(task))


def _tensors(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(batch.x), torch.from_numpy(batch.y)


def train_lab(
    config: LabConfig,
    callback: Callback | None = None,
    should_stop: Callable[[], bool] | None = None,
    given: set[str] | None = None,
    persist: bool = True,
) -> LabResult:
    """Train (or resume) a lab run; with `persist=False` nothing is written and the model is returned."""
    torch.set_num_threads(config.threads)
    session: RunSession | None = None
    resume: dict[str, Any] | None = None
    if persist:
        config = dataclasses.replace(config).validate()
        session = RunSession(run_path(config.run), callback, command=lab_command(config.task))
        try:
            has_checkpoint = session.claim(config.resume)
            if config.resume:
                config = config.merged_for_resume(session.run.config(), given or set())
                if has_checkpoint:
                    last = session.run.last_dir
                    meta = ckpt.read_meta(last)
                    tensors, info = ckpt.read_train_state(last, meta)
                    optim_sd, _ = S.unpack(tensors, info)
                    resume = {"weights": ckpt.read_weights(last, meta), "optim": optim_sd, "info": info}
        except BaseException:
            session.close()
            raise
    else:
        config = dataclasses.replace(config, run=config.run or "memory")
        if config.task == "memory" and config.distance is None:
            raise TangError("the memory task needs a distance")
    try:
        return _Loop(config, session, resume, callback, should_stop).run()
    finally:
        if session is not None:
            session.close()


class _Loop:
    def __init__(
        self,
        config: LabConfig,
        session: RunSession | None,
        resume: dict[str, Any] | None,
        callback: Callback | None,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        self.config, self.session, self.resume = config, session, resume
        self.callback, self.should_stop = callback, should_stop
        self.task = make_task(config.task, config.distance)
        torch.manual_seed(config.seed)
        self.model_config = ClassifierConfig(
            config.arch,
            self.task.input_size,
            self.task.classes,
            config.hidden,
            config.layers,
            config.impl,
            config.forget_bias,
        )
        self.model = build_classifier(self.model_config)
        self.params = count_parameters(self.model)
        self.optimizer = make_optimizer(self.model.parameters(), config, torch.device("cpu"))
        self.counters: dict[str, Any] = {
            "step": 0,
            "elapsed_s": 0.0,
            "cpu_s": 0.0,
            "best_val_acc": None,
            "best_val_loss": None,
        }
        self.last_val_acc: float | None = None
        if resume:
            self.model.load_state_dict(resume["weights"])
            self.optimizer.load_state_dict(resume["optim"])
            self.counters.update({k: resume["info"][k] for k in self.counters if k in resume["info"]})
        val = self.task.split("val")
        self.val_x, self.val_y = val.x, val.y

    def emit(self, event: dict[str, Any], log: bool = True) -> None:
        if self.session is not None:
            self.session.emit(event, log=log)
        elif self.callback is not None:
            self.callback(event)

    def run(self) -> LabResult:
        if self.session is not None:
            self.session.open(self.config.to_dict(), int(self.counters["step"]) if self.resume else None)
        try:
            return self._loop()
        except BaseException as exc:
            if self.session is not None:
                self.session.fail(exc, {"step": self.counters["step"]})
            raise

    def _loop(self) -> LabResult:
        cfg, c = self.config, self.counters
        budget = Budget.of(cfg.budget)
        total = budget.total_steps
        warm = warmup_steps(cfg.warmup, total)
        step = int(c["step"])
        wall0, cpu0 = time.monotonic(), time.process_time()
        wall_before, cpu_before = float(c["elapsed_s"]), float(c["cpu_s"])

        def elapsed() -> float:
            return wall_before + time.monotonic() - wall0

        def cpu() -> float:
            return cpu_before + time.process_time() - cpu0

        self.emit(
            {
                "event": "start",
                "step": step,
                "run": cfg.run,
                "task": cfg.task,
                "arch": cfg.arch,
                "params": self.params,
                "total_steps": total,
                "minutes": cfg.minutes,
                "resumed_from": step if self.resume else None,
                "config": cfg.to_dict(),
            }
        )
        window = {"nats": 0.0, "right": 0, "n": 0, "t": time.monotonic()}
        status, lr, last_eval_step = "finished", cfg.lr, None
        self.model.train()
        while not budget.reached(step):
            batch = self.task.train_batch(step, cfg.batch_size, cfg.seed)
            x, y = _tensors(batch)
            lr = lr_at(step, budget.fraction(step, elapsed()), cfg.lr, warm, cfg.min_lr_ratio)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            logits = self.model(x)
            loss = F.cross_entropy(logits, y)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.clip)
            self.optimizer.step()
            step += 1
            window["nats"] += float(loss.detach()) * len(y)
            window["right"] += int((logits.argmax(-1) == y).sum())
            window["n"] += len(y)
            stop = bool(self.should_stop()) if self.should_stop else False
            finishing = budget.time_up(elapsed()) or budget.reached(step)
            if step % cfg.log_every == 0 or finishing or stop:
                now = time.monotonic()
                self.emit(
                    {
                        "event": "train",
                        "step": step,
                        "epoch": round(self.task.epoch_of(step, cfg.batch_size), 4),
                        "train_loss": window["nats"] / max(window["n"], 1),
                        "train_acc": window["right"] / max(window["n"], 1),
                        "lr": lr,
                        "examples_per_s": window["n"] / max(now - window["t"], 1e-9),
                        "elapsed_s": elapsed(),
                        "cpu_s": cpu(),
                    }
                )
                window = {"nats": 0.0, "right": 0, "n": 0, "t": now}
            c.update(step=step, elapsed_s=elapsed(), cpu_s=cpu())
            if (step % cfg.eval_every == 0 or finishing) and not stop:
                self._evaluate_and_save(step)
                last_eval_step = step
            self.emit(
                {
                    "event": "progress",
                    "step": step,
                    "total_steps": total,
                    "fraction": min(budget.fraction(step, elapsed()), 1.0),
                    "elapsed_s": elapsed(),
                },
                log=False,
            )
            if stop:
                status = "interrupted"
                break
            if finishing:
                break
        c.update(step=step, elapsed_s=elapsed(), cpu_s=cpu())
        if status == "interrupted" and self.session is not None:
            self._save("last", with_state=True)
        elif last_eval_step != step:
            self._evaluate_and_save(step)
        self.emit(
            {
                "event": "done",
                "status": status,
                "step": step,
                "val_loss": c["best_val_loss"],
                "val_acc": c["best_val_acc"],
                "elapsed_s": elapsed(),
                "cpu_s": cpu(),
            }
        )
        return LabResult(
            cfg.run,
            self.session.run.path if self.session else None,
            status,
            step,
            self.params,
            c["best_val_acc"],
            c["best_val_loss"],
            self.last_val_acc,
            elapsed(),
            cpu(),
            self.model,
        )

    def _evaluate_and_save(self, step: int) -> None:
        c = self.counters
        result = score(classify(self.model, self.val_x), self.val_y)
        self.model.train()
        self.last_val_acc = result["accuracy"]
        self.emit(
            {
                "event": "eval",
                "step": step,
                "val_loss": result["loss"],
                "val_acc": result["accuracy"],
                "val_ppl": None,
                "elapsed_s": c["elapsed_s"],
                "cpu_s": c["cpu_s"],
            }
        )
        best = c["best_val_acc"]
        improved = best is None or (result["accuracy"], -result["loss"]) > (
            best,
            -(c["best_val_loss"] or 0.0),
        )
        if improved:
            c["best_val_acc"], c["best_val_loss"] = result["accuracy"], result["loss"]
        if self.session is None:
            return
        if improved:
            self._save("best", with_state=False, val=result)
        self._save("last", with_state=True, val=result)

    def _save(self, which: str, with_state: bool, val: dict[str, Any] | None = None) -> None:
        assert self.session is not None
        c, cfg = self.counters, self.config
        meta = {
            "kind": "lab",
            "run": cfg.run,
            "task": cfg.task,
            "arch": cfg.arch,
            "classifier": self.model_config.to_dict(),
            "params": self.params,
            "step": c["step"],
            "val_loss": (val or {}).get("loss"),
            "val_acc": (val or {}).get("accuracy"),
            "measure": "accuracy",  # not a perplexity: events.py's ppl_kind is causal or pseudo
            "train_config": cfg.to_dict(),
            "created": now_iso(),
        }
        state = S.pack(self.optimizer, [{"torch": torch.get_rng_state()}], dict(c)) if with_state else None
        self.session.save(which, self.model.state_dict(), meta, state)
