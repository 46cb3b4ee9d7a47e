"""Corpus-wide prosody figures: table coverage, rhyme and tone pass rates, strains regression.

Runs the checker over every regulated poem of the bundled Tang corpus (lost-character poems left
out) and prints a Markdown section; `--update docs/prosody.md` replaces the part of that file
between the `<!-- figures:begin -->` and `<!-- figures:end -->` markers with it.

The regression check compares our tone class with chinese-poetry's `strains` data (MIT; 平/仄/○
per character, auto-generated and partly wrong) on single-reading characters of the lines that
align with the poem text. It needs the npm package unpacked (default /work/cache/package); without
it that part is skipped.

Usage: python scripts/prosody_report.py [--strains DIR] [--update docs/prosody.md]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tangstudio.engine import forms  # noqa: E402
from tangstudio.engine.corpus import load_corpus  # noqa: E402
from tangstudio.engine.prosody.validate import REGULATED, coverage, regulated_figures, strains_agreement  # noqa: E402

BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"
COLD_LOAD = (
    "import time; t = time.perf_counter(); from tangstudio.engine.prosody import tones; "
    "i = time.perf_counter(); tones('东'); tones('东', 'traditional'); e = time.perf_counter(); "
    "print(i - t, e - i)"
)


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.2f} %" if d else "–"


def cold_load() -> tuple[float, float]:
    """Import time and first-lookup (table parsing) time in a fresh interpreter, best of 3."""
    runs = [
        tuple(
            map(
                float,
                subprocess.run(
                    [sys.executable, "-c", COLD_LOAD], capture_output=True, text=True, check=True, cwd=ROOT
                ).stdout.split(),
            )
        )
        for _ in range(3)
    ]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def read_strains(folder: Path) -> dict[str, str] | None:
    files = sorted(folder.glob("poet.tang.*.json")) if folder.is_dir() else []
    if not files:
        return None
    return {
        row["id"]: "".join(row["strains"]) for f in files for row in json.loads(f.read_text(encoding="utf-8"))
    }


def render(cov: dict[str, dict], figs: dict, strains: dict | None, seconds: dict[str, float]) -> str:
    out = [
        "## Figures",
        "",
        "Produced by `python scripts/prosody_report.py --update docs/prosody.md`. On the development machine "
        f"(2 shared CPU cores) checking all regulated poems took {seconds['check']:.1f} s "
        f"({1000 * seconds['check'] / max(1, seconds['poems']):.2f} ms a poem) and the whole report "
        f"{seconds['total']:.1f} s. In a fresh interpreter, importing `tangstudio.engine.prosody` took "
        f"{1000 * seconds['import']:.0f} ms and the first lookup, which reads the tables it needs, "
        f"{1000 * seconds['load']:.0f} ms (best of 3).",
        "",
        "### Coverage of the Tang corpus",
        "",
        "| script | distinct characters | with a tone | with a 平水韵 group | tokens | with a tone | with a group |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for script, c in cov.items():
        out.append(
            f"| {script} | {c['types']:,} | {pct(c['tone_types'], c['types'])} | {pct(c['group_types'], c['types'])} "
            f"| {c['tokens']:,} | {pct(c['tone_tokens'], c['tokens'])} | {pct(c['group_tokens'], c['tokens'])} |"
        )
    for script, c in cov.items():
        missing = " ".join(f"{ch}×{n}" for ch, n in c["missing_top"])
        out.append(f"\nMost frequent characters without a tone ({script}): {missing or 'none'}")
    by_form, total = figs["by_form"], Counter()
    for c in by_form.values():
        total.update(c)
    out += [
        "",
        "### Regulated poems (simplified script)",
        "",
        "Poems with lost characters (□, or ● and the like in the source) are left out"
        + (
            f", and {figs['skipped']} the checker refused."
            if figs["skipped"]
            else "; the checker refused none."
        ),
        "",
        "| form | poems | even lines share a 平 group | tones, loose (一三五不论) | tones, strict | rhyme + loose | first line rhymes | 平起 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for form, c in [*((f, by_form[f]) for f in REGULATED), ("all", total)]:
        found = forms.find(form) if form != "all" else None
        name = f"{found.zh} {form}" if found else "**all**"
        n = c["poems"]
        out.append(
            f"| {name} | {n:,} | {pct(c['rhyme'], n)} | {pct(c['loose'], n)} | {pct(c['strict'], n)} "
            f"| {pct(c['rhyme_and_loose'], n)} | {pct(c['first_rhymes'], n)} | {pct(c['ping_start'], n)} |"
        )
    w = figs["warnings"]
    out.append(
        f"\nWarnings over {total['lines']:,} lines: 孤平 {w['孤平']:,} ({pct(w['孤平'], total['lines'])}), "
        f"三平尾 {w['三平尾']:,} ({pct(w['三平尾'], total['lines'])})."
    )
    out += ["", "### Regression check against chinese-poetry `strains`", ""]
    if strains is None:
        out.append("Skipped: the chinese-poetry npm package was not found (pass --strains DIR).")
    else:
        c = strains["counts"]
        out.append(
            f"{c['labelled']:,} Tang poems carry strains labels; {c['poems']:,} match a corpus poem by id; "
            f"{c['aligned']:,} of {c['lines']:,} lines align (same clause count and length). On the "
            f"{c['compared']:,} single-reading characters labelled 平 or 仄 there, our tone class agrees "
            f"with the label for **{pct(c['agree'], c['compared'])}** (target ≥ 97 %)."
        )
        out.append(
            "Characters disagreeing most often: " + " ".join(f"{ch}×{n}" for ch, n in strains["disagree_top"])
        )
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strains", type=Path, default=Path("/work/cache/package/dist/strains/json"))
    parser.add_argument("--update", type=Path, help="replace the figures section of this Markdown file")
    args = parser.parse_args()
    start = time.perf_counter()
    seconds = dict(zip(("import", "load"), cold_load()))
    cov = {
        script: coverage(load_corpus("tang", script).poems, script)
        for script in ("simplified", "traditional")
    }
    poems = load_corpus("tang", "simplified").poems  # cached: loading stays out of the checker timing
    t0 = time.perf_counter()
    figs = regulated_figures(poems, "simplified")
    seconds["check"] = time.perf_counter() - t0
    seconds["poems"] = sum(c["poems"] for c in figs["by_form"].values()) + figs["skipped"]
    labels = read_strains(args.strains)
    strains = (
        strains_agreement(labels, load_corpus("tang", "traditional").poems) if labels is not None else None
    )
    if strains is not None:
        strains["counts"]["labelled"] = len(labels)
    seconds["total"] = time.perf_counter() - start
    text = render(cov, figs, strains, seconds)
    print(text)
    if args.update:
        doc = args.update.read_text(encoding="utf-8")
        if BEGIN not in doc or END not in doc:
            raise SystemExit(f"{args.update} lacks the {BEGIN} … {END} markers")
        head, rest = doc.split(BEGIN, 1)
        args.update.write_text(head + BEGIN + "\n" + text + END + rest.split(END, 1)[1], encoding="utf-8")


if __name__ == "__main__":
    main()
