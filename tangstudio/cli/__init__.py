"""The headless face: a Typer CLI over the engine.

Each command lives in its own module and registers itself on `app`. `main()` turns the engine's
`TangError` and every usage error (a missing argument, `--temperature abc`) into one line on
stderr and exit code 2, so bad input never shows a traceback or a multi-line box; a failure of
the system the person can fix (a full disk, a read-only or missing home) is one line and exit 2
as well. Every such line escapes control characters (`errors.say`).
"""

from __future__ import annotations

import sys
from typing import Any

# Imported for their side effect: each command module registers itself on `app`.
from tangstudio.cli import (  # noqa: F401
    check_cmd,
    compare_cmd,
    corpus_cmd,
    eval_cmd,
    generate_cmd,
    inspect_cmd,
    lab_cmd,
    runs_cmd,
    score_cmd,
    stats_cmd,
    train_cmd,
)
from tangstudio.cli.app import app

__all__ = ["app", "main"]


def _click_exceptions() -> tuple[Any, Any, Any]:
    """(UsageError, ClickException, Abort) of the Click that Typer runs on.

    Typer ≥ 0.27 vendors Click as `typer._click` and keeps `Abort` in `typer.exceptions`;
    older releases use Click itself.
    """
    try:
        from typer._click.exceptions import ClickException, UsageError
        from typer.exceptions import Abort
    except ImportError:  # pragma: no cover - depends on the installed Typer
        from click.exceptions import Abort, ClickException, UsageError  # type: ignore[assignment]
    return UsageError, ClickException, Abort


def main() -> None:
    from tangstudio.cli.errors import report_and_exit, say
    from tangstudio.cli.stopping import OutputGone, gone_exit_code, output_gone, silence
    from tangstudio.engine.errors import TangError, describe_os_error

    UsageError, ClickException, Abort = _click_exceptions()
    try:
        result = app(standalone_mode=False)
    except TangError as exc:
        report_and_exit(exc)
    except UsageError as exc:
        message = exc.format_message().strip()
        if message:  # empty for a group called without a command: its help was just printed
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            say(f"{message}{where}")
        sys.exit(2)
    except ClickException as exc:
        say(exc.format_message())
        sys.exit(exc.exit_code)
    except (Abort, KeyboardInterrupt):
        sys.exit(130)
    except OutputGone as exc:  # `tangstudio generate | head -1`: the reader left, nothing to report
        silence(sys.stdout)  # the interpreter's last flush would fail again
        sys.exit(exc.code)
    except UnicodeEncodeError as exc:  # PYTHONIOENCODING=ascii: every line of verse (a fuzzing review)
        say(
            f"cannot write Chinese text in the {exc.encoding} encoding; use a UTF-8 locale or PYTHONIOENCODING=utf-8"
        )
        sys.exit(2)
    except OSError as exc:
        if output_gone(exc):  # the same, where Typer did not see it (its own help, say)
            silence(sys.stdout)
            sys.exit(gone_exit_code(exc))
        # a full disk, a read-only home, a file where a folder should be
        say(describe_os_error(exc))
        sys.exit(2)
    sys.exit(result if isinstance(result, int) else 0)
