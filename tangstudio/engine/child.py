"""A child Python that runs this very tangstudio, whatever folder the person started in.

`python -m tangstudio` and `python -c` put the current folder first on the child's import path, so
a studio opened in a source checkout trained with the checkout's code, not the installed package's
(a reviewer's install: a stub `tangstudio/` in the folder ran in place of the trainer, and an
installed studio and a newer checkout rebuilt each other's corpus cache in turn). The child starts
with `-P` (no such folder on the path) and imports the package from the folder the parent's came
from, unless the same package is found there already.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The package found must sit in `root` itself: a prefix test took /src/tang-old for /src/tang (a review).
_BOOT = (
    "import os, sys, importlib.util; root = os.path.realpath(sys.argv.pop(1)); "
    "found = importlib.util.find_spec('tangstudio'); "
    "home = os.path.dirname(os.path.dirname(os.path.realpath(found.origin))) if found and found.origin else None; "
    "sys.path.insert(0, root) if home != root else None; "
)


def package_root() -> str:
    """The folder holding the `tangstudio` package this process runs."""
    return str(Path(__file__).resolve().parents[2])


def python_command(code: str, *args: str) -> list[str]:
    """argv for a child Python running `code` (which sees `args` as sys.argv[1:]) on this package."""
    return [sys.executable, "-P", "-c", _BOOT + code, package_root(), *args]
