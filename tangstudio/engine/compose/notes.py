"""Notes for settings that are allowed but would surprise a person if nothing said so.

`compose_many` shows them beside the poems (the CLI prints them dim above the first poem), so a
choice the composer made on the person's behalf is never silent. Torch-free.
"""

from __future__ import annotations

from tangstudio.engine import forms
from tangstudio.engine.compose.settings import ComposeSettings
from tangstudio.engine.corpus.poem import typed_verse
from tangstudio.engine.corpus.titles import MAX_TITLE, cut_title

_MARKS = "，。！？；：、,.!?;: "


def acrostic_note(settings: ComposeSettings) -> str | None:
    """A short acrostic leaves the lines after it free; say which (issue 25, item 7).

    `--acrostic 春夏秋` for a 七绝 opens lines 1-3 with 春, 夏, 秋 and line 4 with whatever the model
    writes: a name shorter than the poem is a fair wish, so it is accepted (a longer one is refused
    by the plan), but the fourth line's first character is the model's, not the person's.
    """
    acrostic = "".join(ch for ch in typed_verse(settings.acrostic) if ch not in _MARKS)
    form = forms.find(settings.form)
    if not acrostic or form is None or form.lines is None or len(acrostic) >= form.lines:
        return None
    first_free = len(acrostic) + 1
    free = (
        f"line {first_free} starts" if first_free == form.lines else f"lines {first_free}-{form.lines} start"
    )
    return (
        f"the acrostic {acrostic} opens lines 1-{len(acrostic)} of {form.lines}; {free} freely"
        if len(acrostic) > 1
        else f"the acrostic {acrostic} opens line 1 of {form.lines}; {free} freely"
    )


def title_note(settings: ComposeSettings) -> str | None:
    """A title longer than the model reads is cut to its start (corpus/titles.py, rule 5); say so.

    The model was trained on titles of at most MAX_TITLE characters, so the rest is not read;
    without a note the end of a long title simply had no effect, and nobody could tell why.
    """
    cut = cut_title(settings.title)
    if cut is None:
        return None
    kept, given = cut
    return f"title cut to its first {MAX_TITLE} characters (of {given}): {kept}"


def settings_notes(settings: ComposeSettings) -> list[str]:
    """Every note the settings call for, in the order they are shown."""
    return [note for note in (acrostic_note(settings), title_note(settings)) if note]
