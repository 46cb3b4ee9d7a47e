"""Where --theme characters land (issue 25, item 6): per theme, over N 七绝 drawn at --seed 1.

    python scripts/theme_placement.py [--model default] [-n 30] [--themes 雁,酒,月] [--unplanned]

For each theme character: how many poems have it in the last line, how many had it written where
the decoder allowed nothing else (forced, p = 1 in the constrained distribution), and the median
of the model's own probability of it where it was written (a character the model wanted scores
high; one tacked on scores near 0). `--unplanned` gives every theme character no line of its own
(the composer before planning/theme.py: one lean over the whole poem), for the before row.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("-n", type=int, default=30)
    parser.add_argument("--themes", default="雁,酒,月")
    parser.add_argument("--form", default="qijue")
    parser.add_argument("--unplanned", action="store_true")
    args = parser.parse_args(argv)

    from tangstudio.engine.compose import run
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.compose.planning import theme
    from tangstudio.engine.compose.settings import ComposeSettings

    if args.unplanned:
        theme.assign_lines = lambda *a, **k: {}  # type: ignore[assignment]
    loaded = load_for_composing(args.model)
    print(
        f"model {args.model}, {args.n} {args.form} at --seed 1, {'unplanned' if args.unplanned else 'planned'}"
    )
    print("| theme | in last line | forced at p = 1 | line 1/2/3/4 | median model p where written |")
    print("|---|---|---|---|---|")
    for ch in args.themes.split(","):
        settings = ComposeSettings(form=args.form, theme=ch, seed=1)
        results, _ = run.compose_many(loaded, settings, args.n)
        last = forced = 0
        lines = [0, 0, 0, 0, 0, 0, 0, 0]
        probs = []
        for r in results:
            line = 0
            for s in r.steps:
                if s.chosen == ch:
                    lines[line] += 1
                    probs.append(s.model_prob)
                    forced += s.chosen_prob >= 0.999
                    last += line == 3 if len(r.text) <= 32 else line == 7
                    break
                if s.chosen in "，。":
                    line += 1
        n_lines = 4 if len(results[0].text) <= 32 else 8
        shown = "/".join(str(x) for x in lines[:n_lines])
        med = statistics.median(probs) if probs else float("nan")
        print(f"| {ch} | {last}/{args.n} | {forced} | {shown} | {med:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
