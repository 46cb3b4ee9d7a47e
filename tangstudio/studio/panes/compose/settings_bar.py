"""The settings bar above the poem: what to write (model, form, 藏头, prefix, 藏字, primer) and how
to sample it (temperature, top-k, top-p, line drafts, tones, rhyme).

Its defaults are the engine's (`ComposeSettings()`), never re-typed here, so the studio and
`tangstudio generate` start from the same settings. `read()` turns the fields into a
ComposeSettings (a TangError names the bad field). The fields' Changed and Submitted messages
bubble up to the pane, which decides what they do (a new poem, or from the next character).

The 题 (title) sits on the third row beside 藏字; the plan (纲: a keyword per line, as
`generate --plan` takes it) has its own row, the last, so the poem below keeps its place. The
pane writes the plan a poem was given back into that row (`show_plan`), where it can be edited.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label, Select

from tangstudio.engine.compose.settings import ComposeSettings
from tangstudio.engine.errors import TangError
from tangstudio.studio.composing import FORM_NAMES, FORMS, TONES, list_models

DEFAULTS = ComposeSettings()  # the engine's defaults: the fields start from these
SAMPLING = (  # typed numbers, parsed here
    ("temperature", float),
    ("top_k", int),
    ("top_p", float),
    ("line_drafts", int),  # `p` keeps each line's best of this many (1: every line as first drawn)
)
# The text fields' hints. An example alone ("送友人") looked like a title already typed, so each
# hint opens with "e.g." or says what the field does in English; each fits its field whole at 80
# columns (a test measures them), where 藏头 is 9 cells wide and 藏字, 题 and primer about 20.
HINTS = {
    "acrostic": "e.g. 春夏",
    "theme": "e.g. 月秋 must appear",
    "title": "e.g. 送友人",
    "primer": "read first, not shown",
    "plan": "a keyword a line, e.g. 山,水,-,归",  # what - does: the help (the prefix needs the room)
    "prefix": "your opening",
    "rhyme_group": "e.g. 七阳",
}
# The typed text a poem is begun with (纲 aside: asked_plan decides what of it a poem is asked with).
SHAPE_FIELDS = ("title", "acrostic", "prefix", "theme", "primer", "rhyme_group")
# Each field's label as the bar shows it, so an error names the field a person sees: the engine's
# words are the CLI's ("line drafts", for --line-drafts), the field beside them says "drafts".
LABELS = {
    "temperature": "temp",
    "top_k": "top-k",
    "top_p": "top-p",
    "line_drafts": "drafts",
    "form": "form",
    "acrostic": "藏头",
    "prefix": "prefix",
    "theme": "藏字",
    "title": "题",
    "primer": "primer",
    "plan": "纲",
    "rhyme_group": "韵",
    "rhyme": "rhyme",
    "tones": "tones",
}


class UnknownGroup(TangError):
    """韵 holds no 平 group's name: a short message, and the pane lists the 30 groups in the
    panel beside the poem, not in the toast, where Textual drew a wide character crossing the
    panel's edge as blanks (十二侵 read "十  侵"), and ten seconds were short to read 30 names."""

    def __init__(self, asked: str) -> None:
        from tangstudio.engine.compose.settings import unknown_group

        super().__init__(f"{unknown_group(asked)}: the 平 groups are listed beside the poem")
        self.asked = asked


def labelled(name: str, message: str) -> str:
    """An error about field `name`, opening with its label ("drafts: line drafts must be …");
    one that opens with it already ("top-p must be …") is left as it is."""
    label = LABELS.get(name, name)
    return message if message.startswith(f"{label} ") else f"{label}: {message}"


