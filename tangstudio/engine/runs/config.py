"""config.toml: the run's full training configuration, enough to reproduce it.

TOML has no null, so unset options (e.g. `steps` when training by `minutes`) are left out and come
back as the dataclass default. That is why a cut-short file must be caught rather than read: the
writer ends the file with a marker line, and the reader checks it (and the types) through
`schema.check_config`.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from tangstudio.engine.atomic import write_text_atomic
from tangstudio.engine.errors import TangError
from tangstudio.engine.runs.schema import (
    CONFIG_END,
    CONFIG_HEAD,
    MAX_CONFIG_BYTES,
    DamagedFile,
    check_config,
    read_text,
)


def write_config(path: Path, config: dict[str, Any]) -> None:
    """The options as TOML between CONFIG_HEAD and CONFIG_END, so a reader knows a cut-short file
    (files from before the marker lines have neither, and are checked for their core options)."""
    clean = {k: v for k, v in config.items() if v is not None}
    write_text_atomic(path, CONFIG_HEAD + "\n" + tomli_w.dumps(clean) + CONFIG_END + "\n")


def read_config(path: Path) -> dict[str, Any]:
    """The run's options, checked against TrainConfig's types; a damaged file is one line naming it.

    A file that is not TOML, was cut short (no CONFIG_END, or missing core options), or holds a
    value of the wrong type is refused: a run never quietly trains with defaults in its place.
    """
    path = Path(path)
    try:
        text = read_text(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise TangError(f"{path} is missing; is this a tangstudio run?") from None
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise DamagedFile(path, f"not valid TOML ({exc})") from None
    return check_config_text(text, data, path)


def check_config_text(text: str, data: object, path: Path, hand_written_ok: bool = False) -> dict[str, Any]:
    """`read_config`'s checks of a file already read and parsed: a file the trainer wrote (its head
    and end lines) must end whole; then the types, and the core options of a file with no marker
    lines, unless `hand_written_ok` (the studio's follower, which also shows folders made by hand)."""
    marked = text.startswith(CONFIG_HEAD) or CONFIG_END in text
    complete = text.rstrip().endswith(CONFIG_END)
    if marked and not complete:
        raise DamagedFile(path, f"was cut short (its last line is not {CONFIG_END!r})")
    return check_config(data, path, complete or (hand_written_ok and not marked))
