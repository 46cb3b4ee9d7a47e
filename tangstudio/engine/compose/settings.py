"""The composer's settings and what it reports back — torch-free, shared by the CLI and the studio.

Settings are validated here so that both faces reject the same bad values with the same line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tangstudio.engine.errors import TangError

FORMS = ("wujue", "qijue", "wulv", "qilv", "free")
TONE_MODES = ("strict", "loose", "off")
EOS_MARK = "<eos>"  # how the end of a free-form poem shows among the candidates


@dataclass
class ComposeSettings:
    """What to write and how to sample it.

    `form`, `acrostic` and `prefix` shape the poem and are read when a Composer starts; the
    sampling knobs (temperature, top_k, top_p) and the rhyme/tone switches are read at every step,
    so the studio can change them mid-poem. temperature 0 means greedy.
    """

    form: str = "qijue"
    acrostic: str = ""
    prefix: str = ""
    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 0.95
    rhyme: bool = True
    tones: str = "loose"
    seed: int | None = None
    novelty: bool = True  # forbid completing a line that is a line of the training corpus

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> ComposeSettings:
        if self.form == "other":  # what `check` and the corpus call verse of no regular shape
            self.form = "free"
        if self.form not in FORMS:
            raise TangError(f"unknown form {self.form!r}; choose one of: {', '.join(FORMS)}")
        if self.tones not in TONE_MODES:
            raise TangError(f"unknown tone mode {self.tones!r}; choose one of: {', '.join(TONE_MODES)}")
        if not isinstance(self.temperature, (int, float)) or not 0 <= self.temperature <= 10:
            raise TangError(f"temperature must be between 0 (greedy) and 10, got {self.temperature}")
        if not isinstance(self.top_k, int) or self.top_k < 0:
            raise TangError(f"top-k must be 0 (off) or a positive whole number, got {self.top_k}")
        if not isinstance(self.top_p, (int, float)) or not 0 < self.top_p <= 1:
            raise TangError(f"top-p must be in (0, 1], got {self.top_p}")
        if self.seed is not None and (not isinstance(self.seed, int) or self.seed < 0):
            raise TangError(f"seed must be a whole number ≥ 0, got {self.seed}")
        return self

    @property
    def regulated(self) -> bool:
        return self.form != "free"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StepInfo:
    """One written position: the distribution after constraints and what was chosen.

    `candidates` are the top 10 of the distribution actually sampled from (constraints applied,
    temperature applied, renormalised); `removed_mass` is the share of the model's own
    (temperature 1) probability that the constraints took away; `model_prob` is the chosen
    character's probability under the model alone. `forced` marks positions with one allowed
    character (punctuation, acrostic, prefix).
    """

    position: int
    candidates: list[tuple[str, float]]
    removed_mass: float
    chosen: str
    chosen_prob: float
    model_prob: float = 0.0
    forced: bool = False
    notes: list[str] = field(default_factory=list)  # constraints relaxed at this step

    def to_dict(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "chosen": self.chosen,
            "prob": round(self.chosen_prob, 6),
            "model_prob": round(self.model_prob, 6),
            "removed_mass": round(self.removed_mass, 6),
            "forced": self.forced,
            "candidates": [[c, round(p, 6)] for c, p in self.candidates],
            **({"notes": self.notes} if self.notes else {}),
        }


@dataclass
class ComposeResult:
    """A finished (or abandoned) poem with everything the faces show and `--json` prints."""

    text: str
    form: str
    steps: list[StepInfo]
    rhyme_group: str | None = None
    check: dict | None = None  # prosody.check_poem(...).to_dict() for fixed forms
    backoffs: list[str] = field(default_factory=list)  # constraints that had to be relaxed, and where
    copied_lines: list[str] = field(default_factory=list)  # lines that are lines of the corpus
    longest_shared: str | None = None  # longest span shared with the corpus (None: not checked)
    log_prob: float | None = None  # sum of the model's log-probabilities of the written characters
    seed: int | None = None  # the seed that reproduces this poem (sampling only)

    @property
    def backed_off(self) -> bool:
        return bool(self.backoffs)

    def to_dict(self, with_steps: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "form": self.form,
            "rhyme_group": self.rhyme_group,
            "check": _check_summary(self.check),
            "backed_off": self.backed_off,
            "backoffs": self.backoffs,
            "copied_lines": self.copied_lines,
            "longest_shared_span": self.longest_shared,
            "log_prob": None if self.log_prob is None else round(self.log_prob, 4),
            "seed": self.seed,
        }
        if with_steps:
            data["steps"] = [s.to_dict() for s in self.steps]
        return data


def _check_summary(check: dict | None) -> dict | None:
    if check is None:
        return None
    keys = (
        "form_ok",
        "rhyme_ok",
        "rhyme_group",
        "first_line_rhymes",
        "tones_loose_ok",
        "tones_strict_ok",
        "variant",
        "warnings",
        "ok",
    )
    return {k: check.get(k) for k in keys}
