"""``ftops plan``: manifests + lock + live API → what apply would do, and what it would cost.

Settings → manifests (bad input fails here, before any server starts) → lock → session (its first line
names the endpoint; on stderr when stdout carries JSON or Markdown) → the shared pipeline
(``ftops.apply.pipeline``'s ``desired_of`` + ``plan_desired``, the two halves of apply's ``compute_plan``, so
plan and apply compute the same plan) → render. ``-o`` saves a
single-use plan file for ``ftops apply FILE``; ``--detailed-exitcode`` exits 2 when there are changes;
``--max-cost`` fails the plan (PolicyError, exit 1) when starting the planned jobs would cost more.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ftops.cli._output import use_color
from ftops.cli._session import open_session, pass_settings, start_local_api_early
from ftops.errors import FtopsError as PlanError
from ftops.errors import PolicyError
from ftops.settings import Settings

if TYPE_CHECKING:
    from ftops.plan.model import Plan

EXIT_CHANGES = 2
_PRINT_CHUNK = 1 << 16  # characters of plan text per write


def check_max_cost(plan: Plan, max_cost: float, *, source: str = "--max-cost") -> None:
    from ftops.plan.model import Action
    from ftops.render.text import money

    total = plan.total_cost()
    if total <= max_cost:
        return
    jobs = [c for c in plan.changes if c.action is Action.START and c.cost is not None and c.cost.cost]
    named = ", ".join(f"{c.address} {money(c.cost.cost or 0.0, c.cost.currency)}" for c in jobs if c.cost)
    raise PolicyError(
        f"the plan would spend {money(total)} on training, above {source} {money(max_cost)} ({named})",
        hint="lower training_steps/epochs, set state: created to park the jobs without training, or raise "
        f"{source} (--max-cost USD overrides ftops.toml's max_cost for one run)",
    )


def cost_limit(flag: float | None, settings: Settings) -> tuple[float | None, str]:
    """The spending limit of this run and where it comes from: ``--max-cost``, else ftops.toml's ``max_cost``."""
    if flag is not None:
        return flag, "--max-cost"
    table = f"[environments.{settings.environment}] " if settings.environment else ""
    return settings.max_cost, f"ftops.toml {table}max_cost"


def _render(plan: Plan, fmt: str) -> str:
    if fmt == "json":
        from ftops.render.json import render_json

        return render_json(plan)
    if fmt == "markdown":
        from ftops.render.markdown import render_markdown

        return render_markdown(plan)
    from ftops.render.text import render_text

    return render_text(plan, color=use_color())


def _print(plan: Plan, fmt: str) -> None:
    """Print the rendered plan; text goes out in pieces (the text of 10,000 changes is megabytes)."""
    if fmt != "text":
        click.echo(_render(plan, fmt), nl=False)
        return
    from ftops.render.text import iter_text

    pending: list[str] = []
    size = 0
    for piece in iter_text(plan, color=use_color()):
        pending.append(piece)
        size += len(piece)
        if size >= _PRINT_CHUNK:
            click.echo("".join(pending), nl=False)
            pending, size = [], 0
    if pending:
        click.echo("".join(pending), nl=False)


@click.command("plan")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("-o", "--out", "out", type=click.Path(dir_okay=False), default=None,
              help="Save the plan to FILE for `ftops apply FILE` (single-use, bound to the lock and manifests).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="text for people, json for tools (docs/plan-json.md), markdown for PRs.")
@click.option("--detailed-exitcode", is_flag=True,
              help="Exit 0 when there are no changes, 2 when there are changes, 1 on errors.")
@click.option("--max-cost", type=float, default=None, metavar="USD",
              help="Fail (exit 1) when starting the planned jobs would cost more than USD. Default: max_cost in "
                   "ftops.toml.")
@click.option("--target", "targets", multiple=True, metavar="ADDRESS",
              help="Plan only this resource (e.g. job.support) and what it depends on. Repeatable.")
@click.option("--replace", "replace", multiple=True, metavar="ADDRESS",
              help="Plan a new job for this job address even if nothing changed (e.g. retry a FAILED job).")
@pass_settings
def plan_cmd(
    paths: tuple[str, ...],
    out: str | None,
    fmt: str,
    detailed_exitcode: bool,
    max_cost: float | None,
    targets: tuple[str, ...],
    replace: tuple[str, ...],
    settings: Settings,
) -> None:
    """Show what `ftops apply` would change, and what it would cost. Changes nothing."""
    start_local_api_early(settings)  # first: it boots on another core while this process imports and loads
    from ftops.apply.pipeline import desired_of, load_project, plan_desired, waiting_job
    from ftops.state.backends.config import read_state
    from ftops.state.lockfile import check_endpoint

    manifest = load_project(settings, paths)
    lock = read_state(settings.backend, settings.lock_path)
    check_endpoint(lock, settings.endpoint_identity, where=str(settings.lock_path))
    info: Callable[[str], None] = click.echo if fmt == "text" else (lambda s: click.echo(s, err=True))
    with open_session(settings, echo=info) as session:
        # compute_plan in its two halves: past Desired the loaded documents are only memory (tens of MB at
        # 10,000 resources), so they are freed before the plan is built and printed.
        desired = desired_of(settings, lock, manifest)
        del manifest
        plan, _ = plan_desired(settings, session.client, lock, desired, targets=targets, replace=replace)
        del desired
    limit, source = cost_limit(max_cost, settings)
    if limit is not None:
        try:
            check_max_cost(plan, limit, source=source)
        except PolicyError:
            _print(plan, fmt)
            raise
    _print(plan, fmt)
    if out is not None:
        from ftops.plan.planfile import save_plan  # pydantic models of the plan file: only with -o

        save_plan(Path(out), plan, targets=targets, replace=replace)
        info(f"Saved the plan to {out}. Apply exactly this plan with: ftops apply {out}")
    actionable = [c for c in plan.changes if waiting_job(c, plan) is None]
    if plan.changes and not actionable:
        info("Nothing to apply now: the changes above wait for jobs that are still training "
             "(run `ftops wait`, or `ftops apply --wait`).")
    if plan.errors:
        raise PlanError("the plan has errors (above)",
                        hint="settle them (e.g. `ftops import ADDRESS ID`), then run ftops plan again")
    # Exit 2 means "not in sync": apply would change something now, or a job failed (retry: --replace).
    # Changes that only wait for training do not count.
    if detailed_exitcode and (actionable or plan.problems):
        click.get_current_context().exit(EXIT_CHANGES)


def register(group: click.Group) -> None:
    """Add ``plan`` to the root group."""
    group.add_command(plan_cmd)
