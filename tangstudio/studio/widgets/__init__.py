"""Widgets the panes are built from; the ones that hold logic keep it free of Textual where they can."""
