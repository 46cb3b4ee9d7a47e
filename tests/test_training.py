"""The training engine: exact resume, bucketing, the agreed eval counting, run-directory errors."""

from __future__ import annotations

import json
import math

import pytest
import torch

from tangstudio.engine.errors import TangError
from tangstudio.engine.training import TrainConfig, train
from tangstudio.engine.training.batching import causal_batch, masked_batch, plan_epoch, shard
from tangstudio.engine.training.evaluate import evaluate

pytestmark = pytest.mark.slow


def tiny(corpus: str, **overrides) -> TrainConfig:
    base = dict(
        corpus=corpus,
        embed=16,
        hidden=24,
        layers=2,
        dropout=0.2,
        batch_size=16,
        eval_every=1000,
        log_every=3,
        samples=0,
        warmup=2,
    )
    base.update(overrides)
    return TrainConfig(**base)


def final_params(run_name: str) -> dict[str, torch.Tensor]:
    from tangstudio.engine.runs import load_checkpoint

    return load_checkpoint(run_name, which="last").model.state_dict()


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru", "bilstm"])
def test_resume_continues_exactly(tiny_corpus, arch):
    torch.set_num_threads(1)
    n = 9  # 18 steps cross the first epoch boundary (13 full batches of 16 on the tiny corpus)
    whole = train(tiny(tiny_corpus, arch=arch, steps=2 * n, run="whole"))
    calls = {"n": 0}

    def stop_after_n() -> bool:
        calls["n"] += 1
        return calls["n"] >= n

    half = train(tiny(tiny_corpus, arch=arch, steps=2 * n, run="split"), should_stop=stop_after_n)
    assert half.status == "interrupted" and half.step == n
    resumed = train(TrainConfig(run="split", resume=True))
    assert resumed.status == "finished" and resumed.step == 2 * n
    a, b = final_params("whole"), final_params("split")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6, rtol=0), key
    assert abs(whole.best_val_loss - resumed.best_val_loss) < 1e-6


def test_a_stop_asked_during_an_evaluation_ends_it_and_keeps_the_steps(tiny_corpus, home, monkeypatch):
    """Ctrl+C during an evaluation waited for all of it (11 s on a small model), silently, and a
    second Ctrl+C then dropped the steps since the last checkpoint. The evaluation now ends at its
    next batch and last/ is written at the step reached; the next evaluation the resume runs."""
    import functools

    import tangstudio.engine.training.trainer as trainer_module
    from tangstudio.engine.runs.checkpoint import read_meta

    # the tiny val split in batches of 64 tokens, so an evaluation has batches left to abandon
    monkeypatch.setattr(trainer_module, "evaluate", functools.partial(trainer_module.evaluate, max_tokens=64))
    calls = {"n": 0}

    def stop_once_evaluating() -> bool:
        calls["n"] += 1  # one call a step; the 5th step's call says no, its evaluation asks next
        return calls["n"] > 5

    result = train(
        tiny(tiny_corpus, steps=20, eval_every=5, log_every=1, run="ev"), should_stop=stop_once_evaluating
    )
    assert result.status == "interrupted" and result.step == 5
    events = [json.loads(x) for x in (home / "runs" / "ev" / "metrics.jsonl").read_text().splitlines()]
    assert not [e for e in events if e["event"] == "eval"]  # the abandoned evaluation logged nothing
    assert [e["status"] for e in events if e["event"] == "done"] == ["interrupted"]
    assert read_meta(home / "runs" / "ev" / "checkpoints" / "last")["step"] == 5
    resumed = train(TrainConfig(run="ev", resume=True))
    assert resumed.status == "finished" and resumed.step == 20


def test_a_stop_asked_as_an_evaluation_ends_keeps_it(tiny_corpus, home):
    """A stop that comes with the last batch scored throws nothing away: the evaluation is logged
    (and saved as best/), and the run stops at its next step."""
    calls = {"n": 0}

    def stop_once_evaluating() -> bool:
        calls["n"] += 1
        return calls["n"] > 5  # asked first after the last (here the only) batch of step 5's evaluation

    result = train(
        tiny(tiny_corpus, steps=20, eval_every=5, log_every=1, run="ek"), should_stop=stop_once_evaluating
    )
    events = [json.loads(x) for x in (home / "runs" / "ek" / "metrics.jsonl").read_text().splitlines()]
    assert [e["step"] for e in events if e["event"] == "eval"] == [5]
    assert result.status == "interrupted" and result.step == 6 and result.best_val_loss is not None


