#!/usr/bin/env python3
"""A larger default model, trained in one call on a lent GPU (issue 22).

Why: the blind readers follow the model, about one point of their overall score per nat of loss
(docs/quality.md, twelfth stop). Issue 22's 2.5 needs a regulated val perplexity near 47 (untitled).
The shipped 2×512 LSTM is at 59 after about 8 hours on this project's 2-core CPU. A device session
has 15 minutes in all, so everything happens in one prepared call, with two chains sharing the GPU:
"wide", a 2×768 LSTM from scratch, and "cont", the shipped model trained on in its own shape. The
wide one is near the composer's limit: `generate -n 1` took 1.6–1.7 s here with an untrained
2×768 model, against 1.2–1.3 s for the shipped one and the 1.5 s asked. Each chain reads every form
of the Song poems that share no line with a Tang val or test poem, then every Tang form, as legs 4
and 5 did (models/README.md, "The next model, on a GPU").

    python scripts/gpu_leg.py pack                  # here, once: .gpu/ (the wheels the device
                                                    # lacks, the clean Song poems as text)
    device `run`: command "python3 scripts/gpu_leg.py train", carry [".gpu"], timeout_s 590
    python scripts/gpu_leg.py unpack FILES_AT       # here: the runs into your runs folder
    python scripts/eval_regulated.py default wide-tang cont-tang   # compare; ship_default_model.py
    python scripts/gpu_leg.py train --dry-run-on-cpu    # every step, tiny, on this CPU

`pack` needs the `song-clean` corpus (scripts/default_recipes.sh, leg 5). The device has no
network and returns at most 8 files of 16 MiB: `train` imports the Song text there, trains both
chains within its budget, and returns the runs (config, metrics, each chain's best checkpoint) as a
tar cut into 15 MiB parts with its checksum; `unpack` checks and joins them.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import lzma
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PACK = ROOT / ".gpu"  # ignored by git; named in the device call's carry
SONG_TEXT = "song.txt.xz"
WHEELS = (  # what the trainer imports that the device image lacks, or has in another version
    "opencc==1.4.2",
    "platformdirs==4.14.9",
    "tomli-w==1.2.0",
    "typer==0.28.0",
    "click==8.5.1",
    "annotated-doc==0.0.7",
)
# Characters with punctuation: every regulated poem and most 古体, within the 64 MiB a call carries.
MAX_BODY = 120
PART_BYTES = 15 * 2**20  # under the 16 MiB a returned file may hold
MANIFEST = "manifest.json"
BUDGET_S = 540  # the device call's timeout is 590 s: 50 s for the start of Python and the return
SONG_SHARE = 0.75  # of the time left when a Song phase starts, less two starts (phase_minutes)

# Two chains share the GPU (a small LSTM leaves most of it idle), so one call also says whether width
# or more epochs of the shipped shape pays. Unmeasured on a GPU (none was lent when this was written):
# first guesses from the CPU legs (batch 64, lr 3e-4 from a trained model).
WIDE = ["--arch", "lstm", "--embed", "384", "--hidden", "768", "--layers", "2", "--tied"]
TINY = ["--arch", "lstm", "--embed", "16", "--hidden", "32", "--layers", "1", "--tied"]
REGULARISE = ["--dropout", "0.2", "--locked", "--weight-drop", "0.15"]
WIDE_SONG = ["--batch-size", "256", "--lr", "2e-3", "--warmup", "200", "--seed", "7"]  # from scratch
WIDE_TANG = ["--batch-size", "128", "--lr", "5e-4", "--warmup", "50", "--seed", "8"]
CONT_SONG = ["--batch-size", "128", "--lr", "3e-4", "--warmup", "50", "--seed", "9"]  # from the shipped model
CONT_TANG = ["--batch-size", "128", "--lr", "2e-4", "--warmup", "50", "--seed", "10"]
RETURN_BYTES = 63 * 2**20  # a call returns 64 MiB in all: both checkpoints (43.6 + 22.1 MB) fit


def song_lines(poems, max_body: int = MAX_BODY) -> list[str]:
    """`title:body` lines for `corpus import --format text`: short, complete poems only."""
    lines = []
    for poem in poems:
        if poem.lost or len(poem.text) > max_body:
            continue
        title = "".join(c for c in poem.title if c not in ":：，。！？\n")[:40]
        lines.append(f"{title}:{poem.text}" if title else poem.text)
    return lines


def pack(out: Path) -> None:
    from tangstudio.engine.corpus import load_corpus

    out.mkdir(exist_ok=True)
    lines = song_lines(load_corpus("song-clean", "simplified").poems)
    text = "\n".join(lines).encode("utf-8")
    (out / SONG_TEXT).write_bytes(lzma.compress(text, preset=9 | lzma.PRESET_EXTREME))
    platforms = ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version",
         "3.12", "--implementation", "cp", *[f"--platform={p}" for p in platforms], "-d", str(out), *WHEELS],
        check=True,
    )  # fmt: skip
    size = sum(p.stat().st_size for p in out.iterdir()) / 2**20
    print(f"{out}: {len(lines):,} Song poems, {size:.1f} MiB with the wheels")


def bundle(
    run_dirs: list[Path], weights_of: list[Path], out: Path, part_bytes: int = PART_BYTES
) -> list[Path]:
    """The runs' config and metrics, and the best checkpoints of `weights_of` (in that order, while
    they fit in what a call returns), as a tar in parts with its checksum."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for run in run_dirs:
            for name in ("config.toml", "metrics.jsonl"):
                if (run / name).exists():
                    tar.add(run / name, arcname=f"{run.name}/{name}")
        for run in weights_of:
            best = run / "checkpoints" / "best"
            size = sum(f.stat().st_size for f in best.iterdir())
            if buffer.tell() + size > RETURN_BYTES:
                print(
                    f"!! {run.name}: its checkpoint ({size / 1e6:.1f} MB) does not fit; left there",
                    flush=True,
                )
                continue
            tar.add(best, arcname=f"{run.name}/checkpoints/best")
    blob = buffer.getvalue()
    parts = []
    for index, start in enumerate(range(0, len(blob), part_bytes)):
        part = out / f"runs.tar.{index:02d}"
        part.write_bytes(blob[start : start + part_bytes])
        parts.append(part)
    manifest = {"sha256": hashlib.sha256(blob).hexdigest(), "parts": [p.name for p in parts]}
    (out / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return parts


def unbundle(folder: Path, runs: Path) -> list[str]:
    """Join and check the parts, then unpack the runs; a run already there is never overwritten."""
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    blob = b"".join((folder / name).read_bytes() for name in manifest["parts"])
    if hashlib.sha256(blob).hexdigest() != manifest["sha256"]:
        raise SystemExit(f"{folder}: the parts do not match their manifest; fetch them again")
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        names = sorted({m.name.split("/", 1)[0] for m in tar.getmembers()})
        taken = [n for n in names if (runs / n).exists()]
        if taken:
            raise SystemExit(f"runs already there, left as they are: {', '.join(taken)}")
        for member in tar.getmembers():  # plain files and folders inside the runs folder, nothing else
            if (
                not (member.isfile() or member.isdir())
                or Path(member.name).is_absolute()
                or ".." in member.name
            ):
                raise SystemExit(f"{folder}: {member.name!r} is not a run's file; nothing unpacked")
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
            tar.extractall(runs, filter="data")
        else:
            tar.extractall(runs)  # its members are checked above
    return names


def tangstudio(args: list[str], env: dict[str, str], deadline: float, label: str = "") -> int:
    """One `tangstudio` command, its lines marked with `label` (two chains print at once), killed at
    the deadline (the budget is the device call's); 124 when it was."""
    left = deadline - time.monotonic()
    if left < 10:
        print(f"!! {label} skipped, the budget is spent: tangstudio {' '.join(args)}", flush=True)
        return 124
    print(f"== {label} tangstudio {' '.join(args)}", flush=True)
    command = [sys.executable, "-m", "tangstudio", *args]
    with subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        timer = threading.Timer(left, proc.kill)
        timer.start()
        assert proc.stdout is not None
        for line in proc.stdout:
            print(f"{label} {line}", end="", flush=True)
        code = proc.wait()
        timed_out = not timer.is_alive()
        timer.cancel()
    if timed_out:
        print(f"!! {label} timed out", flush=True)
        return 124
    return code


def _product(runs: Path, chain: list[tuple[str, list[str]]]) -> Path | None:
    for name, _ in reversed(chain):
        if not name.endswith("-init") and (runs / name / "checkpoints" / "best").exists():
            return runs / name
    return None


# What `train` needs there, imported once before any phase starts: a missing one fails in seconds,
# while device time is left to fix it and call again.
PRECHECK = (
    "import opencc, platformdirs, tomli_w, typer, torch, tangstudio.cli.app, tangstudio.engine.runs.session, "
    "tangstudio.engine.training.trainer, tangstudio.engine.corpus.importer; "
    "assert torch.cuda.is_available() or {dry}, 'torch sees no CUDA GPU'"
)
START_MIN = 0.75  # a phase's start, last evaluation and save, beyond its --minutes


def phase_minutes(name: str, deadline: float, dry_run: bool) -> str:
    """--minutes for a phase starting now: the Song phases take SONG_SHARE of what is left after
    two starts, a Tang phase all that is left after one (both chains have the same deadline)."""
    if dry_run:
        return "0.15" if name.endswith("-song") else "0.10"
    left = (deadline - time.monotonic()) / 60
    minutes = (left - 2 * START_MIN) * SONG_SHARE if name.endswith("-song") else left - START_MIN
    return f"{max(minutes, 0.2):.2f}"


def train(dry_run: bool, out: Path, budget_s: float) -> int:
    start = time.monotonic()
    deadline = start + budget_s
    home = Path(tempfile.mkdtemp(prefix="gpu-leg-"))
    env = {**os.environ, "TANGSTUDIO_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    if not dry_run:  # the device's Python lacks these; they travel as wheels (pack)
        site = home / "site"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
             "--target", str(site), *map(str, PACK.glob("*.whl"))],
            check=True,
        )  # fmt: skip
        env["PYTHONPATH"] = f"{site}{os.pathsep}{ROOT}"
    check = subprocess.run([sys.executable, "-c", PRECHECK.format(dry=dry_run)], env=env, cwd=ROOT)
    if check.returncode != 0:
        print("!! the device lacks what the trainer imports (above); nothing was trained", flush=True)
        return 1
    text = lzma.decompress((PACK / SONG_TEXT).read_bytes()).decode("utf-8")
    if dry_run:
        text = "\n".join(text.splitlines()[:3000])
    (home / "song.txt").write_text(text, encoding="utf-8")
    device, wide = ("cpu", TINY) if dry_run else ("cuda", WIDE)
    song_text = str(home / "song.txt")
    imported = tangstudio(
        ["corpus", "import", song_text, "--name", "song-gpu", "--format", "text"], env, deadline, "[song]"
    )
    # wide-init: one step on the regulated Tang poems, for the shipped model's vocabulary (Song's is 60 %
    # larger, and the composer's step streams the output layer); shape and vocabulary then carry over.
    chains = [
        [("wide-init", [*wide, "--corpus", "tang", "--forms", "regulated", "--steps", "1", "--eval-poems", "20"]),
         ("wide-song", [*WIDE_SONG, "--init-from", "wide-init", "--corpus", "song-gpu"]),
         ("wide-tang", [*WIDE_TANG, "--init-from", "wide-song", "--corpus", "tang"])],
        [("cont-song", [*CONT_SONG, "--init-from", "default", "--corpus", "song-gpu"]),
         ("cont-tang", [*CONT_TANG, "--init-from", "cont-song", "--corpus", "tang"])],
    ]  # fmt: skip
    common = ["train", "--headless", "--device", device, *REGULARISE, "--forms", "all", "--eval-every", "0",
              "--eval-poems", "500", "--samples", "0", "--checkpoint-every", "1"]  # fmt: skip
    runs = home / "runs"
    returning = threading.Lock()

    def send_back() -> list[Path]:
        """Bundle what exists now, so a call cut short still returns the phases that finished."""
        with returning:
            trained = [runs / n for chain in chains for n, _ in chain if not n.endswith("-init")]
            trained = [run for run in trained if run.exists()]
            # each chain's product: its last run with a best checkpoint (the Tang phase, else the Song one)
            weights_of = [run for run in (_product(runs, chain) for chain in chains) if run is not None]
            for stale in out.glob("runs.tar.*"):
                stale.unlink()
            return bundle(trained, weights_of, out) if trained else []

    def run_chain(chain: list[tuple[str, list[str]]]) -> int:
        code = imported
        for name, phase in chain:
            if code == 0:  # each phase starts from the one before (its best checkpoint)
                budget = (
                    [] if name.endswith("-init") else ["--minutes", phase_minutes(name, deadline, dry_run)]
                )
                code = tangstudio([*common, *phase, *budget, "--run", name], env, deadline, f"[{name}]")
                send_back()
        return code

    with ThreadPoolExecutor(len(chains)) as pool:
        codes = list(pool.map(run_chain, chains))
    parts = send_back()
    products = [run.name for run in (_product(runs, chain) for chain in chains) if run is not None]
    took = time.monotonic() - start
    print(
        f"== returned {[p.name for p in parts]} (checkpoints of {products}) in {took:.0f} s; phases exit {codes}"
    )
    return 0 if products else 1  # a phase stopped at the deadline (124) still returned its checkpoints


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    sub.add_parser("pack", help="here: the wheels and Song text the device call carries (.gpu/)")
    run = sub.add_parser("train", help="on the device: import, train both phases, return the runs in $OUT")
    run.add_argument(
        "--dry-run-on-cpu", action="store_true", help="tiny model, 3,000 Song poems, on this CPU"
    )
    run.add_argument("--out", type=Path, default=None, help="where the parts go (default: $OUT)")
    run.add_argument("--budget", type=float, default=BUDGET_S, help="seconds for the whole call")
    unpack = sub.add_parser("unpack", help="here: the returned parts into the runs folder")
    unpack.add_argument("folder", type=Path, help="the call's files_at")
    args = parser.parse_args()
    if args.verb == "pack":
        pack(PACK)
        return 0
    if args.verb == "train":
        out = args.out or Path(os.environ.get("OUT") or tempfile.mkdtemp(prefix="gpu-leg-out-"))
        out.mkdir(parents=True, exist_ok=True)
        return train(args.dry_run_on_cpu, out, args.budget)
    from tangstudio.engine import paths

    names = unbundle(args.folder, paths.runs_dir())
    print(f"unpacked {', '.join(names)} into {paths.runs_dir()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
