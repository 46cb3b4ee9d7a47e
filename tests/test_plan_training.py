"""Poems with a subject, the training side: titles, keywords, the plan tokens, their dropping, and
the AWD-LSTM regularisation (issue 21)."""

from __future__ import annotations

import json

import torch
import torch.nn.functional as F
from torch.func import functional_call

from tangstudio.engine.corpus.keywords import STOP, KeywordModel
from tangstudio.engine.corpus.poem import Poem
from tangstudio.engine.corpus.titles import MAX_TITLE, clean_title
from tangstudio.engine.corpus.vocab import EOS, PAD, Vocab
from tangstudio.engine.models.regularize import embedding_dropout, locked_dropout, weight_dropped_call
from tangstudio.engine.training.batching import planned_batch
from tangstudio.engine.training.plan_data import (
    PlanDrops,
    assemble,
    condition_items,
    draw,
    plan_poem,
    targets_of,
)

POEM = Poem(
    "p1", "送友人二首 一", "李白", "青山横北郭，白水绕东城。此地一为别，孤蓬万里征。", "wujue", "train"
)


def vocab_for(*texts: str) -> Vocab:
    return Vocab.build(texts, "simplified")


# ---- titles --------------------------------------------------------------------------------------
def test_clean_title_drops_cataloguing_and_keeps_the_subject() -> None:
    assert clean_title("岳州众湖阻风二首 二") == "岳州众湖阻风"
    assert clean_title("奉和圣制春日幸望春宫应制") == "春日幸望春宫"
    assert clean_title("闺情（为落殊蕃陈上相知人） 闺情 二") == "闺情"
    assert clean_title("琴曲歌辞 湘妃怨") == "湘妃怨"
    assert clean_title("赋得涉江采芙蓉") == "涉江采芙蓉"
    assert clean_title("宫词 一二九") == "宫词"
    assert clean_title("其三") == ""
    assert len(clean_title("与袁补阙寻蔡拾遗会此公出行后蔡有五韵诗见赠以此篇答焉")) == MAX_TITLE
    assert clean_title("Autumn 秋夕") == "秋夕"


# ---- keywords ------------------------------------------------------------------------------------
def test_keywords_are_the_most_distinctive_frequent_words() -> None:
    # 明月 is in every poem (idf 0), 孤舟 in a few, 故乡 in many: TF-IDF picks the rarer real word.
    poems = (
        ["明月照孤舟，" + "春风" * 2 + "。"] * 60 + ["明月照故乡，秋风白云。"] * 200 + ["明月不无何。"] * 10
    )
    model = KeywordModel.build(poems)
    assert model.line_keywords("明月照孤舟，春风春风。")[0] in {"孤舟", "照孤"}  # equal idf: a pair first
    words = [w for text in poems for w in model.line_keywords(text)]
    assert not any(set(w) & STOP for w in words if w), "a function character was chosen"
    assert model.line_keywords("不无何。") == [""], "a line with no candidate has no keyword"


def test_keywords_skip_doubled_characters() -> None:
    poems = ["萧萧落木下，悠悠长江流。"] * 80
    model = KeywordModel.build(poems)
    first, second = model.line_keywords(poems[0])
    assert "萧" not in first and "悠" not in second


