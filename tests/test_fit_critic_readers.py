"""scripts/fit_critic_readers.py: the critic's weights fitted to blind readers' scores."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import fit_critic_readers as F  # noqa: E402


def test_a_term_whose_fit_comes_out_with_the_wrong_sign_is_dropped_and_the_rest_refitted():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = 0.8 * x[:, 0] - 0.5 * x[:, 1]  # disc (column 1) would take a negative weight: it may only add
    w = F.ridge_signed(x, y - y.mean(), ("lm", "disc", "rep"), l2=1.0)
    assert w[0] > 0.5 and w[1] == 0.0
    flat = np.hstack([x, np.ones((200, 1))])  # a term that never varies weighs nothing
    assert F.ridge_signed(flat, y - y.mean(), ("lm", "disc", "rep", "rhyme"), l2=1.0)[3] == 0.0


def test_ratings_are_centred_per_sheet_and_spearman_averages_ties():
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    sheets = np.array(["A", "A", "A", "B", "B", "B"])
    assert F.centred_by_sheet(y, sheets).tolist() == [-1.0, 0.0, 1.0, -1.0, 0.0, 1.0]
    assert F.spearman(np.array([1, 2, 2, 3]), np.array([1, 2, 2, 3])) == pytest.approx(1.0)
    assert F.spearman(np.array([1, 2, 3]), np.array([3, 2, 1])) == pytest.approx(-1.0)


def test_it_reads_only_the_machine_poems_of_scored_sheets_and_needs_two(tmp_path, capsys):
    for name in ("F", "G"):
        shutil.copytree(ROOT / "docs" / "blind" / name, tmp_path / name)
    (tmp_path / "unscored").mkdir()  # a sheet with no ratings yet is passed over
    shutil.copy(ROOT / "docs" / "blind" / "G" / "key.json", tmp_path / "unscored" / "key.json")
    rows = F.read_sheets(tmp_path)
    assert len(rows) == 24 and {r["sheet"] for r in rows} == {"F", "G"}
    assert all(1 <= r["overall"] <= 5 and r["form"] in ("wujue", "qijue", "wulv", "qilv") for r in rows)
    assert {r["sheet"] for r in F.read_sheets(tmp_path, {"G"})} == {"G"}
    shutil.rmtree(tmp_path / "G")
    assert F.main(["--sheets", str(tmp_path)]) == 2
    assert "at least two scored sheets" in capsys.readouterr().err
