"""Model pane: choose an architecture and its sizes, see its equations and what it costs.

The architecture metadata (`engine.models.archs`) is torch-free and shown at once; the parameter
count and the speed measurement build a real model, so they run in thread workers after torch has
loaded, never on the UI thread. `t` hands the settings to the train pane.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.timer import Timer
from textual.validation import Integer, Number
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from tangstudio.studio.messages import StartTraining
from tangstudio.studio.panes.base import Pane
from tangstudio.studio.panes.corpus import FORM_CHOICES, corpus_names

# The defaults of `tangstudio train` (engine.training.config.TrainConfig; a test keeps them equal —
# importing that package would import torch before the first frame).
DEFAULTS = {"embed": 256, "hidden": 512, "layers": 2, "dropout": 0.2, "lr": 2e-3, "batch_size": 64}
# (field, label, validator, integer?)
FIELDS = [
    ("embed", "embed", Integer(1, 8192), True),
    ("hidden", "hidden", Integer(1, 8192), True),
    ("layers", "layers", Integer(1, 16), True),
    ("dropout", "dropout", Number(0.0, 0.95), False),
    ("lr", "learning rate", Number(1e-6, 1.0), False),
    ("batch_size", "batch size", Integer(1, 4096), True),
]
# `train --tied`: the output layer tied to the embedding (through a projection where the sizes differ).
TIED_CHOICES = [("own weights", "own"), ("tied to embed", "tied")]
# What `train --init-from` takes over from the source model (engine/training/init_from.py SHAPE).
SOURCE_FIXES = ("arch", "embed", "hidden", "layers", "tied", "script")
BUDGETS = [("minutes", "minutes"), ("steps", "steps"), ("epochs", "epochs")]
BUDGET_LIMITS = {
    "minutes": Number(0.1, 100_000),
    "steps": Integer(1, 100_000_000),
    "epochs": Integer(1, 10_000),
}
BUDGET_DEFAULTS = {"minutes": "10", "steps": "2000", "epochs": "1"}  # each unit's, when chosen


def _value_text(value: float) -> str:
    return f"{value:g}"


class ModelPane(Pane):
    BINDINGS = [
        Binding("t", "train", "Train"),
        Binding("e", "estimate", "Measure speed"),
    ]

    def __init__(self, corpus: str = "tang", **kwargs) -> None:
        super().__init__(**kwargs)
        self.corpus = corpus
        # (corpus, script, forms, plan markers) -> (vocab size, train chars)
        self._vocab_cache: dict[tuple[str, str, str, bool], tuple[int, int]] = {}
        self.params: int | None = None
        self.parts: dict[str, int] | None = None  # the count by part
        self.source_note = ""  # with "start from": the source's shape, which replaces the form's
        self.speed: float | None = None
        self._count_timer: Timer | None = None
        self._counts_asked = 0  # the count shown is the last asked (see _counted)

    def compose(self) -> ComposeResult:
        from tangstudio.engine.models.archs import ARCHS

        self.archs = ARCHS
        with Horizontal(id="model-top"):
            yield OptionList(*[Option(info.label, id=name) for name, info in ARCHS.items()], id="arch-list")
            with Grid(id="hyper"):
                for name, label, validator, integer in FIELDS:
                    yield Label(label, classes="field-label")
                    yield Input(
                        _value_text(DEFAULTS[name]),
                        id=f"hp-{name}",
                        type="integer" if integer else "number",
                        validators=[validator],
                        compact=True,
                        valid_empty=False,
                    )
                # The shipped default's output layer is tied: without this the form could not describe it.
                yield Label("output", classes="field-label")
                yield Select(TIED_CHOICES, value="own", allow_blank=False, id="hp-tied", compact=True)
                yield Label("budget", classes="field-label")
                with Horizontal(classes="budget"):
                    yield Input(
                        BUDGET_DEFAULTS["minutes"],
                        id="hp-budget",
                        type="number",
                        validators=[BUDGET_LIMITS["minutes"]],
                        compact=True,
                    )
                    yield Select(
                        BUDGETS, value="minutes", allow_blank=False, id="hp-budget-unit", compact=True
                    )
                yield Label("corpus", classes="field-label")
                names = corpus_names()
                yield Select(
                    [(n, n) for n in names],
                    value=self.corpus if self.corpus in names else "tang",
                    allow_blank=False,
                    id="hp-corpus",
                    compact=True,
                )
                yield Label("forms", classes="field-label")
                yield Select(
                    [(label.removesuffix(" (4 forms)"), value) for label, value in FORM_CHOICES],
                    value="regulated",
                    allow_blank=False,
                    id="hp-forms",
                    compact=True,
                )  # short labels: at 80 columns the field showed `regulated (4`
                yield Label("script", classes="field-label")
                yield Select(
                    [("simplified", "simplified"), ("traditional", "traditional")],
                    value="simplified",
                    allow_blank=False,
                    id="hp-script",
                    compact=True,
                )
                # A poet's style: fine-tune a trained model on one poet (train --init-from/--author).
                yield Label("poet", classes="field-label")
                yield Input(placeholder="all, or e.g. 李白", id="hp-author", compact=True)
                yield Label("start from", classes="field-label")
                yield Input(placeholder="scratch, or default", id="hp-init-from", compact=True)
        with VerticalScroll(id="arch-info"):
            yield Static(id="arch-equations")
            yield Static(id="arch-when")
        with Horizontal(id="model-bottom"):
            yield Static(id="model-cost")
            yield Button("Train  t", id="train-button", variant="primary", compact=True)

    def on_mount(self) -> None:
        try:
            arch_list = self.query_one("#arch-list", OptionList)
        except NoMatches:  # the app quit before this (lazily mounted) pane got its children
            return
        arch_list.highlighted = list(self.archs).index("lstm")
        self._show_arch()

    def when_shown(self, first: bool) -> None:
        if first:
            self._schedule_count()

    # Reading the form ------------------------------------------------------------------------

    @property
    def arch(self) -> str:
        arch_list = self.query_one("#arch-list", OptionList)
        index = arch_list.highlighted if arch_list.highlighted is not None else 0
        return str(arch_list.get_option_at_index(index).id)

    def settings(self) -> tuple[dict, list[str]]:
        """The training options the form describes, and the fields that are not valid."""
        options: dict = {"arch": self.arch}
        problems: list[str] = []
        for name, label, _validator, integer in FIELDS:
            field = self.query_one(f"#hp-{name}", Input)
            result = field.validate(field.value)
            if result is not None and not result.is_valid:
                problems.append(f"{label}: {'; '.join(result.failure_descriptions) or 'invalid'}")
                continue
            try:
                options[name] = int(field.value) if integer else float(field.value)
            except ValueError:
                problems.append(f"{label}: not a number")
        unit = str(self.query_one("#hp-budget-unit", Select).value)
        budget = self.query_one("#hp-budget", Input)
        result = BUDGET_LIMITS[unit].validate(budget.value)
        if not result.is_valid:
            problems.append(f"budget: {'; '.join(result.failure_descriptions)}")
        else:
            options[unit] = float(budget.value) if unit == "minutes" else int(float(budget.value))
        for name in ("corpus", "forms", "script"):
            options[name] = str(self.query_one(f"#hp-{name}", Select).value)
        if self.query_one("#hp-tied", Select).value == "tied":
            options["tied"] = True  # `--tied`; left out otherwise, as train's default
        for name in ("author", "init_from"):
            value = self.query_one(f"#hp-{name.replace('_', '-')}", Input).value.strip()
            if value:
                options[name] = value
        if "init_from" in options:  # the source model fixes the shape and the script
            for name in SOURCE_FIXES:
                options.pop(name, None)
        return options, problems

    # Reacting --------------------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#arch-list")
    def _arch_changed(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_arch()
        self._schedule_count()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._schedule_count()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "hp-budget-unit":
            budget, unit = self.query_one("#hp-budget", Input), str(event.value)
            budget.validators = [BUDGET_LIMITS[unit]]
            # A number the person typed is kept (typed first, its unit chosen after: "30", then
            # steps); a unit's default, or a number the new unit refuses, becomes its default.
            if (
                budget.value.strip() in BUDGET_DEFAULTS.values()
                or not BUDGET_LIMITS[unit].validate(budget.value).is_valid
            ):
                budget.value = BUDGET_DEFAULTS[unit]
        self._schedule_count()

    @on(Button.Pressed, "#train-button")
    def _train_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_train()

    def _show_arch(self) -> None:
        info = self.archs[self.arch]
        equations = self.query_one("#arch-equations", Static)
        # The article gives the RNN and LSTM equations and draws the BiLSTM: its box holds ours.
        equations.border_title = f"{info.title} — " + (
            "the seed article's equations" if info.causal else "its equations (the article draws it, §5)"
        )
        equations.update(Text(info.equations))
        when = Text.assemble(("When to pick: ", "bold"), for_this_pane(info.when_to_pick))
        if info.note:
            when.append("\n" + info.note, style="dim")
        self.query_one("#arch-when", Static).update(when)

    def _schedule_count(self) -> None:
        self.speed = None
        self._counts_asked += 1  # the form changed: a count or a speed still under way is of another model
        if not self._seen:
            return
        if self._count_timer is not None:
            self._count_timer.stop()
        self._count_timer = self.set_timer(0.3, self._start_count)

    def _start_count(self) -> None:
        options, problems = self.settings()
        if problems:
            self._show_cost(error="fix: " + " · ".join(problems))
            return
        self._show_cost(pending=True)
        self._count(options, self._counts_asked)

    def _show_cost(self, error: str | None = None, pending: bool = False) -> None:
        try:
            cost = self.query_one("#model-cost", Static)
        except NoMatches:  # a count worker finished after the app quit and took the pane down
            return
        if error:
            cost.update(Text(error, style="red"))
            return
        if pending or self.params is None:
            cost.update(Text("counting parameters …", style="dim"))
            return
        line = Text.assemble(
            ("parameters ", "dim"),
            (f"{self.params:,}", "bold"),
            (f" · vocabulary {self.vocab_size:,}", "dim"),
        )
        if self.speed is not None:
            line.append(f" · {self.speed:,.0f} chars/s here", style="bold")
            line.append(f" · one epoch ≈ {_minutes(self.train_chars / self.speed)}", style="dim")
        else:
            line.append(" · e: measure speed", style="dim")
        from tangstudio.engine.models.shapes import second_biases

        options = self.settings()[0]
        if self.parts:  # what the equations above leave out: the embedding and the output layer
            added = " + ".join(f"{part} {count:,}" for part, count in self.parts.items())
            line.append(f"\n= {added}", style="dim")
        extra = second_biases(options)
        if extra:  # the count follows PyTorch's kernels, not the equations above it: say by how much
            # a GRU's b_hh is 3H a layer, and its candidate's part is in the equations (b_h)
            line.append(
                f" (cells: {extra:,} of them PyTorch's second biases in b_hh, not in the equations)",
                style="dim",
            )
        if self.source_note and "init_from" in options:
            line.append(f"\n{self.source_note}", style="bold")
        cost.update(line)

    # Workers ---------------------------------------------------------------------------------

    def _vocab(self, options: dict) -> tuple[int, int]:
        from tangstudio.engine.models.archs import is_causal

        # A causal run reads titles and keywords (`--plan`, the trainer's default): its vocabulary
        # has the two markers; a BiLSTM's has not (it was counted two rows too many: a student).
        markers = is_causal(options["arch"])
        key = (options["corpus"], options["script"], options["forms"], markers)
        if key not in self._vocab_cache:
            from tangstudio.engine.corpus.vocab import Vocab
            from tangstudio.studio.cache import corpus

            poems = corpus(options["corpus"], options["script"]).select(options["forms"], "train")
            vocab = Vocab.build((p.text for p in poems), options["script"], markers=markers)
            self._vocab_cache[key] = (len(vocab), sum(len(p.text) + 1 for p in poems))
        return self._vocab_cache[key]

    @staticmethod
    def _from_source(options: dict) -> tuple[dict, str, int]:
        """The options with the source model's shape and script (the form's sizes do not apply),
        a line that says so, and the vocabulary size the run will have (the source's): the count
        had failed on the missing script, and a run trained at 2×512 while the form said 1×64."""
        from tangstudio.engine.models.archs import is_causal
        from tangstudio.engine.training.config import TrainConfig
        from tangstudio.engine.training.init_from import SHAPE, adopt, run_vocab

        config, source = adopt(TrainConfig(**options), given=set())
        taken = {name: getattr(config, name) for name in SHAPE}
        note = (
            f"start from {source.ref}: {config.arch} {config.layers}×{config.hidden}, embedding "
            f"{config.embed}, {config.script}; its shape and script replace the form's"
        )
        vocab = run_vocab(source, config.plan and is_causal(config.arch))
        return {**options, **taken, "script": config.script}, note, len(vocab)

    def _build(self, options: dict) -> tuple[Any, int, int]:
        """The model a run started from this form would train (TrainConfig.model_config)."""
        from tangstudio.engine.models import build_model
        from tangstudio.engine.training.config import TrainConfig

        vocab_size, train_chars = self._vocab(options)
        return build_model(TrainConfig(**options).model_config(vocab_size)), vocab_size, train_chars

    def _counted(self, asked: int, show: Callable[[], None]) -> None:
        """Show a count (or a speed) only if the form has not changed since it was asked: a thread
        worker is not stopped when a newer one replaces it, and a slow BiLSTM build finishing late put
        its figure under the RNN's equations (a review)."""
        if asked == self._counts_asked:
            show()

    @work(thread=True, exclusive=True, group="model-count")
    def _count(self, options: dict, asked: int) -> None:
        from tangstudio.engine.errors import TangError
        from tangstudio.engine.models import count_parameters
        from tangstudio.engine.models.registry import parameter_parts_of

        try:
            from tangstudio.engine.models.shapes import parameter_count, parameter_parts
            from tangstudio.engine.training.config import TrainConfig

            source_note, source_vocab = "", None
            if "init_from" in options:  # the source's shape and script, as `train --init-from` takes them
                options, source_note, source_vocab = self._from_source(options)
            vocab_size, train_chars = self._vocab(options)  # fused rnn/lstm/gru: counted from shapes
            vocab_size = source_vocab or vocab_size  # a fine-tune reads the source's vocabulary
            config = TrainConfig(**options).model_config(vocab_size)
            params, parts = parameter_count(config), parameter_parts(config)
            if params is None:  # cells, bilstm: built (torch) and counted
                model, vocab_size, train_chars = self._build(options)
                params, parts = count_parameters(model), parameter_parts_of(model)
        except TangError as exc:
            self.app.call_from_thread(self._counted, asked, partial(self._show_cost, str(exc)))
            return
        except Exception as exc:
            problem = f"cannot build this model: {exc}"
            self.app.call_from_thread(self._counted, asked, partial(self._show_cost, problem))
            return

        def done() -> None:
            self.params, self.vocab_size, self.train_chars = params, vocab_size, train_chars
            self.parts, self.source_note = parts, source_note
            self._show_cost()

        self.app.call_from_thread(self._counted, asked, done)

    def action_estimate(self) -> None:
        options, problems = self.settings()
        if problems:
            self.notify("fix the form first: " + " · ".join(problems), severity="error")
            return
        self.query_one("#model-cost", Static).update(Text("measuring a few training steps …", style="dim"))
        self._measure(options, self._counts_asked)

    @work(thread=True, exclusive=True, group="model-speed")
    def _measure(self, options: dict, asked: int) -> None:
        """The trainer's own steps, timed (engine measure_speed): chars/s on this machine."""
        from tangstudio.engine.training.config import TrainConfig
        from tangstudio.engine.training.speed import measure_speed

        try:
            vocab_size, train_chars = self._vocab(options)
            measured = measure_speed(TrainConfig(**options), vocab_size)
        except Exception as exc:
            self.app.call_from_thread(self.notify, f"could not measure: {exc}", severity="error")
            self.app.call_from_thread(self._counted, asked, self._show_cost)
            return

        def done() -> None:
            self.params, self.vocab_size, self.train_chars = measured.params, vocab_size, train_chars
            self.speed = measured.chars_per_s
            self._show_cost()

        self.app.call_from_thread(self._counted, asked, done)

    def action_train(self) -> None:
        options, problems = self.settings()
        if problems:
            self.notify("fix the form first: " + " · ".join(problems), title="Model", severity="error")
            return
        if "init_from" in options:  # refused here in one line, not by a training process that fails
            from tangstudio.engine.errors import TangError

            try:
                check_source(options["init_from"])
            except TangError as exc:
                self.notify(f"start from: {exc}", title="Model", severity="error")
                return
        # Evaluations and samples paced by the budget (about 8 a run), so a short run shows its
        # validation curve and samples while it trains, not only at the end.
        self.post_message(StartTraining({**options, "eval_every": 0}))


def check_source(ref: str) -> None:
    """A model a fine-tune can start from, read without torch (the pane's key must not wait for
    it): one that exists and writes left to right (init_from.read_source asks the same, later)."""
    from tangstudio.engine.compose.refs import resolve_model
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.models.archs import ARCHS, is_causal
    from tangstudio.engine.runs.checkpoint import read_meta

    meta = read_meta(resolve_model(ref))
    arch = str(meta.get("arch") or dict(meta.get("model") or {}).get("arch", ""))
    if arch in ARCHS and not is_causal(arch):
        raise TangError(f"{ref} is a {arch} model, which cannot start a causal poem model")


def _minutes(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


PANE_WORDS = {  # the registry's advice names CLI options this pane has no field for
    "only with --forget-bias": (
        "only with a forget-gate bias, which this pane does not set (b_f starts near 0, f ≈ ½): "
        "`tangstudio train --arch lstm --forget-bias 2`"
    ),
}


def for_this_pane(advice: str) -> str:
    """The architecture's advice as this pane can follow it: an option it has no field for is given
    as the command that sets it (issue 25 item 9: "long memory only with --forget-bias")."""
    for cli, words in PANE_WORDS.items():
        advice = advice.replace(cli, words)
    return advice
