"""The Textual face of tangstudio. Imports the engine; the engine never imports this."""
