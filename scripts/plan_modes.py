"""Which subject reads best: nothing, a title alone, or a title and the planner's plan (val titles only).

    python scripts/plan_modes.py [--n 20] [--seed 0]

For each form, poem i gets the i-th random val title (blind_read.subjects, the titles the blind
sheets use) and is drawn at seed + i, first draw (K 1), the composer's other defaults, in three
modes: untitled; the title with no keyword per line; the title with the planner's keywords. The
critic judges the drafts (it does not choose among them here), with its colloc and disc terms and
the repeated share beside it. Never reads the test split.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FORMS = ("wujue", "qijue", "wulv", "qilv")
MODES = ("untitled", "title, no plan", "title + planner")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np
    from blind_read import subjects

    from tangstudio.engine import forms
    from tangstudio.engine.compose.craft.best_of import compose_best
    from tangstudio.engine.compose.craft.critic import lm_from_steps, load_critic
    from tangstudio.engine.compose.craft.repetition import repeated_share
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.compose.novelty import index_for_model
    from tangstudio.engine.compose.settings import ComposeSettings

    loaded = load_for_composing("default")
    index = index_for_model(loaded)
    critic = load_critic()
    script = loaded.vocab.script
    rows: dict[str, list[dict]] = {m: [] for m in MODES}
    for form in FORMS:
        titles = subjects(form, args.n, args.seed, loaded.vocab.stoi)
        lines, _ = forms.get(form).shape()
        for mode in MODES:
            texts, lms = [], []
            for i, title in enumerate(titles):
                settings = ComposeSettings(form=form, seed=args.seed + i)
                if mode != "untitled":
                    settings = replace(settings, title=title)
                if mode == "title, no plan":
                    settings = replace(settings, plan=[""] * lines)
                if mode == "title + planner":
                    settings = replace(settings, planner=True)
                settings.validate()
                (r,) = compose_best(loaded, settings, 1, 1, critic=None, novelty=index)
                texts.append(r.text)
                lms.append(lm_from_steps(r.steps))
            for s, t in zip(critic.score(texts, form, lms, script), texts):
                rows[mode].append({**s, "rep": repeated_share(t), "text": t, "form": form})
    keys = ("critic", "colloc", "disc", "dz", "rep")
    print("| mode | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for mode, found in rows.items():
        cells = [f"{np.mean([f[k] for f in found if k in f]):.3f}" for k in keys]
        print(f"| {mode} | " + " | ".join(cells) + " |")
    for mode, found in rows.items():
        print(mode, "·", found[0]["text"], "·", found[-1]["text"])


if __name__ == "__main__":
    main()
