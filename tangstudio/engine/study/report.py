"""The study's table as strings, once: the CLI draws it with Rich, docs get it as Markdown.

Causal and pseudo (BiLSTM) losses sit in separate, labelled columns, so nobody reads the
BiLSTM's much lower pseudo-perplexity as a better language model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tangstudio.engine.study.compare import ArchResult, StudyResult

HEADERS = [
    "arch",
    "params",
    "chars/s",
    "steps",
    "train time",
    "val loss (ppl)",
    "pseudo-loss (pseudo-ppl)",
    "to target",
    "status",
]
PSEUDO_NOTE = (
    "Pseudo-perplexity (BiLSTM) predicts each character from both sides without seeing it; it is not "
    "comparable with causal perplexity, and the BiLSTM is not held to the causal target."
)


def duration(seconds: float) -> str:
    """A training span as a person reads it: "42 s" under a minute, "3.5 min" from there on.

    Minutes alone printed a 40-second run as "0.0 min", as if nothing had trained; rounding to
    whole seconds first keeps 59.7 s from reading as "60 s" instead of "1.0 min".
    """
    if round(seconds) < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def _loss(arch: ArchResult) -> str:
    if arch.best_val_loss is None:
        return "–"
    return f"{arch.best_val_loss:.3f} ({arch.best_val_ppl:.1f})"


def _target(arch: ArchResult, study: StudyResult) -> str:
    if arch.target_step is not None and arch.target_train_s is not None and arch.target_chars is not None:
        return f"{duration(arch.target_train_s)} · {arch.target_chars / 1e6:.2f} M chars"
    if not arch.causal and any(a.causal for a in study.archs):
        return "n/a (pseudo)"
    return "not reached"


def table_rows(study: StudyResult) -> list[list[str]]:
    rows = []
    for a in study.archs:
        rows.append(
            [
                a.arch,
                "–" if a.params is None else f"{a.params:,}",
                "–" if a.chars_per_s is None else f"{a.chars_per_s:,.0f}",
                f"{a.steps:,}",
                duration(a.train_s),
                _loss(a) if a.causal else "–",
                "–" if a.causal else _loss(a),
                _target(a, study),
                a.status,
            ]
        )
    return rows


def target_line(study: StudyResult) -> str:
    if study.target_loss is None:
        return "no target: no evaluation finished"
    return f"target val loss {study.target_loss:.3f} nats/char: {study.target_rule}"


def markdown_table(study: StudyResult) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join("---" for _ in HEADERS) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(study)]
    return "\n".join(lines) + "\n"
