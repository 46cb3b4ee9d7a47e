"""The long-memory study: accuracy against distance T for each cell, and gradient norms.

Every (architecture, T, seed) trains a one-layer classifier in memory (no run folder: there are
dozens and each takes seconds) with the same steps, batch, rate and batches (tasks.py: a batch is a
function of seed and step), then is scored on 1,000 held-out sequences at that T. Chance is 1/8.
At one distance (`grad_distance`) the gradient norms ‖∂L_T/∂h_t‖ (and an LSTM's ‖∂L_T/∂C_t‖) are
recorded at initialisation and after training, for the first seed. Results are one JSON file under <home>/lab/, which `lab memory
show` and the studio's Lab pane read without torch.
"""

from __future__ import annotations

import json
import os
import stat
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tangstudio.engine import paths
from tangstudio.engine.atomic import write_text_atomic
from tangstudio.engine.errors import TangError

if TYPE_CHECKING:
    from tangstudio.engine.lab.config import LabConfig

# lstm-fb2 beside the plain LSTM: PyTorch starts the forget gate at b_f = 0 (f ≈ ½), so the plain
# LSTM alone forgets fastest of the three and seems to contradict the article (docs/study.md §2).
DEFAULT_ARCHS = ("rnn", "lstm", "lstm-fb2", "gru")
DEFAULT_DISTANCES = (10, 50, 100, 200)
GRAD_BATCH = 64


def parse_series(name: str) -> tuple[str, float]:
    """A series of the study: "rnn", "lstm", "gru", or "lstm-fb2" (an LSTM whose forget gate starts
    at b_f = 2, σ(2) ≈ 0.88, instead of PyTorch's b_f ≈ 0, σ ≈ ½) → (cell, forget bias)."""
    cell, _, rest = name.partition("-fb")
    if cell not in ("rnn", "lstm", "gru") or (rest and cell != "lstm"):
        raise TangError(f"unknown memory series {name!r}: use rnn, lstm, gru or lstm-fbN (forget bias N)")
    try:
        bias = float(rest) if rest else 0.0
    except ValueError:
        raise TangError(
            f"unknown memory series {name!r}: the forget bias after -fb must be a number"
        ) from None
    if not -10 <= bias <= 10:
        raise TangError(f"memory series {name!r}: forget bias must be between -10 and 10")
    return cell, bias


def results_path(name: str = "memory") -> Path:
    return paths.home() / "lab" / f"{paths.check_name(name, 'memory study')}.json"


def check_grid(
    archs: tuple[str, ...],
    distances: tuple[int, ...],
    seeds: tuple[int, ...],
    steps: int,
    hidden: int,
    rates: dict[str, float],
    batch_size: int,
    grad_distance: int,
    threads: int,
) -> None:
    """Every cell of the grid as the trainer will check it, before the first one trains: a bad
    batch size or T used to surface (or traceback) only after the cells before it had run."""
    from tangstudio.engine.lab.tasks import check_distance

    if not archs or not distances or not seeds:
        raise TangError("a memory study needs at least one cell, one distance and one seed")
    for T in distances:
        check_distance(T)
    if grad_distance not in distances:
        raise TangError(f"--grad-distance {grad_distance} must be one of the distances {list(distances)}")
    for arch in archs:
        parse_series(arch)
        if arch not in rates:
            raise TangError(f"no learning rate for {arch}")
        for T in distances:
            for seed in seeds:
                cell_config(arch, T, seed, steps, hidden, rates[arch], batch_size, threads).validate()


def cell_config(
    arch: str, distance: int, seed: int, steps: int, hidden: int, lr: float, batch_size: int, threads: int
) -> LabConfig:
    """The one cell (series, T, seed) of the grid as the study trains it, and as `check_grid` checks it
    beforehand: one construction, so the check cannot drift from what is trained."""
    from tangstudio.engine.lab.config import LabConfig

    cell, forget_bias = parse_series(arch)
    return LabConfig(
        run=f"memory-{arch}-T{distance}-s{seed}",
        task="memory",
        distance=distance,
        arch=cell,
        forget_bias=forget_bias,
        hidden=hidden,
        lr=lr,
        batch_size=batch_size,
        steps=steps,
        seed=seed,
        eval_every=max(steps, 1),  # once, at the end
        log_every=max(steps, 1),
        threads=threads,
    )


