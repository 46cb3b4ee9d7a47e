"""The one error type the engine raises for bad input.

Both faces catch `TangError` and show its message as a single line (exit code 2 in the CLI, a
notification in the studio); anything else escaping is a bug.
"""


class TangError(Exception):
    """A problem with the user's input or data, explained in one line."""

    exit_code = 2
