"""A poem being written: each character tinted by its probability, and under every line its 平仄
marks and the rhyme group of its last character, with violations in red.

The view takes plain data (characters, their probabilities, the form) and asks the prosody engine
for tones and, once the poem has its full shape, for the checker's verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from tangstudio.engine import forms
from tangstudio.engine.compose.settings import UNFILLED
from tangstudio.engine.hanzi import LINE_MARKS as LINE_ENDS
from tangstudio.studio.widgets.tint import tint

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


def prosody_marks(text: str, form: str, script: str, rhyme_note: str = "") -> dict:
    """Per-character marks and line verdicts: {'marks': [...], 'kinds': [...], 'groups': {line: (label, ok)}}.
    `rhyme_note`: said beside the rhyme's verdict ("rhyme off": written with the constraint off)."""
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.prosody import EITHER, GROUPS, check_poem, end_tones, inner_tones, rhyme_groups

    hanzi = [c for c in text if c not in LINE_ENDS]
    marks = []
    for i, c in enumerate(text):
        if c in LINE_ENDS:
            continue
        if c == UNFILLED:  # nothing to hear yet: a blank, not "？ not in the tables"
            marks.append(FULL_SPACE)
            continue
        # A character is heard in its common reading at a line end (间: 平) and inside a line (不:
        # 仄), as the composer reads it and the checker's warnings say.
        line_end = i + 1 < len(text) and text[i + 1] in LINE_ENDS
        t = end_tones(c, script) if line_end else inner_tones(c, script)
        marks.append(next(iter(t)) if len(t) == 1 else (EITHER if t else "？"))
    kinds: list[str | None] = [None] * len(hanzi)
    groups: dict[int, tuple[str, bool | None]] = {}
    clauses = [c for c in split_clauses(list(text))]
    complete = [ids for ids in clauses if text[ids[-1]] in LINE_ENDS]
    for n, ids in enumerate(complete):
        last = text[ids[-2]] if len(ids) >= 2 else ""
        # In the 平水韵's own order, 平 groups first: a line's rhyme, not 二十五有/五物 before 十一尤.
        found = sorted(rhyme_groups(last, script), key=GROUPS.index) if last else []
        groups[n] = ("/".join(found[:2]) if found else "", None)
    try:
        result = check_poem(text, form=form if forms.is_regulated(form) else "auto", script=script)
    except TangError:
        result = None  # not the full shape yet: marks only, no verdict
    rhyme_open = False  # a rhyme place still empty: no rhyme verdict yet
    if result is not None and result.form_ok:
        k = 0
        for n, line in enumerate(result.lines):
            for char in line.chars:
                if k < len(kinds):
                    kinds[k] = None if hanzi[k] == UNFILLED else char.kind
                k += 1
            open_end = n < len(complete) and _line_end(text, complete[n]) == UNFILLED
            rhyme_open = rhyme_open or (open_end and bool(line.rhyme_position))
            # the groups of its last character, as while the line was written (術: 四寘/四质)
            label = "/".join(line.groups[:2])
            verdict = line.rhymes if line.rhyme_position else None
            if line.rhyme_position and line.chars[-1].kind == "unknown":
                label, verdict = "？", None  # no known reading (□, 𠀀): not judged
            elif line.rhyme_position and result.rhyme_group:
                label = result.rhyme_group if line.rhymes else (label or "？")
            groups[n] = ("", None) if open_end else (label, verdict)
    from tangstudio.engine.corpus.script import labels_in

    # a traditional model's poem: 四質, 平起首句不入韻 (a scholar's review)
    in_script = labels_in(script, text)

    return {
        "marks": marks,
        "kinds": kinds,
        "groups": {n: (in_script(label), ok) for n, (label, ok) in groups.items()},
        "summary": _summary(result, rhyme_open, UNFILLED in text, rhyme_note, in_script)
        if result is not None and result.form_ok
        else None,
    }


def _line_end(text: str, ids: list[int]) -> str:
    """A complete line's last character (before its punctuation)."""
    return text[ids[-2]] if len(ids) >= 2 else ""


