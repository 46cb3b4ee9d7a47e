"""Where tangstudio keeps runs and imported corpora, and where the shipped models are.

The home comes from `--home` (which sets TANGSTUDIO_HOME), then TANGSTUDIO_HOME, then the
platform's user data folder. Tests point TANGSTUDIO_HOME at a temporary folder so they never touch
the real one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs

from tangstudio.engine.errors import TangError

REPO_ROOT = Path(__file__).resolve().parents[2]
# Names that become one folder under the home (runs, corpora): never a path, never hidden.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_name(name: str, what: str) -> str:
    """`name` when it can be one folder under the home (a run, a corpus), else one clear line."""
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):  # fullmatch: `$` lets "ab\n" in
        raise TangError(
            f"invalid {what} name {str(name)!r}: use 1–64 letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit"
        )
    return name


def home() -> Path:
    """The home folder; one line when the path given is something other than a folder.

    It need not exist yet (it is created on the first write), but a file, /dev/null or a dangling
    link where the home should be is refused here rather than as a confusing error deep inside.
    """
    override = os.environ.get("TANGSTUDIO_HOME")
    path = (
        Path(override).expanduser()
        if override
        else platformdirs.user_data_path("tangstudio", appauthor=False)
    )
    if os.path.lexists(path) and not path.is_dir():
        kind = "a broken link" if not path.exists() else "not a folder"
        raise TangError(
            f"the tangstudio home {path} is {kind}; give --home a folder (it is created if missing)"
        )
    return path


def runs_dir() -> Path:
    return home() / "runs"


def corpora_dir() -> Path:
    return home() / "corpora"


def shipped_models_dir() -> Path:
    """The `models/` folder of the checkout, where the default model ships."""
    return Path(os.environ.get("TANGSTUDIO_MODELS", REPO_ROOT / "models"))
