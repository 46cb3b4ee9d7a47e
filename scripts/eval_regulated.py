"""Untitled perplexity of models on the regulated val (or test) poems, whatever forms they were trained on.

    python scripts/eval_regulated.py default RUN_OR_CHECKPOINT ... [--split val] [--clean-of song]

`tangstudio eval` scores a run on the forms it was trained on, so a model trained on all Tang forms
(leg 3's l3-all) and one trained on the regulated forms cannot be compared there. This scores every
regulated poem of the split the same way for each model: one numpy step per character, nothing
given but the form's start token, every character of the body, its punctuation and the end token
counted (as `score` counts). Leg 3's figures in scripts/default_recipes.sh come from it.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--split", default="val", choices=("val", "test"))
    parser.add_argument(
        "--clean-of",
        metavar="CORPUS",
        help="leave out the poems that share a line of 5+ characters with this corpus's train split "
        "(leg 4 read the Song poems, and some Tang poems are in both collections)",
    )
    args = parser.parse_args(argv)

    from tangstudio.engine.compose.fast_model import score_fast
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.errors import TangError

    poems = load_corpus("tang", "simplified").select("regulated", args.split)
    if args.clean_of:
        seen = {
            line
            for p in load_corpus(args.clean_of, "simplified").select(None, "train")
            for line in lines_of(p.text)
        }
        kept = [p for p in poems if not any(line in seen for line in lines_of(p.text))]
        print(
            f"{len(poems) - len(kept)} of {len(poems)} {args.split} poems share a line with {args.clean_of}'s train split: left out"
        )
        poems = kept
    for ref in args.models:
        loaded = load_for_composing(ref)
        nats, chars, skipped = 0.0, 0, 0
        for poem in poems:
            try:
                scored = score_fast(loaded, poem.text, poem.form)
            except TangError:
                skipped += 1
                continue
            nats -= sum(math.log(max(c.prob, 1e-30)) for c in scored.chars)
            chars += len(scored.chars)
        print(
            f"{ref}: {args.split} regulated untitled ppl {math.exp(nats / chars):.2f} over {chars:,} characters"
            f"{f' ({skipped} poems refused)' if skipped else ''}",
            flush=True,
        )
    return 0


def lines_of(text: str) -> list[str]:
    """The lines of 5 characters or more (a shared short line is a commonplace, not a copy)."""
    return [line for line in text.replace("。", "，").split("，") if len(line) >= 5]


if __name__ == "__main__":
    raise SystemExit(main())
