"""CLI commands ``apply``, ``wait``, ``status`` and ``import``: parse → ftops.apply → report → exit code.

``apply`` holds the run lock for the whole run, resolves intents left open by an interrupted run BEFORE
anything else, then plans (or checks a saved plan), asks for confirmation (``--auto-approve`` in CI) and
executes. Ctrl-C stops issuing new calls, lets in-flight ones finish, and exits 130 with what is left.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import click

from ftops._signals import EXIT_SIGTERM, Terminated
from ftops.apply.adopt import resolve_open_intents
from ftops.apply.observe import record_observed
from ftops.apply.pipeline import load_project, plan_and_snapshot, waiting_job
from ftops.apply.run import EXIT_INTERRUPTED, ApplyOptions, execute_plan, preflight
from ftops.apply.status import aligned, status_rows, text_table
from ftops.apply.wait import LiveDisplay, PlainDisplay, follow_jobs, parked, report_skipped, wait_targets
from ftops.cli._output import line_oriented, use_color
from ftops.cli._session import open_session, open_store, pass_settings, run_lock_of
from ftops.cli.plan_cmds import check_max_cost, cost_limit
from ftops.errors import ApplyError, FtopsError
from ftops.plan.model import Plan
from ftops.render.text import render_text
from ftops.settings import Settings
from ftops.state.backends.config import read_state
from ftops.state.runlock import RunLock

PLAN_SNIFF_BYTES = 4096




def _is_plan_file(arg: str) -> bool:
    """A saved plan is a JSON object; manifests are YAML files or directories."""
    path = Path(arg)
    if not path.is_file() or path.suffix in (".yaml", ".yml"):
        return False
    try:
        head = path.read_bytes()[:PLAN_SNIFF_BYTES].lstrip()
    except OSError:
        return False
    return head.startswith(b"{")


@contextmanager
def _sigint_stops(stop: threading.Event, echo: Callable[[str], None]) -> Iterator[list[int]]:
    """First Ctrl-C or SIGTERM: stop scheduling, finish in-flight calls. Second: stop now (the lock is still
    consistent). Yields the signals received, so a SIGTERM'd run exits 143 rather than 130."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        if stop.is_set():
            raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt
        stop.set()
        again = "Ctrl-C again" if signum == signal.SIGINT else "a second signal"
        echo(f"{'Interrupt' if signum == signal.SIGINT else 'Termination signal'} received: finishing the calls "
             f"in flight, starting nothing new ({again} to abort).")

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _exit_code(code: int, received: list[int]) -> int:
    return EXIT_SIGTERM if code == EXIT_INTERRUPTED and signal.SIGTERM in received else code


