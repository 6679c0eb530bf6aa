"""``ftops compare-plans REVIEWED FRESH``: apply on merge only what a pull request's reviewers saw.

Offline and read-only: it loads two saved plan files (``ftops plan -o``) and exits 0 when the fresh one makes
the same changes at the same cost as the reviewed one (:mod:`ftops.plan.review`), 1 listing every difference
otherwise. The generated workflow runs it between ``ftops plan -o fresh.ftplan`` and ``ftops apply
fresh.ftplan``, so what is applied is the fresh plan that was just found equal to the reviewed one.
"""

from __future__ import annotations

from pathlib import Path

import click

from ftops.errors import PolicyError
from ftops.plan.planfile import load_plan
from ftops.plan.review import compare_plans


@click.command("compare-plans")
@click.argument("reviewed", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("fresh", type=click.Path(dir_okay=False, path_type=Path))
def compare_plans_cmd(reviewed: Path, fresh: Path) -> None:
    """Exit 0 when FRESH makes the same changes at the same cost as REVIEWED (two `ftops plan -o` files)."""
    then, now = load_plan(reviewed), load_plan(fresh)
    differences = compare_plans(then, now)
    if not differences:
        click.echo(f"The fresh plan is the reviewed plan: {len(now.changes)} change"
                   f"{'' if len(now.changes) == 1 else 's'}, training cost ${now.total_cost():,.2f}.")
        return
    click.echo(f"The fresh plan differs from the reviewed plan ({reviewed}):", err=True)
    for difference in differences:
        click.echo(f"  {difference}", err=True)
    raise PolicyError(
        f"{len(differences)} difference{'' if len(differences) == 1 else 's'} from the reviewed plan; "
        "nothing was applied",
        where=str(fresh),
        hint="review the fresh plan (a new pull request, or approve it explicitly) before applying it",
    )


def register(group: click.Group) -> None:
    """Add ``compare-plans`` to the root group."""
    group.add_command(compare_plans_cmd)
