"""The plan in the Compose pane: what the 纲 row shows, an edit mid-poem, and `k` (a new keyword).

The engine does the work (Composer.set_keyword / reroll, planning.planner.another_keyword); this
module only says which line and what to tell the person. The functions return the message to
show, or raise TangError (one line) for what cannot be done; `PlanDesk` wires them to the pane.
"""

from __future__ import annotations

import os
from typing import Any

from tangstudio.engine.errors import TangError

NO_PLAN = "this model was trained without titles and plans: it cannot read a keyword"


def _composer(session: Any) -> Any:
    if session is None or session.filling:
        raise TangError("a bilstm fills a grid without a plan; keywords need a left-to-right model")
    composer = session.engine
    if not composer.poem_plan.reads:
        raise TangError(NO_PLAN)
    return composer


def shown_plan(session: Any) -> list[str] | None:
    """The keywords the poem is written with, for the 纲 row (None: the model reads no plan)."""
    if session is None or session.filling or not session.engine.poem_plan.reads:
        return None
    keywords = list(session.engine.poem_plan.keywords)
    return keywords if any(keywords) else []


def begun_lines(composer: Any) -> int:
    """Lines with at least one character written (the line being written counts)."""
    from tangstudio.studio.sessions import line_spans

    return len(line_spans(composer.text))


def apply_plan(session: Any, plan: list[str]) -> str:
    """Take an edited plan mid-poem: lines not begun read their new keywords; written lines keep theirs."""
    from tangstudio.engine.corpus.script import in_vocab_script

    composer = _composer(session)
    # 歸 typed to a simplified model: 归, as a new poem reads it (settings.in_model_script)
    plan = [in_vocab_script(keyword, composer.vocab) for keyword in plan]
    begun = begun_lines(composer)
    old = composer.poem_plan.keywords
    changed = [i for i in range(begun, len(plan)) if plan[i] != "-" and (i >= len(old) or plan[i] != old[i])]
    for i in changed:
        composer.set_keyword(i, plan[i])
    if not changed:
        return "no line still to write has a new keyword (r rerolls a written line, k gives it a new one)"
    return f"new keywords from line {changed[0] + 1}; lines already begun keep theirs"


def new_keyword(session: Any, draw: int) -> str:
    """`k`: a new keyword from the planner for the line under the cursor, and the line written again."""
    from tangstudio.engine.compose.planning.feed import can_write
    from tangstudio.engine.compose.planning.planner import another_keyword

    composer = _composer(session)
    line = session.cursor_line()
    if line in session.locked:
        raise TangError(f"line {line + 1} is locked: unlock it first")
    seed = (
        (composer.seed * 1_000_003 + draw) % 2**32 if draw >= 0 else int.from_bytes(os.urandom(4), "little")
    )
    vocab = composer.vocab
    keyword = another_keyword(
        composer.poem_plan.keywords,
        line,
        title=composer.poem_plan.title,
        seed=seed,
        allowed=can_write(vocab),
        script=vocab.script,
    )
    if line < begun_lines(composer):
        composer.set_keyword(line, keyword)
        message = session.reroll()
        return f"line {line + 1}: keyword {keyword or '—'}; {message}"
    composer.set_keyword(line, keyword)
    return f"line {line + 1} will be written after the keyword {keyword or '—'}"


class PlanDesk:
    """The pane's 题 and 纲 fields and its `k` key, kept out of the pane class (as GateLens is)."""

    def __init__(self, pane: Any) -> None:
        self.pane = pane
        self.draws = 0  # `k` presses: with a fixed seed (tests), each draws the next seeded keyword

    def show(self) -> None:
        """Write the plan the poem is written with into the 纲 row (nothing for an old model)."""
        plan = shown_plan(self.pane.session)
        if plan is not None:
            self.pane.bar.show_plan(plan)

    def submitted(self, field: str) -> None:
        """题: a new poem written after it (纲 cleared: no keywords unless the person asks). 纲: mid-poem the lines
        still to write take it; before a poem or after one, a new poem starts with it."""
        pane = self.pane
        if field == "cp-title":
            pane.bar.clear_plan()
        else:
            pane.bar.own_plan()
        if pane.loaded is None:
            return
        typed = pane.query_one(f"#{field}").value.strip()
        if typed and not pane.loaded.vocab.has_plan:  # refused before anything changes: the poem stays
            what = "a title" if field == "cp-title" else "a plan"
            pane.error(f"this model was trained without titles and plans and cannot read {what}")
            return
        session = pane.session
        if field == "cp-title" or session is None or session.done or session.filling or not session.text:
            taken = pane.action_new()
        else:
            from tangstudio.engine.errors import TangError

            try:
                plan = pane.bar.read(pane.seed).plan
            except (
                TangError
            ) as exc:  # another field refused (an unknown 韵 lists the groups): nothing changes
                pane.refused(exc, "Compose")
                return
            taken = pane._noted(lambda s: apply_plan(s, plan))
            if taken:
                self.show()
                pane.remember_fields()
        if taken:  # refused, the focus stays in the field to mend
            pane.focus_first()

    def new_keyword(self) -> None:
        self.pane.player.stop()
        self.draws += 1
        draw = self.draws if self.pane.seed is not None else -1
        self.pane._noted(lambda s: new_keyword(s, draw))
        self.show()
