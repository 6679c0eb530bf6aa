"""How to print: the one rule for colours, tables and live displays across every command.

Line-oriented (CI, or stdout is not a terminal): plain lines, no live displays, no colours. ``--no-color``
(or ``NO_COLOR``) drops colours and rich layout on a terminal too.
"""

from __future__ import annotations

import os
import sys

import click


def line_oriented() -> bool:
    """CI (``CI=true``/``1``/``yes``) or no TTY: one line per event, nothing redrawn in place."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"} or not sys.stdout.isatty()


def use_color() -> bool:
    """Colours and rich tables: a terminal, not CI, and no ``--no-color``."""
    ctx = click.get_current_context(silent=True)
    root = ctx.find_root().obj if ctx else None
    no_color = bool(root.get("no_color")) if isinstance(root, dict) else False
    return not (no_color or line_oriented())