def lstm_note(study: dict[str, Any]) -> str | None:
    """Why the plain LSTM loses: said under a study that shows `lstm` without `lstm-fb2`, where a
    student would otherwise read the article's claim reversed with nothing to explain it."""
    archs = study["settings"]["archs"]
    if "lstm" not in archs or "lstm-fb2" in archs:
        return None
    return (
        "note: lstm starts at forget bias 0 (PyTorch's), so f ≈ ½ and it forgets fast; "
        "add lstm-fb2 (bias 2, f ≈ 0.88) to --archs to see the gate remember."
    )


def saved_studies() -> list[Path]:
    """The memory studies saved under <home>/lab, newest first (by when each was written)."""
    return [path for *_, path in _stamped_studies()]


def studies_signature() -> tuple[tuple[str, int], ...]:
    """The saved studies by name and time: when it changes, a view of them is out of date."""
    return tuple((name, mtime) for mtime, name, _ in _stamped_studies())


def _stamped_studies() -> list[tuple[int, str, Path]]:
    folder = paths.home() / "lab"
    listed = list(folder.glob("*.json")) if folder.is_dir() else []
    stamped = []
    for path in listed:
        try:  # one stat per file, and a file removed since the glob is passed over, not a traceback
            info = path.stat()
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            stamped.append((info.st_mtime_ns, path.name, path))
    return sorted(stamped, reverse=True)


def latest_results() -> tuple[Path, dict[str, Any]] | None:
    """The newest readable memory study of any name (a `--name m1` run is as much a study as
    `memory.json`), or None when there is none; files that are not memory studies are passed over."""
    for path in saved_studies():
        try:
            return path, load_results(path)
        except TangError:
            continue
    return None


def readable_studies() -> list[tuple[Path, dict[str, Any]]]:
    """Every saved memory study that reads as one, newest first: the studio's Lab pane steps
    through them, so a study saved with `--name rnn-long` is not hidden by a newer one."""
    studies = []
    for path in saved_studies():
        try:
            studies.append((path, load_results(path)))
        except TangError:
            continue
    return studies


