"""Measure the composer's craft settings on the val split (never test): the proxies per setting.

    python scripts/tune_craft.py --n 40 --set "old:temperature=0.8,repeat_penalty=0,duizhang=0,candidates=1" \
        --set "new:" [--forms wujue,qijue,wulv,qilv] [--real val] [--json out.json]

Each --set is LABEL:key=value,... over ComposeSettings' knobs plus `candidates` (best of K by the
critic). Poems are the first n drawn at seeds 0.. per form (no selection beyond the setting's own
K). The real row draws n val poems per form. Printed per setting: form/rhyme/tone compliance, the
repeated-character share, the 对仗 score, the critic, distinct-2 and the copy span, pooled over
the forms (docs/quality.md explains each).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FORMS = ("wujue", "qijue", "wulv", "qilv")


def parse_set(spec: str) -> tuple[str, dict]:
    label, _, rest = spec.partition(":")
    knobs: dict = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        knobs[key.strip()] = float(value) if "." in value else int(value)
    return label, knobs


def measure(loaded, index, critic, knobs: dict, forms, n: int) -> dict:
    from tangstudio.engine.compose.craft.best_of import compose_best
    from tangstudio.engine.compose.craft.critic import lm_from_steps
    from tangstudio.engine.compose.settings import ComposeSettings
    from tangstudio.engine.prosody import check_poem

    knobs = dict(knobs)
    k = int(knobs.pop("candidates", 1))
    per_form = {}
    for form in forms:
        settings = replace(ComposeSettings(form=form, seed=0), **knobs)
        settings.validate()
        results = compose_best(loaded, settings, n, k, critic=critic, novelty=index)
        texts = [r.text for r in results]
        checks = [check_poem(t, form, loaded.vocab.script) for t in texts]
        per_form[form] = {
            "texts": texts,
            "lm": [lm_from_steps(r.steps) for r in results],
            "ok": sum(c.form_ok and c.rhyme_ok and c.tones_loose_ok for c in checks) / len(checks),
        }
    return per_form


def summarise(per_form: dict, script: str, index, critic) -> dict:
    import statistics

    from tangstudio.engine.compose.craft.proxies import proxies

    rows = {
        f: proxies(d["texts"], f, script, index=index, critic=critic, lm=d.get("lm"))
        for f, d in per_form.items()
    }
    lv = [rows[f]["duizhang"] for f in rows if rows[f]["duizhang"] is not None]
    crit = [rows[f]["critic"] for f in rows if rows[f]["critic"] is not None]
    all_texts = [t for d in per_form.values() for t in d["texts"]]
    from tangstudio.engine.compose.craft.repetition import repeat_counts

    rep, total = repeat_counts(all_texts)
    return {
        "form_rhyme_tones_ok": statistics.mean(d.get("ok", 1.0) for d in per_form.values()),
        "repeated": rep / total,
        "duizhang": statistics.mean(lv) if lv else None,
        "critic": statistics.mean(crit) if crit else None,
        "lm": statistics.mean(rows[f]["lm"] for f in rows)
        if all(rows[f]["lm"] is not None for f in rows)
        else None,
        "distinct_2": statistics.mean(rows[f]["distinct_2"] for f in rows),
        "seasons": statistics.mean(rows[f]["seasons"] for f in rows),
        "copy_span": statistics.mean(rows[f]["copy_span"] for f in rows) if index else None,
        "per_form": {f: {k: v for k, v in r.items()} for f, r in rows.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--forms", default=",".join(FORMS))
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--real", default="val", choices=("val", "test", "none"))
    parser.add_argument("--no-critic", action="store_true")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    if args.real == "test":
        print("note: test split asked for; tune on val only", file=sys.stderr)

    from tangstudio.engine.compose.craft.critic import lm_of_text, load_critic
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.compose.novelty import index_for_model
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.errors import TangError

    loaded = load_for_composing(args.model)
    index = index_for_model(loaded)
    try:
        critic = None if args.no_critic else load_critic()
    except TangError:
        critic = None
    forms = [f for f in args.forms.split(",") if f]
    script = loaded.vocab.script
    out = {}
    if args.real != "none":
        from tangstudio.engine.compose.novelty import CorpusIndex

        corpus = load_corpus("tang", script)
        train_index = CorpusIndex([p.text for p in corpus.select(None, "train")])
        per_form = {}
        for form in forms:
            pool = [p.text for p in corpus.select({form}, args.real)]
            texts = random.Random(f"real-{form}").sample(pool, min(args.n, len(pool)))
            lm = [lm_of_text(loaded, t, form) for t in texts] if critic else None
            per_form[form] = {"texts": texts, "lm": lm}
        out[f"real ({args.real})"] = summarise(per_form, script, train_index, critic)
    for spec in args.sets:
        label, knobs = parse_set(spec)
        start = time.perf_counter()
        per_form = measure(loaded, index, critic, knobs, forms, args.n)
        out[label] = summarise(per_form, script, index, critic)
        out[label]["seconds"] = round(time.perf_counter() - start, 1)
        out[label]["knobs"] = knobs
        print(f"{label}: {out[label]['seconds']} s", file=sys.stderr)
    cols = (
        "form_rhyme_tones_ok",
        "repeated",
        "duizhang",
        "critic",
        "lm",
        "distinct_2",
        "seasons",
        "copy_span",
    )
    print("| setting | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    for label, row in out.items():
        cells = []
        for c in cols:
            v = row[c]
            cells.append(
                "—"
                if v is None
                else f"{100 * v:.1f} %"
                if c in ("form_rhyme_tones_ok", "repeated", "distinct_2", "seasons")
                else f"{v:.2f}"
            )
        print(f"| {label} | " + " | ".join(cells) + " |")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
