"""Rewrite the ``$ mtl-tutorial ... --help`` blocks of the book's pages with the current output.

Usage: ``python scripts/refresh_cli_help.py [book/full_scale.md ...]``. tests/test_cli.py fails
when a page's block and the command line disagree; this brings the page up to date.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from mtl_tutorial.cli import help_text

#: A fenced text block whose first line is ``$ mtl-tutorial ARGS --help``.
HELP_BLOCK = re.compile(r"```text\n\$ mtl-tutorial ((?:[\w-]+ )*)--help\n(.*?)```", re.DOTALL)


def refreshed(page: str) -> str:
    def current(match: re.Match) -> str:
        args = match.group(1).split()
        return f"```text\n$ mtl-tutorial {match.group(1)}--help\n{help_text(args)}```"

    return HELP_BLOCK.sub(current, page)


if __name__ == "__main__":
    for path in map(Path, sys.argv[1:] or ["book/full_scale.md"]):
        path.write_text(refreshed(path.read_text()))
