"""What each file of a run folder must hold, checked whenever it is read — torch-free.

A run folder is edited by hand, copied half-way, synced from a server and cut short by a full
disk. Whatever is in it, a reader must either get values of the promised shape or one line that
names the file and what is wrong with it. So every read here goes through two gates:

- `read_text`: the path must be a regular file (not a folder, a device such as /dev/zero, or a
  FIFO that would block) no larger than the limit for its kind, and valid UTF-8;
- a hand-written schema per file: metrics and samples lines (`check_event`, `check_sample`; the
  numeric keys are those `events.py` documents as floats),
  config.toml (`check_config`), a checkpoint's meta.json as `runs` shows it (`check_meta_summary`),
  and the training state's param groups (`check_train_state`).

A damaged metrics or samples line is skipped and counted (one torn line must not hide a run); a
damaged config.toml or meta.json is an error naming the file (a run never silently falls back to
defaults). Everything raises `DamagedFile`, a `TangError`, so both faces show one line.
"""

from __future__ import annotations

import dataclasses
import math
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO, TypeGuard

from tangstudio.engine.errors import TangError

MAX_CONFIG_BYTES = 1 << 20  # config.toml is ~600 bytes
MAX_JSONL_BYTES = 512 << 20  # metrics.jsonl: ~300 bytes an event; a month of training is far less
CONFIG_HEAD = "# tangstudio run configuration (complete when the last line is the end line)"
CONFIG_END = "# end of config.toml"  # written last: a file that starts with CONFIG_HEAD needs it
# Keys every training run's config.toml has had since the first release: a file written before the
# end marker existed must still have all of these, so a cut-short old file is caught as well.
CORE_CONFIG_KEYS = ("arch", "corpus", "forms", "script", "embed", "hidden", "layers", "lr", "batch_size")


def _float_keys() -> tuple[str, ...]:
    """The keys events.py declares as floats: one schema, documented there and checked here."""
    from tangstudio.engine.runs import events

    kinds = (events.LoggedBase, events.EvalEvent, events.CheckpointEvent)
    return tuple(
        dict.fromkeys(k for kind in kinds for k, t in kind.__annotations__.items() if "float" in str(t))
    )


NUMBER_KEYS = _float_keys()  # epoch, train_loss, val_loss, val_ppl, lr, ..., val_bits_per_char, save_s