def test_metrics_file_has_the_agreed_keys(tiny_corpus, home):
    train(tiny(tiny_corpus, steps=6, eval_every=3, run="m", samples=2))
    run = home / "runs" / "m"
    events = [json.loads(line) for line in (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    kinds = [e["event"] for e in events]
    assert {"train", "eval", "checkpoint", "done"} <= set(kinds) and kinds[-1] == "done"
    for event in events:
        for key in (
            "event",
            "step",
            "epoch",
            "train_loss",
            "val_loss",
            "val_ppl",
            "lr",
            "chars_per_s",
            "elapsed_s",
            "time",
            "pad_fraction",
            "ppl_kind",
        ):
            assert key in event, (key, event)
    assert events[-1]["status"] == "finished"
    trains = [e for e in events if e["event"] == "train"]
    assert all(e["chars_per_s"] > 0 and 0 <= e["pad_fraction"] < 1 for e in trains)
    evals = [e for e in events if e["event"] == "eval"]
    assert all(math.isclose(e["val_ppl"], math.exp(e["val_loss"])) for e in evals)
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(samples) == 4 and all(s["text"] for s in samples)
    for which in ("best", "last"):
        assert (run / "checkpoints" / which / "model.safetensors").is_file()
        assert (run / "checkpoints" / which / "meta.json").is_file()
    assert (run / "checkpoints" / "last" / "train_state.safetensors").is_file()
    assert 'arch = "lstm"' in (run / "config.toml").read_text(encoding="utf-8")


def test_bilstm_perplexity_is_labelled_pseudo(tiny_corpus, home):
    result = train(tiny(tiny_corpus, arch="bilstm", steps=2, run="bi"))
    assert result.ppl_kind == "pseudo"
    meta = json.loads(
        (home / "runs" / "bi" / "checkpoints" / "best" / "meta.json").read_text(encoding="utf-8")
    )
    assert meta["ppl_kind"] == "pseudo"
    events = [
        json.loads(x)
        for x in (home / "runs" / "bi" / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert all(e["ppl_kind"] == "pseudo" for e in events)


def test_existing_run_is_not_overwritten(tiny_corpus, home):
    train(tiny(tiny_corpus, steps=2, run="keep"))
    before = {p: p.read_bytes() for p in (home / "runs" / "keep").rglob("*") if p.is_file()}
    with pytest.raises(TangError, match="already exists"):
        train(tiny(tiny_corpus, steps=4, run="keep"))
    after = {p: p.read_bytes() for p in (home / "runs" / "keep").rglob("*") if p.is_file()}
    assert before == after


def test_resume_refuses_a_changed_architecture(tiny_corpus):
    train(tiny(tiny_corpus, steps=2, run="r"))
    with pytest.raises(TangError, match="cannot change --hidden"):
        train(TrainConfig(run="r", resume=True, hidden=99), given={"hidden"})


def test_unknown_arch_and_corpus(tiny_corpus):
    with pytest.raises(TangError, match="unknown architecture"):
        train(tiny(tiny_corpus, arch="transformer", steps=1, run="x"))
    with pytest.raises(TangError, match="unknown corpus"):
        train(tiny("nope", steps=1, run="y"))


def test_buckets_keep_padding_under_a_tenth_on_the_real_corpus():
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import Vocab

    corpus = load_corpus("tang", "simplified")
    for forms in ("regulated", "all"):
        poems = [p for p in corpus.select(forms, "train")]
        vocab = Vocab.build((p.text for p in poems), "simplified")
        seqs = [s for s in (vocab.encode_poem(p.text, p.form) for p in poems) if len(s) <= 256]
        lengths = [len(s) for s in seqs]
        plan = plan_epoch(lengths, 64, seed=0, epoch=0)
        slots = sum(len(b) * (max(lengths[i] for i in b) - 1) for b in plan)
        real = sum(lengths[i] - 1 for b in plan for i in b)
        assert 1 - real / slots < 0.10, forms
        # Every poem at most once per epoch, all but one partial batch; the plan depends only on (seed, epoch).
        seen = [i for b in plan for i in b]
        assert len(seen) == len(set(seen)) and len(seqs) - len(seen) < 64 and all(len(b) == 64 for b in plan)
        assert plan == plan_epoch(lengths, 64, seed=0, epoch=0)
        assert plan != plan_epoch(lengths, 64, seed=0, epoch=1)


def test_rank_shards_partition_each_global_batch():
    lengths = [10 + (i * 7) % 40 for i in range(500)]
    for batch in plan_epoch(lengths, 32, seed=3, epoch=0, world=3):
        shards = [shard(batch, r, 3) for r in range(3)]
        assert sorted(x for s in shards for x in s) == sorted(batch) and all(shards)


def test_batches_count_chars_and_masks():
    seqs = [[5, 20, 21, 22, 3], [6, 30, 3]]
    batch = causal_batch(seqs)
    assert batch.chars == 4 + 2  # chars + <eos> per poem, start never a target
    assert batch.targets[1].tolist() == [30, 3, 0, 0]
    gen = torch.Generator().manual_seed(0)
    masked = masked_batch([[5, *range(20, 60), 3]], gen, 0.15, 0.30)
    share = (masked.inputs == 4).float().mean().item()
    assert 0.05 < share < 0.45 and masked.inputs[0, 0] == 5 and masked.targets[0, 0] == 0


def test_evaluate_counts_body_punctuation_and_end(tiny_corpus):
    from tangstudio.engine.corpus import load_corpus
    from tangstudio.engine.corpus.vocab import Vocab
    from tangstudio.engine.models import ModelConfig, build_model

    poems = load_corpus(tiny_corpus, "simplified").select("regulated", "val")
    vocab = Vocab.build([p.text for p in poems], "simplified")
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch="gru", vocab_size=len(vocab), embed=8, hidden=8, layers=1))
    result = evaluate(model, vocab, poems)
    assert result["chars"] == sum(len(p.text) + 1 for p in poems)
    assert math.isclose(result["bits_per_char"], result["loss"] / math.log(2))
    assert math.isclose(result["ppl"], math.exp(result["loss"]))
    # The same number one poem at a time: batching and padding change nothing.
    singles = [evaluate(model, vocab, [p]) for p in poems[:5]]
    nats = sum(r["loss"] * r["chars"] for r in singles)
    together = evaluate(model, vocab, poems[:5])
    assert math.isclose(nats / sum(r["chars"] for r in singles), together["loss"], rel_tol=1e-5)


def test_schedule_warms_up_then_decays_to_the_floor():
    from tangstudio.engine.training.schedule import lr_at, warmup_steps

    assert warmup_steps(200, 50) == 5 and warmup_steps(200, None) == 200
    ramp = [lr_at(s, s / 1000, 1.0, 10) for s in range(10)]
    assert ramp == sorted(ramp) and ramp[0] < 0.2
    assert lr_at(500, 0.5, 1.0, 10) == pytest.approx(0.55)
    assert lr_at(1000, 1.0, 1.0, 10) == pytest.approx(0.1)
    # A time-boxed run (steps unknown) leaves warm-up once a tenth of its time is used.
    assert lr_at(3, 0.1, 1.0, 200) > 0.9


def test_an_unknown_poet_is_refused_before_the_run_folder_is_made(tiny_corpus, home):
    """Refused after the folder was made, the run lived a moment: a studio scanning the runs then
    listed it for good, "waiting" with default settings. The runs folder must not even be touched."""
    import time

    runs = home / "runs"
    runs.mkdir(parents=True)
    time.sleep(0.05)  # past the file system's timestamp granularity
    before = runs.stat().st_mtime_ns
    with pytest.raises(TangError, match="no poet named"):
        train(tiny(tiny_corpus, steps=2, run="ghost", author="不存在"))
    assert list(runs.iterdir()) == [] and runs.stat().st_mtime_ns == before


@pytest.mark.parametrize(
    "failure",
    [
        MemoryError(),
        RuntimeError("[enforce fail at alloc_cpu.cpp:127] . DefaultCPUAllocator: can't allocate memory"),
    ],
)
def test_running_out_of_memory_is_one_line_and_leaves_no_run(tiny_corpus, failure, monkeypatch):
    """An engineer's review: sizes the checks accept can need tens of GB, and the allocator's failure
    came out as a forty-line traceback. The allocation is made to fail here (the machine has the
    memory); what is tested is what the trainer makes of it."""
    from tangstudio.engine.errors import TangError
    from tangstudio.engine.training.trainer import Trainer

    def fail(self):
        raise failure

    monkeypatch.setattr(Trainer, "run", fail)
    with pytest.raises(
        TangError, match=r"^run 'oom' ran out of memory \(embed 16, hidden 24, 2 layers, batch 16\)"
    ):
        train(tiny(tiny_corpus, run="oom", steps=2))
    from tangstudio.engine import paths

    assert not (paths.runs_dir() / "oom").exists()  # a new run that never trained leaves no folder
    with pytest.raises(RuntimeError, match="something else"):  # other errors are not taken for it
        monkeypatch.setattr(
            Trainer, "run", lambda self: (_ for _ in ()).throw(RuntimeError("something else"))
        )
        train(tiny(tiny_corpus, run="oom2", steps=2))


def test_a_run_refused_by_a_read_only_home_says_to_mend_it_first(home):
    """ "start it again with the same command" on a read-only home: the same command fails the same way."""
    import errno as errno_

    from tangstudio.engine.training.loop import next_move

    config = TrainConfig(run="ro")
    said = next_move(config, PermissionError(errno_.EACCES, "Permission denied"))
    assert "make the home writable (or give another --home), then start it again" in said
    assert "make the home" in next_move(config, OSError(errno_.EROFS, "Read-only file system"))
    assert "make the home" not in next_move(config, OSError(errno_.ENOSPC, "No space left on device"))
