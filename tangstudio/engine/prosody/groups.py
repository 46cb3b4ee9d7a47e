"""The 106 rhyme groups of 平水韵, named the way the composer and the checker speak of them.

One naming everywhere: the short simplified name of the group ("一东", "一先", "十七洽"). The
numbers restart in each of the five sections, but the rhyme characters never repeat, so the short
name is unique; `group_label` gives the long name with its section ("上平一东", "入声十七洽") for
display. Names follow the standard list (上声二十八琰, 去声二十一个) rather than a source's
variant spellings, so the build script maps its sources onto these names.
"""

from __future__ import annotations

from functools import lru_cache

from tangstudio.engine.errors import TangError

# Section name (as shown in labels), the tone class of its characters, its groups in order.
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "上平",
        "平",
        tuple("一东 二冬 三江 四支 五微 六鱼 七虞 八齐 九佳 十灰 十一真 十二文 十三元 十四寒 十五删".split()),
    ),
    (
        "下平",
        "平",
        tuple("一先 二萧 三肴 四豪 五歌 六麻 七阳 八庚 九青 十蒸 十一尤 十二侵 十三覃 十四盐 十五咸".split()),
    ),
    (
        "上声",
        "上",
        tuple(
            (
                "一董 二肿 三讲 四纸 五尾 六语 七麌 八荠 九蟹 十贿 十一轸 十二吻 十三阮 十四旱 十五潸 十六铣 十七筱 "
                "十八巧 十九皓 二十哿 二十一马 二十二养 二十三梗 二十四迥 二十五有 二十六寝 二十七感 二十八琰 二十九豏"
            ).split()
        ),
    ),
    (
        "去声",
        "去",
        tuple(
            (
                "一送 二宋 三绛 四寘 五未 六御 七遇 八霁 九泰 十卦 十一队 十二震 十三问 十四愿 十五翰 十六谏 十七霰 "
                "十八啸 十九效 二十号 二十一个 二十二祃 二十三漾 二十四敬 二十五径 二十六宥 二十七沁 二十八勘 二十九艳 三十陷"
            ).split()
        ),
    ),
    (
        "入声",
        "入",
        tuple(
            (
                "一屋 二沃 三觉 四质 五物 六月 七曷 八黠 九屑 十药 十一陌 十二锡 十三职 十四缉 十五合 十六叶 十七洽"
            ).split()
        ),
    ),
)

GROUPS: tuple[str, ...] = tuple(g for _, _, groups in SECTIONS for g in groups)
PING_GROUPS: tuple[str, ...] = tuple(g for _, tone, groups in SECTIONS if tone == "平" for g in groups)


@lru_cache(maxsize=1)
def _index() -> dict[str, tuple[str, str]]:
    return {g: (section, tone) for section, tone, groups in SECTIONS for g in groups}


def _lookup(group: str) -> tuple[str, str]:
    try:
        return _index()[group]
    except KeyError:
        raise TangError(f"unknown 平水韵 group {group!r}; names look like 一东, 十一尤, 二十八琰") from None


def group_tone(group: str) -> str:
    """ "平" for the 30 level-tone groups, "仄" for the 76 上/去/入 groups."""
    return "平" if _lookup(group)[1] == "平" else "仄"


def group_class(group: str) -> str:
    """The finer tone of a group: 平, 上, 去 or 入."""
    return _lookup(group)[1]


def group_label(group: str) -> str:
    """The long name with its section, e.g. "下平一先", "入声十七洽"."""
    return _lookup(group)[0] + group
