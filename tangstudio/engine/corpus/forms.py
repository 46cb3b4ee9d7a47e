"""A corpus poem's form, told by its shape; the forms themselves live in `engine.forms`.

Only the shape is checked here; whether the tones and rhymes obey the rules is prosody's job
(`engine.prosody`). `parse_forms` / `forms_label` are the registry's, kept under the names the
corpus readers import.
"""

from __future__ import annotations

from tangstudio.engine.corpus.poem import clause_lengths
from tangstudio.engine.forms import by_shape, find
from tangstudio.engine.forms import label_many as forms_label
from tangstudio.engine.forms import parse_many as parse_forms

__all__ = ["classify", "form_name", "forms_label", "parse_forms"]


def classify(text: str) -> str:
    """The name of the regulated form the text's clauses fit, else `free`."""
    return by_shape(clause_lengths(text)).name


def form_name(name: str, script: str) -> str:
    """A form's Chinese name (五言绝句) in the script its corpus is shown in (五言絕句 for a
    traditional corpus, whose every other line is traditional); an unknown name as it is."""
    from tangstudio.engine.corpus.script import convert

    found = find(name)
    return convert(found.zh, "simplified", script) if found is not None else name
