"""Importing corpora: good inputs land whole, bad inputs fail with one line and leave nothing behind."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tangstudio.engine.corpus import load_corpus
from tangstudio.engine.corpus.importer import import_corpus, list_imported
from tangstudio.engine.errors import TangError

SONG = [
    {
        "author": "蘇軾",
        "paragraphs": ["水光瀲灩晴方好，山色空濛雨亦奇。", "欲把西湖比西子，淡妝濃抹總相宜。"],
        "title": "飲湖上初晴後雨",
        "id": "s1",
    },
    {
        "author": "王安石",
        "paragraphs": ["京口瓜洲一水間，鍾山只隔數重山。", "春風又綠江南岸，明月何時照我還。"],
        "title": "泊船瓜洲",
        "id": "s2",
    },
]


def corpora(home: Path) -> list[str]:
    root = home / "corpora"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_import_chinese_poetry_folder_skips_author_files(tmp_path, home):
    folder = tmp_path / "song"
    folder.mkdir()
    (folder / "poet.song.0.json").write_text(json.dumps(SONG, ensure_ascii=False), encoding="utf-8")
    (folder / "authors.song.json").write_text(
        json.dumps([{"name": "蘇軾", "desc": "…"}], ensure_ascii=False), encoding="utf-8"
    )
    result = import_corpus(folder, "song")
    assert result["poems"] == 2 and result["script"] == "traditional"
    corpus = load_corpus("song", "simplified")
    assert [p.form for p in corpus.poems] == ["qijue", "qijue"]
    assert corpus.poems[1].text.startswith("京口瓜洲一水间")
    assert [m["name"] for m in list_imported()] == ["song"]


def test_import_text_with_titles(tmp_path, home):
    path = tmp_path / "mine.txt"
    path.write_text(
        "静夜思:床前明月光，疑是地上霜。举头望明月，低头思故乡。\n\n春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。\n",
        encoding="utf-8",
    )
    import_corpus(path, "mine")
    corpus = load_corpus("mine", "simplified")
    assert [p.title for p in corpus.poems] == ["静夜思", ""]
    assert all(p.form == "wujue" for p in corpus.poems)
    traditional = load_corpus("mine", "traditional")
    assert "靜" in traditional.poems[0].title


def test_an_import_says_what_it_left_out_and_what_it_will_not_train_on(tmp_path, home):
    """A scholar's file: an entry twice, one with a □, one with an empty title (":春风…" kept the
    colon in the verse); all were "usable", the repeat stored twice under one id."""
    path = tmp_path / "mine.txt"
    lines = [
        "静夜思:床前明月光，疑是地上霜。举头望明月，低头思故乡。",
        "静夜思:床前明月光，疑是地上霜。举头望明月，低头思故乡。",
        "春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多□。",
        ":春风又绿江南岸，明月何时照我还。",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = import_corpus(path, "mine")
    assert (result["poems"], result["usable"], result["lost"], result["repeated"]) == (3, 2, 1, 1)
    poems = load_corpus("mine", "simplified").poems
    assert len({p.id for p in poems}) == 3
    assert any(p.text == "春风又绿江南岸，明月何时照我还。" and p.title == "" for p in poems)


def test_existing_name_refused_unless_forced(tmp_path, home):
    path = tmp_path / "a.txt"
    path.write_text("床前明月光，疑是地上霜。举头望明月，低头思故乡。\n", encoding="utf-8")
    import_corpus(path, "mine")
    with pytest.raises(TangError, match="already exists"):
        import_corpus(path, "mine")
    path.write_text("春眠不觉晓，处处闻啼鸟。夜来风雨声，花落知多少。\n", encoding="utf-8")
    import_corpus(path, "mine", force=True)
    assert load_corpus("mine").poems[0].text.startswith("春眠")


def _bad_inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    cases: dict[str, tuple[Path, str]] = {}

    def put(name: str, data: bytes, pattern: str) -> None:
        path = tmp / name
        path.write_bytes(data)
        cases[name] = (path, pattern)

    cases["missing"] = (tmp / "nope.txt", "no such file")
    put("empty.txt", b"", "empty")
    put("blank.txt", b"  \n\n ", "white space")
    put("binary.bin", bytes(range(256)) * 10, "binary")
    put("gbk.txt", "床前明月光，疑是地上霜。".encode("gbk"), "reads as GB18030")
    # Big5 decodes as GB18030 too, into nonsense: the hint sent a scholar to the wrong iconv
    put("big5.txt", "國破山河在，城春草木深。感時花濺淚，恨別鳥驚心。".encode("big5"), "reads as BIG5")
    song = json.dumps(SONG, ensure_ascii=False)  # JSON: its ASCII keys kept the hint from firing
    put("big5.json", song.encode("big5"), "reads as BIG5")
    put("gbk.json", song.encode("gb18030"), "reads as GB18030")
    put("malformed.json", b'[{"paragraphs": ["a"]', "malformed JSON")
    # json's own message ends "… character at", for the position it appends: the line ended mid-sentence
    put("control.json", b'{"bad json', r"malformed JSON at line 1, column 2: Unterminated string$")
    put("control2.json", b'["a\x01"]', r"malformed JSON at line 1, column 4: Invalid control character$")
    put("shape.json", b'{"poems": 3}', "wrong shape")
    put("shape2.json", b'[{"paragraphs": "not a list"}]', "'paragraphs' is a str, not a list of strings")
    put("huge.txt", "月".encode() * (50 * 1024 * 1024 // 3), "at most")
    put("punct.txt", "，。，。\n".encode(), "empty after cleaning")
    put(
        "english.txt", b"hello world\nRoses are red, violets are blue.\n", "no poem holds a Chinese character"
    )
    return cases


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "empty.txt",
        "blank.txt",
        "binary.bin",
        "gbk.txt",
        "big5.txt",
        "big5.json",
        "gbk.json",
        "malformed.json",
        "control.json",
        "control2.json",
        "shape.json",
        "shape2.json",
        "huge.txt",
        "punct.txt",
        "english.txt",
    ],
)
def test_bad_inputs_fail_cleanly(tmp_path, home, case):
    path, pattern = _bad_inputs(tmp_path)[case]
    with pytest.raises(TangError, match=pattern) as info:
        import_corpus(path, "bad")
    assert "\n" not in str(info.value)
    assert str(path.name) in str(info.value) or case == "punct.txt"
    assert corpora(home) == []


def test_failed_force_import_keeps_existing_corpus(tmp_path, home):
    good = tmp_path / "good.txt"
    good.write_text("床前明月光，疑是地上霜。举头望明月，低头思故乡。\n", encoding="utf-8")
    import_corpus(good, "mine")
    bad = tmp_path / "bad.json"
    bad.write_text("[{", encoding="utf-8")
    with pytest.raises(TangError):
        import_corpus(bad, "mine", force=True)
    assert load_corpus("mine").poems[0].text.startswith("床前")
    assert corpora(home) == ["mine"]


@pytest.mark.parametrize("name", ["", "tang", "../x", "a b", "x" * 80])
def test_bad_names(tmp_path, home, name):
    path = tmp_path / "a.txt"
    path.write_text("床前明月光，疑是地上霜。\n", encoding="utf-8")
    with pytest.raises(TangError):
        import_corpus(path, name)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["paragraphs", "title", "author", "id", "rhythmic", "x"]), children, max_size=4
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_random_bytes_never_escape_as_other_errors(tmp_path, data):
    path = tmp_path / "random.bin"
    path.write_bytes(data)
    with contextlib.suppress(TangError):
        import_corpus(path, "fuzz", force=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values, fmt=st.sampled_from(["auto", "chinese-poetry", "text"]))
def test_random_json_never_escape_as_other_errors(tmp_path, value, fmt):
    path = tmp_path / "random.json"
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    with contextlib.suppress(TangError):
        import_corpus(path, "fuzz", fmt, force=True)


def test_a_lost_poem_left_out_for_its_shared_line_is_not_taken_from_the_usable_ones(tmp_path, home):
    """`usable -= overlapping` also took away the lost poems left out: two lost overlapping poems and
    one clean one read "-1 usable", and one of each refused the import as if every poem overlapped."""
    tang = load_corpus("tang", "simplified")
    val = next(p for p in tang.poems if p.split == "val" and p.form == "wujue" and not p.lost)
    line = val.text.split("，")[0]
    path = tmp_path / "mine.txt"
    path.write_text(f"{line}，秋□满故山。\n孤鹤下寒汀，残阳照野亭。\n", encoding="utf-8")
    result = import_corpus(path, "mine", without_lines_of="tang")
    assert (result["poems"], result["usable"], result["lost"], result["overlapping"]) == (1, 1, 0, 1)


def test_a_latin1_file_is_not_told_it_reads_as_gb18030(tmp_path, home):
    """ü and ß pair into a few GB18030 ideographs: scored on its non-ASCII characters alone, a German
    Latin-1 file was told to convert from GB18030 (a review of the diff)."""
    path = tmp_path / "de.txt"
    path.write_bytes("Grüße aus München, schön\n".encode("latin-1"))
    with pytest.raises(TangError, match="not valid UTF-8") as refused:
        import_corpus(path, "de")
    assert "reads as" not in str(refused.value)
