"""The composer's settings and what it reports back — torch-free, shared by the CLI and the studio.

Settings are validated here so that both faces reject the same bad values with the same line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tangstudio.engine import forms
from tangstudio.engine.errors import TangError

FORMS = forms.NAMES  # the composer writes every form of the registry, `free` included
TONE_MODES = ("strict", "loose", "off")
EOS_MARK = "<eos>"  # how the end of a free-form poem shows among the candidates
UNFILLED = "□"  # how a BiLSTM grid (fill.py) shows a place not filled yet
MAX_SEED = 2**63 - 1  # the largest signed 64-bit seed; poem #k uses seed + k − 1 (check_seed_range)
MAX_TYPED = 2_000  # characters of a prefix or acrostic as typed (a free poem has at most 120)
MAX_ACROSTIC = 30  # lines a free poem can open with an acrostic character (regulated: 4 or 8)
TEMPERATURE = 0.9  # defaults chosen on the val split (docs/quality.md)
REPEAT_PENALTY = 2.0  # repeats at the real poems' level (1.7 % against 2.1 % on val; 1.0: 3.1 %)
DUIZHANG = 0.4
# Once a season is named, the other seasons' words lean away (craft/season.py): on val, poems naming
# two seasons 17.5 % -> 0.6 % at 2, 0.0 % at 3, lm and critic unmoved (real val 5.6 %; docs/quality.md).
SEASON = 3.0
# With a title, the model is read with and without it and the title's evidence weighed 1 + this
# (craft/guidance.py): on val titles the title explains 3× more of the poem (0.033 -> 0.105 nats a
# character), distinct-2 87.4 -> 90.4 %, the critic within its noise (2.06 -> 2.03); readers of sheet K
# named 10 and 12 of our 12 poems, every earlier reader 12 (docs/quality.md, "Fifth stop").
GUIDANCE = 1.5
MAX_GUIDANCE = 5.0
# A title alone is read without keywords: on val titles the planner's keywords made the first draws
# read less like real poems (critic −0.41 against 0.27 for the title alone; docs/quality.md, "Planner").
PLANNER = False
MAX_STRENGTH = 10.0
# Each line drawn LINE_DRAFTS times, the likeliest kept (craft/line_drafts.py), and the critic's best
# of DEFAULT_CANDIDATES such poems (generate --candidates): the best expected reader score on val
# within 1.5 s for a titled 七律, whose guidance reads the model twice (12 × 1: 1.1 s, critic 2.03;
# 8 × 2: 1.4–1.5 s, 2.03; untitled 12 × 1 and 8 × 2 both 2.07; docs/quality.md, "Fifth stop"). Drafts
# written side by side since brought a titled 七律 to 1.04–1.11 s; 24 drafts (1.35 s) would add 0.05
# to the critic for 5 points of distinct-2 ("Twentieth stop"), so 12 keeps the margin.
DEFAULT_CANDIDATES = 1
LINE_DRAFTS = 12
MAX_LINE_DRAFTS = 64


@dataclass
class ComposeSettings:
    """What to write and how to sample it.

    `form`, `acrostic`, `prefix`, `theme` and `primer` shape the poem and are read when a Composer starts; the
    sampling knobs (temperature, top_k, top_p) and the rhyme/tone switches are read at every step,
    so the studio can change them mid-poem. temperature 0 means greedy.
    """

    form: str = forms.DEFAULT.name
    acrostic: str = ""
    prefix: str = ""
    temperature: float = TEMPERATURE
    top_k: int = 0
    top_p: float = 0.95
    rhyme: bool = True
    rhyme_group: str = ""  # the 平 group the even lines rhyme in ("一东", "下平七阳"); "" the model's choice
    tones: str = "loose"
    seed: int | None = None
    novelty: bool = True  # forbid completing a line that is a line of the training corpus
    theme: str = ""  # 藏字: characters the poem must contain somewhere ("月,秋" or "月秋")
    primer: str = ""  # text read by the model before the poem, to set its mood; never printed
    title: str = ""  # the poem's subject, read by a plan-reading model before the form's start token
    plan: list[str] = field(default_factory=list)  # a keyword per line: '' none, '-' left to the planner
    planner: bool = PLANNER  # with no plan given, the planner proposes every line's keyword
    repeat_penalty: float = REPEAT_PENALTY  # q(c) × exp(−this) for characters already written (craft/)
    duizhang: float = DUIZHANG  # 律诗 lines 4 and 6 lean to pairs of lines 3 and 5 (0: off)
    season: float = SEASON  # q(c) × exp(−this) where c would name a season the poem has not (0: off)
    # the title's pull: log q = log p(·|title) + this × log[p(·|title) / p(·)] (0: off; craft/guidance.py)
    guidance: float = GUIDANCE
    # a poem written whole (finish, `generate`, the studio's `p`) keeps the best of this many drafts of each line
    line_drafts: int = LINE_DRAFTS

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> ComposeSettings:
        found = forms.find(self.form)  # any spelling: `other` (older files), 七绝, 七言绝句 ...
        if found is None:
            raise TangError(f"unknown form {self.form!r}; choose one of: {', '.join(FORMS)}")
        self.form = found.name
        self.validate_sampling()
        if self.rhyme_group:
            self.rhyme_group = self._chosen_group(found)
        if self.seed is not None and (not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED):
            raise TangError(f"seed must be a whole number from 0 to {MAX_SEED:,}, got {self.seed}")
        self._check_text()
        return self

    def _chosen_group(self, form: forms.Form) -> str:
        """The 平 group a poet asked to rhyme in, as the tables name it (ping_group)."""
        from tangstudio.engine.prosody import PING_GROUPS

        asked = self.rhyme_group.strip()
        name = ping_group(asked)
        if name is None:
            from tangstudio.engine.corpus.script import convert, guess_script

            # the groups in the script they were asked in (一董 was answered with 一东 …)
            listed = convert(" ".join(PING_GROUPS), "simplified", guess_script(asked))
            raise TangError(f"{unknown_group(asked)}; one of: {listed}")
        if not form.regulated:
            raise TangError(f"{form.name} has no rhyme scheme to set a group for; choose a regulated form")
        if not self.rhyme:
            raise TangError("a rhyme group needs the rhyme on")
        return name

    def check_seed_range(self, n: int) -> None:
        """Poem #k of a batch is drawn at seed + k − 1: check the last one too, before the first is
        written, so a batch never stops with an error after its first poems were printed. (Best of K's
        drafts wrap around below MAX_SEED + 1, so they need no check.)"""
        if self.seed is not None and self.seed + n - 1 > MAX_SEED:
            raise TangError(
                f"{n} poems from seed {self.seed} would use seeds up to {self.seed + n - 1:,} (poem #k uses "
                f"seed + k − 1), past the largest, {MAX_SEED:,}: give a seed of at most {MAX_SEED - n + 1:,}"
            )

    def validate_sampling(self) -> None:
        """The knobs that may change mid-poem, checked at every step (the typed text is checked once)."""
        if self.tones not in TONE_MODES:
            raise TangError(f"unknown tone mode {self.tones!r}; choose one of: {', '.join(TONE_MODES)}")
        if not isinstance(self.temperature, (int, float)) or not 0 <= self.temperature <= 10:
            raise TangError(f"temperature must be between 0 (greedy) and 10, got {self.temperature}")
        if not isinstance(self.top_k, int) or self.top_k < 0:
            raise TangError(f"top-k must be 0 (off) or a positive whole number, got {self.top_k}")
        if not isinstance(self.top_p, (int, float)) or not 0 < self.top_p <= 1:
            raise TangError(f"top-p must be in (0, 1], got {self.top_p}")
        strengths = (
            ("repeat penalty", self.repeat_penalty),
            ("duizhang strength", self.duizhang),
            ("season strength", self.season),
        )
        for name, value in strengths:
            if not isinstance(value, (int, float)) or not 0 <= value <= MAX_STRENGTH:
                raise TangError(f"the {name} must be between 0 (off) and {MAX_STRENGTH:g}, got {value}")
        g = self.guidance
        if isinstance(g, bool) or not isinstance(g, (int, float)) or not 0 <= g <= MAX_GUIDANCE:
            raise TangError(f"the title guidance must be between 0 (off) and {MAX_GUIDANCE:g}, got {g}")
        drafts = self.line_drafts
        if isinstance(drafts, bool) or not isinstance(drafts, int) or not 1 <= drafts <= MAX_LINE_DRAFTS:
            raise TangError(
                f"line drafts must be a whole number from 1 (off) to {MAX_LINE_DRAFTS}, got {drafts}"
            )

    def _check_text(self) -> None:
        """The typed fields: bounded, real text, and an acrostic that holds characters at all.

        The CLI and the studio's compose fields both come through here, so a 40,000-character
        acrostic or one of only 「，。！？」 is refused in one line instead of running for minutes
        or being silently dropped.
        """
        import unicodedata

        from tangstudio.engine.typed_text import check_typed

        check_typed(self.prefix, "the prefix", MAX_TYPED)
        check_typed(self.acrostic, "the acrostic", MAX_TYPED)
        check_typed(self.theme, "the theme", MAX_TYPED)
        check_typed(self.primer, "the primer", MAX_TYPED)
        self._check_plan()
        letters = [ch for ch in self.acrostic if unicodedata.category(ch)[0] in "LN"]
        if self.acrostic.strip() and not letters:
            raise TangError(
                f"the acrostic {self.acrostic.strip()!r} has no characters, only punctuation; "
                f"give the characters that should open the lines"
            )
        if len(letters) > MAX_ACROSTIC:
            raise TangError(
                f"the acrostic has {len(letters):,} characters; a poem here has at most {MAX_ACROSTIC} lines"
            )

    def _check_plan(self) -> None:
        """Title and plan: Chinese only, a keyword of one or two characters, one per line of the form."""
        from tangstudio.engine.compose.planning.check import check_plan, check_title

        check_title(self.title)
        self.plan = check_plan(self.plan, self.form)

    @property
    def regulated(self) -> bool:
        return forms.is_regulated(self.form)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# What a person types for the poem, by the words a note names it with.
TYPED_FIELDS = {name: f"the {name}" for name in ("title", "acrostic", "prefix", "theme", "primer")}


def in_model_script(settings: ComposeSettings, vocab: Any) -> tuple[ComposeSettings, str]:
    """`settings` with each typed field read in the model's script where that mends it
    (`in_vocab_script`: 歸鄉 for a simplified model is 归乡), and a note saying so ('' when nothing
    was). A scholar typing traditional got "try '归乡'" for every field while 七陽 was converted
    without a word; a character that no script change mends is left for the composer to refuse."""
    from dataclasses import replace

    from tangstudio.engine.corpus.script import in_vocab_script

    converted = {name: in_vocab_script(getattr(settings, name), vocab) for name in TYPED_FIELDS}
    changed: dict[str, Any] = {
        name: text for name, text in converted.items() if text != getattr(settings, name)
    }
    said = [f"{TYPED_FIELDS[name]} {text}" for name, text in changed.items()]
    plan = [in_vocab_script(keyword, vocab) for keyword in settings.plan]
    if plan != settings.plan:
        changed["plan"] = plan
        said.append(f"the plan {','.join(plan)}")
    if not changed:
        return settings, ""
    return replace(settings, **changed), f"read in the model's {vocab.script} script: {'; '.join(said)}"


def unknown_group(asked: str) -> str:
    """Why `asked` is no 平 group: a 仄 group by its name (二十三漾, 一屋: it exists, and regulated
    verse does not rhyme on it; a poet's review found "unknown"), or a name of no group."""
    from tangstudio.engine.corpus.script import convert
    from tangstudio.engine.prosody import GROUPS

    name = convert(asked.strip(), "traditional", "simplified")
    name = next((name.removeprefix(tone) for tone in ("上声", "去声", "入声") if name.startswith(tone)), name)
    if name in GROUPS:
        return f"{asked.strip()} is a 仄 rhyme group: regulated verse rhymes on a 平 group"
    return f"unknown 平 rhyme group {asked!r}"


def ping_group(asked: str) -> str | None:
    """The 平 group `asked` names, as the tables name it ("下平七阳" → "七阳"; traditional 七陽
    too), or None when it names none. A 上平/下平 prefix must be the group's own half. The studio
    asks before it builds settings, to list the groups beside the poem rather than in a toast."""
    from tangstudio.engine.corpus.script import convert
    from tangstudio.engine.prosody import PING_GROUPS
    from tangstudio.engine.typed_text import check_typed

    check_typed(asked, "the rhyme group", 40)  # bytes that are no UTF-8 reached OpenCC: a traceback
    name = convert(asked.strip(), "traditional", "simplified").removesuffix("韵")  # 七阳韵 is 七阳
    half = name[:2] if name[:2] in ("上平", "下平") else ""
    name = name.removeprefix(half)
    if name not in PING_GROUPS or (half and (PING_GROUPS.index(name) < 15) != (half == "上平")):
        return None
    return name


@dataclass
class StepInfo:
    """One written position: the distribution after constraints and what was chosen.

    `candidates` are the top 10 of the distribution actually sampled from (constraints applied,
    temperature applied, renormalised); `removed_mass` is the share of the model's own
    (temperature 1) probability that the constraints took away; `model_prob` is the chosen
    character's probability under the model alone (with a title, the titled reading's, title
    guidance left out: craft/guidance.py). `forced` marks positions with one allowed
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
    typed: bool = False  # written by a person (Composer.write): never refused as a lazy repeat (craft/)

    def to_dict(self) -> dict[str, Any]:
        from tangstudio.engine.compose.export import step_record  # the one step format of both faces

        return step_record(self)


@dataclass
class ComposeResult:
    """A finished (or abandoned) poem with everything the faces show and `--json` prints."""

    text: str
    form: str
    steps: list[StepInfo]
    rhyme_group: str | None = None
    check: dict[str, Any] | None = None  # prosody.check_poem(...).to_dict() for fixed forms
    backoffs: list[str] = field(default_factory=list)  # constraints that had to be relaxed, and where
    copied_lines: list[str] = field(default_factory=list)  # lines that are lines of the corpus
    longest_shared: str | None = None  # longest span shared with the corpus (None: not checked)
    log_prob: float | None = None  # sum of the model's log-probabilities of the written characters
    seed: int | None = None  # the seed that reproduces this poem (sampling only)
    title: str = ""  # the title the model read ('' none)
    plan: list[str] = field(default_factory=list)  # the keyword each line was written after ('' none)
    critic: dict[str, Any] | None = None  # the critic's score and its terms (best of K: craft/best_of.py)
    drafts: list[ComposeResult] = field(default_factory=list)  # best of K: each different draft, best first
    copies: int = 1  # best of K: how many of the K drafts came out as this text

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
            "title": self.title,
            "plan": self.plan,
        }
        if self.critic is not None:
            data["critic"] = self.critic
        if self.drafts:
            data["drafts"] = [
                {
                    "text": d.text,
                    "seed": d.seed,
                    "copies": d.copies,
                    "critic": d.critic,
                    "check": _check_summary(d.check),
                }
                for d in self.drafts
            ]
        if with_steps:
            data["steps"] = [s.to_dict() for s in self.steps]
        return data


def _check_summary(check: dict[str, Any] | None) -> dict[str, Any] | None:
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


@dataclass
class Judgement:
    """A character a person typed, weighed before it is written: how likely, and whether the form allows it."""

    char: str
    position: int
    prob: float  # in the distribution shown (constraints and temperature applied); 0 when refused
    model_prob: float  # under the model alone
    surprisal_bits: float  # −log₂ model_prob
    rank: int  # 1 = the model's own first choice
    reason: str | None = None  # why the form refuses it (None: it fits 平仄, rhyme and layout)
    known: bool = True  # False: the model has no token for it (no odds to give, only that)
    # Allowed, but outside what the composer itself draws here (a corpus line's end, an acrostic's
    # character, a rare spelling): why it is missing from the candidates shown (None: it is there)
    aside: str | None = None

    @property
    def fits(self) -> bool:
        return self.reason is None

    @property
    def odds(self) -> str:
        """What the model makes of it in one line: p, bits and rank, or "not in this model's vocabulary"."""
        if not self.known:
            from tangstudio.engine.compose.score_result import UNKNOWN

            return UNKNOWN
        return f"p {self.model_prob:.2%} · {self.surprisal_bits:.1f} bits · rank {self.rank}"

    def describe(self) -> str:
        odds = self.odds.replace(" · ", " under the model · ", 1) if self.known else self.odds
        return f"{self.char}: {odds}" + (" · fits the form" if self.fits else f" · refused: {self.reason}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "char": self.char,
            "position": self.position,
            "prob": round(self.prob, 6),
            "model_prob": round(self.model_prob, 6),
            "surprisal_bits": round(self.surprisal_bits, 4) if self.known else None,  # not inf: JSON
            "rank": self.rank if self.known else None,
            "known": self.known,
            "fits": self.fits,
            "reason": self.reason,
        }