def run_memory_study(
    archs: tuple[str, ...] = DEFAULT_ARCHS,
    distances: tuple[int, ...] = DEFAULT_DISTANCES,
    seeds: tuple[int, ...] = (0, 1, 2),
    steps: int = 600,  # docs/study.md's table (a student ran the defaults and got other figures)
    hidden: int = 64,
    lr: float | dict[str, float] = 3e-3,
    batch_size: int = 64,
    grad_distance: int = 100,
    threads: int = 1,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train every cell of the grid and return the whole study as a JSON-ready dict.

    `lr` is one rate for all, or one per architecture (each at its own best, from a sweep).
    """
    rates = lr if isinstance(lr, dict) else {arch: lr for arch in archs}
    check_grid(archs, distances, seeds, steps, hidden, rates, batch_size, grad_distance, threads)
    settings: dict[str, Any] = {
        "archs": list(archs),
        "distances": list(distances),
        "seeds": list(seeds),
        "steps": steps,
        "hidden": hidden,
        "lr": rates,
        "batch_size": batch_size,
        "grad_distance": grad_distance,
        "threads": threads,
        "chance": 1 / 8,
    }
    study: dict[str, Any] = {"kind": "lab-memory", "settings": settings, "runs": [], "gradients": {}}
    try:
        _train_grid(study, on_result)
    except KeyboardInterrupt:  # Ctrl+C keeps the runs already finished: a long grid is not thrown away
        raise StudyInterrupted(_reached(study)) from None
    return study


class StudyInterrupted(KeyboardInterrupt):
    """Ctrl+C during a memory study, carrying the study of the runs that finished before it."""

    def __init__(self, study: dict[str, Any]) -> None:
        super().__init__()
        self.study = study


def _reached(study: dict[str, Any]) -> dict[str, Any]:
    """An interrupted study, its settings listing only the cells and distances it has runs for."""
    runs = study["runs"]
    settings = study["settings"]
    return {
        **study,
        "settings": {
            **settings,
            "archs": [a for a in settings["archs"] if any(r["arch"] == a for r in runs)],
            "distances": [T for T in settings["distances"] if any(r["distance"] == T for r in runs)],
        },
        "interrupted": True,
    }


def gradient_record(before: dict[str, list[float]], after: dict[str, list[float]]) -> dict[str, list[float]]:
    """A series' saved norms: "init" and "trained" are ‖∂L_T/∂h_t‖ (what every study holds), and an
    LSTM's cell path ‖∂L_T/∂C_t‖ is under "init_C" and "trained_C" (studies since 2026-12-07)."""
    record = {"init": before["h"], "trained": after["h"]}
    if "C" in before:
        record |= {"init_C": before["C"], "trained_C": after["C"]}
    return record


def _train_grid(study: dict[str, Any], on_result: Callable[[dict[str, Any]], None] | None) -> None:
    """Train the grid of `study["settings"]` in order, adding each finished run to the study."""
    import torch

    from tangstudio.engine.lab.gradients import cell_grad_norms
    from tangstudio.engine.lab.models import ClassifierConfig, build_classifier, count_parameters
    from tangstudio.engine.lab.tasks import MemoryTask
    from tangstudio.engine.lab.train import classify, train_lab

    g = study["settings"]
    runs, gradients, seeds = study["runs"], study["gradients"], g["seeds"]
    torch.set_num_threads(g["threads"])
    for T in g["distances"]:
        task = MemoryTask(T)
        test = task.split("test")
        for arch in g["archs"]:
            cell, forget_bias = parse_series(arch)
            for seed in seeds:
                config = cell_config(
                    arch, T, seed, g["steps"], g["hidden"], g["lr"][arch], g["batch_size"], g["threads"]
                )
                want_grads = g["grad_distance"] == T and seed == seeds[0]
                if want_grads:
                    torch.manual_seed(seed)  # the very initial weights train_lab starts from
                    fresh = build_classifier(
                        ClassifierConfig(
                            cell, task.input_size, task.classes, g["hidden"], forget_bias=forget_bias
                        )
                    )
                    x, y = torch.from_numpy(test.x[:GRAD_BATCH]), torch.from_numpy(test.y[:GRAD_BATCH])
                    before = cell_grad_norms(fresh, x, y)
                cpu0, wall0 = time.process_time(), time.monotonic()
                result = train_lab(config, persist=False)
                cpu_s, wall_s = time.process_time() - cpu0, time.monotonic() - wall0
                assert result.model is not None
                probs = classify(result.model, test.x)
                accuracy = float((probs.argmax(axis=1) == test.y).mean())
                record = {
                    "arch": arch,
                    "distance": T,
                    "seed": seed,
                    "accuracy": accuracy,
                    "params": count_parameters(result.model),
                    "cpu_s": cpu_s,
                    "wall_s": wall_s,
                }
                runs.append(record)
                if want_grads:
                    after = cell_grad_norms(result.model, x, y)
                    gradients[arch] = gradient_record(before, after)
                if on_result is not None:
                    on_result(record)


def save_results(study: dict[str, Any], name: str = "memory", replace: bool = True) -> Path:
    """Where the study was saved. `replace=False`: never over a study saved meanwhile (two `lab memory
    run --name m1` at once both passed the check at their start, and the later overwrote the
    earlier: a fuzzing review); minutes of training are not thrown away either, so the study takes
    the next free name (m1-2.json) and the caller says so."""
    path = results_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while not replace:
        try:  # reserved by its creation: of two processes, one gets each name
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            break
        except FileExistsError:
            n += 1
            suffix = f"-{n}"
            path = results_path(name[: 64 - len(suffix)] + suffix)  # a name stays within its 64 characters
    try:
        write_text_atomic(path, json.dumps(study, indent=1))
    except BaseException:
        if not replace and path.exists() and path.stat().st_size == 0:
            path.unlink()  # the empty reservation would block the name and read as a broken study
        raise
    return path


def load_results(name_or_path: str | Path = "memory") -> dict[str, Any]:
    text = str(name_or_path)
    path = Path(text).expanduser() if text.endswith(".json") or "/" in text else results_path(text)
    if path.exists() and not path.is_file():  # a fifo was read forever, a folder said "[Errno 21]"
        raise TangError(f"{path} is not a file; a memory study is a .json file")
    try:
        study = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TangError(f"no memory study at {path}; run one with: tangstudio lab memory run") from None
    except (OSError, ValueError) as exc:
        raise TangError(f"{path} is not a readable memory study ({exc})") from None
    if not isinstance(study, dict) or study.get("kind") != "lab-memory":
        raise TangError(f"{path} is not a memory study")
    return study


def merge_results(studies: list[dict[str, Any]]) -> dict[str, Any]:
    """Studies with the same training settings at different distances (or of different cells),
    as one: e.g. the longest distance run as its own process. Gradient norms are kept per distance: the first study's
    at its grad_distance under "gradients", every study's under "gradients_by_distance"."""
    if not studies:
        raise TangError("nothing to merge")
    first = studies[0]["settings"]
    same = ("seeds", "steps", "hidden", "batch_size")
    for other in studies[1:]:
        rates = other["settings"]["lr"]
        differ = [
            f"{k} {first[k]} and {other['settings'][k]}" for k in same if other["settings"][k] != first[k]
        ]
        differ += [
            f"{arch}'s lr {first['lr'][arch]:g} and {rate:g}"
            for arch, rate in rates.items()
            if first["lr"].get(arch, rate) != rate
        ]
        if differ:  # "their settings agree" named none of them (a student's review)
            raise TangError(
                f"memory studies can only be merged when their training settings agree: {'; '.join(differ)}"
            )
    seen: set[tuple[str, int, int]] = set()
    for run in (r for s in studies for r in s["runs"]):
        key = (run["arch"], run["distance"], run["seed"])
        if key in seen:  # the same run twice would count as two seeds and show a spread of 0
            raise TangError(
                f"these studies both hold {key[0]} at T={key[1]} seed {key[2]}: merge studies of different cells or distances"
            )
        seen.add(key)
    distances = sorted({T for s in studies for T in s["settings"]["distances"]})
    archs = list(dict.fromkeys(a for s in studies for a in s["settings"]["archs"]))
    rates = {a: r for s in studies for a, r in s["settings"]["lr"].items()}
    by_distance = {str(s["settings"]["grad_distance"]): s["gradients"] for s in studies}
    return {
        **studies[0],
        "settings": {**first, "distances": distances, "archs": archs, "lr": rates},
        "runs": [r for s in studies for r in s["runs"]],
        "gradients_by_distance": by_distance,
        **({"interrupted": True} if any(s.get("interrupted") for s in studies) else {}),
    }


def summary(study: dict[str, Any]) -> list[dict[str, Any]]:
    """Accuracy mean ± sd over seeds, one row per (arch, T), in the study's order."""
    rows = []
    settings = study["settings"]
    for arch in settings["archs"]:
        for T in settings["distances"]:
            accs = [r["accuracy"] for r in study["runs"] if r["arch"] == arch and r["distance"] == T]
            if not accs:
                continue
            cpu = [r["cpu_s"] for r in study["runs"] if r["arch"] == arch and r["distance"] == T]
            rows.append(
                {
                    "arch": arch,
                    "distance": T,
                    "mean": statistics.fmean(accs),
                    "sd": statistics.stdev(accs) if len(accs) > 1 else 0.0,
                    "seeds": len(accs),
                    "accuracies": accs,
                    "cpu_s": statistics.fmean(cpu),
                }
            )
    return rows
