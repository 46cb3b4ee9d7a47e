"""Does a model rhyme by itself? Two measures for the poem study, one of loss and one of samples.

In regulated verse the last character of every even line rhymes with the others (平水韵), so the
end of line 4 of a 五绝 must echo the end of line 2, twelve tokens back: the longest dependency a
short poem has, and the one the seed's argument for gated cells is about. `rhyme_position_loss`
splits the val loss at line ends into the first rhyme (line 2), the echoes that must match it
(lines 4, 6, 8) and the odd line ends, which carry no rhyme rule in these forms' common variants.
A cell that remembers gains most at the echoes. `unconstrained_rhyme_rate` samples poems with no
constraint (`compose.unconstrained`) and counts how many the prosody checker finds of the right
form and rhyming; `corpus_rhyme_rate` gives the same count for the real poems and for poems whose
last line is taken from another poem (the rate that rhyming by chance reaches).
"""

from __future__ import annotations

import math
from typing import Any

from tangstudio.engine.corpus.poem import CLAUSE_END, split_clauses


def line_end_roles(text: str) -> dict[int, str]:
    """Body index of each line's last character → "first_rhyme", "echo_rhyme" or "odd_end"."""
    roles: dict[int, str] = {}
    index = 0
    for number, clause in enumerate(split_clauses(text), start=1):
        body = clause.rstrip(CLAUSE_END)
        if body:
            last = index + len(body) - 1
            roles[last] = "odd_end" if number % 2 else ("first_rhyme" if number == 2 else "echo_rhyme")
        index += len(clause)
    return roles


def rhyme_position_loss(target: str, split: str = "val") -> dict[str, Any]:
    """Mean val loss (nats) at each kind of line end of run/checkpoint `target`'s best checkpoint."""
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.runs.checkpoint import load_checkpoint
    from tangstudio.engine.study.positions import token_losses

    loaded = load_checkpoint(target)
    meta = loaded.meta
    poems = load_corpus(meta["corpus"]["name"], loaded.vocab.script).select(meta["forms"], split)
    sums = {"first_rhyme": 0.0, "echo_rhyme": 0.0, "odd_end": 0.0, "all": 0.0}
    counts = dict.fromkeys(sums, 0)
    for poem, losses in token_losses(loaded, poems):
        for index, role in line_end_roles(poem.text).items():
            sums[role] += losses[index]
            counts[role] += 1
        sums["all"] += sum(losses)
        counts["all"] += len(losses)
    out: dict[str, Any] = {k: (sums[k] / counts[k] if counts[k] else math.nan) for k in sums}
    out["counts"] = counts
    return out


def _checked(text: str, script: str) -> Any:
    """The checker's reading of `text`, or None for text it refuses (no lines, not Chinese)."""
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.prosody import check_poem

    try:
        return check_poem(text, "auto", script)
    except TangError:
        return None


def rhymes(text: str, form: str, script: str) -> bool:
    """True when the checker reads `text` as `form` with every even line rhyming."""
    check = _checked(text, script)
    return check is not None and check.form == form and check.rhyme_ok


def unconstrained_rhyme_rate(
    target: str, form: str, poems: int, temperature: float = 0.8
) -> dict[str, float]:
    """Share of `poems` unconstrained samples (seeds 0..poems−1) of the right form, and rhyming too."""
    from tangstudio.engine.compose.unconstrained import sample_unconstrained
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.runs.checkpoint import load_checkpoint

    loaded = load_checkpoint(target)
    if not loaded.causal:
        raise TangError(f"{target!r} is a BiLSTM; it does not write left to right by itself")
    script = loaded.vocab.script
    checks = [
        _checked(sample_unconstrained(loaded, form, s, temperature=temperature), script) for s in range(poems)
    ]
    shaped = [c for c in checks if c is not None and c.form == form]
    rhymed = sum(c.rhyme_ok for c in shaped)
    # "rhyme" is over every sample (as the study reported it); "rhyme_shaped" over the well-formed
    # ones, the denominator of the chance rate and the real poems' rate (an RNN student's review)
    return {
        "form": len(shaped) / poems,
        "rhyme": rhymed / poems,
        "rhyme_shaped": rhymed / max(len(shaped), 1),
    }


def corpus_rhyme_rate(form: str, split: str = "val", script: str = "simplified") -> dict[str, float]:
    """The real poems' rhyme rate, and the rate when each poem's last line comes from the next poem."""
    from tangstudio.engine.corpus import load_corpus

    poems = [p.text for p in load_corpus("tang", script).select([form], split)]
    real = sum(rhymes(t, form, script) for t in poems) / len(poems)
    swapped = []
    for text, other in zip(poems, poems[1:] + poems[:1]):
        lines, donor = split_clauses(text), split_clauses(other)
        swapped.append("".join(lines[:-1] + donor[-1:]))
    chance = sum(rhymes(t, form, script) for t in swapped) / len(swapped)
    return {"poems": len(poems), "real": real, "last_line_swapped": chance}
