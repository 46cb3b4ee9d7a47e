"""The candidates of one step: top characters with probability bars, the chosen one highlighted.

It also says how much probability the constraints (form, rhyme, tones, acrostic) took away, so the
person sees when the model "wanted" something the rules forbade.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from tangstudio.bars import bar
from tangstudio.studio.widgets.tint import tint

KEYS = "1234567890"
BAR_WIDTH = 14  # the candidates' bars, where the panel has the room


@dataclass(frozen=True)
class PanelState:
    """What the panel shows: a step's candidates, or a message when there is no step."""

    position: int | None = None
    candidates: tuple[tuple[str, float], ...] = ()
    chosen: str | None = None
    removed_mass: float | None = None
    message: str | None = "loading …"
    notes: tuple[tuple[str, str], ...] = ()  # (text, style) lines below the bars
    limit: int = 10  # candidates shown (fewer when notes need the room)
    place: str | None = None  # the position in words: "line 4, character 3"


class ProbBars(Static):
    """Shows a `StepInfo`-like record: candidates [(char, prob)], chosen, removed mass.

    `panel` is reactive (bound to the compose pane's own): the widget redraws when it changes.
    """

    DEFAULT_CSS = "ProbBars { height: auto; }"

    panel: reactive[PanelState] = reactive(PanelState, layout=True)
    shown = 0  # candidates on screen now: a number key takes only one of these (the pane asks)

    def watch_panel(self, panel: PanelState) -> None:
        if panel.message is not None:
            self.shown = 0
            self.clear(panel.message)
            return
        candidates = list(panel.candidates)[: self._limit(panel)]
        self.shown = len(candidates)
        shown = step_renderable(
            panel.position,
            candidates,
            panel.chosen,
            panel.removed_mass,
            self._bar_width(candidates),
            panel.place,
        )
        if panel.notes:
            from rich.console import Group

            extra = Text()
            for text, style in panel.notes:
                extra.append("\n" + text, style=style)
            shown = Group(shown, extra)
        self.update(shown)

    def _limit(self, panel: PanelState) -> int:
        """How many candidates to show: the panel's limit, or all ten where the notes leave room for
        them (a review: at 200×50 the 对仗 notes cut the list to five, 25 rows empty below)."""
        if panel.limit >= len(KEYS) or not panel.notes:
            return panel.limit
        from rich.cells import cell_len

        # the room the panel's column gives it (its own height is auto: what it drew last)
        room = self.parent.content_size.height if isinstance(self.parent, Widget) else 0
        width = max(self.content_size.width, 1)
        if not room:
            return panel.limit
        head = 2 if panel.removed_mass is not None else 1
        notes = sum(
            max(1, -(-cell_len(line) // width))
            for text, _ in panel.notes
            for line in ("\n" + text).split("\n")
        )
        return max(panel.limit, min(len(KEYS), room - head - notes))

    def _bar_width(self, candidates: list[tuple[str, float]]) -> int:
        """The bars' width that leaves the percentages whole: at 80 columns a free poem's "⏎ end"
        widened the character column and the table cut the percentages to "57.…" (a poet's review)."""
        from rich.cells import cell_len

        room = self.content_size.width
        if not room:
            return BAR_WIDTH
        widest = max((cell_len(_shown(char)) for char, _ in candidates), default=2)
        return max(3, min(BAR_WIDTH, room - (1 + widest + 6 + 2 * 4)))  # key, char, percent, 4 paddings

    def show_step(
        self,
        position: int | None,
        candidates: list[tuple[str, float]],
        chosen: str | None,
        removed_mass: float | None = None,
        bar_width: int = BAR_WIDTH,
        place: str | None = None,
    ) -> None:
        self.update(step_renderable(position, candidates, chosen, removed_mass, bar_width, place))

    def clear(self, message: str = "") -> None:
        self.update(Text(message, style="dim"))


def _shown(char: str) -> str:
    """Punctuation and the end of the poem as something visible."""
    return {"<eos>": "⏎ end", "\n": "⏎"}.get(char, char)


def step_renderable(
    position: int | None,
    candidates: list[tuple[str, float]],
    chosen: str | None,
    removed_mass: float | None = None,
    bar_width: int = BAR_WIDTH,
    place: str | None = None,
) -> RenderableType:
    """The step as a title over a table of candidates with bars."""
    table = Table(show_header=False, box=None, padding=(0, 1), expand=False)
    table.add_column(style="bold", no_wrap=True)  # key
    table.add_column(no_wrap=True)  # char
    table.add_column(no_wrap=True, overflow="crop")  # bar
    table.add_column(justify="right", no_wrap=True)  # percent
    top = max((p for _, p in candidates), default=0.0)
    for key, (char, prob) in zip(KEYS, candidates):
        shown = _shown(char)
        row_style = "reverse" if char == chosen else ""
        table.add_row(
            key,
            Text(shown, style=f"bold {tint(prob)}"),
            Text(bar(prob, top, bar_width), style=tint(prob)),
            f"{prob:6.1%}",
            style=row_style,
        )
    title = Text.assemble(
        (place or (f"position {position + 1}" if position is not None else "the first position"), "bold"),
        (f" · chose {_shown(chosen)}" if chosen and candidates else "", "dim"),
    )
    if removed_mass is not None:
        title.append("\nconstraints removed ", style="dim")
        title.append(f"{removed_mass:.1%}", style="bold yellow" if removed_mass > 0.5 else "bold")
    if not candidates:
        return Text.assemble(title, ("\n\nSpace samples the first character.", "dim"))
    from rich.console import Group

    return Group(title, table)