def _summary(
    result,
    rhyme_open: bool = False,
    tones_open: bool = False,
    rhyme_note: str = "",
    in_script: Callable[[str], str] = str,
) -> Text:
    """The checker's verdict under the poem; "—" for what empty grid places leave undecided.
    `rhyme_note`: "(rhyme off)" beside the rhyme's verdict: a rhyme checkbox toggled by a stray
    Enter left only "rhyme ✗", with nothing saying the poem was not asked to rhyme."""
    parts = Text()
    # its own line: no wrap at 80 columns
    parts.append(in_script(f"{result.variant or result.form}\n"), style="dim")
    if rhyme_open:
        parts.append("rhyme —", style="dim")
    else:
        parts.append(
            "rhyme " + ("✓ " + in_script(result.rhyme_group or "") if result.rhyme_ok else "✗"),
            style="green" if result.rhyme_ok else "red",
        )
        if rhyme_note:
            parts.append(f" ({rhyme_note})", style="yellow")
    parts.append(" · ", style="dim")
    if tones_open:
        parts.append("tones —", style="dim")
    elif result.ze_rhyme:  # 仄韵: 古绝, whose tones no 平韵 pattern judges
        parts.append(in_script("tones not judged (仄韵)"), style="dim")
    else:
        parts.append(
            "tones "
            + ("strict ✓" if result.tones_strict_ok else "loose ✓" if result.tones_loose_ok else "✗"),
            style="green" if result.tones_loose_ok else "red",
        )
    if result.warnings:
        parts.append("\n" + in_script("; ".join(result.warnings[:2])), style="yellow")
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
    gates: tuple | None = None  # per character: per layer, the gate values (engine.models.gates)
    gate_names: tuple[str, ...] = ()
    pin: tuple[float, ...] | None = None  # per character: the pinned unit's value
    pin_label: str = ""
    locked: tuple[int, ...] = ()  # lines (0-based) a reroll keeps
    rhyme_note: str = ""  # beside the rhyme's verdict: "rhyme off" (written without the constraint)


class PoemView(Static):
    """Renders characters + probabilities; `cursor` marks where the next character goes.

    `state` is reactive: the pane binds it to its own (`data_bind`) and the view redraws itself
    when the poem changes, instead of the pane calling a redraw after each key.
    """

    DEFAULT_CSS = "PoemView { height: auto; }"

    state: reactive[PoemState] = reactive(PoemState, layout=True)
    _lines: tuple[str, ...] = ()  # the poem's lines as drawn last, before wrapping (_screen_rows)

    def watch_state(self, state: PoemState) -> None:
        shown = self.show_poem(
            list(state.chars),
            list(state.probs),
            state.form,
            state.script,
            state.done,
            state.selected,
            gates=state.gates,
            gate_names=state.gate_names,
            pin=state.pin,
            pin_label=state.pin_label,
            locked=state.locked,
            rhyme_note=state.rhyme_note,
        )
        self.call_after_refresh(self._follow, shown, state.done and state.selected is None)

    def _follow(self, rows: tuple[int, int], finished: bool) -> None:
        """Keep the cursor's line in view in a scrolling parent (a 律诗 overflows 80×24): the line
        being written or selected, and a finished poem's verdict under its last line."""
        from textual.containers import ScrollableContainer
        from textual.geometry import Region

        parent = self.parent
        if not isinstance(parent, ScrollableContainer):
            return
        if finished:
            parent.scroll_end(animate=False, immediate=True)
            return
        first, count = rows
        top = self._screen_rows(first)
        height = self._screen_rows(first + count) - top
        parent.scroll_to_region(
            Region(0, self.virtual_region.y + top, 1, height), animate=False, immediate=True
        )

    def _screen_rows(self, lines: int) -> int:
        """The rows the first `lines` lines of the poem take on screen, a long line wrapped (a
        review: a free poem's gate strips wrap at 40 columns, and the view stopped following)."""
        from math import ceil

        from rich.cells import cell_len

        width = max(self.content_size.width, 1)
        return sum(max(1, ceil(cell_len(line) / width)) for line in self._lines[:lines])

    def show_poem(
        self,
        chars: list[str],
        probs: list[float | None],
        form: str = "auto",
        script: str = "simplified",
        done: bool = False,
        selected: int | None = None,
        *,
        gates: tuple | None = None,
        gate_names: tuple[str, ...] = (),
        pin: tuple[float, ...] | None = None,
        pin_label: str = "",
        locked: tuple[int, ...] = (),
        rhyme_note: str = "",
    ) -> tuple[int, int]:
        """Draw the poem; returns the first line and the number of lines of the cursor's clause (the
        selected character's, else the one being written: its characters, tones and gate strips),
        for the view to follow."""
        text = "".join(chars)
        strips = gate_strips(gates, gate_names) if gates else None
        pin_scale = max((abs(v) for v in pin), default=0.0) or 1.0 if pin else 1.0
        try:
            info = (
                prosody_marks(text, form, script, rhyme_note)
                if text
                else {"marks": [], "kinds": [], "groups": {}, "summary": None}
            )
        except Exception:
            info = {"marks": [], "kinds": [], "groups": {}, "summary": None}
        out = Text()
        hanzi_index = 0
        clauses = split_clauses(chars)
        rows = 2 + (len(strips) if strips else 0)  # a clause's characters, tones, and gate strips
        at = next((n for n, ids in enumerate(clauses) if selected in ids), max(len(clauses) - 1, 0))
        for n, ids in enumerate(clauses):
            line, marks = Text(), Text()
            for i in ids:
                char = chars[i]
                style = f"bold {tint(probs[i] if i < len(probs) else None)}"
                if pin is not None and i < len(pin):
                    style += f" on {diverging(pin[i] / pin_scale)}"
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
            if n in locked:
                line.append("  locked", style="bold cyan")
            out.append_text(line)
            out.append("\n")
            out.append_text(marks)
            out.append("\n")
            if strips is not None:
                for label, values in strips:
                    strip = Text()
                    for i in ids:
                        value = values[i] if i < len(values) else None
                        strip.append("██", style=heat(value) if value is not None else "rgb(60,60,60)")
                    strip.append("  " + label, style="dim")
                    out.append_text(strip)
                    out.append("\n")
        if not clauses:
            out.append("▁", style="bold cyan")
            out.append("\n")
        if info["summary"] is not None:
            out.append_text(info["summary"])
            out.append("\n")
        if text:
            unknown = "？" in info["marks"]
            out.append(LEGEND + (" ？ not in the tables" if unknown else ""), style="dim")
        if strips:
            out.append("\n")
            out.append_text(gate_legend(gate_names))
        if pin is not None:
            out.append(f"\ncoloured by unit {pin_label}: ", style="dim")
            out.append("  ", style=f"on {diverging(-1.0)}")
            out.append(" low  ", style="dim")
            out.append("  ", style=f"on {diverging(1.0)}")
            out.append(" high", style="dim")
        self.update(out)
        self._lines = tuple(out.plain.split("\n"))
        return at * rows, rows


