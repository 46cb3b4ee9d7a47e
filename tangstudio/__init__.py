"""Tang Studio: train small recurrent networks on the Complete Tang Poems and compose verse with them.

This package is deliberately light to import: `tangstudio --help` must not pay for torch or
Textual. The engine (`tangstudio.engine`) has no UI imports; the two faces are `tangstudio.cli`
(Typer, headless) and `tangstudio.studio` (Textual).
"""

# The one source of the version: pyproject.toml reads it ([tool.setuptools.dynamic]) and
# `tangstudio --version` prints it beside the shipped models' checksums (engine/version.py).
__version__ = "0.1.0"
