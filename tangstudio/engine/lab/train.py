"""Training a lab classifier: the poem runs' folders, metrics, checkpoints and resume, a small loop.

A lab run is an ordinary run folder (`<home>/runs/<name>/`: config.toml, metrics.jsonl,
checkpoints/{best,last}/ as safetensors + JSON via engine/runs/checkpoint.py, run.lock), so
`runs list` shows it and the studio can follow it. The loop itself is far simpler than the poem
loop (fixed-length sequences, one class per sequence), so it is its own: AdamW, warm-up + cosine
from engine/training/schedule.py, clipping, an evaluation on the whole val split every
`eval_every` steps, `best/` chosen by val accuracy and `last/` with the optimizer for `--resume`.

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

import numpy as np
import torch
import torch.nn.functional as F

from tangstudio.engine.errors import TangError
from tangstudio.engine.lab.config import LabConfig
from tangstudio.engine.lab.models import (
    ClassifierConfig,
    SequenceClassifier,
    build_classifier,
    count_parameters,
)
from tangstudio.engine.lab.tasks import Batch, make_task
from tangstudio.engine.runs import checkpoint as ckpt
from tangstudio.engine.runs.config import write_config
from tangstudio.engine.runs.metrics import MetricsWriter, now_iso, trim_after
from tangstudio.engine.runs.rundir import RunDir, run_path
from tangstudio.engine.training import state as S
from tangstudio.engine.training.schedule import lr_at, warmup_steps

Callback = Callable[[dict], None]
EVAL_CHUNK = 500


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

    def to_dict(self) -> dict:
        data = {k: v for k, v in dataclasses.asdict(self).items() if k != "model"}
        data["path"] = str(self.path) if self.path else None
        return data


def resume_command(name: str) -> str:
    return f"tangstudio lab digits train --run {name} --resume"


def _tensors(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.from_numpy(batch.x), torch.from_numpy(batch.y)


@torch.no_grad()
def classify(model: SequenceClassifier, x: np.ndarray) -> np.ndarray:
    """Class probabilities [N, classes] for inputs [N, T, I], in chunks."""
    model.eval()
    out = [
        torch.softmax(model(torch.from_numpy(x[i : i + EVAL_CHUNK])), dim=-1)
        for i in range(0, len(x), EVAL_CHUNK)
    ]
    return torch.cat(out).numpy()


def score(probs: np.ndarray, labels: np.ndarray) -> dict:
    """Loss (nats), accuracy, per-class accuracy and the confusion matrix (rows: truth)."""
    classes = probs.shape[1]
    predicted = probs.argmax(axis=1)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    per_class = [
        float(confusion[c, c] / confusion[c].sum()) if confusion[c].sum() else None for c in range(classes)
    ]
    picked = np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)
    return {
        "count": len(labels),
        "loss": float(-np.log(picked).mean()),
        "accuracy": float((predicted == labels).mean()),
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "predicted": predicted.tolist(),
    }


def train_lab(
    config: LabConfig,
    callback: Callback | None = None,
    should_stop: Callable[[], bool] | None = None,
    given: set[str] | None = None,
    persist: bool = True,
) -> LabResult:
    """Train (or resume) a lab run; with `persist=False` nothing is written and the model is returned."""
    torch.set_num_threads(config.threads)
    run: RunDir | None = None
    resume: dict | None = None
    lock = None
    if persist:
        config = dataclasses.replace(config).validate()
        run = run_path(config.run)
        if config.resume and not run.exists():
            raise TangError(f"cannot resume: unknown run {config.run!r} (no {run.config_path})")
        if not config.resume and run.exists():
            raise TangError(
                f"run {config.run!r} already exists at {run.path}; add --resume to continue it or choose another --run name"
            )
        run.path.mkdir(parents=True, exist_ok=True)
        lock = run.lock()  # one trainer per run; a dead trainer's lock never blocks
        try:
            ckpt.clean_checkpoints(run.checkpoints)
            if config.resume:
                config = config.merged_for_resume(run.config(), given or set())
                if (run.last_dir / ckpt.META).is_file():
                    meta = ckpt.read_meta(run.last_dir)
                    tensors, info = ckpt.read_train_state(run.last_dir, meta)
                    optim_sd, _ = S.unpack(tensors, info)
                    resume = {
                        "weights": ckpt.read_weights(run.last_dir, meta),
                        "optim": optim_sd,
                        "info": info,
                    }
        except BaseException:
            lock.release()
            raise
    else:
        config = dataclasses.replace(config, run=config.run or "memory")
        if config.task == "memory" and config.distance is None:
            raise TangError("the memory task needs a distance")
    try:
        return _Loop(config, run, resume, callback, should_stop).run()
    finally:
        if lock is not None:
            lock.release()


class _Loop:
    def __init__(
        self,
        config: LabConfig,
        run: RunDir | None,
        resume: dict | None,
        callback: Callback | None,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        self.config, self.run_dir, self.resume = config, run, resume
        self.callback, self.should_stop = callback, should_stop
        self.writer: MetricsWriter | None = None
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
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=config.lr, betas=(0.9, 0.99), weight_decay=config.weight_decay
        )
        self.counters: dict[str, Any] = {
            "step": 0,
            "elapsed_s": 0.0,
            "cpu_s": 0.0,
            "best_val_acc": None,
            "best_val_loss": None,
        }
        if resume:
            self.model.load_state_dict(resume["weights"])
            self.optimizer.load_state_dict(resume["optim"])
            self.counters.update({k: resume["info"][k] for k in self.counters if k in resume["info"]})
        val = self.task.split("val")
        self.val_x, self.val_y = val.x, val.y

    def emit(self, event: dict, log: bool = True) -> None:
        if log and self.writer is not None:
            event = self.writer.write(event)
        if self.callback is not None:
            self.callback(event)

    def run(self) -> LabResult:
        run = self.run_dir
        if run is not None:
            run.path.mkdir(parents=True, exist_ok=True)
            write_config(run.config_path, self.config.to_dict())
            if self.resume:
                trim_after(run.metrics_path, int(self.counters["step"]))
            self.writer = MetricsWriter(run.metrics_path)
        try:
            return self._loop()
        except BaseException as exc:
            if self.writer is not None:
                status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
                self.emit(
                    {"event": "done", "status": status, "step": self.counters["step"], "error": repr(exc)}
                )
            raise
        finally:
            if self.writer is not None:
                self.writer.close()

    def _loop(self) -> LabResult:
        cfg, c = self.config, self.counters
        kind, amount = cfg.budget
        total = int(amount) if kind == "steps" else None
        budget_s = amount * 60 if kind == "minutes" else None
        warm = warmup_steps(cfg.warmup, total)
        step = int(c["step"])
        wall0, cpu0 = time.monotonic(), time.process_time()
        wall_before, cpu_before = float(c["elapsed_s"]), float(c["cpu_s"])

        def elapsed() -> float:
            return wall_before + time.monotonic() - wall0

        def cpu() -> float:
            return cpu_before + time.process_time() - cpu0

        def progress() -> float:
            return step / total if total else (elapsed() / budget_s if budget_s else 0.0)

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
        while not (total is not None and step >= total):
            batch = self.task.train_batch(step, cfg.batch_size, cfg.seed)
            x, y = _tensors(batch)
            lr = lr_at(step, progress(), cfg.lr, warm, cfg.min_lr_ratio)
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
            time_up = budget_s is not None and elapsed() >= budget_s
            finishing = time_up or (total is not None and step >= total)
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
                    "fraction": min(progress(), 1.0),
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
        if status == "interrupted" and self.run_dir is not None:
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
            self.run_dir.path if self.run_dir else None,
            status,
            step,
            self.params,
            c["best_val_acc"],
            c["best_val_loss"],
            getattr(self, "last_val_acc", None),
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
        if self.run_dir is None:
            return
        if improved:
            self._save("best", with_state=False, val=result)
        self._save("last", with_state=True, val=result)

    def _save(self, which: str, with_state: bool, val: dict | None = None) -> None:
        assert self.run_dir is not None
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
        directory = self.run_dir.checkpoints / which
        if with_state:
            tensors, info = S.pack(self.optimizer, [{"torch": torch.get_rng_state()}], dict(c))
            ckpt.save_checkpoint(directory, self.model.state_dict(), meta, tensors, info)
        else:
            ckpt.save_checkpoint(directory, self.model.state_dict(), meta)
        self.emit({"event": "checkpoint", "step": c["step"], "kind": which, "path": str(directory)})


@dataclass
class LoadedClassifier:
    model: SequenceClassifier
    meta: dict
    path: Path

    @property
    def task(self) -> str:
        return str(self.meta.get("task", "digits"))


def load_lab_checkpoint(target: str | Path, which: str = "best") -> LoadedClassifier:
    """A lab run's classifier, verified by sha256 like every checkpoint; never unpickled."""
    directory = ckpt.resolve_checkpoint(target, which)
    meta = ckpt.read_meta(directory)
    if meta.get("kind") != "lab":
        raise TangError(
            f"{target} is not a lab run (a poem model); lab commands need a run from `lab ... train`"
        )
    model = build_classifier(ClassifierConfig.from_dict(meta.get("classifier")))
    try:
        model.load_state_dict(ckpt.read_weights(directory, meta))
    except RuntimeError as exc:
        raise TangError(
            f"checkpoint {directory} does not fit its classifier ({str(exc).splitlines()[0]})"
        ) from None
    model.eval()
    return LoadedClassifier(model, meta, directory)


def evaluate_digits(target: str | Path, split: str = "test") -> dict:
    """Accuracy, per-class accuracy and the confusion matrix of a digits run on one split."""
    from tangstudio.engine.lab.tasks import DigitsTask

    loaded = load_lab_checkpoint(target)
    if loaded.task != "digits":
        raise TangError(f"run {target} was trained on the {loaded.task} task, not on digits")
    data = DigitsTask().split(split)
    probs = classify(loaded.model, data.x)
    result = score(probs, data.y)
    wrong = [
        {"index": int(i), "label": int(t), "predicted": int(p), "confidence": float(probs[k, p])}
        for k, (i, t, p) in enumerate(
            zip(data.index if data.index is not None else [], data.y, result["predicted"])
        )
        if t != p
    ]
    del result["predicted"]
    return {
        "run": loaded.meta.get("run"),
        "arch": loaded.meta.get("arch"),
        "step": loaded.meta.get("step"),
        "params": loaded.meta.get("params"),
        "split": split,
        **result,
        "misclassified": wrong,
    }
