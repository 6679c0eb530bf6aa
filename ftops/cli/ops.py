"""CLI commands: ops (owned by one issue; see the module list in ftops/cli/__init__.py)."""

from __future__ import annotations

import click


def register(group: click.Group) -> None:
    """Add this module's commands to the root group."""
