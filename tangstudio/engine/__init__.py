"""The engine: corpus, models, training, runs, prosody and composing.

Nothing under this package may import a UI library (Textual, Typer, Rich); a test imports every
engine module in a subprocess and inspects `sys.modules` to keep it that way. Both faces — the
Typer CLI and the Textual studio — drive exactly this code.
"""
