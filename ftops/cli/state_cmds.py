"""CLI commands for the lock and the run lock: ``ftops state list|show|rm|mv`` and ``ftops force-unlock ID``.

The ``state`` commands read or edit only ``ftops.lock`` (never the API): ``rm`` forgets an address and leaves the
remote object alone, ``mv`` moves one address to another of the same kind. Writes go through
:class:`~ftops.state.store.LockStore` (atomic, serial+1) under the run lock, exactly like apply, so a state
edit can never interleave with a running apply. ``merge-driver`` is the git merge
driver for ``ftops.lock`` (:mod:`ftops.state.merge`), ``install-merge-driver`` registers it in a clone.

``force-unlock``: the id check is the safety: a user must copy the id out of the "held by" message, so one
cannot break a lock by accident or break a different lock than the one they looked at.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from ftops.addresses import Address
from ftops.cli._session import open_store, pass_settings, run_lock_of
from ftops.cli.state_sync_cmds import pull_cmd, push_cmd
from ftops.errors import StateError
from ftops.settings import Settings, load_settings
from ftops.state import mergedriver
from ftops.state.backends.config import read_state
from ftops.state.gitdriver import DRIVER, attributes_line, driver_command, install_merge_driver
from ftops.state.lockfile import LOCK_FILE_NAME
from ftops.state.model import LockedResource, LockFile
from ftops.state.moves import followers
from ftops.state.runlock import RunLock, force_unlock


@click.command("force-unlock")
@click.argument("lock_id", metavar="ID")
def force_unlock_cmd(lock_id: str) -> None:
    """Remove the run lock with this ID (shown when an apply finds the project locked).

    Only do this when the run that holds it is certainly no longer running.
    """
    # The project root is the current directory (``ftops -C DIR`` has already changed into it).
    settings = load_settings(Path.cwd())
    removed = force_unlock(run_lock_of(settings), lock_id)
    click.echo(f"Removed the run lock {removed.id} held by {removed.owner.describe()} since {removed.created_at}.")


def _read(settings: Settings) -> LockFile:
    lock = read_state(settings.backend, settings.lock_path)
    if lock is None:
        raise StateError("there is no lock file yet", where=str(settings.lock_path),
                         hint="ftops apply writes it; `ftops import ADDRESS ID` records an existing object")
    return lock


def _tracked(lock: LockFile, address: str, settings: Settings) -> LockedResource:
    key = str(Address.parse(address))
    resource = lock.resources.get(key)
    if resource is None:
        known = ", ".join(sorted(lock.resources)[:12]) or "nothing"
        raise StateError(f"{key} is not tracked in the lock file", where=str(settings.lock_path),
                         hint=f"tracked: {known} (`ftops state list`)")
    return resource


def resource_json(address: str, resource: LockedResource) -> dict[str, object]:
    """Everything the lock records for one address (never a secret: the lock holds none)."""
    return {"address": address, **resource.model_dump(mode="json")}


@click.group("state")
def state_group() -> None:
    """Inspect and edit what ftops.lock tracks (the API is never touched)."""


@state_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_settings
def list_cmd(settings: Settings, fmt: str) -> None:
    """Every tracked address with its kind, remote id and last recorded status."""
    lock = read_state(settings.backend, settings.lock_path)
    resources = sorted(lock.resources.items()) if lock is not None else []
    if fmt == "json":
        click.echo(json.dumps([resource_json(a, r) for a, r in resources], indent=2, sort_keys=True))
        return
    if not resources:
        click.echo("Nothing is tracked yet: ftops apply records what it creates.")
        return
    rows = [("ADDRESS", "KIND", "REMOTE ID", "STATUS")]
    rows += [(a, r.kind, r.remote_id, r.status or "-") for a, r in resources]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + "  " + row[3])


@state_group.command("show")
@click.argument("address")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_settings
def show_cmd(settings: Settings, address: str, fmt: str) -> None:
    """Everything the lock records for ADDRESS."""
    lock = _read(settings)
    resource = _tracked(lock, address, settings)
    data = resource_json(str(Address.parse(address)), resource)
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=True))
        return
    rows = [(key, "-" if value is None else str(value)) for key, value in data.items() if key != "attributes"]
    rows += [(f"attributes.{key}", json.dumps(value, ensure_ascii=False))
             for key, value in sorted(resource.attributes.items())]
    rows += [("open intent", f"{i.action} {i.id} (resolved by the next apply)")
             for i in lock.intents if i.address == data["address"]]
    width = max(len(key) for key, _ in rows)
    for key, value in rows:
        click.echo(f"{key.ljust(width)}  {value}")


@state_group.command("rm")
@click.argument("addresses", nargs=-1, required=True, metavar="ADDRESS...")
@pass_settings
def rm_cmd(settings: Settings, addresses: tuple[str, ...]) -> None:
    """Forget ADDRESS in the lock; the remote object stays untouched.

    The next plan treats a still-declared address as new (plan-time adoption finds the object again).
    """
    with RunLock.hold(run_lock_of(settings), "state rm"), \
            open_store(settings, check_endpoint=False) as store:
        lock = store.lock if store.exists else _read(settings)
        chosen = [(str(Address.parse(a)), _tracked(lock, a, settings)) for a in addresses]
        for address, _ in chosen:
            store.remove(address)
    for address, resource in chosen:
        click.echo(f"Forgot {address} ({resource.kind} {resource.remote_id}). "
                   f"The remote {resource.kind} {resource.remote_id} was not touched.")


@state_group.command("mv")
@click.argument("old")
@click.argument("new")
@pass_settings
def mv_cmd(settings: Settings, old: str, new: str) -> None:
    """Track what OLD tracks at NEW instead (same kind; NEW must not be tracked). No API call."""
    old_key, new_key = str(Address.parse(old)), str(Address.parse(new))
    with RunLock.hold(run_lock_of(settings), "state mv"), \
            open_store(settings, check_endpoint=False) as store:
        lock = store.lock if store.exists else _read(settings)
        _tracked(lock, old_key, settings)
        if Address.parse(old_key).kind != Address.parse(new_key).kind:
            raise StateError(f"cannot move {old_key} to {new_key}: an address keeps its kind",
                             where=str(settings.lock_path), hint=f"move it to {Address.parse(old_key).kind}.NAME")
        if new_key in lock.resources:
            raise StateError(f"{new_key} is already tracked ({lock.resources[new_key].remote_id})",
                             where=str(settings.lock_path),
                             hint=f"forget it first with `ftops state rm {new_key}` if that is really meant")
        resource = lock.resources[old_key]
        follow = followers(lock, old_key, new_key)
        store.move(old_key, new_key)
        for address, record in follow.items():  # models naming the moved job follow it
            store.put(address, record)
    click.echo(f"Moved {old_key} to {new_key} ({resource.kind} {resource.remote_id}).")


@state_group.command("merge-driver")
@click.argument("base", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("ours", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("theirs", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("shown", required=False, default=LOCK_FILE_NAME, metavar="[PATH]")
def merge_driver_cmd(base: Path, ours: Path, theirs: Path, shown: str) -> None:
    """Git merge driver for ftops.lock (git passes %O %A %B %P): merge two locks of one lineage into OURS.

    Exits 1 (git keeps the conflict) when the sides are different lock files; see docs/lock-file.md.
    """
    result = mergedriver.run(base, ours, theirs, shown)
    mergedriver.report(result, shown, lambda line: click.echo(line, err=True))


@state_group.command("install-merge-driver")
@pass_settings
def install_merge_driver_cmd(settings: Settings) -> None:
    """Register the ftops.lock merge driver in this clone (.gitattributes line + git config)."""
    lock_name = _lock_name(settings)
    done = install_merge_driver(settings.root, lock_name)
    if done.attributes_added:
        click.echo(f"Added `{attributes_line(lock_name)}` to .gitattributes (commit it).")
    else:
        click.echo(".gitattributes already names the ftops-lock merge driver.")
    if done.git_configured:
        click.echo(f"Registered the merge driver in .git/config: merge.{DRIVER}.driver = {driver_command()}")
    else:
        click.echo("Not a git work tree: run this again inside the clone to register the driver.")


def _lock_name(settings: Settings) -> str:
    try:
        return settings.lock_path.relative_to(settings.root).as_posix()
    except ValueError:
        return settings.lock_path.name


state_group.add_command(pull_cmd)
state_group.add_command(push_cmd)


def register(group: click.Group) -> None:
    """Add this module's commands to the root group."""
    group.add_command(force_unlock_cmd)
    group.add_command(state_group)
