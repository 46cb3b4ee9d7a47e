"""config.toml: the run's full training configuration, enough to reproduce it.

TOML has no null, so unset options (e.g. `steps` when training by `minutes`) are left out and come
back as the dataclass default.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import tomli_w

from tangstudio.engine.atomic import write_text_atomic
from tangstudio.engine.errors import TangError


def write_config(path: Path, config: dict) -> None:
    clean = {k: v for k, v in config.items() if v is not None}
    write_text_atomic(path, tomli_w.dumps(clean))


def read_config(path: Path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TangError(f"{path} is missing; is this a tangstudio run?") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TangError(f"{path} is not valid TOML ({exc})") from None