@click.command("apply")
@click.argument("args", nargs=-1, metavar="[PLANFILE] [PATHS]...")
@click.option("--auto-approve", is_flag=True, help="Apply without asking (for CI).")
@click.option("--wait", "wait_jobs", is_flag=True, help="Follow started jobs to the end, then name their models.")
@click.option("--parallelism", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Independent changes run at the same time.")
@click.option("--timeout", default=3600.0, show_default=True, type=click.FloatRange(min=1),
              help="Seconds to wait for validation (before a start) and, with --wait, for jobs to finish.")
@click.option("--target", "targets", multiple=True, metavar="ADDRESS", help="Only these addresses (and deps).")
@click.option("--replace", "replace", multiple=True, metavar="ADDRESS",
              help="Create a new job for this job address even if nothing changed (e.g. retry a FAILED job).")
@click.option("--max-cost", type=float, default=None, metavar="USD",
              help="Refuse (exit 1, nothing applied) a plan whose job starts cost more than USD. Default: max_cost "
                   "in ftops.toml.")
@pass_settings
def apply_cmd(settings: Settings, args: tuple[str, ...], auto_approve: bool, wait_jobs: bool, parallelism: int,
              timeout: float, targets: tuple[str, ...], replace: tuple[str, ...], max_cost: float | None) -> None:
    """Make the fine-tuning resources match the manifests (or apply a saved plan)."""
    plan_path = args[0] if args and _is_plan_file(args[0]) else None
    paths = args[1:] if plan_path else args
    options = ApplyOptions(parallelism=parallelism, wait=wait_jobs, timeout=timeout,
                           live_display=wait_jobs and not line_oriented())
    echo = click.echo
    with open_session(settings, echo=echo) as session, RunLock.hold(run_lock_of(settings), "apply") as runlock, \
            open_store(settings) as store:
        resolve_open_intents(session.client, store, echo=echo)
        manifest = load_project(settings, paths)
        current = store.lock if store.exists else None
        token_counts: dict[str, int] = {}  # the exact counts this plan used, committed with the lock
        if plan_path is not None:
            from ftops.plan.planfile import bind_to_inputs, check_plan_applicable, load_saved_plan

            saved = load_saved_plan(Path(plan_path))
            check_plan_applicable(saved.plan, current, manifest.digest, settings.endpoint_identity)
            fresh, _ = plan_and_snapshot(settings, session.client, current, manifest, targets=saved.targets,
                                         replace=saved.replace)
            plan = bind_to_inputs(saved, fresh)  # the saved changes, exactly, or a refusal listing the differences
        else:
            plan, live = plan_and_snapshot(settings, session.client, current, manifest, targets=targets,
                                           replace=replace, token_counts=token_counts)
            if store.exists or plan.changes:
                record_observed(store, live, session.client)
        if plan.errors:
            echo(render_text(plan, color=use_color()).rstrip("\n"))
            raise ApplyError("the plan has errors (above); nothing was changed",
                             hint="settle them (e.g. `ftops import ADDRESS ID`), then run ftops apply again")
        if not plan.changes:
            if plan.problems:
                echo(render_text(plan, color=use_color()).rstrip("\n"))
            else:
                echo("No changes. Your fine-tuning resources match the manifests.")
            return
        limit, source = cost_limit(max_cost, settings)
        if limit is not None:
            check_max_cost(plan, limit, source=source)
        waiting = {id(c): job for c in plan.changes if (job := waiting_job(c, plan)) is not None}
        if len(waiting) == len(plan.changes) and not wait_jobs:
            _report_waiting(plan, waiting, echo)
            return
        echo(render_text(plan, color=use_color()).rstrip("\n"))  # the same text `ftops plan` prints
        for change in plan.changes:
            if id(change) in waiting:
                echo(f"Note: {change.address} ({change.action.value}) is waiting for {waiting[id(change)]} to "
                     "finish training; it is made by a later apply (or now with --wait).")
        preflight(plan)
        if plan_path is None and not auto_approve:
            _confirm()
        if plan_path is None:
            store.record_token_counts(token_counts)
        stop = threading.Event()
        with _sigint_stops(stop, echo) as received:
            report = execute_plan(plan, client=session.client, store=store, root=settings.root, echo=echo,
                                  stop=stop, options=options, checkpoint=runlock.check)
        for line in report.summary():
            echo(line, err=line.startswith("Error"))
        code = report.exit_code
    if code:
        sys.exit(_exit_code(code if code == EXIT_INTERRUPTED else 1, received))


def _report_waiting(plan: Plan, waiting: dict[int, str], echo: Callable[[str], None]) -> None:
    """Only model changes that need a still-training job's model: nothing to approve, nothing written."""
    echo("No changes to apply now: the remaining changes are waiting for jobs that are still training.")
    for change in plan.changes:
        echo(f"  … {change.address}: {change.action.value}, waiting for {waiting[id(change)]} to finish")
    jobs = ", ".join(sorted(set(waiting.values())))
    echo(f"Run `ftops apply --wait` to follow {jobs} and make them, or `ftops wait` and then ftops apply again.")


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise ApplyError(
            "refusing to apply without confirmation: no terminal to ask on",
            hint="review the plan above and pass --auto-approve (CI), or apply a saved plan: "
            "ftops plan -o plan.json && ftops apply plan.json",
        )
    if not click.confirm("Apply these changes?", default=False):
        click.echo("Apply cancelled; nothing was changed.")
        sys.exit(1)


@click.command("wait")
@click.argument("addresses", nargs=-1, metavar="[ADDRESS]...")
@click.option("--timeout", default=3600.0, show_default=True, type=click.FloatRange(min=1),
              help="Give up after this many seconds (exit 1).")
@pass_settings
def wait_cmd(settings: Settings, addresses: tuple[str, ...], timeout: float) -> None:
    """Follow queued, validating or training jobs to the end (all tracked, or ADDRESS...); skips parked ones."""
    with open_session(settings, echo=click.echo) as session, RunLock.hold(run_lock_of(settings), "wait"), \
            open_store(settings) as store:
        resources = store.lock.resources
        unknown = [a for a in addresses if a not in resources or resources[a].kind != "job"]
        if unknown:
            raise FtopsError(f"not a tracked job: {', '.join(unknown)}", hint="`ftops status` lists tracked jobs")
        targets = wait_targets(session.client, resources, addresses)
        report_skipped(targets, click.echo)
        if not targets.follow:
            click.echo("No queued, validating or training jobs to wait for.")
            return
        stop = threading.Event()
        display = LiveDisplay() if not line_oriented() else PlainDisplay(click.echo)
        with _sigint_stops(stop, click.echo) as received:
            result = follow_jobs(session.client, store, targets.follow, timeout=timeout, stop=stop,
                                 display=display, until_parked=True)
        for address, job in sorted(result.jobs.items()):
            note = " (parked: validated, not started)" if parked(job) else ""
            model = f" → {job.fine_tuned_model}" if job.fine_tuned_model else ""
            click.echo(f"{address}: {job.status}{note}{model}")
        for warning in result.unknown_warnings():
            click.echo(warning, err=True)
        clean = not (result.failed or result.timed_out or result.interrupted)
        if clean and any(j.fine_tuned_model for j in result.jobs.values()):
            click.echo("Run ftops apply to name the new models.")
        code = EXIT_INTERRUPTED if result.interrupted else 1 if result.failed or result.timed_out else 0
        for address in result.timed_out:
            click.echo(f"Error: {address}: still running after {timeout:.0f} s", err=True)
    if code:
        sys.exit(_exit_code(code, received))


@click.command("status")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_settings
def status_cmd(settings: Settings, fmt: str) -> None:
    """Every tracked resource with its live status (one snapshot of list calls)."""
    from ftops.apply.status import needs_details
    from ftops.live import Wanted, fetch_snapshot, with_job_details

    echo: Callable[[str], None] = (lambda s: click.echo(s, err=True)) if fmt == "json" else click.echo
    with open_session(settings, echo=echo) as session:
        lock = read_state(settings.backend, settings.lock_path)
        live = fetch_snapshot(session.client, lock=lock, wanted=Wanted()) if lock else None
        if live is not None:  # final losses the lock has not recorded: one GET per such finished job
            live = with_job_details(session.client, live, needs_details(lock, live))
        rows = status_rows(lock, live) if lock and live else []
    if fmt == "json":
        payload: dict[str, Any] = {"format_version": "1.0", "endpoint": settings.endpoint_identity,
                                   "resources": [r.as_json() for r in rows]}
        click.echo(json.dumps(payload, indent=2, sort_keys=True))
        return
    if not rows:
        click.echo("Nothing is tracked yet: run ftops plan / ftops apply.")
        return
    table = text_table(rows)
    if line_oriented():
        for line in aligned(table):
            click.echo(line)
        return
    from rich.console import Console
    from rich.table import Table

    rich_table = Table(*table[0])
    for row in table[1:]:
        rich_table.add_row(*row)
    Console(no_color=not use_color()).print(rich_table)


@click.command("import")
@click.argument("address")
@click.argument("remote_id", metavar="ID")
@click.option("--force", is_flag=True,
              help="Track ID at ADDRESS even if ADDRESS tracks another object or ID is tracked elsewhere.")
@pass_settings
def import_cmd(settings: Settings, address: str, remote_id: str, force: bool) -> None:
    """Adopt an existing file, job or model into the lock, fingerprinted as it is on the API."""
    from ftops.apply.importer import import_resource
    from ftops.desired import build_desired
    from ftops.hashing import HashCache

    manifest = load_project(settings)
    cache = HashCache.load(settings.state_dir / "hashes.json")
    desired = build_desired(manifest, hashes=cache, tokens=None)
    cache.save()
    with open_session(settings, echo=click.echo) as session, RunLock.hold(run_lock_of(settings), "import"), \
            open_store(settings) as store:
        result = import_resource(session.client, store, desired, address, remote_id, force=force)
    for note in result.replaced:
        click.echo(f"Replaced: {note}.")
    for warning in result.warnings:
        click.echo(f"Warning: {result.address}: {warning}", err=True)
    click.echo(f"Imported {result.resource.remote_id} as {result.address}.")


@click.command("refresh")
@pass_settings
def refresh_cmd(settings: Settings) -> None:
    """Read the API and update the lock: record observed statuses, adopt matching objects. No API writes.

    Like ``terraform apply -refresh-only``: settles interrupted operations, records every tracked job's
    status and fine-tuned model, and records untracked objects that match the manifests in full (files by
    content, jobs by their full spec, models by their job). Nothing is created, started or changed remotely.
    """
    from ftops.apply.executor import Executor
    from ftops.apply.steps import StepContext
    from ftops.plan.model import Action

    echo = click.echo
    with open_session(settings, echo=echo) as session, RunLock.hold(run_lock_of(settings), "refresh") as runlock, \
            open_store(settings) as store:
        resolve_open_intents(session.client, store, echo=echo)
        manifest = load_project(settings)
        plan, live = plan_and_snapshot(settings, session.client, store.lock if store.exists else None, manifest)
        recorded = record_observed(store, live, session.client)
        # A model waiting for its smoke test or gate is not recorded here: only apply may let it in.
        checked = {c.address for c in plan.changes if c.action in (Action.SMOKE, Action.GATE)}
        adopts = [c for c in plan.changes if c.action is Action.ADOPT and c.remote_id is not None
                  and c.address not in checked]
        ctx = StepContext(client=session.client, store=store, root=settings.root, echo=echo,
                          stop=threading.Event())
        results = Executor(ctx, parallelism=4, checkpoint=runlock.check).run(adopts)
        failed = [r for r in results if r.outcome != "done"]
        for obs in plan.problems:
            echo(f"Not in sync: {obs.address}: {obs.message}")
        for error in plan.errors:
            echo(f"Error: {error}", err=True)
        echo(f"Refreshed the lock: {recorded} observed status(es) recorded, {len(adopts) - len(failed)} object(s) "
             "adopted. Nothing was changed on the API.")
    if failed or plan.errors:
        sys.exit(1)


def register(group: click.Group) -> None:
    """Add this module's commands to the root group."""
    for command in (apply_cmd, wait_cmd, status_cmd, import_cmd, refresh_cmd):
        group.add_command(command)
