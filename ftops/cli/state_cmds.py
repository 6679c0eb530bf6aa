"""CLI commands for local state: ``ftops force-unlock ID`` (remove a run lock left by a run that died).

The id check is the safety: a user must copy the id out of the "held by" message, so one cannot break a lock
by accident or break a different lock than the one they looked at.
"""

from __future__ import annotations

from pathlib import Path

import click

from ftops.settings import load_settings
from ftops.state.backends.config import run_lock_target
from ftops.state.runlock import force_unlock


@click.command("force-unlock")
@click.argument("lock_id", metavar="ID")
def force_unlock_cmd(lock_id: str) -> None:
    """Remove the run lock with this ID (shown when an apply finds the project locked).

    Only do this when the run that holds it is certainly no longer running.
    """
    # The project root is the current directory (``ftops -C DIR`` has already changed into it).
    settings = load_settings(Path.cwd())
    removed = force_unlock(run_lock_target(settings.backend, settings.state_dir), lock_id)
    click.echo(f"Removed the run lock {removed.id} held by {removed.owner.describe()} since {removed.created_at}.")


def register(group: click.Group) -> None:
    """Add this module's commands to the root group."""
    group.add_command(force_unlock_cmd)
