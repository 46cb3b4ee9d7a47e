"""What the side panel beside the poem shows: a step's candidates, and notes below them.

The notes are the character a person typed (its odds and whether the form allows it) and, with
the gate view on, the gate values at the character under the cursor. A pure function of the
session and the gate view, so it is tested through the pane and read here in one place. A
"best of K drafts" view is another panel: give it its own module beside this one and let the
pane choose which one `panel` shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tangstudio.studio.widgets.prob_bars import PanelState

if TYPE_CHECKING:
    from tangstudio.studio.panes.compose.gates import Gates
    from tangstudio.studio.sessions import Session

Notes = tuple[tuple[str, str], ...]  # (text, style) lines below the bars


def panel_state(
    session: Session,
    gates: Gates | None,
    names: tuple[str, ...],
    pin: tuple[str, tuple[float, ...]] | None = None,
) -> PanelState:
    """The panel for the session's current step, with the typed character, the gates and the
    pinned unit's value (`pin`: its name and value per character) as notes."""
    notes = gate_notes(session, gates, names) if gates else ()
    notes = typed_notes(session) + pairing_notes(session) + notes + (pin_notes(session, *pin) if pin else ())
    step = session.panel()
    if step is None and session.text and not session.filling:  # the acrostic or prefix opened it
        return PanelState(message=f"{session.text} given.\n\nSpace samples the next character.")
    if step is None and not session.text and not session.filling and (first := _given_first(session)):
        return PanelState(message=f"{first} is given (the acrostic's): Space places it.")
    if step is None:
        return PanelState(None, (), None, None, message=None, notes=notes)
    return PanelState(
        step.position,
        tuple(step.candidates),
        step.chosen or None,
        None if session.filling else step.removed_mass,
        message=None,
        notes=notes,
        limit=5 if notes else 10,  # room for the notes at 80×24
        place=place_in_poem(session.text, step.position),
    )


def place_in_poem(text: str, position: int, word: str = "character") -> str:
    """A position of the poem's text in the words the status line counts in, "line 4, character 3":
    the panel said "position 31" and the gates "char 31" of the 28th character, counting the marks
    between the lines (a student's and a TUI review)."""
    from tangstudio.engine.hanzi import is_han

    before = text[:position]
    line = sum(not is_han(ch) for ch in before)
    column = len(before) - max((i + 1 for i, ch in enumerate(before) if not is_han(ch)), default=0)
    if position < len(text) and not is_han(text[position]):
        return f"the mark closing line {line + 1}"
    return f"line {line + 1}, {word} {column + 1}"


def typed_notes(session: Session) -> Notes:
    """What the model made of the last character a person typed: odds, surprise, rank, and the form's verdict."""
    j = session.typed
    if j is None:
        return ()
    return (
        (f"\nyou typed {j.char}", "bold"),
        # "model p": the bars above are the distribution drawn from (temperature, top-p, the form's
        # masks), so 春 read 1.1 % there and 0.88 % here with nothing saying why (a review)
        (f"model {j.odds}" if j.known else j.odds, ""),  # p · bits · rank (engine: Judgement.odds)
        ("fits 平仄 and rhyme ✓" if j.fits else f"✗ {j.reason}", "green" if j.fits else "bold red"),
        *(((j.aside, "yellow"),) if j.aside else ()),
    )


def _given_first(session: Session) -> str:
    """The poem's first character when the acrostic gives it, else "" (a prefix is placed at once)."""
    plan = getattr(session.engine, "plan", None)
    return session.engine.vocab.itos[plan.acrostic_ids[0]] if plan is not None and plan.acrostic_ids else ""


def pairing_notes(session: Session) -> Notes:
    """In lines 4 and 6 of a 律诗: the character of line 3 or 5 this place answers (对仗), the
    corpus's best answers to it, and how each of the step's first candidates pairs with it."""
    step = session.panel()
    plan = getattr(session.engine, "plan", None)
    if step is None or plan is None or session.filling:
        return ()
    from tangstudio.engine.compose.craft.steer import pairing_hint

    names = list(dict.fromkeys([step.chosen, *(c for c, _ in step.candidates[:4])]))
    hint = pairing_hint(plan, session.text[: step.position], names, session.engine.vocab.script)
    if hint is None:
        return ()
    chosen = next((p for c, p, _ in hint["candidates"] if c == step.chosen), None)
    head = f"\n对仗 with line {hint['line'] - 1}: {hint['aligned']}"
    if chosen is not None:
        head += f" ↔ {step.chosen} {chosen:+.1f}"
    best = [f"{b} {p:+.1f}" for b, p in hint["best"]]
    # Wrapped between pairs, never inside one: "孤" on a row and its "+2.7" on the next read as two things.
    return (
        (head, "bold"),
        *((line, "dim") for line in (_wrap("corpus pairs", best) if best else [""])),
        *((line, "") for line in _wrap("these", [f"{c} {p:+.1f}" for c, p, _ in hint["candidates"]])),
    )


