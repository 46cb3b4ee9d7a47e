"""Where tangstudio keeps runs and imported corpora, and where the shipped models are.

The home comes from `--home` (which sets TANGSTUDIO_HOME), then TANGSTUDIO_HOME, then the
platform's user data folder. Tests point TANGSTUDIO_HOME at a temporary folder so they never touch
the real one.

The shipped models live in the checkout's top-level models/ (the card, models/README.md, sits
there). setup.py maps that folder to the package `tangstudio._models`, every subfolder included, so
a wheel carries it as site-packages/tangstudio/_models and an editable install maps the same name
back to the checkout's folder; `shipped_models_dir` asks importlib.resources for that package, never
for a path beside the source, so `pip install`, `pipx install` and a checkout all find one copy.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

import platformdirs

from tangstudio.engine.errors import TangError

# The checkout's root: what a source tree run without installing falls back to (shipped_models_dir).
REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_PACKAGE = "tangstudio._models"  # the name setup.py gives the models/ folder
# Names that become one folder under the home (runs, corpora): never a path, never hidden.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# A run name that `--model` and `eval` read as something else: `default` is the shipped model
# (compose/refs.py), so a run of that name trained and was then never the model used.
SHIPPED_MODEL_NAME = "default"


def check_name(name: str, what: str) -> str:
    """`name` when it can be one folder under the home (a run, a corpus), else one clear line."""
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):  # fullmatch: `$` lets "ab\n" in
        raise TangError(
            f"invalid {what} name {str(name)!r}: use 1–64 letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit"
        )
    return name


def check_new_run_name(name: str) -> str:
    """`name` for a training run about to be created: one folder (check_name) that no `--model`
    reads as the shipped model, refused the way `corpus import` refuses the bundled corpus's name.
    Only new runs: a folder of that name from before this rule still lists and resumes."""
    check_name(name, "run")
    if name == SHIPPED_MODEL_NAME:
        raise TangError(
            f"{name!r} is the shipped model's name (`generate --model {name}` and `eval {name}` use it, "
            "never a run): choose another --run name"
        )
    return name


def home_args() -> list[str]:
    """`--home` and the home as an absolute path when one was chosen (--home, TANGSTUDIO_HOME), for a
    command printed to paste: a relative home works only from the folder it was given in, and none
    at all resumes in the platform's home instead."""
    if not os.environ.get("TANGSTUDIO_HOME"):
        return []
    return ["--home", str(home().absolute())]


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
    above = next((p for p in path.absolute().parents if os.path.lexists(p)), None)
    if above is not None and not above.is_dir():  # afile/sub: nothing could ever be made there
        raise TangError(
            f"the tangstudio home {path} is inside {above}, which is not a folder; give --home a folder"
        )
    return path


def runs_dir() -> Path:
    return home() / "runs"


def run_folder(run: str) -> Path:
    """A run as the studio's `--run` takes it: a path when it has a separator, else a name here."""
    return Path(run).expanduser() if ("/" in run or os.sep in run) else runs_dir() / run


def corpora_dir() -> Path:
    return home() / "corpora"


def shipped_models_dir() -> Path:
    """The folder of the shipped models (default/, and any other subfolder): TANGSTUDIO_MODELS, else
    the installed package `tangstudio._models` (see the module's doc)."""
    override = os.environ.get("TANGSTUDIO_MODELS")
    return Path(override) if override else packaged_models_dir()


@cache
def packaged_models_dir() -> Path:
    """Where importlib.resources finds `tangstudio._models`: site-packages/tangstudio/_models from a
    wheel, the checkout's models/ from an editable install.

    models/__init__.py makes it a regular package: setuptools' editable finder does not import a
    namespace package mapped under a regular one, and `files` of a namespace package is no Path. Only
    a source tree that was never installed (PYTHONPATH=., or an editable install older than the
    mapping) lacks the package; it falls back to its own models/.
    """
    from importlib import resources  # here: --help and the studio's first frame never ask

    try:
        root = resources.files(MODELS_PACKAGE)
    except ModuleNotFoundError:
        return REPO_ROOT / "models"
    if not isinstance(root, Path):  # pragma: no cover - only an install left zipped (an egg, a zipapp)
        raise TangError(f"the shipped models are inside an archive ({root}): install tangstudio unpacked")
    return root