def test_the_train_splits_keyword_model_is_kept_and_counted_afresh_when_its_texts_change(
    tiny_corpus, tiny_corpus_file, home, monkeypatch
) -> None:
    """`eval` and planned training read the kept table, not 51k poems again; another corpus import,
    a damaged file or an unwritable folder never gives a wrong table."""
    from tangstudio.engine.corpus import keywords, load_corpus
    from tangstudio.engine.corpus.importer import import_corpus

    monkeypatch.setattr(keywords, "MIN_DF", 2)  # a tiny corpus has few words in 50 poems
    corpus = load_corpus(tiny_corpus)
    counted = KeywordModel.build(p.text for p in corpus.select("regulated", "train"))
    assert counted.df and keywords.train_keyword_model(corpus, "regulated") == counted
    [kept] = (home / "cache" / "keywords").glob(f"{tiny_corpus}.*.json")
    record = json.loads(kept.read_text(encoding="utf-8"))
    word = next(iter(record["df"]))
    record["df"][word] = record["df"][word] + 1  # marked: a table read from the file says so
    kept.write_text(json.dumps(record), encoding="utf-8")
    assert keywords.train_keyword_model(corpus, "regulated").df[word] == counted.df[word] + 1

    lines = tiny_corpus_file.read_text(encoding="utf-8").splitlines()  # half the poems: other texts
    half = home / "half.txt"
    half.write_text("\n".join(lines[: len(lines) // 2]) + "\n", encoding="utf-8")
    import_corpus(half, tiny_corpus, force=True)
    smaller = load_corpus(tiny_corpus)
    fresh = KeywordModel.build(p.text for p in smaller.select("regulated", "train"))
    assert fresh != counted and keywords.train_keyword_model(smaller, "regulated") == fresh

    kept.write_bytes(b"\x00{not json")
    assert keywords.train_keyword_model(smaller, "regulated") == fresh
    assert json.loads(kept.read_text(encoding="utf-8"))["df"] == fresh.df  # replaced by a whole one
    kept.unlink()
    kept.mkdir()  # a place that cannot be written (root writes through a read-only folder): only time is lost
    assert keywords.train_keyword_model(smaller, "regulated") == fresh


# ---- the tokens ---------------------------------------------------------------------------------
def test_plan_tokens_sit_before_each_line_and_are_never_targets() -> None:
    vocab = vocab_for(POEM.text, "送友人")
    planned = plan_poem(POEM, ["青山", "白水", "", "孤蓬"], vocab)
    ids, scored = assemble(planned, vocab, planned.title, [True] * 4)
    text = [vocab.itos[i] for i in ids]
    assert text[:5] == ["<title>", "送", "友", "人", "<wujue>"]
    assert text[5:8] == ["<kw>", "青", "山"]
    assert "".join(text[8:14]) == "青山横北郭，"
    assert text[14:17] == ["<kw>", "白", "水"]
    assert text[23] == "此", "line 3 has no keyword: nothing stands before it"
    assert ids[-1] == EOS
    targets = targets_of(ids, scored)
    counted = [vocab.itos[t] for t in targets if t != PAD]
    assert "".join(counted[:-1]) == POEM.text and counted[-1] == "<eos>"


def test_untitled_planless_poem_is_the_old_sequence() -> None:
    vocab = vocab_for(POEM.text)
    planned = plan_poem(POEM, ["青山", "白水", "此地", "孤蓬"], vocab)
    (ids, _), *_ = condition_items([planned], vocab, "untitled")
    assert ids == vocab.encode_poem(POEM.text, POEM.form)


def test_planned_batch_counts_the_poem_alone() -> None:
    vocab = vocab_for(POEM.text, "送友人")
    planned = plan_poem(POEM, ["青山", "白水", "此地", "孤蓬"], vocab)
    items = condition_items([planned, planned], vocab, "planned")
    batch = planned_batch(items)
    assert batch.chars == 2 * (len(POEM.text) + 1)
    assert int((batch.targets != PAD).sum()) == batch.chars


def test_dropping_is_seeded_and_at_the_asked_rates() -> None:
    vocab = vocab_for(POEM.text, "送友人")
    planned = [plan_poem(POEM, ["青山", "白水", "此地", "孤蓬"], vocab)] * 3000
    drops = PlanDrops(title=0.4, plan=0.35, keyword=0.2)
    first = draw(planned, vocab, drops, torch.Generator().manual_seed(5))
    again = draw(planned, vocab, drops, torch.Generator().manual_seed(5))
    other = draw(planned, vocab, drops, torch.Generator().manual_seed(6))
    assert first == again and first != other
    titled = sum(ids[0] == vocab.title_id for ids, _ in first) / len(first)
    keywords = [ids.count(vocab.keyword_id) for ids, _ in first]
    planless = sum(k == 0 for k in keywords) / len(first)
    assert abs(titled - 0.6) < 0.04
    # no keyword at all: the plan dropped (0.35), or all four dropped one by one (0.65 · 0.2⁴)
    assert abs(planless - (0.35 + 0.65 * 0.2**4)) < 0.04
    planned_lines = sum(keywords) / sum(k > 0 for k in keywords)
    assert 3.0 < planned_lines < 3.6  # 4 · 0.8 = 3.2, given at least one


# ---- AWD-LSTM regularisation -------------------------------------------------------------------
def test_locked_dropout_shares_its_mask_across_time() -> None:
    torch.manual_seed(0)
    x = torch.ones(4, 9, 32)
    y = locked_dropout(x, 0.5, training=True)
    assert torch.equal(y, y[:, :1].expand_as(y)), "every time step must see the same mask"
    assert (y == 0).any() and (y == 2).any()
    assert torch.equal(locked_dropout(x, 0.5, training=False), x)


def test_weight_drop_thins_w_hh_once_for_every_step() -> None:
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(6, 8, batch_first=True)
    x = torch.randn(2, 7, 6)
    torch.manual_seed(42)
    dropped, _ = weight_dropped_call(lstm, 0.5, True, x)
    # The same draw by hand: one thinned W_hh, then a step-by-step pass with it is the same sequence.
    torch.manual_seed(42)
    params = dict(lstm.named_parameters())
    thinned = {**params, "weight_hh_l0": F.dropout(params["weight_hh_l0"], 0.5, training=True)}
    state = None
    steps = []
    for t in range(x.shape[1]):
        out, state = functional_call(lstm, thinned, (x[:, t : t + 1], state))
        steps.append(out)
    assert torch.allclose(dropped, torch.cat(steps, dim=1), atol=1e-6)
    plain, _ = lstm(x)
    assert not torch.allclose(dropped, plain)
    assert torch.equal(weight_dropped_call(lstm, 0.5, False, x)[0], plain)
    assert "weight_hh_l0" in dict(lstm.named_parameters()), "the module keeps its own weights"


def test_embedding_dropout_drops_whole_characters() -> None:
    torch.manual_seed(1)
    emb = torch.nn.Embedding(50, 4)
    ids = torch.arange(50).repeat(3, 1)
    out = embedding_dropout(emb, ids, 0.5, training=True)
    zero_rows = (out[0] == 0).all(dim=1)
    assert zero_rows.any() and not zero_rows.all()
    assert torch.equal((out[1] == 0).all(dim=1), zero_rows), "a dropped character is dropped everywhere"


def test_planned_poem_keeps_every_character_of_odd_punctuation() -> None:
    """Doubled marks and a last line without one: the given tokens change, never the characters counted."""
    text = "青山横北郭，，白水绕东城。」此地一为别"
    poem = Poem("p2", "t", "a", text, "other", "train")
    vocab = vocab_for(text)
    planned = plan_poem(poem, ["青山", "白水"], vocab)
    for condition in ("planned", "untitled", "plan"):
        (ids, scored), *_ = condition_items([planned], vocab, condition)
        counted = [t for t in targets_of(ids, scored) if t != PAD]
        assert vocab.decode(counted) == text, condition