LEGEND = "平 level 仄 oblique 中 several readings"  # 中 fits either tone (help, `?`)
MAIN_GATE = {"f": "f (kept)", "z": "z (replaced)", "‖h‖": "‖h‖"}


# What a strip's bright end means, and its top value, by the gate drawn: the colours alone did not
# say whether bright was a gate open or shut, nor, for ‖h‖, of what it was a share.
GATE_SCALE = {
    "f": ("1", "bright: memory kept"),
    "z": ("1", "bright: state replaced"),
    "‖h‖": ("max", "‖h‖ / the poem's largest"),
}


def telling_gate(names: tuple[str, ...]) -> str:
    """The gate a strip draws: LSTM f, GRU z, RNN ‖h‖ (else the first there is)."""
    return next((n for n in ("f", "z", "‖h‖") if n in names), names[0])


def gate_legend(names: tuple[str, ...]) -> Text:
    """One line under the strips: their colour scale in their own colours, low to high, and what
    the bright end means for the gate drawn, so a student reads "bright" without guessing."""
    top, meaning = GATE_SCALE.get(telling_gate(names), ("1", ""))
    what = "state" if telling_gate(names).startswith("‖") else "gates"  # an RNN has no gates
    legend = Text(f"{what} 0 ", style="dim")
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        legend.append("█", style=heat(t))
    legend.append(f" {top}" + (f" · {meaning}" if meaning else ""), style="dim")
    return legend


def gate_strips(gates: tuple, names: tuple[str, ...]) -> list[tuple[str, list[float | None]]]:
    """One strip per layer of its telling gate (LSTM f, GRU z, RNN ‖h‖ scaled to its maximum)."""
    if not gates or not names:
        return []
    name = telling_gate(names)
    k = names.index(name)
    layers = len(gates[0])
    out = []
    for layer in range(layers):
        values = [float(per[layer][k]) for per in gates]
        if name.startswith("‖"):
            top = max(values, default=0.0) or 1.0
            values = [v / top for v in values]
        shown: list[float | None] = list(values)
        out.append((f"L{layer} {MAIN_GATE.get(name, name)}", shown))  # from 0, as the pins (h0:271)
    return out


# matplotlib's viridis at 0, ¼, ½, ¾ and 1: perceptually even and readable on a dark background
VIRIDIS = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))


def heat(value: float) -> str:
    """0 → dark purple, ½ → teal, 1 → yellow: viridis, linear between its quarters. Continuous,
    since an LSTM's forget gates sit near ½: the ramp it replaced jumped from mauve to olive at
    ½, so a strip flickered between them for changes of 0.01 (a student's review)."""
    t = min(1.0, max(0.0, value)) * (len(VIRIDIS) - 1)
    k = min(int(t), len(VIRIDIS) - 2)
    a, b = VIRIDIS[k], VIRIDIS[k + 1]
    r, g, bl = (round(x + (t - k) * (y - x)) for x, y in zip(a, b, strict=True))
    return f"rgb({r},{g},{bl})"


def diverging(value: float) -> str:
    """-1 → blue, 0 → grey, +1 → red: a unit's value as a background, as in Karpathy's figures."""
    t = min(1.0, max(-1.0, value))
    if t >= 0:
        return f"rgb({round(60 + 170 * t)},{round(60 - 20 * t)},{round(60 - 20 * t)})"
    return f"rgb({round(60 + 20 * t)},{round(60 + 20 * t)},{round(60 - 170 * t)})"
