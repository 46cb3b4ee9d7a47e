"""Quality report: what a model writes with the composer's constraints on, and with them off.

    python -m benchmarks.quality_report --model RUN [-n 200] [--json report.json]

For each fixed form, n poems are sampled twice (the composer's defaults, seeds 0..n−1):

- constraints on: `tangstudio generate`'s defaults — form masks, rhyme, loose tones, novelty;
  and once more with `--tones strict`;
- constraints off: the model alone, started with the form's start token and stopped at <eos>
  (or at twice the form's length): what it learned about the form by itself.

Reported per form and setting: form, rhyme and tone (loose, strict) compliance as judged by the
prosody checker over all poems (a poem of the wrong shape fails all of them), distinct-1/2 over all
the poems' characters and within-line bigrams, the share of lines that are lines of the corpus,
the mean longest span shared with the corpus, and how many poems needed a relaxed constraint. With
constraints on, form and rhyme compliance must be 100 %.

The craft's proxies (issue 22, engine/compose/craft/proxies.py) come with every row: the share of
characters repeating one already in the poem, the 对仗 score of the 律诗's 颔联 and 颈联 (mean
aligned PMI), the critic's mean score (models/critic/), the share of poems naming two seasons,
distinct-2 and the copy span. A reference
row, "real (test)", measures n real test-split poems of the form the same way (their copy span
against the train split only, since the whole-corpus index holds the poems themselves).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from tangstudio.engine.compose.unconstrained import sample_unconstrained

FORMS = ("wujue", "qijue", "wulv", "qilv")


def _metrics(
    texts: list[str], form: str, script: str, index, backoffs: int | None, critic=None, lm=None
) -> dict:
    from tangstudio.engine.corpus.poem import CLAUSE_END, split_clauses
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.prosody import check_poem

    form_ok = rhyme_ok = loose_ok = strict_ok = 0
    chars: list[str] = []
    bigrams: list[str] = []
    lines = copied = 0
    spans = []
    for text in texts:
        try:
            check = check_poem(text, "auto", script)
        except TangError:
            check = None
        if check is not None and check.form == form:
            form_ok += 1
            rhyme_ok += check.rhyme_ok
            loose_ok += check.tones_loose_ok
            strict_ok += check.tones_strict_ok
        for clause in split_clauses(text):
            line = clause.rstrip(CLAUSE_END)
            chars += list(line)
            bigrams += [line[i : i + 2] for i in range(len(line) - 1)]
            lines += 1
            copied += line in index.lines if index else 0
        if index is not None:
            spans.append(len(index.longest_shared(text)))
    n = len(texts) or 1
    from tangstudio.engine.compose.craft.proxies import proxies

    craft = proxies(texts, form, script, critic=critic, lm=lm)
    return {
        "repeated": craft["repeated"],
        "duizhang": craft["duizhang"],
        "critic": craft["critic"],
        "seasons": craft["seasons"],
        "poems": len(texts),
        "form": form_ok / n,
        "rhyme": rhyme_ok / n,
        "tones_loose": loose_ok / n,
        "tones_strict": strict_ok / n,
        "distinct_1": len(set(chars)) / max(1, len(chars)),
        "distinct_2": len(set(bigrams)) / max(1, len(bigrams)),
        "copied_lines": (copied / lines if lines else 0.0) if index is not None else None,
        "mean_longest_span": statistics.mean(spans) if spans else None,
        "backed_off": None if backoffs is None else backoffs / n,
    }


def report(model: str, n: int, forms=FORMS, log=sys.stderr) -> dict:
    import torch

    from tangstudio.engine.compose.craft.critic import lm_from_steps, lm_of_text
    from tangstudio.engine.compose.model_ref import load_model
    from tangstudio.engine.compose.novelty import index_for_model
    from tangstudio.engine.compose.run import compose_many
    from tangstudio.engine.compose.settings import ComposeSettings

    torch.set_num_threads(1)
    loaded = load_model(model)
    index = index_for_model(loaded)
    script = loaded.vocab.script
    critic, fast, real_texts, train_index = _reference(model, loaded, forms, n)
    out = {
        "model": str(loaded.path),
        "arch": loaded.config.arch,
        "val_ppl": loaded.meta.get("val_ppl"),
        "poems_per_form": n,
        "forms": {},
    }
    for form in forms:
        start = time.perf_counter()
        settings = {}
        for label, tones in (("constraints_on", "loose"), ("constraints_on_strict", "strict")):
            results, _ = compose_many(
                loaded, ComposeSettings(form=form, seed=0, tones=tones), n, novelty=index
            )
            settings[label] = _metrics(
                [r.text for r in results],
                form,
                script,
                index,
                sum(r.backed_off for r in results),
                critic,
                [lm_from_steps(r.steps) for r in results],
            )
        off_texts = [sample_unconstrained(loaded, form, seed) for seed in range(n)] if loaded.causal else []
        settings["constraints_off"] = _metrics(off_texts, form, script, index, None) if off_texts else None
        real = real_texts[form]
        lm = [lm_of_text(fast, t, form) for t in real] if fast is not None and critic is not None else None
        settings["real_test"] = _metrics(real, form, script, train_index, None, critic, lm)
        out["forms"][form] = settings
        print(f"{form}: {time.perf_counter() - start:.1f} s", file=log)
    return out


def _reference(model: str, loaded, forms, n: int):
    """The critic (None if none ships), the numpy model for real poems' log-probs, n real test
    poems per form (seeded draw), and an index of the train split for their copy span."""
    import random

    from tangstudio.engine.compose.fast_model import load_fast
    from tangstudio.engine.compose.novelty import CorpusIndex, _trained_on
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.errors import TangError

    try:
        from tangstudio.engine.compose.craft.critic import load_critic

        critic = load_critic()
    except TangError:
        critic = None
    name, script, _ = _trained_on(loaded)
    corpus = load_corpus(name, script)
    real = {}
    for form in forms:
        pool = [p.text for p in corpus.select({form}, "test")]
        real[form] = random.Random(f"real-{form}").sample(pool, min(n, len(pool)))
    train_index = CorpusIndex([p.text for p in corpus.select(None, "train")])
    return critic, load_fast(model), real, train_index


def print_table(data: dict) -> None:
    cols = (
        "form",
        "rhyme",
        "tones_loose",
        "tones_strict",
        "distinct_1",
        "distinct_2",
        "copied_lines",
        "mean_longest_span",
        "backed_off",
        "repeated",
        "duizhang",
        "critic",
        "seasons",
    )
    print(
        f"model {data['model']} ({data['arch']}, val ppl {data['val_ppl']}), {data['poems_per_form']} poems per form and setting"
    )
    print("| form | constraints | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for form, both in data["forms"].items():
        for label, m in (
            ("on", both["constraints_on"]),
            ("on, --tones strict", both["constraints_on_strict"]),
            ("off", both["constraints_off"]),
            ("real (test)", both.get("real_test")),
        ):
            if m is None:
                continue
            cells = []
            for c in cols:
                v = m[c]
                plain = c in ("mean_longest_span", "duizhang", "critic")
                cells.append("—" if v is None else f"{v:.2f}" if plain else f"{100 * v:.1f} %")
            print(f"| {form} | {label} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", default="default", help="default, a run name, a run directory or a checkpoint directory"
    )
    parser.add_argument("-n", type=int, default=200, help="poems per form and setting")
    parser.add_argument("--forms", default=",".join(FORMS))
    parser.add_argument("--json", dest="json_path", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    from tangstudio.engine.errors import TangError

    try:
        forms = [f for f in args.forms.split(",") if f]
        bad = [f for f in forms if f not in FORMS]
        if bad:
            raise TangError(f"unknown form {bad[0]!r}; choose from {', '.join(FORMS)}")
        data = report(args.model, args.n, forms)
    except TangError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_table(data)
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