class DamagedFile(TangError):
    """A file of a run folder that cannot be what it should be; the message names it and why."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path} is damaged: {reason}")


def read_upto(handle: BinaryIO, most: int) -> bytes:
    """At most `most` bytes, read a MB at a time: `read(most)` allocates `most` bytes up front
    (512 MB for every poll of a metrics file, whatever its size)."""
    chunks, total = [], 0
    while total < most:
        chunk = handle.read(min(1 << 20, most - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def read_bytes(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; FileNotFoundError passes through.

    The type is checked before opening, so a FIFO never blocks and /dev/zero is never read.
    """
    path = Path(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise DamagedFile(path, f"cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise DamagedFile(path, "is a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise DamagedFile(path, "is not a regular file (a device, socket or pipe)")
    if info.st_size > limit:
        raise DamagedFile(path, f"is {info.st_size:,} bytes, more than the {limit:,} such a file may be")
    try:
        with open(path, "rb") as handle:
            data = read_upto(handle, limit + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise DamagedFile(path, f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise DamagedFile(path, f"grew past the {limit:,} bytes such a file may be")
    return data


def read_text(path: Path, limit: int) -> str:
    """`read_bytes`, decoded as strict UTF-8 (a bit flip in a multi-byte character is damage)."""
    data = read_bytes(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DamagedFile(path, f"is not UTF-8 text (byte {exc.start:,})") from None


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_event(value: object) -> tuple[dict[str, Any] | None, str | None]:
    """(event, None) for a usable metrics line, (None, reason) for one to skip.

    Every event has a string `event` and a whole, non-negative `step`. Numbers are numbers or
    null; a non-finite one (a diverged loss, `1e400`) is kept as null, since it cannot be plotted
    or compared and a diverged run's own events are not damage.
    """
    if not isinstance(value, dict):
        return None, f"a JSON {type(value).__name__}, not an object"
    if not isinstance(value.get("event"), str):
        return None, "no event name"
    step = value.get("step")
    if not _is_int(step) or step < 0:
        return None, f"step {_short(step)} is not a whole number ≥ 0"
    clean = dict(value)
    for key in NUMBER_KEYS:
        number = clean.get(key)
        if number is None:
            continue
        if not _is_number(number):
            return None, f"{key} {_short(number)} is not a number"
        if not math.isfinite(number):
            clean[key] = None
    if clean["event"] == "done" and not isinstance(clean.get("status", "finished"), str):
        return None, "status is not a string"
    return clean, None


def check_sample(value: object) -> tuple[dict[str, Any] | None, str | None]:
    """(record, None) for a samples.jsonl line with a whole step and a text string, else (None, reason)."""
    if not isinstance(value, dict):
        return None, f"a JSON {type(value).__name__}, not an object"
    step = value.get("step")
    if not _is_int(step) or step < 0:
        return None, f"step {_short(step)} is not a whole number ≥ 0"
    if not isinstance(value.get("text"), str):
        return None, "no text"
    if not isinstance(value.get("form", ""), str):
        return None, "form is not a string"
    return value, None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


def _field_types(annotation: str) -> tuple[type, ...]:
    """The JSON/TOML types a dataclass field annotated `int | None` (etc.) accepts."""
    names = {part.strip() for part in str(annotation).split("|")}
    kinds: list[type] = []
    if "int" in names:
        kinds.append(int)
    if "float" in names:
        kinds += [int, float]
    if "str" in names:
        kinds.append(str)
    if "bool" in names:
        kinds.append(bool)
    return tuple(kinds)


def check_config(data: object, path: Path, complete: bool) -> dict[str, Any]:
    """A run's config.toml as a dict whose known keys have the types TrainConfig declares.

    `complete` says the file ended with CONFIG_END; without it (runs written before the marker) the
    core keys must all be there, so a file cut short is never filled in with defaults.
    """
    if not isinstance(data, dict):
        raise DamagedFile(path, "is not a table of options")
    if data.get("kind") not in (None, "train"):
        return data  # another kind of run (e.g. `lab`): its own config class checks the rest
    missing = [key for key in CORE_CONFIG_KEYS if key not in data]
    if missing and not complete:
        raise DamagedFile(path, f"was cut short: no {', '.join(missing)}")
    from tangstudio.engine.runs.train_config import TrainConfig  # torch-free

    for field in dataclasses.fields(TrainConfig):
        if field.name not in data:
            continue
        value, kinds = data[field.name], _field_types(str(field.type))
        wrong = not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)
        if wrong or (isinstance(value, float) and not math.isfinite(value)):
            raise DamagedFile(path, f"{field.name} = {_short(value)} is not a valid {field.type}")
    return data


def check_meta_summary(meta: dict[str, Any], path: Path) -> dict[str, Any]:
    """The few meta.json values `runs list/show` print (step, params, val_loss of the right types),
    and the vocabulary a model is read with."""
    step = meta.get("step")
    if step is not None and (not _is_int(step) or step < 0):
        raise DamagedFile(path, f"step {_short(step)} is not a whole number ≥ 0")
    params = meta.get("params")
    if params is not None and (not _is_int(params) or params < 0):
        raise DamagedFile(path, f"params {_short(params)} is not a whole number ≥ 0")
    for key in ("val_loss", "val_ppl"):
        value = meta.get(key)
        if value is not None and not _is_number(value):
            raise DamagedFile(path, f"{key} {_short(value)} is not a number")
    check_meta_vocab(meta, path)
    return meta


def check_meta_vocab(meta: dict[str, Any], path: Path) -> None:
    """A poem checkpoint's vocabulary: distinct strings, as many as the model has rows. A review cut
    `itos` to 100 entries (`runs list` said finished, `generate` refused) and wrote 月 in 日's place
    (it generated, and 日 could never be written). A lab checkpoint has none."""
    vocab, model = meta.get("vocab"), meta.get("model")
    if vocab is None and not isinstance(model, dict):
        return
    itos = vocab.get("itos") if isinstance(vocab, dict) else None
    if not isinstance(itos, list) or not all(isinstance(s, str) for s in itos):
        raise DamagedFile(path, "vocab.itos is not a list of strings")
    from tangstudio.engine.corpus.vocab import repeated_entry

    twice = repeated_entry(itos)
    if twice is not None:
        raise DamagedFile(path, f"the vocabulary holds {twice!r} twice")
    size = model.get("vocab_size") if isinstance(model, dict) else None
    if _is_int(size) and size != len(itos):
        raise DamagedFile(path, f"the vocabulary has {len(itos):,} entries and the model {size:,}")
    if isinstance(model, dict):  # "hidden": "abc": `runs list` said finished, every model command refused it
        from tangstudio.engine.models.config import ModelConfig

        try:
            ModelConfig.from_dict(model)
        except TangError as exc:
            raise DamagedFile(path, f"model: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise DamagedFile(path, f"model: malformed ({exc})") from None


def check_train_state(info: dict[str, Any], path: Path | str) -> dict[str, Any]:
    """train_state.json: a list of param groups (objects with a numeric lr and integer params)
    and integer counters, before any of it reaches the optimizer."""
    groups = info.get("param_groups")
    if not isinstance(groups, list) or not groups:
        raise DamagedFile(path, "param_groups is not a list of groups")
    for group in groups:
        if not isinstance(group, dict):
            raise DamagedFile(path, "a param group is not an object")
        params = group.get("params")
        if not isinstance(params, list) or not all(_is_int(p) for p in params):
            raise DamagedFile(path, "a param group's params are not a list of indices")
        lr = group.get("lr")
        if not _is_number(lr) or not math.isfinite(lr):
            raise DamagedFile(path, f"a param group's lr {_short(lr)} is not a finite number")
    for key in ("step", "epoch", "batch_pos", "train_chars"):
        if key in info and (not _is_int(info[key]) or info[key] < 0):
            raise DamagedFile(path, f"{key} {_short(info[key])} is not a whole number ≥ 0")
    if "elapsed_s" in info and not (_is_number(info["elapsed_s"]) and math.isfinite(info["elapsed_s"])):
        raise DamagedFile(path, f"elapsed_s {_short(info['elapsed_s'])} is not a finite number")
    scalars = info.get("optim_scalars", {})
    if not isinstance(scalars, dict) or not all(isinstance(k, str) and "." in k for k in scalars):
        raise DamagedFile(path, "optim_scalars is not an object of '<index>.<name>' keys")
    return info


def jsonl_events(
    text: str, check: Any = check_event, first_line: int = 1
) -> tuple[list[dict[str, Any]], int, str | None]:
    """(valid records, lines skipped, why the first was skipped) from complete JSONL text."""
    import json

    records: list[dict[str, Any]] = []
    skipped, first = 0, None
    for number, line in enumerate(text.splitlines(), first_line):
        line = line.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            record, reason = None, "not valid JSON"
        else:
            record, reason = check(value)
        if record is None:
            skipped += 1
            first = first or f"line {number}: {reason}"
        else:
            records.append(record)
    return records, skipped, first
