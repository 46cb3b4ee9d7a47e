"""Loading the bundled corpus (all 57,607 poems, converted and cleaned): target under 2 s.

Baseline: just decompressing and parsing the shipped file, the floor any loader pays; the ratio
is what conversion, cleaning and classification add on top.
"""

from __future__ import annotations

from benchmarks.common import Row, time_subprocess

LOAD = "from tangstudio.engine.corpus import load_corpus; load_corpus('tang', '{script}')"
FLOOR = (
    "import json, lzma; from tangstudio.engine.corpus.source import BUNDLED_FILE; "
    "json.loads(lzma.decompress(BUNDLED_FILE.read_bytes()))"
)


def rows(quick: bool = False) -> list[Row]:
    repeat = 1 if quick else 3
    floor = time_subprocess(FLOOR, repeat)
    return [
        Row(
            "corpus load, simplified (s, fresh process)",
            time_subprocess(LOAD.format(script="simplified"), repeat),
            "s",
            "decompress + parse only",
            floor,
            "< 2 s",
        ),
        Row(
            "corpus load, traditional (s, fresh process)",
            time_subprocess(LOAD.format(script="traditional"), repeat),
            "s",
            "decompress + parse only",
            floor,
            "< 2 s",
        ),
    ]


if __name__ == "__main__":
    from benchmarks.common import print_rows

    print_rows(rows, __doc__, digits=2)
