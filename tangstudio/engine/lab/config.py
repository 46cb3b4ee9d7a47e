"""LabConfig: every option of `tangstudio lab digits train`, stored as the run's config.toml.

The fields `arch`, `corpus` and `forms` are what `runs list` reads from any run, so a lab run
lists beside the poem runs with corpus "digits" (or "memory-T50") and forms "-".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from tangstudio.engine import paths
from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import ARCHS, IMPLS, arch_choices, check_forget_bias
from tangstudio.engine.runs.train_config import MAX_TRAIN_SEED

LAB_KIND = "lab"
MAX_SEED = MAX_TRAIN_SEED  # the poem trainer's bound; a negative seed tracebacked in numpy
MAX_FORGET_BIAS = 10.0  # σ(10) ≈ 0.99995: any larger is the same gate, and NaN is refused before training
# What may change when a run is resumed: how long it trains, not what it is.
RESUMABLE = frozenset({"steps", "minutes", "eval_every", "log_every", "threads", "resume"})


# The digits study's picked rates (docs/study.md, Part I: a 3-point sweep on val accuracy, seed 0):
# a run at its cell's own rate is what the study compared, where one rate for all (2e-3, until a
# student's review) put every cell off its best.
DIGITS_RATES = {"rnn": 3e-3, "lstm": 1e-2, "gru": 1e-2, "bilstm": 1e-2}


def digits_rate(arch: str) -> float:
    """The default learning rate of a digits run of `arch`: the study's (an unknown arch is refused
    by LabConfig.validate, with LabConfig's own default here)."""
    return DIGITS_RATES.get(arch, LabConfig.lr)


@dataclass
class LabConfig:
    run: str = ""
    task: str = "digits"  # digits | memory
    distance: int | None = None  # memory task: steps between cause and effect
    arch: str = "lstm"
    hidden: int = 128
    layers: int = 1
    impl: str = "fused"
    forget_bias: float = 0.0
    lr: float = 2e-3
    batch_size: int = 64
    steps: int | None = None
    minutes: float | None = None
    warmup: int = 50
    min_lr_ratio: float = 0.1
    clip: float = 1.0
    weight_decay: float = 0.0
    seed: int = 0
    eval_every: int = 100
    log_every: int = 20
    threads: int = 1
    resume: bool = False
    kind: str = LAB_KIND
    corpus: str = ""  # filled in: what `runs list` shows
    forms: str = "-"

    def validate(self) -> LabConfig:
        if self.resume:
            paths.check_name(self.run, "run")
        else:  # a new run: not `default` either, the name every model argument reads as the shipped one
            paths.check_new_run_name(self.run)
        if self.arch not in ARCHS:
            raise TangError(f"unknown architecture {self.arch!r}; choose one of: {arch_choices()}")
        if self.impl not in IMPLS:
            raise TangError(f"unknown implementation {self.impl!r}; choose one of: {', '.join(IMPLS)}")
        if self.task not in ("digits", "memory"):
            raise TangError(f"unknown lab task {self.task!r}; choose digits or memory")
        if (self.steps is None) == (self.minutes is None):
            raise TangError("give exactly one budget: --steps N or --minutes M")
        if self.steps is not None and not 1 <= self.steps <= 10_000_000:
            raise TangError(f"--steps must be between 1 and 10,000,000, got {self.steps}")
        if self.minutes is not None and not 0 < self.minutes <= 10_000:
            raise TangError(f"--minutes must be above 0 and at most 10,000, got {self.minutes}")
        if not 0 < self.lr <= 1:
            raise TangError(f"--lr must be above 0 and at most 1, got {self.lr}")
        for name, low, high in (
            ("hidden", 1, 4096),
            ("layers", 1, 8),
            ("batch_size", 1, 8000),
            ("eval_every", 1, 10_000_000),
            ("log_every", 1, 10_000_000),
            ("threads", 1, 256),
        ):
            value = getattr(self, name)
            if not low <= value <= high:
                raise TangError(f"--{name.replace('_', '-')} must be between {low} and {high}, got {value}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise TangError(f"--seed must be a whole number from 0 to {MAX_SEED:,}, got {self.seed}")
        if not -MAX_FORGET_BIAS <= self.forget_bias <= MAX_FORGET_BIAS:
            raise TangError(
                f"--forget-bias must be between {-MAX_FORGET_BIAS:g} and {MAX_FORGET_BIAS:g}, got {self.forget_bias}"
            )
        check_forget_bias(self.arch, self.forget_bias)
        if self.task == "memory" and self.distance is None:
            raise TangError("the memory task needs --distance")
        self.corpus = "digits" if self.task == "digits" else f"memory-T{self.distance}"
        return self

    @property
    def budget(self) -> tuple[str, float]:
        return (
            ("steps", float(self.steps)) if self.steps is not None else ("minutes", float(self.minutes or 0))
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        if data.get("kind") != LAB_KIND:
            raise TangError('this run is not a lab run (its config.toml has no kind = "lab")')
        return cls(**{k: v for k, v in data.items() if k in known})

    def merged_for_resume(self, stored: dict[str, Any], given: set[str]) -> LabConfig:
        """The stored config with only budget options taken from this one."""
        base = LabConfig.from_dict(stored)
        changed = {
            name for name in given if name not in RESUMABLE and getattr(self, name) != getattr(base, name)
        }
        if changed:
            raise TangError(
                f"cannot change {', '.join(sorted(changed))} when resuming run {self.run!r}; "
                f"only the budget and logging options may differ"
            )
        updates = {name: getattr(self, name) for name in given if name in RESUMABLE - {"resume"}}
        if "steps" in given or "minutes" in given:
            updates.setdefault("steps", self.steps)
            updates.setdefault("minutes", self.minutes)
        return dataclasses.replace(base, **updates, resume=True)
