"""How well the planner's keywords fit real poems under the same title, on the VAL split only.

    nice -n 5 python scripts/planner_quality.py [--model default] [-n 300] [--seed 0] [--no-ppl]

For a fixed sample of N validation poems of the model's forms (`random.Random(seed).sample`, in
corpus order; never a test poem, so nothing here is chosen on test titles), each poem gets a plan
from the planner for its own cleaned title (`propose(title, lines, seed=i)`, i its place in the
sample, the characters limited to what the model can write, as `generate` does). Three measures:

- **ppl**: the shipped model's perplexity of the real poems, the same characters counted
  (training/plan_data.assemble), given their title and
  `title`  no plan;  `planner`  the planner's plan;  `true`  their own keywords (the extraction
  the model is trained with: the best a plan can do). Lower means the planner's keywords agree
  with what real poems under that title say; above `title` means the plan misleads the model.
- **recall**: per poem, the share of the characters of its true keywords that the planned
  keywords hold; **in poem**: the share of planned keywords whose characters all occur in the poem.
- **common**: the share of planned keywords seen in at least COMMON train poems (corpus.keywords
  document frequency); **odd**: the share that are on ODD, a short hand list of non-images
  (function-like pairs, variant or rare characters, numbers) read off the planner's output before
  any change was made; **median df** of the planned keywords.

Deterministic: the same model, corpus, N and seed give the same table.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMMON = 300
# Non-images the planner proposed on main before this measure (送友人 and the val titles): words
# that name no thing or act a line could be about. A check, not the rule the planner uses.
ODD = frozenset(
    "到时 我今 五字 君去 看君 知君 遥知 安在 到日 君同 待君 君行 君归 经时 半年 隔年 难再 山多 "
    "月上 月高 马出 的 科 莱 呌 艾 亿 精 佳 十二 北 恼 挈 淑 融 睿 宸 讲 沃 贝 蕃 竺 偈 鼍 醴".split()
)


def sample_poems(corpus, forms: str, n: int, seed: int) -> list:
    val = corpus.select(forms, "val")
    picked = sorted(random.Random(seed).sample(range(len(val)), min(n, len(val))))
    return [val[i] for i in picked]


def planned_keywords(poems, vocab, keyword_model, propose, seed: int) -> list[list[str]]:
    from tangstudio.engine.compose.planning.feed import can_write
    from tangstudio.engine.corpus.titles import clean_title

    allowed = can_write(vocab)
    return [
        propose(
            clean_title(p.title), len(keyword_model.line_keywords(p.text)), seed=seed + i, allowed=allowed
        )
        for i, p in enumerate(poems)
    ]


def perplexities(model, vocab, poems, true_plans, plans) -> dict[str, float]:
    from tangstudio.engine.training.evaluate import loss_sums
    from tangstudio.engine.training.plan_data import assemble, plan_poem

    out = {}
    for name, source, keep in (
        ("title", true_plans, False),
        ("planner", plans, True),
        ("true", true_plans, True),
    ):
        items = []
        for poem, keywords in zip(poems, source):
            planned = plan_poem(poem, keywords, vocab)
            items.append(assemble(planned, vocab, planned.title or None, [keep] * len(planned.lines)))
        nats, count = loss_sums(model, items)
        out[name] = math.exp(nats / count)
    return out


def overlap(poems, true_plans, plans) -> dict[str, float]:
    recall, inside = [], []
    for poem, truth, plan in zip(poems, true_plans, plans):
        want = set("".join(truth))
        if want:
            recall.append(len(want & set("".join(plan))) / len(want))
        inside += [all(c in poem.text for c in k) for k in plan if k]
    return {"recall": statistics.fmean(recall), "in_poem": statistics.fmean(inside)}


def commonness(plans, keyword_model) -> dict[str, float]:
    words = [k for plan in plans for k in plan if k]
    df = [keyword_model.df.get(k, 0) for k in words]
    return {
        "common": sum(d >= COMMON for d in df) / len(words),
        "odd": sum(k in ODD for k in words) / len(words),
        "median_df": statistics.median(df),
        "empty": sum(not k for plan in plans for k in plan) / sum(len(p) for p in plans),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-ppl", action="store_true", help="skip the model (recall and commonness only)")
    args = parser.parse_args(argv)

    import torch

    from tangstudio.engine.compose.model_ref import load_model
    from tangstudio.engine.compose.planning.planner import propose
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.keywords import KeywordModel

    torch.manual_seed(0)
    start = time.time()
    loaded = load_model(args.model, "cpu")
    vocab, forms = loaded.vocab, loaded.meta["forms"]
    corpus = load_corpus(loaded.meta["corpus"]["name"], vocab.script)
    keyword_model = KeywordModel.build(p.text for p in corpus.select(forms, "train"))
    poems = sample_poems(corpus, forms, args.n, args.seed)
    true_plans = [keyword_model.line_keywords(p.text) for p in poems]
    plans = planned_keywords(poems, vocab, keyword_model, propose, args.seed)
    row = {**overlap(poems, true_plans, plans), **commonness(plans, keyword_model)}
    if not args.no_ppl:
        row.update(perplexities(loaded.model, vocab, poems, true_plans, plans))
    print(
        f"val, {len(poems)} poems of {forms} (sample seed {args.seed}), model {args.model}; "
        f"load {os.getloadavg()[0]:.1f}; {time.time() - start:.0f} s"
    )
    cols = ["title", "planner", "true"] if not args.no_ppl else []
    cols += ["recall", "in_poem", "common", "odd", "median_df", "empty"]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    print("| " + " | ".join(_fmt(c, row[c]) for c in cols) + " |")
    for i in range(3):
        print(f"  {poems[i].title} → {' · '.join(plans[i])}   (true: {' · '.join(true_plans[i])})")
    return 0


def _fmt(col: str, value: float) -> str:
    if col in ("title", "planner", "true"):
        return f"{value:.2f}"
    if col == "median_df":
        return f"{value:.0f}"
    return f"{100 * value:.1f} %"


if __name__ == "__main__":
    raise SystemExit(main())
