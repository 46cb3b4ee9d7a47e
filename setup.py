"""Packaging that pyproject.toml cannot say: the top-level models/ folder ships inside the package.

The models' card asks for models/ at the top of the repository, and the wheel must carry what is in
it (issue 24). `package_dir` maps models/ to the package `tangstudio._models` and pyproject.toml's
package-data takes every file in every subfolder of it, so a model added later (models/critic/, a new
models/default/) ships with no change here. pyproject.toml cannot list a mapped package beside the
packages it finds, hence this file; everything else (metadata, dependencies, package data) stays in
pyproject.toml. The engine finds the folder with importlib.resources (tangstudio.engine.paths).
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["tangstudio*"]), "tangstudio._models"],
    package_dir={"tangstudio._models": "models"},
)
