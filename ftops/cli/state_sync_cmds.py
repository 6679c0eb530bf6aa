"""``ftops state pull`` / ``ftops state push FILE``: copy the state out of, or into, the configured backend.

``pull`` prints the current state (the stored document with any journal replayed) as canonical lock text;
``ftops state pull > ftops.lock`` is how a project moves from a remote backend back to the file backend.
``push`` replaces the stored state with FILE under the run lock, and refuses what would lose changes: another
lineage (a different project's state), an older serial, or the same serial with other content, unless
``--force``. The write is a compare-and-swap, so a run that slipped in between is never overwritten either.
See docs/state-backends.md for the migration both ways.
"""

from __future__ import annotations

from pathlib import Path

import click

from ftops.cli._session import pass_settings, run_lock_of
from ftops.errors import StateError
from ftops.settings import Settings
from ftops.state.backends.config import state_backend
from ftops.state.lockfile import dump_lock, load_state, scrub
from ftops.state.lockschema import parse_lock
from ftops.state.model import LockFile
from ftops.state.runlock import RunLock


@click.command("pull")
@pass_settings
def pull_cmd(settings: Settings) -> None:
    """Print the project's current state from its backend (as ftops.lock text)."""
    backend = state_backend(settings.backend, settings.lock_path)
    lock = load_state(backend)[0]
    if lock is None:
        raise StateError("no state is stored yet", where=backend.describe(),
                         hint="run ftops apply first, or `ftops state push FILE` to migrate an existing ftops.lock")
    click.echo(dump_lock(lock), nl=False)


def _refusal(pushed: LockFile, current: LockFile, current_text: str) -> str | None:
    """Why pushing ``pushed`` over ``current`` would lose something, or None when it is safe."""
    if pushed.lineage != current.lineage:
        return (f"FILE is another state (lineage {pushed.lineage}); the backend holds lineage {current.lineage}: "
                "pushing would replace a different project's history")
    if pushed.serial < current.serial:
        return (f"FILE has serial {pushed.serial}, older than the backend's {current.serial}: "
                "later changes would be lost")
    if pushed.serial == current.serial and dump_lock(pushed) != current_text:
        return f"FILE and the backend both have serial {pushed.serial} but differ: they diverged"
    return None


@click.command("push")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Push even over another lineage, an older serial or a diverged state.")
@pass_settings
def push_cmd(settings: Settings, file: Path, force: bool) -> None:
    """Replace the state on the project's backend with FILE (a lock file, e.g. from `state pull` or git)."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"cannot read {file}: {exc}", where=str(file)) from None
    pushed = parse_lock(text, where=str(file))
    scrub(pushed, where=str(file))
    backend = state_backend(settings.backend, settings.lock_path)
    with RunLock.hold(run_lock_of(settings), "state push"):
        current, stored, _, journal = load_state(backend)
        if journal and not force:
            raise StateError("the backend has journal records of an interrupted run", where=backend.describe(),
                             hint="run ftops plan (or apply) once to settle them, then push again")
        if current is not None and stored is not None and not force:
            reason = _refusal(pushed, current, dump_lock(current))
            if reason is not None:
                raise StateError(reason, where=backend.describe(),
                                 hint="`ftops state pull` shows what is there; add --force only if FILE must win")
        canonical = dump_lock(pushed)
        if stored is not None and stored.text == canonical and not journal:
            click.echo(f"The state on {backend.describe()} is already FILE (serial {pushed.serial}); nothing pushed.")
            return
        backend.write(canonical, expected=stored.version if stored is not None else None)
        if journal:
            backend.clear_journal()  # --force: FILE is the whole truth now
    click.echo(f"Pushed {file} (lineage {pushed.lineage}, serial {pushed.serial}) to {backend.describe()}.")
