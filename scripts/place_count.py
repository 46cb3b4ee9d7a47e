"""How many distinct place names our blind-sheet poems name, against the regulated val poems.

    python scripts/place_count.py

A measurement for docs/quality.md ("Sixth stop", measured and not built): readers name place
names and allusions dropped in without a link as a tell of our poems. The list is a hand list of
well-known places of Tang verse, enough to compare the two counts; a lean built on it would need a
mined list (what titles send people to: 之蜀, 归江南).
"""

from __future__ import annotations

import collections
import glob
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLACES = (
    "长安 洛阳 江南 潇湘 洞庭 巫峡 函谷 湘江 湘水 楚 吴 秦 汉家 汉宫 汉庭 蜀 燕山 越 塞 关山 陇 巴 荆 襄 扬州 "
    "金陵 姑苏 西湖 灞 渭 泾 汾 湘妃 巫山 峨眉 庐山 匡山 终南 华山 嵩 衡阳 岳阳 武陵 桃源 蓬莱 瀛洲 昆仑 天山 "
    "玉门 阳关 辽 碣石 江东 江西 河北 河南 山东 岭南 交趾 湘浦 沅 澧 邺 梁园 上林 未央 建章 咸阳 邯郸 并州 幽州 "
    "凉州 朔方 五陵 新丰 曲江 灞陵 霸陵 钱塘 会稽 剡 天台 赤壁 武昌 夏口 彭蠡 九江 浔阳 豫章 鄱阳 苍梧 九疑 衡山"
).split()


def places_in(text: str) -> int:
    return len({p for p in PLACES if p in text})


def main() -> None:
    from tangstudio.engine.corpus import load_corpus

    real = [p.text for p in load_corpus("tang", "simplified").select("regulated", "val")]
    ours: list[str] = []
    for path in sorted(glob.glob(str(ROOT / "docs" / "blind" / "*" / "key.json"))):
        key = json.loads(Path(path).read_text(encoding="utf-8"))
        ours += [v["text"] for v in key.values() if isinstance(v, dict) and v.get("origin") == "machine"]
    ours = list(dict.fromkeys(ours))  # a sheet read twice holds the same poems
    for name, texts in (("regulated val poems", real), ("machine poems of the sheets", ours)):
        counts = collections.Counter(min(places_in(t), 3) for t in texts)
        shares = ", ".join(
            f"{k}{'+' if k == 3 else ''}: {v / len(texts):.1%}" for k, v in sorted(counts.items())
        )
        print(f"{name} ({len(texts)}): {sum(map(places_in, texts)) / len(texts):.2f} places a poem; {shares}")


if __name__ == "__main__":
    main()
