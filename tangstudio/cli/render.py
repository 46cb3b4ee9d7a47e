"""Small Rich helpers shared by the CLI commands."""

from __future__ import annotations

import json
import sys

from rich.console import Console

console = Console()


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
