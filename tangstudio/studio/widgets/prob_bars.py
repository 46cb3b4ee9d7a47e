"""The candidates of one step: top characters with probability bars, the chosen one highlighted.

It also says how much probability the constraints (form, rhyme, tones, acrostic) took away, so the
person sees when the model "wanted" something the rules forbade.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tangstudio.bars import bar
from tangstudio.studio.widgets.tint import tint

KEYS = "1234567890"


class ProbBars(Static):
    """Shows a `StepInfo`-like record: candidates [(char, prob)], chosen, removed mass."""

    DEFAULT_CSS = "ProbBars { height: auto; }"

    def show_step(
        self,
        position: int | None,
        candidates: list[tuple[str, float]],
        chosen: str | None,
        removed_mass: float | None = None,
        bar_width: int = 14,
    ) -> None:
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
            (f"position {position + 1}" if position is not None else "the first position", "bold"),
            (f" · chose {_shown(chosen)}" if chosen and candidates else "", "dim"),
        )
        if removed_mass is not None:
            title.append("\nconstraints removed ", style="dim")
            title.append(f"{removed_mass:.1%}", style="bold yellow" if removed_mass > 0.5 else "bold")
        if not candidates:
            self.update(Text.assemble(title, ("\n\nSpace samples the first character.", "dim")))
            return
        from rich.console import Group

        self.update(Group(title, table))

    def clear(self, message: str = "") -> None:
        self.update(Text(message, style="dim"))


def _shown(char: str) -> str:
    """Punctuation and the end of the poem as something visible."""
    return {"<eos>": "⏎ end", "\n": "⏎"}.get(char, char)
