"""A poem being written: each character tinted by its probability, and under every line its 平仄
marks and the rhyme group of its last character, with violations in red.

The view takes plain data (characters, their probabilities, the form) and asks the prosody engine
for tones and, once the poem has its full shape, for the checker's verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from tangstudio.studio.widgets.tint import tint

LINE_ENDS = "，。？！；"
FULL_SPACE = "\u3000"  # one full-width cell, so marks line up under the characters


def split_clauses(chars: list[str]) -> list[list[int]]:
    """Indices of the characters of each line (a clause ends with its punctuation)."""
    lines, current = [], []
    for i, char in enumerate(chars):
        current.append(i)
        if char in LINE_ENDS:
            lines.append(current)
            current = []
    if current:
        lines.append(current)
    return lines


def prosody_marks(text: str, form: str, script: str) -> dict:
    """Per-character marks and line verdicts: {'marks': [...], 'kinds': [...], 'groups': {line: (label, ok)}}."""
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.prosody import EITHER, check_poem, rhyme_groups, tones

    hanzi = [c for c in text if c not in LINE_ENDS]
    marks = []
    for c in hanzi:
        t = tones(c, script)
        marks.append(next(iter(t)) if len(t) == 1 else (EITHER if t else "？"))
    kinds: list[str | None] = [None] * len(hanzi)
    groups: dict[int, tuple[str, bool | None]] = {}
    clauses = [c for c in split_clauses(list(text))]
    complete = [ids for ids in clauses if text[ids[-1]] in LINE_ENDS]
    for n, ids in enumerate(complete):
        last = text[ids[-2]] if len(ids) >= 2 else ""
        found = sorted(rhyme_groups(last, script)) if last else []
        groups[n] = ("/".join(found[:2]) if found else "", None)
    try:
        result = check_poem(
            text, form=form if form in ("wujue", "qijue", "wulv", "qilv") else "auto", script=script
        )
    except TangError:
        result = None  # not the full shape yet: marks only, no verdict
    if result is not None and result.form_ok:
        k = 0
        for n, line in enumerate(result.lines):
            for char in line.chars:
                if k < len(kinds):
                    kinds[k] = char.kind
                k += 1
            label = line.groups[0] if line.groups else ""
            if line.rhyme_position and result.rhyme_group:
                label = result.rhyme_group if line.rhymes else ("/".join(line.groups[:2]) or "？")
            groups[n] = (label, line.rhymes if line.rhyme_position else None)
    return {
        "marks": marks,
        "kinds": kinds,
        "groups": groups,
        "summary": _summary(result) if result is not None and result.form_ok else None,
    }


def _summary(result) -> Text:
    parts = Text()
    parts.append(f"{result.variant or result.form} · ", style="dim")
    parts.append(
        "rhyme " + ("✓ " + (result.rhyme_group or "") if result.rhyme_ok else "✗"),
        style="green" if result.rhyme_ok else "red",
    )
    parts.append(" · ", style="dim")
    parts.append(
        "tones " + ("strict ✓" if result.tones_strict_ok else "loose ✓" if result.tones_loose_ok else "✗"),
        style="green" if result.tones_loose_ok else "red",
    )
    if result.warnings:
        parts.append(" · " + "; ".join(result.warnings[:2]), style="yellow")
    return parts


@dataclass(frozen=True)
class PoemState:
    """What the poem view shows; assigning a new one to `PoemView.state` redraws it."""

    chars: tuple[str, ...] = ()
    probs: tuple[float | None, ...] = ()
    form: str = "auto"
    script: str = "simplified"
    done: bool = False
    selected: int | None = None


class PoemView(Static):
    """Renders characters + probabilities; `cursor` marks where the next character goes.

    `state` is reactive: the pane binds it to its own (`data_bind`) and the view redraws itself
    when the poem changes, instead of the pane calling a redraw after each key.
    """

    DEFAULT_CSS = "PoemView { height: auto; }"

    state: reactive[PoemState] = reactive(PoemState, layout=True)

    def watch_state(self, state: PoemState) -> None:
        self.show_poem(
            list(state.chars), list(state.probs), state.form, state.script, state.done, state.selected
        )

    def show_poem(
        self,
        chars: list[str],
        probs: list[float | None],
        form: str = "auto",
        script: str = "simplified",
        done: bool = False,
        selected: int | None = None,
    ) -> None:
        text = "".join(chars)
        try:
            info = (
                prosody_marks(text, form, script)
                if text
                else {"marks": [], "kinds": [], "groups": {}, "summary": None}
            )
        except Exception:
            info = {"marks": [], "kinds": [], "groups": {}, "summary": None}
        out = Text()
        hanzi_index = 0
        clauses = split_clauses(chars)
        for n, ids in enumerate(clauses):
            line, marks = Text(), Text()
            for i in ids:
                char = chars[i]
                style = f"bold {tint(probs[i] if i < len(probs) else None)}"
                if i == selected:
                    style += " reverse"
                line.append(char, style=style)
                if char in LINE_ENDS:
                    marks.append(FULL_SPACE)
                    continue
                mark = info["marks"][hanzi_index] if hanzi_index < len(info["marks"]) else "？"
                kind = info["kinds"][hanzi_index] if hanzi_index < len(info["kinds"]) else None
                marks.append(
                    mark,
                    style={"tone": "bold red", "strict": "yellow", "unknown": "dim"}.get(kind or "", "dim"),
                )
                hanzi_index += 1
            if n == len(clauses) - 1 and not done:
                line.append("▁", style="bold cyan")
            label, ok = info["groups"].get(n, ("", None))
            if label:
                marks.append("  " + label, style={True: "green", False: "bold red"}.get(ok, "dim"))
            out.append_text(line)
            out.append("\n")
            out.append_text(marks)
            out.append("\n")
        if not clauses:
            out.append("▁", style="bold cyan")
            out.append("\n")
        if info["summary"] is not None:
            out.append_text(info["summary"])
        self.update(out)
