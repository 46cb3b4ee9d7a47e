"""The shipped models, as the package `tangstudio._models` (setup.py maps this folder to that name).

No code lives here: this file makes the folder a regular package, so that importlib.resources finds
it the same way from a wheel (site-packages/tangstudio/_models) and from an editable install (this
folder), whatever subfolders (default/, critic/, ...) it holds. See tangstudio/engine/paths.py.
"""
