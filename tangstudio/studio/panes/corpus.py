"""Corpus pane: the statistics of `tangstudio stats` as tables and bars that follow the filters.

Loading and counting the bundled corpus takes a second or two, so it runs in a thread worker;
the pane shows a loading indicator meanwhile and a notification if the corpus cannot be read.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import Label, LoadingIndicator, Select, Static

from tangstudio.bars import bar_table as _bar_table
from tangstudio.bars import cleaning_rows, line_length_rows, no_authors
from tangstudio.engine import forms
from tangstudio.engine.corpus.forms import form_name
from tangstudio.studio.panes.base import Pane

FORM_CHOICES = [
    ("all forms", "all"),
    ("regulated (4 forms)", "regulated"),
    *((f.label, f.name) for f in forms.FORMS),
]


def form_choices(script: str) -> list[tuple[str, str]]:
    """The forms filter's choices, their Chinese short names (五绝, 五絕) in `script`."""
    from tangstudio.engine.corpus.script import convert

    return [(convert(label, "simplified", script), value) for label, value in FORM_CHOICES]


def corpus_names() -> list[str]:
    from tangstudio.engine.corpus.importer import list_imported

    return [
        "tang",
        *[str(m.get("name")) for m in list_imported() if m.get("name") and m.get("name") != "tang"],
    ]


def summary_table(data: dict) -> Table:
    table = Table(
        title=f"{data['corpus']} · {data['script']} · {data['forms_filter']}",
        title_justify="left",
        title_style="bold",
        show_header=False,
        box=None,
        padding=(0, 1),
    )
    table.add_column(justify="right", style="dim", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    rows = [
        ("poems in source", f"{data['raw_poems']:,}"),
        ("poems selected", f"{data['poems']:,}"),
        ("characters", f"{data['characters']:,}"),
        ("hanzi", f"{data['hanzi']:,}"),
        ("distinct hanzi", f"{data['distinct_chars']:,}"),
        ("vocabulary (train)", f"{data['vocab_size']:,}"),
    ]
    rows += [(f"top {k[4:]} cover", f"{v:.2%}") for k, v in data["coverage"].items()]
    for label, value in rows:
        table.add_row(label, value)
    return table


def bar_table(title: str, rows: Sequence[tuple[str, float]], width: int = 18, empty: str = "") -> Table:
    """The pane's cards are narrow: shorter bars than the CLI's."""
    return _bar_table(title, rows, width=width, empty=empty)


class CorpusPane(Pane):
    BINDINGS = [("ctrl+r", "reload", "Reload")]

    def __init__(self, corpus: str = "tang", **kwargs) -> None:
        super().__init__(**kwargs)
        self.corpus = corpus

    def compose(self) -> ComposeResult:
        names = corpus_names()
        if self.corpus not in names:
            names.append(self.corpus)
        with Horizontal(classes="controls"):
            yield Label("corpus", classes="field-label")
            yield Select([(n, n) for n in names], value=self.corpus, allow_blank=False, id="corpus-name")
            yield Label("script", classes="field-label")
            yield Select(
                [("simplified", "simplified"), ("traditional", "traditional")],
                value="simplified",
                allow_blank=False,
                id="corpus-script",
            )
            yield Label("forms", classes="field-label")
            yield Select(FORM_CHOICES, value="all", allow_blank=False, id="corpus-forms")
        yield LoadingIndicator(id="corpus-loading")
        with VerticalScroll(id="corpus-body"):
            with Grid(id="corpus-cards"):
                for card in ("summary", "forms", "splits", "lengths", "chars", "authors", "cleaning"):
                    yield Static(id=f"card-{card}", classes="card")
            yield Static(id="corpus-source", classes="dim")

    def when_shown(self, first: bool) -> None:
        if first:
            self.load()
            return
        # An import in another shell should show up in the list.
        select = self.query_one("#corpus-name", Select)
        names = corpus_names()
        current = select.value
        if current not in names:
            names.append(str(current))
        select.set_options([(n, n) for n in names])
        select.value = current

    @on(Select.Changed)
    def _filters_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "corpus-script":
            self._name_forms(str(event.value))
        if self._seen:
            self.load()

    def _name_forms(self, script: str) -> None:
        """The forms filter's names in the chosen script, its choice kept (no Changed: no reload)."""
        select = self.query_one("#corpus-forms", Select)
        chosen = select.value
        with self.prevent(Select.Changed):
            select.set_options(form_choices(script))
            select.value = chosen

    def action_reload(self) -> None:
        self.load()

    def filters(self) -> tuple[str, str, str]:
        return (
            str(self.query_one("#corpus-name", Select).value),
            str(self.query_one("#corpus-script", Select).value),
            str(self.query_one("#corpus-forms", Select).value),
        )

    def load(self) -> None:
        self.query_one("#corpus-loading").display = True
        self._compute(*self.filters())

    @work(thread=True, exclusive=True, group="corpus-stats")
    def _compute(self, name: str, script: str, forms: str) -> None:
        from tangstudio.engine.corpus.stats import corpus_stats
        from tangstudio.engine.errors import TangError
        from tangstudio.studio.cache import corpus

        asked = (name, script, forms)
        try:
            data = corpus_stats(corpus(name, script), forms)
        except TangError as exc:
            said = f"{exc} — choose another corpus, or import one with `tangstudio corpus import`."
            self.app.call_from_thread(self._failed, asked, said)
            return
        except Exception as exc:  # a broken file must not take the studio down
            self.app.call_from_thread(self._failed, asked, f"could not read corpus {name!r}: {exc}")
            return
        self.app.call_from_thread(self._computed, asked, data)

    def _computed(self, asked: tuple[str, str, str], data: dict) -> None:
        """Shown only if the filters still ask for it: a thread worker is not stopped when a newer one
        replaces it, and the traditional corpus's first load (seconds) could land over the simplified
        one chosen after it."""
        if asked == self.filters():
            self.show(data)

    def _failed(self, asked: tuple[str, str, str], message: str) -> None:
        if asked != self.filters():
            return
        self.query_one("#corpus-loading").display = False
        self.notify(message, title="Corpus", severity="error", timeout=8)

    def show(self, data: dict) -> None:
        """Fill the cards from a `corpus_stats` dict."""
        self.query_one("#corpus-loading").display = False
        self.stats = data
        card = lambda name: self.query_one(f"#card-{name}", Static)  # noqa: E731
        card("summary").update(summary_table(data))
        card("forms").update(
            bar_table(
                "Poems per form (whole corpus)",
                [(form_name(f, data["script"]), n) for f, n in data["forms"].items()],
            )
        )
        card("splits").update(bar_table("Splits (selected)", list(data["splits"].items())))
        card("lengths").update(bar_table("Line lengths", line_length_rows(data["line_lengths"], longest=11)))
        card("chars").update(bar_table("Top characters", [(c, n) for c, n in data["top_chars"][:12]]))
        card("authors").update(
            bar_table(
                "Top authors",
                [(a, n) for a, n in data["top_authors"][:12]],
                empty=no_authors(data["poems"]),
            )
        )
        card("cleaning").update(
            bar_table(
                "Cleaning (poems touched)",
                cleaning_rows(data["cleaning"]),
                width=10,
            )
        )
        self.query_one("#corpus-source", Static).update(Text(f"source: {data['source']}", style="dim"))
