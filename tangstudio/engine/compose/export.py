"""A poem as Markdown and its steps as JSON records: one export format for both faces.

One renderer for the studio's `w` and `generate --format md`, so a saved poem and a generated
one read alike, and one step record (`step_record`) for the studio's saved JSON and the CLI's
`--json` (StepInfo.to_dict), so both say `chosen` and `model_prob` (issue 25 item 12).
Torch-free: it takes the steps as written (StepInfo, or anything with the same fields).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tangstudio.engine.hanzi import LINE_MARKS

# Every knob that changes the draw, so a saved poem can be written again from its table.
SETTING_KEYS = (
    "form",
    "title",
    "plan",
    "planner",
    "acrostic",
    "prefix",
    "theme",
    "primer",
    "temperature",
    "top_k",
    "top_p",
    "rhyme",
    "rhyme_group",
    "tones",
    "novelty",
    "repeat_penalty",
    "duizhang",
    "season",
    "guidance",
    "line_drafts",
    "seed",
)


def _prob(p: float) -> str:
    """Three decimals, or two significant digits below 0.001: a typed or unlikely character's 0.0004
    read "0.000", as if the model had ruled it out."""
    return f"{p:.3f}" if p >= 0.001 or p == 0 else f"{p:.2g}"


def poem_markdown(
    text: str,
    steps: Iterable[Any],
    settings: Mapping[str, Any],
    *,
    model: str = "",
    check: Mapping[str, Any] | None = None,
    title: str | None = None,
    note: str = "",
) -> str:
    """Markdown for one poem: its lines, a settings table and a per-character table; `note`, a
    line under the verdict (where the poem came from)."""
    from tangstudio.engine.corpus.poem import split_clauses
    from tangstudio.engine.corpus.script import convert
    from tangstudio.engine.forms import find

    script = str((check or {}).get("script", "simplified"))  # the labels in the poem's script (七絕, 韻)
    form = str(settings.get("form", ""))
    found = find(form)
    out = [f"## {title or (convert(found.short, 'simplified', script) if found else form or 'poem')}", ""]
    out += [f"    {line}" for line in split_clauses(text)] or ["    (empty)"]
    out.append("")
    if check:
        verdict = []
        for label, key in (("form", "form_ok"), ("rhyme", "rhyme_ok"), ("tones", "tones_loose_ok")):
            if key in check:
                verdict.append(f"{label} {'✓' if check[key] else '✗'}")
        if check.get("rhyme_group"):
            verdict.append(convert(f"韵 {check['rhyme_group']}", "simplified", script))
        if verdict:
            out += [" · ".join(verdict), ""]
    if note:
        out += [note, ""]
    out += ["| setting | value |", "|---|---|"]
    if model:
        out.append(f"| model | {_cell(model)} |")
    for key in SETTING_KEYS:
        value = settings.get(key)
        if isinstance(value, (list, tuple)):  # the plan as `--plan` reads it back ('' a line without)
            value = ",".join(map(str, value)) if any(value) else ""
        if value not in (None, ""):
            out.append(f"| {key.replace('_', '-')} | {_cell(str(value))} |")
    out += ["", "| # | char | p | model p | top alternatives |", "|---:|:---:|---:|---:|---|"]
    for step in steps:
        chosen = str(step.chosen)
        if chosen == "<eos>":
            continue
        forced = bool(getattr(step, "forced", False))
        model_prob = getattr(step, "model_prob", None)
        alternatives = ", ".join(f"{c} {_prob(p)}" for c, p in list(step.candidates)[:5] if c != chosen)
        p = _fixed_by(chosen) if forced else _prob(step.chosen_prob)
        out.append(
            f"| {int(step.position) + 1} | {chosen} | {p} | "
            f"{'' if model_prob is None or forced else _prob(model_prob)} | {_cell(alternatives)} |"
        )
    out.append("")
    out.append(
        "p: the probability the character had in the distribution sampled from (constraints and "
        "temperature applied); model p: under the model alone; forced: a line's mark, set by the form; "
        "given: set by the person (the acrostic, the prefix or a locked line)."
    )
    return "\n".join(out) + "\n"


def _fixed_by(chosen: str) -> str:
    """What set a forced position, as the JSON's `forced` and the person tell them apart: a line's
    mark is the form's (`forced`), a character the person's (`given`: acrostic, prefix, locked line).
    Every mark used to read `given`, as though the person had typed it."""
    return "forced" if chosen in LINE_MARKS else "given"


def step_record(step: Any) -> dict[str, Any]:
    """One written position as JSON: what was chosen, its probability as sampled and under the model
    alone (null where the studio has none: a fill grid's given character), what the constraints
    removed, whether the form forced it, and the top candidates."""
    model_prob = getattr(step, "model_prob", None)
    notes = list(getattr(step, "notes", None) or [])
    return {
        "position": int(step.position),
        "chosen": str(step.chosen),
        "prob": round(float(step.chosen_prob), 6),
        "model_prob": None if model_prob is None else round(float(model_prob), 6),
        "removed_mass": round(float(step.removed_mass), 6),
        "forced": bool(getattr(step, "forced", False)),
        "candidates": [[c, round(float(p), 6)] for c, p in step.candidates],
        **({"notes": notes} if notes else {}),
    }


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