class SettingsBar(Vertical):
    """Four rows of compact fields; the pane reads them through `read()` and `form`."""

    DEFAULT_CSS = """
    #cp-form-name { padding: 0 0 0 1; }
    #cp-theme { width: 1fr; max-width: 24; }
    #cp-title { width: 1fr; max-width: 20; }
    /* 1fr, held near the widest plan (8 two-character keywords, 39 cells): at 200 columns the row
       stretched to 140 cells and put prefix and 韵 at the far right (a TUI review) */
    #cp-plan { width: 1fr; max-width: 44; }
    #cp-prefix { width: 18; }  /* a 七言 line, its mark and the cursor */
    #cp-rhyme_group { width: 10; }
    #cp-primer { width: 1fr; max-width: 40; }
    """

    def __init__(self, preferred_run: str | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.preferred_run = preferred_run  # `tangstudio --run NAME`: offered first when it has a model
        self._plan_form = DEFAULTS.form  # the form the 纲 row's plan was written for
        # The 纲 row shows the plan a poem was written with, which may hold keywords a theme or the
        # planner chose for that poem; until the person edits the row, a new poem is asked with what
        # they typed, not with those (a cleared theme's 秋 and 月 stayed in every later poem's plan).
        self._shown_plan = ""
        self._asked_plan = ""
        self.script = "simplified"  # the loaded model's: the form's name beside the list is in it (七絕)

    def compose(self) -> ComposeResult:
        models = list_models()
        first = f"run {self.preferred_run}" if self.preferred_run else None
        if any(label == first for label, _ in models):
            models.sort(key=lambda m: m[0] != first)
        with Horizontal(classes="settings-row"):
            yield Label("model", classes="field-label")
            yield Select(
                models,
                value=models[0][1] if models else Select.NULL,
                allow_blank=not models,  # "no model yet" only when there is none
                prompt="no model yet",
                id="cp-model",
                compact=True,
            )
            yield Label("form", classes="field-label")
            yield Select(FORMS, value=DEFAULTS.form, allow_blank=False, id="cp-form", compact=True)
            yield Label(FORM_NAMES[DEFAULTS.form], id="cp-form-name")
            yield Select(TONES, value=DEFAULTS.tones, allow_blank=False, id="cp-tones", compact=True)
            yield Checkbox("rhyme", DEFAULTS.rhyme, id="cp-rhyme", compact=True)
        with Horizontal(classes="settings-row"):
            yield Label("temp", classes="field-label")
            yield Input(str(DEFAULTS.temperature), id="cp-temperature", type="number", compact=True)
            yield Label("top-k", classes="field-label")
            yield Input(str(DEFAULTS.top_k), id="cp-top_k", type="integer", compact=True)
            yield Label("top-p", classes="field-label")
            yield Input(str(DEFAULTS.top_p), id="cp-top_p", type="number", compact=True)
            yield Label("drafts", classes="field-label")
            yield Input(str(DEFAULTS.line_drafts), id="cp-line_drafts", type="integer", compact=True)
            yield Label("藏头", classes="field-label")
            yield Input(DEFAULTS.acrostic, id="cp-acrostic", placeholder=HINTS["acrostic"], compact=True)
        with Horizontal(classes="settings-row"):
            yield Label("藏字", classes="field-label")
            yield Input(DEFAULTS.theme, id="cp-theme", placeholder=HINTS["theme"], compact=True)
            yield Label("题", classes="field-label")
            yield Input(DEFAULTS.title, id="cp-title", placeholder=HINTS["title"], compact=True)
            yield Label("primer", classes="field-label")
            yield Input(DEFAULTS.primer, id="cp-primer", placeholder=HINTS["primer"], compact=True)
        with Horizontal(classes="settings-row"):
            yield Label("纲", classes="field-label")
            yield Input("", id="cp-plan", placeholder=HINTS["plan"], compact=True)
            # beside the plan, not after 藏头 on the row of numbers, where it had 7 cells at 80 columns
            yield Label("prefix", classes="field-label")
            yield Input(DEFAULTS.prefix, id="cp-prefix", placeholder=HINTS["prefix"], compact=True)
            # the 平 group to rhyme in (generate --rhyme-group): empty, the poem's own
            yield Label("韵", classes="field-label")
            yield Input(
                DEFAULTS.rhyme_group, id="cp-rhyme_group", placeholder=HINTS["rhyme_group"], compact=True
            )

    # What the pane reads -----------------------------------------------------------------------

    @property
    def form(self) -> str:
        return str(self.query_one("#cp-form", Select).value)

    def read(self, seed: int | None, entered: str | None = None) -> ComposeSettings:
        """The engine's ComposeSettings from the fields (raises TangError naming the bad field by
        its label). `entered`: the field Enter was pressed in (line_drafts): its own value is
        checked first, and a refusal of another field says that this one was not applied either."""
        numbers = self._numbers(entered)
        if isinstance(numbers, str):
            raise TangError(numbers)

        def text(name: str) -> str:
            return self.query_one(f"#cp-{name}", Input).value.strip()

        from tangstudio.engine.compose.planning.check import parse_plan
        from tangstudio.engine.compose.settings import ping_group

        if text("rhyme_group") and ping_group(text("rhyme_group")) is None:
            raise UnknownGroup(text("rhyme_group"))  # the pane lists the groups (not the toast)

        return ComposeSettings(
            form=self.form,
            title=text("title"),
            plan=parse_plan(self.asked_plan()),
            acrostic=text("acrostic"),
            prefix=text("prefix"),
            theme=text("theme"),
            primer=text("primer"),
            rhyme=self.query_one("#cp-rhyme", Checkbox).value,
            rhyme_group=text("rhyme_group"),
            tones=str(self.query_one("#cp-tones", Select).value),
            seed=seed,
            temperature=numbers["temperature"],
            top_k=int(numbers["top_k"]),
            top_p=numbers["top_p"],
            line_drafts=int(numbers["line_drafts"]),
        )

    def _numbers(self, entered: str | None) -> dict[str, float] | str:
        """The sampling fields as numbers, each checked on its own by the engine (the field
        entered first), or the error about the first bad one, by its label."""
        order = sorted(SAMPLING, key=lambda field: field[0] != entered)
        numbers: dict[str, float] = {}
        for name, cast in order:
            raw = self.query_one(f"#cp-{name}", Input).value.strip()
            try:
                numbers[name] = cast(raw)
                alone: dict[str, Any] = {name: numbers[name]}
                ComposeSettings(**alone)  # this field checked, the others at their defaults
            except ValueError:
                problem = f"{LABELS[name]} must be a number, got {raw!r}"
            except TangError as exc:
                problem = labelled(name, str(exc))
            else:
                continue
            if entered is not None and name != entered:
                problem = f"{LABELS.get(entered, entered)} not applied: {problem}"
            return problem
        return numbers

    # What the pane changes ---------------------------------------------------------------------

    def show_form(self, form: str | None = None) -> None:
        """Set the form (None: keep it) and show its Chinese name beside the dropdown."""
        if form is not None:
            with self.prevent(Select.Changed):
                self.query_one("#cp-form", Select).value = form if form in FORM_NAMES else DEFAULTS.form
        from tangstudio.engine.corpus.script import convert

        self.query_one("#cp-form-name", Label).update(
            convert(FORM_NAMES.get(self.form, ""), "simplified", self.script)
        )
        if self.form != self._plan_form:  # a plan is a keyword per line of one form: not another's
            self._plan_form = self.form
            self.clear_plan()

    def show_fields(self, fields: tuple[str, ...]) -> None:
        """Write back the fields a poem was begun with, as `shape()` gave them (a poem `u` brings
        back): its 题, 藏头, 韵 … as typed and the plan it was asked with, so the bar says what that
        poem is and `n` writes another like it. Not the session's settings: a bilstm's had its 题 and
        纲 set aside, and a typed 歸鄉 was read as 归乡 (a review of the diff)."""
        form, *texts, asked = fields
        self.show_form(form)
        for name, text in zip(SHAPE_FIELDS, texts):
            self.query_one(f"#cp-{name}", Input).value = text
        self._asked_plan = self._shown_plan = self.query_one("#cp-plan", Input).value = asked

    def show_plan(self, keywords: list[str]) -> None:
        """Show the plan a poem is written with, editable (no Submitted: nothing restarts)."""
        self._shown_plan = self.query_one("#cp-plan", Input).value = ",".join(keywords)

    def clear_plan(self) -> None:
        """No plan: the row emptied and nothing asked (a new title or form)."""
        self.query_one("#cp-plan", Input).value = self._shown_plan = self._asked_plan = ""

    def own_plan(self) -> None:
        """The person submitted the 纲 row: what it holds now is their plan, keywords shown or not."""
        self._asked_plan = self._shown_plan = self.query_one("#cp-plan", Input).value

    def asked_plan(self) -> str:
        """The plan a new poem is asked with: the row as the person left it (theirs from now on),
        or, when it still shows the last poem's plan unedited, what they asked that poem with."""
        typed = self.query_one("#cp-plan", Input).value
        if typed != self._shown_plan:
            self.own_plan()
        return self._asked_plan.strip()

    def would_ask_plan(self) -> str:
        """What `asked_plan()` would return, without taking the row as the person's own: a look
        (the pane compares it with what the poem began with) must not change what a poem is asked."""
        typed = self.query_one("#cp-plan", Input).value
        return (typed if typed != self._shown_plan else self._asked_plan).strip()

    def sampling_not_in_effect(self, applied: ComposeSettings) -> list[str]:
        """ "temp 99 (0.9 in effect)" for each sampling field typed without Enter: it shows a value
        the poem is not written with (an engineer's review: Esc left `temp 99` over sampling at 0.9)."""
        differ = []
        for name, cast in SAMPLING:
            raw = self.query_one(f"#cp-{name}", Input).value.strip()
            value = getattr(applied, name)
            try:
                same = cast(raw) == value
            except ValueError:
                same = False
            if not same:
                differ.append(f"{LABELS[name]} {raw or '(empty)'} ({value:g} in effect)")
        return differ

    def shape(self) -> tuple[str, ...]:
        """The fields that shape a whole poem, as a new poem would be asked with them (no side
        effects): the pane keeps what a poem began with and compares before Space, `p` and 1–0."""
        texts = tuple(self.query_one(f"#cp-{name}", Input).value.strip() for name in SHAPE_FIELDS)
        return (self.form, *texts, self.would_ask_plan())

    def select_model(self, target: str | None) -> None:
        """Show `target` as the chosen model, if it is still offered (no Changed: nothing reloads)."""
        select = self.query_one("#cp-model", Select)
        with self.prevent(Select.Changed):
            if any(value == target for _, value in list_models()):
                select.value = target

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """The model list offers what is there when it is reached: a run trained headless while the
        pane was open appeared only after leaving Compose and coming back (a student's review)."""
        if event.widget.id == "cp-model" and not self.query_one("#cp-model", Select).expanded:
            self.refresh_models(may_choose=False)

    def refresh_models(self, may_choose: bool) -> None:
        """Offer the models there are now; `may_choose`: pick the first (posts Changed: it loads)."""
        select = self.query_one("#cp-model", Select)
        models = list_models()
        current = select.value
        with self.prevent(Select.Changed):
            select._allow_blank = not models  # Textual has no public setter; the blank means "no model"
            select.set_options(models)
            if any(target == current for _, target in models):
                select.value = current
        if may_choose and models:
            select.value = models[0][1]

    @property
    def model(self) -> str | None:
        """The chosen model's target, None when there is none."""
        select = self.query_one("#cp-model", Select)
        return None if select.is_blank() else str(select.value)
