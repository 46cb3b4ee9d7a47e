"""TrainConfig: every option of `tangstudio train`, as one dataclass the CLI and the studio fill in.

It is what a poem run's config.toml stores, so a run can be reproduced from its directory alone;
it lives with the run folder's other schemas (events.py for metrics.jsonl, schema.py's checks) so
that reading a run never reaches up to the training package, which re-exports it
(`training.config`). Unset budgets
stay None; when none of epochs/steps/minutes is given, `epochs` falls back to DEFAULT_EPOCHS.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tangstudio.engine import paths
from tangstudio.engine.errors import TangError
from tangstudio.engine.models.archs import ARCH_NAMES, check_forget_bias, pairs_state, ppl_kind

if TYPE_CHECKING:
    from tangstudio.engine.models.config import ModelConfig

DEVICES = ("auto", "cpu", "cuda", "mps")
DEFAULT_EPOCHS = 10
# Options that may differ when a run is resumed: how long and where it trains, not what it is.
RESUMABLE_CHANGES = frozenset(
    {
        "epochs",
        "steps",
        "minutes",
        "device",
        "eval_every",
        "log_every",
        "samples",
        "resume",
        "checkpoint_every",
    }
)
# Options added after runs were already stored, with the value that reproduces those runs: a
# config.toml without them resumes exactly as it was trained.
LEGACY = {"budget_len": 0, "loss_chunk": 0, "head_bf16": "off"}
HEAD_BF16 = ("auto", "on", "off")
# The largest budget a person may ask for: far beyond any run that ends (a billion steps, a million
# passes, 19 years), and a bound all the same: a 20-digit --steps trained until its ETA overflowed
# the platform's time_t, ending the run as failed with a traceback.
# A training seed is multiplied into others (seed · 1,000,033 + …, training/trainer.py) that torch
# takes as a signed 64-bit number: 2**32 − 1 keeps every one of them in range, as the lab's does.
MAX_TRAIN_SEED = 2**32 - 1
MAX_BUDGET: dict[str, int] = {"steps": 1_000_000_000, "epochs": 1_000_000, "minutes": 10_000_000}
EVAL_SUBSET_SEED = 20240101  # the same val subset for every run, whatever its --seed


# What no run on this project's machines (or a GPU's) needs more of: a larger value is a typo.
UPPER_BOUNDS: dict[str, float] = {"samples": 100, "batch_size": 8192, "weight_decay": 10.0}


@dataclass
class TrainConfig:
    arch: str = "lstm"
    corpus: str = "tang"
    forms: str = "regulated"
    script: str = "simplified"
    embed: int = 256
    hidden: int = 512
    layers: int = 2
    dropout: float = 0.2
    forget_bias: float = 0.0  # LSTM / BiLSTM: the forget gate's bias at initialisation
    tied: bool = False
    impl: str = "fused"  # fused (PyTorch's cuDNN/CPU kernels) | cells (the readable cells, for teaching)
    lr: float = 2e-3
    weight_decay: float = 0.01
    batch_size: int = 64
    epochs: int | None = None
    steps: int | None = None
    minutes: float | None = None
    warmup: int = 200  # steps of linear warm-up (capped at a tenth of a known step budget)
    min_lr_ratio: float = 0.1  # cosine decays to this fraction of lr
    clip: float = 1.0
    device: str = "auto"
    run: str | None = None
    seed: int = 0
    resume: bool = False
    eval_every: int = 500  # 0: about 8 evaluations per run, from its budget (training/cadence.py)
    log_every: int = 20
    eval_poems: int = 500  # periodic evals use this fixed subset of the val split (0 = all of it)
    samples: int = 3  # poems sampled at each evaluation
    checkpoint_every: float = 2.0  # minutes: `last` is also written this often, between evaluations
    max_len: int = 256  # training sequences longer than this (start + chars + end) are left out
    mask_min: float = 0.15  # BiLSTM: share of character positions masked, drawn per poem
    mask_max: float = 0.30
    dropout_in: float = 0.0  # AWD-LSTM (models/regularize.py): locked dropout on the embeddings,
    weight_drop: float = 0.0  # DropConnect on the hidden-to-hidden weights,
    embed_dropout: float = 0.0  # whole characters dropped,
    locked: bool = False  # and the output dropout with one mask per sequence
    init_from: str | None = None  # start from this model's weights and vocabulary (training/init_from.py)
    author: str | None = None  # train on this poet's poems only (the splits stay the md5 buckets)
    plan: bool = True  # causal models read the poem's title and one keyword per line (plan_data.py)
    title_drop: float = 0.4  # ... each dropped at random, so the model writes with or without them
    plan_drop: float = 0.35
    keyword_drop: float = 0.2
    # Long poems (issue 24, docs/long_poems.md): a batch holds at most batch_size × budget_len token
    # slots, so batches of long poems hold fewer of them (0: always batch_size poems);
    budget_len: int = 96
    loss_chunk: int = 4096  # the head and loss on scored rows only, this many at a time (0: full logits)
    head_bf16: str = "auto"  # the head's matmuls in bf16: auto (where the device has bf16 units) | on | off

    def __post_init__(self) -> None:
        if self.run is None:
            self.run = f"{self.arch}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"

    def validate(self, *, stored: bool = False) -> TrainConfig:
        """These options, or one line naming the first wrong one. `stored`: a run's own config.toml,
        whose budget is what it was trained with: bounds added since (MAX_BUDGET) hold only what a
        person asks for now, so an older run still lists and resumes."""
        for option in dataclasses.fields(self):  # NaN passes every `<= 0` test below; inf overflows
            value = getattr(self, option.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise TangError(f"--{option.name.replace('_', '-')} must be a finite number (got {value})")
        if self.arch not in ARCH_NAMES:
            raise TangError(f"unknown architecture {self.arch!r}; choose one of {', '.join(ARCH_NAMES)}")
        if self.device not in DEVICES:
            raise TangError(f"unknown device {self.device!r}; choose one of {', '.join(DEVICES)}")
        from tangstudio.engine.models.archs import IMPLS  # torch-free

        if self.impl not in IMPLS:
            raise TangError(f"unknown implementation {self.impl!r}; choose one of {', '.join(IMPLS)}")
        if self.script not in ("simplified", "traditional"):
            raise TangError(f"unknown script {self.script!r}; choose simplified or traditional")
        from tangstudio.engine.corpus.forms import parse_forms  # torch-free

        parse_forms(self.forms)
        if not self.resume:  # a new run; a folder already there keeps the name it has
            paths.check_new_run_name(self.run or "")  # never None: __post_init__ names the run
        bad_seed = isinstance(self.seed, bool) or not isinstance(self.seed, int)
        if bad_seed or (not stored and not 0 <= self.seed <= MAX_TRAIN_SEED):  # a run trained at -1 resumes
            raise TangError(f"--seed must be a whole number from 0 to {MAX_TRAIN_SEED:,}, got {self.seed}")
        budgets = [name for name in ("epochs", "steps", "minutes") if getattr(self, name) is not None]
        if len(budgets) > 1:
            raise TangError(f"give only one of --epochs, --steps, --minutes (got {', '.join(budgets)})")
        positive = {
            "embed": self.embed,
            "hidden": self.hidden,
            "layers": self.layers,
            "batch_size": self.batch_size,
            "log_every": self.log_every,
            "max_len": self.max_len,
            "lr": self.lr,
            "clip": self.clip,
        }
        for name in ("epochs", "steps", "minutes"):
            if getattr(self, name) is not None:
                positive[name] = getattr(self, name)
        for name, value in positive.items():
            if value <= 0:
                raise TangError(f"--{name.replace('_', '-')} must be positive (got {value})")
        if not stored:
            self._check_budget_bound()
        if not 0 <= self.dropout < 1:
            raise TangError(f"--dropout must be in [0, 1) (got {self.dropout})")
        if self.eval_every < 0:
            raise TangError(f"--eval-every must be 0 (from the budget) or positive (got {self.eval_every})")
        # Upper bounds where a typo is not a plan but a machine's memory: --samples 99999999999999999999
        # was accepted and took a shared box down (the kernel's OOM killer; a fuzzing review).
        for name, top in UPPER_BOUNDS.items():
            if not stored and getattr(self, name) > top:  # a run trained before them still resumes
                raise TangError(
                    f"--{name.replace('_', '-')} must be at most {top:,g} (got {getattr(self, name):,g})"
                )
        if self.samples < 0:
            raise TangError(f"--samples must be 0 or positive (got {self.samples})")
        if not 0 < self.checkpoint_every < 1e6:
            raise TangError(
                f"--checkpoint-every must be a positive number of minutes (got {self.checkpoint_every})"
            )
        if self.eval_poems < 0:
            raise TangError(f"--eval-poems must be 0 (all) or positive (got {self.eval_poems})")
        if not -10 <= self.forget_bias <= 10:
            raise TangError(f"--forget-bias must be between -10 and 10 (got {self.forget_bias})")
        check_forget_bias(self.arch, self.forget_bias)
        if self.weight_decay < 0:
            raise TangError(f"--weight-decay must be 0 or positive (got {self.weight_decay})")
        if self.warmup < 0:
            raise TangError(f"--warmup must be 0 or positive (got {self.warmup})")
        if not 0 <= self.min_lr_ratio <= 1:
            raise TangError(f"--min-lr-ratio must be in [0, 1] (got {self.min_lr_ratio})")
        for name in ("dropout_in", "weight_drop", "embed_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise TangError(f"--{name.replace('_', '-')} must be in [0, 1) (got {getattr(self, name)})")
        if self.weight_drop and self.impl != "fused":
            raise TangError("--weight-drop needs the fused kernels (--impl fused)")
        awd = {
            "--dropout-in": self.dropout_in,
            "--weight-drop": self.weight_drop,
            "--embed-dropout": self.embed_dropout,
            "--locked": self.locked,
        }
        if self.arch == "bilstm" and any(awd.values()):  # models/bilstm.py reads none of them
            used = ", ".join(flag for flag, value in awd.items() if value)
            raise TangError(f"{used}: the AWD-LSTM regularisers apply to rnn, lstm and gru, not to bilstm")
        for name in ("title_drop", "plan_drop", "keyword_drop"):
            if not 0 <= getattr(self, name) <= 1:
                raise TangError(f"--{name.replace('_', '-')} must be in [0, 1] (got {getattr(self, name)})")
        for name in ("budget_len", "loss_chunk"):
            if getattr(self, name) < 0:
                raise TangError(
                    f"--{name.replace('_', '-')} must be 0 (off) or positive (got {getattr(self, name)})"
                )
        if self.head_bf16 == "on" and not self.loss_chunk:
            raise TangError("--head-bf16 on needs the chunked head (--loss-chunk above 0)")
        if self.head_bf16 not in HEAD_BF16:
            raise TangError(f"--head-bf16 must be one of {', '.join(HEAD_BF16)} (got {self.head_bf16!r})")
        if not 0 <= self.mask_min <= self.mask_max < 1:
            raise TangError(
                f"--mask-min and --mask-max must satisfy 0 <= --mask-min <= --mask-max < 1 "
                f"(got {self.mask_min:g} and {self.mask_max:g})"
            )
        return self

    def _check_budget_bound(self) -> None:
        """The budget given within MAX_BUDGET, refused before a run folder exists."""
        for name, most in MAX_BUDGET.items():
            value = getattr(self, name)
            if value is not None and value > most:
                raise TangError(f"--{name} must be at most {most:,} (got {value:,})")

    @property
    def budget(self) -> tuple[str, float]:
        """('epochs'|'steps'|'minutes', amount); with none given, DEFAULT_EPOCHS epochs."""
        for name in ("steps", "minutes", "epochs"):
            if getattr(self, name) is not None:
                return name, getattr(self, name)
        return "epochs", DEFAULT_EPOCHS

    @property
    def ppl_kind(self) -> str:
        return ppl_kind(self.arch)

    def model_config(self, vocab_size: int) -> ModelConfig:
        """The model these options describe, every shape option included (forget bias, tied, impl):
        the one translation from training options to a model, for the trainer and the studio."""
        from tangstudio.engine.models.config import ModelConfig

        return ModelConfig(
            arch=self.arch,
            vocab_size=vocab_size,
            embed=self.embed,
            hidden=self.hidden,
            layers=self.layers,
            dropout=self.dropout,
            tied=self.tied,
            impl=self.impl,
            forget_bias=self.forget_bias,
            dropout_in=self.dropout_in,
            weight_drop=self.weight_drop,
            embed_dropout=self.embed_dropout,
            locked=self.locked,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TangError(f"unknown training option(s): {', '.join(unknown)}")
        return cls(**{**LEGACY, **data})

    @property
    def batch_tokens(self) -> int:
        """The most token slots (poems × longest length) a batch may hold; 0: no bound."""
        return self.batch_size * self.budget_len

    def merged_for_resume(self, stored: dict[str, Any], given: set[str]) -> TrainConfig:
        """The stored config, with only budget/placement options taken from what the user gave now."""
        try:  # a hand-edited file (layers = -1, a key of no option) is the file's fault: say which
            merged = stored_config(stored)
        except TangError as exc:
            raise TangError(
                f"run {self.run!r} cannot be resumed: its config.toml is damaged ({exc})"
            ) from None
        conflicts = [
            n for n in sorted(given - RESUMABLE_CHANGES - {"run"}) if getattr(self, n) != getattr(merged, n)
        ]
        if conflicts:
            name = conflicts[0]
            raise TangError(
                f"cannot change --{name.replace('_', '-')} when resuming run {merged.run!r} "
                f"(it was {getattr(merged, name)!r}); start a new run instead"
            )
        if given & {"epochs", "steps", "minutes"}:
            merged.epochs = merged.steps = merged.minutes = None
        for name in given & RESUMABLE_CHANGES:
            setattr(merged, name, getattr(self, name))
        merged.run, merged.resume = self.run, True
        return merged


def stored_config(stored: dict[str, Any]) -> TrainConfig:
    """A run's config.toml (already read and type-checked) as the TrainConfig it trained with;
    TangError for values no run could hold (layers = -1, a key of no option): `runs list` lists the
    run damaged for it, and a resume refuses it naming the file."""
    config = TrainConfig.from_dict(_legacy({k: v for k, v in stored.items() if k != "resume"}))
    dataclasses.replace(config, resume=True).validate(stored=True)
    return config


def _legacy(stored: dict[str, Any]) -> dict[str, Any]:
    """What older versions accepted and a run may have recorded, read as it trained: a forget bias on
    an RNN or GRU (which has no forget gate: it changed nothing), `--forms ,` or `--forms ''` (every
    form), and the AWD-LSTM regularisers on a bilstm (which never read them)."""
    out = dict(stored)
    if isinstance(out.get("arch"), str) and out["arch"] in ARCH_NAMES and not pairs_state(out["arch"]):
        out["forget_bias"] = 0.0
    forms = out.get("forms")
    if isinstance(forms, str) and not forms.replace(",", "").strip():
        out["forms"] = "all"
    if out.get("arch") == "bilstm":
        out.update({name: 0.0 for name in ("dropout_in", "weight_drop", "embed_dropout") if name in out})
        if "locked" in out:
            out["locked"] = False
    return out