def gate_notes(session: Session, gates: Gates, names: tuple[str, ...]) -> Notes:
    """The gate values of the character under the cursor; when the cursor follows, of the step the
    panel shows above them (the last character drawn: a line's closing mark is not drawn)."""
    at = _shown_at(session, len(gates))
    if at is None:
        return ()
    # Computed on reading the character, so they shaped the next one, not the choice shown above
    # them (a student's review); an RNN has no gates, only its state's norm.
    what = "state" if all(n.startswith("‖") for n in names) else "gates"
    lines = [
        (f"\n{what} on {session.text[at]} ({place_in_poem(session.text, at, 'char')})", "bold"),
        ("they shape the next character", "dim"),  # its own line: 31 cells at 80 columns
    ]
    for layer, values in enumerate(gates[at]):
        shown = [
            f"{n} {v:.2f}".replace(" 0.", " .") if not n.startswith("‖") else f"{n} {v:.1f}"
            for n, v in zip(names, values)
        ]
        lines += [(line, "") for line in _wrap(f"L{layer}", shown)]  # from 0, as the pins (h0:271)
    return tuple(lines)


def _shown_at(session: Session, written: int) -> int | None:
    """The character the notes describe: the cursor's, else the step the panel shows, else the last."""
    step = session.panel()
    at = (
        session.selected
        if session.selected is not None
        else step.position
        if step is not None and step.position is not None
        else written - 1
    )
    return at if 0 <= at < written else None


def pin_notes(session: Session, unit: str, values: tuple[float, ...]) -> Notes:
    """The pinned unit's value at the character the notes describe: the poem's colours say it only
    roughly (a student's review)."""
    at = _shown_at(session, len(values))
    if at is None:
        return ()
    return ((f"\n{unit} at {session.text[at]}: {values[at]:+.2f}", "bold"),)


GATE_WIDTH = 30  # cells a gate line may take: the panel is 34 columns at 80, less its padding


def _wrap(head: str, items: list[str]) -> list[str]:
    """`head` and the items two spaces apart, a new indented line before an item that would not fit,
    so a name and its value never part ("‖c‖ / 14.2" at 80 columns, issue 25 item 14)."""
    from rich.cells import cell_len  # a hanzi takes two cells: len() let "孤 +2.7" overflow and part

    lines, line, first = [], head, True
    for item in items:
        if not first and cell_len(line) + 2 + cell_len(item) > GATE_WIDTH:
            lines.append(line)
            line, first = " " * cell_len(head), True
        line += (" " if first else "  ") + item
        first = False
    return [*lines, line]


def group_listing(asked: str, script: str) -> str:
    """The panel's message when 韵 names no 平 group: the group its characters rhyme in, if any
    (七羊: 羊 rhymes in 七阳), and the 30 groups, which a toast showed cut at the panel's edge."""
    from tangstudio.engine.corpus.script import convert
    from tangstudio.engine.prosody import PING_GROUPS, rhyme_groups

    said = [f"韵 {asked} names no 平 (level) rhyme group."]
    for char in dict.fromkeys(convert(asked, "traditional", "simplified")):
        near = sorted(rhyme_groups(char) & set(PING_GROUPS), key=PING_GROUPS.index)
        if near:
            said.append(f"{char} rhymes in {' or '.join(near)}.")
    said += ["", "上平 " + " ".join(PING_GROUPS[:15]), "", "下平 " + " ".join(PING_GROUPS[15:])]
    said += ["", "Type one (七阳 or 下平七阳), then Enter."]
    return convert("\n".join(said), "simplified", script)


TONE_WORDS = {"平": "平 (level)", "仄": "仄 (oblique)"}


def gloss_tones(message: str) -> str:
    """平 and 仄 with their names beside them, for a toast: Textual draws a wide character that
    straddles the edge of a widget under an overlay as blanks, and "月 is   , but this place takes
    a 平" lost the one word that mattered (issue 25 item 11). The name survives any cut. The first
    character is the one typed ("平 is 平, but …"), a character and not a tone: it is left alone."""
    return message[:1] + "".join(TONE_WORDS.get(c, c) for c in message[1:])
