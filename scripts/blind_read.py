"""The blind reading (issues 21 and 22): a sheet of our poems and real ones, shuffled; the key apart.

    python scripts/blind_read.py make --out DIR [--n 12] [--model default] [--seed 0]
                                      [--temperature T --top-p P --repeat-penalty R --duizhang D --candidates K]
    python scripts/blind_read.py score --key DIR/key.json --ratings ratings.csv

`make` writes DIR/sheet.md (P01…: the poems and how to rate them, nothing about where any came
from), DIR/ratings.csv (the form to fill in) and DIR/key.json (origin and provenance of each label:
keep it away from the reader). No selection: the machine poems are the first N drawn at fixed
seeds (form f's i-th poem at seed + i) with the settings under test, N/4 per form; the real poems
are drawn at random (seeded) from the test split, N/4 per form, leaving out TWENTY_POETS so that
none is recognised.

`score` reads the ratings — per label fluency, coherence, imagery, overall (1–5) and the guessed
origin (machine or real) with a confidence (0–1) — and prints how many origins were named
correctly (of ours, of the real ones, of all), and each group's mean ratings. Record each reading
in docs/quality.md: date, model, settings, reader, results.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FORMS = ("wujue", "qijue", "wulv", "qilv")
TWENTY_POETS = (
    "李白 杜甫 白居易 王维 李商隐 杜牧 孟浩然 王昌龄 刘禹锡 韩愈 "
    "柳宗元 岑参 高适 李贺 王之涣 贺知章 韦应物 元稹 温庭筠 孟郊"
).split()
RATINGS = ("fluency", "coherence", "imagery", "overall")
COLUMNS = ("label", *RATINGS, "origin", "confidence")
ORIGINS = ("machine", "real")


class BadInput(Exception):
    """One line for the person running the script; exit 2."""


def machine_poems(args) -> list[dict]:
    from tangstudio.engine.compose.craft.best_of import check_candidates, compose_best
    from tangstudio.engine.compose.model_ref import load_for_composing
    from tangstudio.engine.compose.novelty import index_for_model
    from tangstudio.engine.compose.settings import ComposeSettings

    check_candidates(args.candidates)
    if args.plans == "retrieved" and args.titles != "val":
        raise BadInput(
            "--plans retrieved borrows the plan of the poem with the nearest title: give --titles val"
        )
    loaded = load_for_composing(args.model)
    if args.plans == "retrieved" and loaded.vocab.script != "simplified":
        raise BadInput("--plans retrieved reads the simplified corpus: use a model of simplified script")
    index = index_for_model(loaded)
    critic = None
    if args.candidates > 1:
        from tangstudio.engine.compose.craft.critic import load_critic

        critic = load_critic()
    knobs = {
        k: v
        for k, v in (
            ("temperature", args.temperature),
            ("top_p", args.top_p),
            ("repeat_penalty", args.repeat_penalty),
            ("duizhang", args.duizhang),
            ("line_drafts", args.line_drafts),
            ("season", args.season),
            ("guidance", args.guidance),
        )
        if v is not None
    }
    out = []
    for form in FORMS:
        settings = replace(ComposeSettings(form=form, seed=args.seed), **knobs)
        settings.validate()
        known = loaded.vocab.stoi
        titles = (
            subjects(form, args.n // 4, args.seed, known) if args.titles == "val" else [""] * (args.n // 4)
        )
        for i, title in enumerate(titles):
            # Poem i keeps the seeds it had without titles (seed + i·k + j); its title is the i-th drawn.
            given = replace(settings, title=title, seed=args.seed + i * args.candidates, planner=args.planner)
            lent: dict = {}
            if args.plans == "retrieved":
                from retrieved_plans import borrowed_plan, nearest_poem

                source, similarity = nearest_poem(title, form, args.seed + i)
                given = replace(given, plan=borrowed_plan(source, known))
                lent = {
                    "plan_from": {
                        "id": source.id,
                        "title": source.title,
                        "author": source.author,
                        "similarity": round(similarity, 3),
                    }
                }
            for r in compose_best(loaded, given, 1, args.candidates, critic=critic, novelty=index):
                out.append(
                    {
                        "text": r.text,
                        "form": form,
                        "origin": "machine",
                        "seed": r.seed,
                        "title": title,
                        "plan": list(getattr(r, "plan", None) or []),
                        "settings": {
                            **knobs,
                            "line_drafts": given.line_drafts,
                            "season": given.season,
                            "guidance": given.guidance,
                            "candidates": args.candidates,
                            "titles": args.titles,
                            "planner": args.planner,
                            **lent,
                        },
                    }
                )
    return out


def subjects(form: str, n: int, seed: int, known: dict) -> list[str]:
    """Titles for our poems: cleaned titles of validation poems of the form, drawn at random (seeded).
    Never the test split's, whose poems are on the sheet; only titles the model can read (every
    character in its vocabulary), which the composer otherwise refuses."""
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.titles import clean_title

    titles = {clean_title(p.title) for p in load_corpus("tang", "simplified").select({form}, "val")}
    pool = sorted(t for t in titles if t and all(c in known for c in t))
    return random.Random(f"titles-{form}-{seed}").sample(pool, n)


def real_poems(n: int, seed: int) -> list[dict]:
    from tangstudio.engine.corpus import load_corpus

    corpus = load_corpus("tang", "simplified")
    rng = random.Random(f"blind-{seed}")
    out = []
    for form in FORMS:
        pool = [p for p in corpus.select({form}, "test") if p.author not in TWENTY_POETS]
        for p in rng.sample(pool, n // 4):
            out.append(
                {
                    "text": p.text,
                    "form": form,
                    "origin": "real",
                    "id": p.id,
                    "author": p.author,
                    "title": p.title,
                }
            )
    return out


def make(args) -> None:
    if args.n < 4 or args.n % 4:
        raise BadInput(
            f"--n must be a positive multiple of 4 (an even spread over the four forms), got {args.n}"
        )
    out = Path(args.out)
    if (out / "key.json").exists():
        raise BadInput(f"{out} already holds a sheet (key.json); choose another --out")
    poems = machine_poems(args) + real_poems(args.n, args.seed)
    random.Random(f"shuffle-{args.seed}").shuffle(poems)
    width = max(2, len(str(len(poems))))
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Blind reading",
        "",
        "Some of these poems may be by Tang poets and some written by a program; how many of each is not said.",
        "For each poem give fluency, coherence, imagery and overall from 1 (poor) to 5 (excellent), your guess",
        "of its origin (machine or real) and how sure you are (0 to 1), in ratings.csv.",
        "",
    ]
    key = {}
    for i, poem in enumerate(poems, 1):
        label = f"P{i:0{width}d}"
        key[label] = poem
        lines += [f"## {label}", "", *[line + "  " for line in _lines(poem["text"])], ""]
    (out / "sheet.md").write_text("\n".join(lines), encoding="utf-8")
    with open(out / "ratings.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for label in key:
            writer.writerow([label] + [""] * (len(COLUMNS) - 1))
    (out / "key.json").write_text(json.dumps(key, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{out / 'sheet.md'}: {len(poems)} poems ({args.n} ours, {args.n} real); key in {out / 'key.json'}")


def _lines(text: str) -> list[str]:
    """The poem's lines, each closed alike (，then 。) whatever marks its source used: a real poem's
    ！ or ？ would otherwise be a hint, since the composer writes only ，and 。."""
    found, cur = [], ""
    for ch in text:
        if ch in "，。！？；":
            if cur:
                found.append(cur + ("，" if len(found) % 2 == 0 else "。"))
            cur = ""
        else:
            cur += ch
    return found + ([cur + "。"] if cur else [])


def read_ratings(path: Path, key: dict) -> dict[str, dict]:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None
    out = {}
    for n, row in enumerate(rows, 2):
        label = (row.get("label") or "").strip()
        if label not in key:
            raise BadInput(f"{path} line {n}: unknown label {label!r}")
        if label in out:
            raise BadInput(f"{path} line {n}: {label} is rated twice")
        rated: dict = {}
        for name in RATINGS:
            try:
                value = float(row.get(name) or "")
            except ValueError:
                raise BadInput(f"{path} line {n}: {name} must be a number from 1 to 5") from None
            if not 1 <= value <= 5:
                raise BadInput(f"{path} line {n}: {name} must be from 1 to 5, got {value:g}")
            rated[name] = value
        origin = (row.get("origin") or "").strip().lower()
        if origin not in ORIGINS:
            raise BadInput(f"{path} line {n}: origin must be machine or real, got {origin!r}")
        try:
            confidence = float(row.get("confidence") or "")
        except ValueError:
            raise BadInput(f"{path} line {n}: confidence must be a number from 0 to 1") from None
        if not 0 <= confidence <= 1:
            raise BadInput(f"{path} line {n}: confidence must be from 0 to 1, got {confidence:g}")
        out[label] = {**rated, "origin": origin, "confidence": confidence}
    missing = [label for label in key if label not in out]
    if missing:
        raise BadInput(f"{path}: {len(missing)} poems not rated, first {missing[0]}")
    return out


def score(args) -> dict:
    try:
        key = json.loads(Path(args.key).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"cannot read the key {args.key}: {exc}") from None
    ratings = read_ratings(Path(args.ratings), key)
    result: dict = {"poems": len(key)}
    named = {o: sum(ratings[k]["origin"] == o for k, v in key.items() if v["origin"] == o) for o in ORIGINS}
    total = {o: sum(v["origin"] == o for v in key.values()) for o in ORIGINS}
    result["named"] = {o: f"{named[o]} of {total[o]}" for o in ORIGINS}
    confident = sum(
        ratings[k]["origin"] == v["origin"] and ratings[k]["confidence"] >= 0.5 for k, v in key.items()
    )
    print(
        f"origins named correctly: {sum(named.values())} of {len(key)} "
        f"(ours {named['machine']} of {total['machine']}, real {named['real']} of {total['real']}); "
        f"{confident} of them with confidence ≥ 0.5"
    )
    print("| group | " + " | ".join(RATINGS) + " |")
    print("|---|" + "---|" * len(RATINGS))
    for o, name in (("machine", "ours"), ("real", "real")):
        labels = [k for k, v in key.items() if v["origin"] == o]
        means = {r: sum(ratings[k][r] for k in labels) / len(labels) for r in RATINGS} if labels else {}
        result[name] = means
        print(f"| {name} | " + " | ".join(f"{means[r]:.2f}" for r in RATINGS) + " |")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("make", help="write a sheet, a ratings form and the key")
    m.add_argument("--out", required=True)
    m.add_argument("--n", type=int, default=12, help="machine poems (and as many real ones); a multiple of 4")
    m.add_argument("--model", default="default")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--temperature", type=float)
    m.add_argument("--top-p", type=float)
    m.add_argument("--repeat-penalty", type=float)
    m.add_argument("--duizhang", type=float)
    m.add_argument(
        "--line-drafts", type=int, help="each line the best of this many (default: the composer's)"
    )
    m.add_argument("--season", type=float, help="the season lean (default: the composer's)")
    m.add_argument("--guidance", type=float, help="title guidance (default: the composer's)")
    m.add_argument("--candidates", type=int, default=1)
    m.add_argument(
        "--planner",
        action="store_true",
        help="with --titles val, the planner gives every line a keyword (sheet C); off: the title alone",
    )
    m.add_argument(
        "--plans",
        choices=("none", "retrieved"),
        default="none",
        help="with --titles val, 'retrieved': each poem reads the plan of the train poem of its form with the "
        "nearest title (scripts/retrieved_plans.py; sheet P)",
    )
    m.add_argument(
        "--titles",
        choices=("none", "val"),
        default="none",
        help="give each of our poems a subject: the cleaned title of a random validation poem, read by "
        "the model (with --planner, also planned); the sheet shows no titles either way",
    )
    s = sub.add_parser("score", help="read the ratings against the key")
    s.add_argument("--key", required=True)
    s.add_argument("--ratings", required=True)
    args = parser.parse_args(argv)
    from tangstudio.engine.errors import TangError

    try:
        make(args) if args.command == "make" else score(args)
    except (BadInput, TangError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
