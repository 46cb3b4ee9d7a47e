"""`tangstudio generate` refusing what it cannot do, in words that name what was typed: -k for a
BiLSTM, and the characters of a prefix as typed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_helpers import refused, tangstudio


@pytest.mark.slow
def test_candidates_typed_for_a_bilstm_are_refused_and_the_default_is_not(
    trained_runs: Path, tiny_corpus, home: Path
) -> None:
    """`-k 3` on a BiLSTM was dropped without a word; --beam, --gates and --title are refused."""
    shutil.copytree(trained_runs / "tiny-bilstm", home / "runs" / "bi")
    fill = ("generate", "--model", "bi", "--form", "wujue", "-n", "1", "--seed", "1")
    for typed in (["-k", "3"], ["--candidates", "2"]):
        line = refused(tangstudio(*fill, *typed, home=home))
        assert "--candidates" in line and "bilstm" in line and "leave --candidates out" in line
    for quiet in ([], ["-k", "1"]):  # the default K, and one draft asked for: what a filler does
        done = tangstudio(*fill, *quiet, home=home)
        assert done.returncode == 0, done.stderr
        assert "#1" in done.stdout


def test_a_prefix_of_other_characters_names_each_as_typed(home: Path) -> None:
    """`--prefix hello` said `not 'helo'`: a set had folded the two l's into a word never typed."""
    line = refused(tangstudio("generate", "-n", "1", "--form", "wujue", "--prefix", "hello", home=home))
    assert line.endswith("must be Chinese characters and punctuation, not h, e, l, o"), line


def test_a_fault_of_a_given_line_is_named_in_the_header(home: Path) -> None:
    """A prefix in 孤平 (客愁满故乡: 仄平仄仄平) printed `tones ✓` and nothing else: the header names
    the fault, as `check` does."""
    done = tangstudio(
        "generate", "--form", "wujue", "--prefix", "客愁满故乡，", "--seed", "1", "-n", "1", home=home
    )
    assert done.returncode == 0, done.stderr
    head = done.stdout.splitlines()[0]
    assert "tones ✓" in head and "孤平 ✗" in head, head


def test_a_rhyme_given_twice_is_named_in_the_header(home: Path) -> None:
    """春风日渐长 … 客梦长: `check` warned 重韵, and generate's header said nothing (a poet's review)."""
    done = tangstudio(
        "generate",
        "--form",
        "wujue",
        "--prefix",
        "春风日渐长，江柳不堪长。",
        "--seed",
        "1",
        "-n",
        "1",
        home=home,
    )
    assert done.returncode == 0, done.stderr
    assert "重韵 ✗" in done.stdout.splitlines()[0], done.stdout


@pytest.mark.parametrize(
    "argv, said",
    [
        (["generate", "-n", "1", "--json", "--show-probs"], "--show-probs colours the text output"),
        (["generate", "-n", "1", "--format", "md", "--show-probs"], "--show-probs colours the text output"),
        (
            ["compare", "--show", "any", "--markdown", "--json"],
            "--markdown and --json ask for two output formats",
        ),
    ],
    ids=["generate-json", "generate-md", "compare-show"],
)
def test_an_option_the_output_would_drop_is_refused(home: Path, argv: list[str], said: str) -> None:
    """`generate --json --show-probs` dropped --show-probs and `compare --show --markdown --json`
    dropped --markdown, without a word (an engineer's review)."""
    assert said in refused(tangstudio(*argv, home=home))


def test_a_home_that_cannot_be_made_is_named_in_words(tmp_path: Path) -> None:
    """`--home /proc/nosuch corpus import …` printed only "No such file or directory (/proc/nosuch)"
    (an engineer's review)."""
    source = tmp_path / "p.json"
    source.write_text(
        '[{"title":"t","author":"a","paragraphs":["床前明月光，疑是地上霜。"]}]', encoding="utf-8"
    )
    line = refused(
        tangstudio("--home", "/proc/nosuch", "corpus", "import", str(source), "--name", "x", home=tmp_path)
    )
    assert line.endswith(
        "a folder on the way is missing and cannot be made there; check the path or choose another --home"
    )
