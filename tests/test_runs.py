"""Run directories: checkpoints verified on load, metrics readable while written, runs listed."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from tangstudio.engine.errors import TangError
from tangstudio.engine.runs import MetricsFollower, MetricsWriter, list_runs, load_checkpoint, read_metrics
from tangstudio.engine.runs.checkpoint import read_train_state


@pytest.fixture
def trained(tiny_corpus, home):
    from tangstudio.engine.training import TrainConfig, train

    train(
        TrainConfig(
            corpus=tiny_corpus,
            arch="gru",
            embed=8,
            hidden=12,
            layers=1,
            batch_size=16,
            steps=4,
            eval_every=2,
            samples=0,
            run="g",
        )
    )
    return home / "runs" / "g"


def test_load_checkpoint_by_name_run_dir_and_checkpoint_dir(trained):
    by_name = load_checkpoint("g")
    by_run = load_checkpoint(trained)
    by_dir = load_checkpoint(trained / "checkpoints" / "last")
    assert by_name.path == trained / "checkpoints" / "best" == by_run.path
    assert not by_name.model.training and by_name.causal and by_name.ppl_kind == "causal"
    assert by_name.vocab.itos == by_dir.vocab.itos and by_name.config.arch == "gru"
    meta = by_name.meta
    for key in (
        "vocab",
        "script",
        "corpus",
        "forms",
        "model",
        "step",
        "val_loss",
        "ppl_kind",
        "weights_sha256",
    ):
        assert key in meta
    assert meta["corpus"]["name"] == "tiny" and len(meta["corpus"]["fingerprint"]) >= 8
    for a, b in zip(by_name.model.parameters(), by_dir.model.parameters()):
        assert a.shape == b.shape


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_tampered_or_truncated_weights_are_refused(trained, damage):
    path = trained / "checkpoints" / "best" / "model.safetensors"
    blob = bytearray(path.read_bytes())
    if damage == "flip":
        blob[-3] ^= 0xFF
    else:
        blob = blob[: len(blob) // 2]
    path.write_bytes(bytes(blob))
    # A flipped byte fails the sha256; a cut file is caught first, by its header's sizes.
    with pytest.raises(TangError, match="sha256" if damage == "flip" else "truncated"):
        load_checkpoint(trained)


def _flip_a_byte(path) -> None:
    """Damage a file in place (flipping it twice mends it): its sha256 no longer matches."""
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 0xFF
    path.write_bytes(bytes(blob))


def test_runs_list_calls_a_run_with_damaged_best_weights_damaged_not_finished(trained):
    """`generate --model g` would refuse these weights, and a resume `last`'s, so the listing must not
    call the run finished (it once left `last` to `runs show`, which then disagreed with it)."""
    assert {r.name: r for r in list_runs()}["g"].status == "finished"
    best = trained / "checkpoints" / "best" / "model.safetensors"
    _flip_a_byte(best)
    listed = {r.name: r for r in list_runs()}["g"]
    assert listed.status == "damaged"
    assert listed.problems == ["checkpoints/best/model.safetensors: does not match its recorded sha256"]
    _flip_a_byte(best)  # best mended; last damaged
    _flip_a_byte(trained / "checkpoints" / "last" / "model.safetensors")
    listed = {r.name: r for r in list_runs()}["g"]
    assert listed.status == "damaged"
    assert listed.problems == ["checkpoints/last/model.safetensors: does not match its recorded sha256"]


@pytest.mark.parametrize(("which", "edit"), [("best", {"arch": "lstm"}), ("last", {"hidden": 24})])
def test_a_meta_that_describes_another_model_than_its_weights_is_damaged(trained, which, edit):
    """meta.json edited to name another architecture or size, its JSON valid and the weights' sha256
    right: `generate` refused it while `runs list` said finished and a resume wrote over it."""
    from tangstudio.engine.runs.rundir import resume_refusal, run_path

    meta_path = trained / "checkpoints" / which / "meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["model"].update(edit)
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    listed = {r.name: r for r in list_runs()}["g"]
    said = f"checkpoints/{which}/meta.json: does not fit its weights (the shapes it implies differ)"
    assert listed.status == "damaged" and listed.problems == [said], listed.problems
    refused = resume_refusal(run_path("g"))
    assert refused is not None and said in refused


def test_damaged_meta_and_train_state_are_refused(trained):
    meta = trained / "checkpoints" / "best" / "meta.json"
    meta.write_text(meta.read_text(encoding="utf-8")[:40], encoding="utf-8")
    with pytest.raises(TangError, match="truncated or damaged"):
        load_checkpoint(trained)
    state = trained / "checkpoints" / "last" / "train_state.safetensors"
    state.write_bytes(state.read_bytes()[:-10])
    with pytest.raises(TangError, match="truncated"):  # its header's sizes, before the sha256
        read_train_state(trained / "checkpoints" / "last")


def test_train_state_holds_optimizer_moments_and_rng(trained):
    tensors, info = read_train_state(trained / "checkpoints" / "last")
    assert any(k.endswith("exp_avg_sq") for k in tensors)
    assert tensors["rng.0.torch"].dtype == torch.uint8
    assert info["step"] == 4 and info["param_groups"]


def test_a_run_name_is_the_homes_run_before_a_folder_of_that_name_here(trained, tmp_path, monkeypatch):
    """A folder `g` in the current directory (an old copy of the run) shadowed the run `g`:
    `generate --model g` said "has no checkpoint yet" (a reliability review)."""
    from tangstudio.engine.runs.checkpoint import resolve_checkpoint

    here = tmp_path / "elsewhere"
    (here / "g").mkdir(parents=True)
    monkeypatch.chdir(here)
    assert resolve_checkpoint("g") == trained / "checkpoints" / "best"
    with pytest.raises(TangError, match="has no checkpoint yet"):
        resolve_checkpoint("./g")  # a path names the folder
    # the run's last/ standing in for a best/ it lacks is said, whatever folder of the name is here
    from tangstudio.engine.compose.refs import fallback_note

    shutil.rmtree(trained / "checkpoints" / "best")
    (here / "g" / "meta.json").write_text("{}", encoding="utf-8")
    note = fallback_note("g", resolve_checkpoint("g"))
    assert note is not None and "has no best/ checkpoint: using last/" in note, note
    (here / "solo").mkdir()
    with pytest.raises(TangError, match="has no checkpoint yet"):
        resolve_checkpoint("solo")  # no run of that name: the folder here, as before


def test_unknown_run_is_an_error():
    with pytest.raises(TangError, match="unknown run"):
        load_checkpoint("nothing-here")


def test_follower_holds_back_a_half_written_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    follower = MetricsFollower(path)
    assert follower.read_new() == []
    writer = MetricsWriter(path)
    writer.write({"event": "train", "step": 1})
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"event": "train", "st')
        handle.flush()
        assert [e["step"] for e in follower.read_new()] == [1]
        assert read_metrics(path) == [json.loads(path.read_text().splitlines()[0])]
        handle.write('ep": 2}\n')
    writer.write({"event": "done", "step": 3})
    assert [e["step"] for e in follower.read_new()] == [2, 3]
    assert follower.read_new() == []
    writer.close()


def test_list_runs_reports_status_and_best(trained, tiny_corpus):
    from tangstudio.engine.training import TrainConfig, train

    train(
        TrainConfig(
            corpus=tiny_corpus,
            arch="bilstm",
            embed=8,
            hidden=8,
            layers=1,
            batch_size=16,
            steps=3,
            samples=0,
            run="b",
        ),
        should_stop=lambda: True,
    )
    runs = {r.name: r for r in list_runs()}
    assert runs["g"].status == "finished" and runs["g"].steps == 4 and runs["g"].arch == "gru"
    assert runs["g"].params > 0 and runs["g"].best_val_ppl > 1 and runs["g"].ppl_kind == "causal"
    assert runs["b"].status == "interrupted" and runs["b"].ppl_kind == "pseudo" and runs["b"].steps == 1
    assert runs["g"].author == ""
    config = runs["g"].path / "config.toml"  # as `train --author 白居易` writes it: one poet's poems
    text = config.read_text(encoding="utf-8").replace("# end of", 'author = "白居易"\n# end of')
    config.write_text(text, encoding="utf-8")
    assert {r.name: r for r in list_runs()}["g"].author == "白居易"
    import io

    from rich.console import Console

    from tangstudio.cli.runs_cmd import _runs_table

    shown = Console(file=io.StringIO(), width=120)
    shown.print(_runs_table("poem models", [r for r in list_runs() if r.name == "g"], lab=False))
    assert "· 白居易" in shown.file.getvalue()  # `runs list` says the run is one poet's


def test_output_lost_after_the_done_line_leaves_the_run_interrupted(tiny_corpus, home):
    """A terminal closed with the trainer (SIGHUP, then EIO on the next print): the `done` line said
    interrupted, and printing it failed; the run must not gain a second `done` line saying failed."""
    import errno

    from tangstudio.engine.training import TrainConfig, train

    def closed_terminal(event: dict) -> None:
        if event.get("event") == "done":
            raise OSError(errno.EIO, "Input/output error")

    config = TrainConfig(
        corpus=tiny_corpus,
        arch="gru",
        embed=8,
        hidden=8,
        layers=1,
        batch_size=16,
        steps=50,
        samples=0,
        run="h",
    )
    with pytest.raises(TangError, match="Input/output error"):
        train(config, callbacks=closed_terminal, should_stop=lambda: True)
    done = [e for e in read_metrics(home / "runs" / "h" / "metrics.jsonl") if e["event"] == "done"]
    assert [d["status"] for d in done] == ["interrupted"]
    assert {r.name: r for r in list_runs()}["h"].status == "interrupted"


def test_a_run_that_lost_its_config_keeps_its_checkpoints(trained, tiny_corpus):
    """A resume of a run without config.toml advised "start it again without --resume", and that
    command overwrote both trained checkpoints and appended to the old metrics: both are refused."""
    import hashlib

    from tangstudio.engine.training import TrainConfig, train

    (trained / "config.toml").unlink()

    def state() -> dict[str, str]:
        return {
            str(p.relative_to(trained)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(trained.rglob("*"))
            if p.is_file() and p.name != "run.lock"
        }

    before = state()
    small = dict(corpus=tiny_corpus, arch="gru", embed=8, hidden=12, layers=1, batch_size=16, samples=0)
    for resume in (True, False):
        with pytest.raises(
            TangError,
            match=r"holds checkpoints/best/ and checkpoints/last/ and metrics.jsonl but no config.toml",
        ):
            train(TrainConfig(**small, steps=6, eval_every=2, run="g", resume=resume))
    assert state() == before


def test_the_resume_hint_names_the_home_as_an_absolute_path(tmp_path, monkeypatch):
    """`--home relh` was repeated as given, so the hint worked only from the folder it ran in."""
    from tangstudio.engine.runs.session import resume_command

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TANGSTUDIO_HOME", "relh")
    assert resume_command("rr") == f"tangstudio --home {tmp_path / 'relh'} train --headless --run rr --resume"


def test_a_run_killed_between_checkpoints_lists_the_step_it_resumes_from(trained):
    """After a SIGKILL `runs list` showed the 800 steps logged, and the resume began at 788."""
    from tangstudio.cli.runs_cmd import _runs_table

    done = trained / "metrics.jsonl"
    kept = [x for x in done.read_text().splitlines() if '"event": "done"' not in x]
    kept.append(json.dumps({"event": "train", "step": 6, "train_loss": 5.0}))  # logged, never saved
    done.write_text("\n".join(kept) + "\n")
    [run] = list_runs()
    assert run.status == "stopped" and run.steps == 6 and run.saved_step == 4
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(_runs_table("runs", [run], lab=False))
    steps = [line.split() for line in console.export_text().splitlines()]
    assert any("6" in words for words in steps) and any(words[-2:] == ["4", "saved"] for words in steps)


def test_a_run_without_its_config_is_shown_damaged_as_it_is_listed(trained):
    """An engineer's review: with config.toml gone `runs list` showed the run damaged, and `runs
    show` called it unknown. Both read it now; a folder that is no run at all is still unknown."""
    from tangstudio.engine.runs.rundir import open_run, summarize

    (trained / "config.toml").unlink()
    assert {r.name: r for r in list_runs()}["g"].status == "damaged"
    shown = summarize(open_run("g", damaged=True))
    assert shown.status == "damaged" and any("config.toml is missing" in p for p in shown.problems)
    with pytest.raises(TangError, match="unknown run"):
        open_run("g")  # what trains or composes still needs its config
    (trained.parent / "empty").mkdir()
    with pytest.raises(TangError, match="unknown run"):
        open_run("empty", damaged=True)


def test_checkpoints_without_their_metrics_are_damaged_at_their_step(trained):
    """An engineer's review: metrics.jsonl deleted, checkpoints at step 701: `runs list` said 0
    steps, stopped."""
    (trained / "metrics.jsonl").unlink()
    listed = {r.name: r for r in list_runs()}["g"]
    assert listed.status == "damaged" and listed.steps > 0
    assert any(p.startswith("metrics.jsonl is missing") for p in listed.problems), listed.problems


def test_runs_saved_before_a_setting_was_refused_still_read_as_they_trained():
    """A review: `--forms ''` and a bilstm's AWD-LSTM options, accepted before they were refused,
    made runs trained then "damaged" and unresumable; they read as what they did (every form; none)."""
    from tangstudio.engine.runs.train_config import TrainConfig, stored_config

    saved = TrainConfig(arch="bilstm", run="old").to_dict() | {
        "forms": "",
        "locked": True,
        "embed_dropout": 0.1,
    }
    config = stored_config(saved)
    assert config.forms == "all" and not config.locked and config.embed_dropout == 0.0
    with pytest.raises(TangError, match="AWD-LSTM"):  # what a new run asks for is still refused
        TrainConfig(arch="bilstm", run="new", locked=True).validate()
