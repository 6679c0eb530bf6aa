"""CLI commands for day-to-day operations: ``init`` (scaffold a project), ``models`` and ``jobs`` (dashboards).

``init`` writes a project that validates, plans and applies as is (see :mod:`ftops.scaffold`). ``models``
and ``jobs`` read the account through the shared session (its first line names the endpoint; with
``--format json`` that line goes to stderr so stdout stays one JSON document) and label every object ftops
manages with its address from ``ftops.lock``. Rows and rendering live in :mod:`ftops.dashboards`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from ftops.cli._output import use_color
from ftops.cli._session import open_session, pass_settings
from ftops.dashboards import jobs_dashboard, jobs_json, model_rows, models_json, render_jobs_text, render_models_text
from ftops.scaffold import SCHEMA_FILE, write_scaffold
from ftops.settings import Settings
from ftops.state.backends.config import read_state
from ftops.state.gitdriver import configure_git

# Failed jobs among the shown rows get one GET each for their error event; bounded so a dashboard stays cheap.
_MAX_ERROR_LOOKUPS = 10


def plain_output(ctx: click.Context) -> bool:
    """Plain, line-oriented output in CI (CI=true), without a TTY, or with --no-color."""
    return not use_color()


def _banner_echo(fmt: str) -> Callable[[str], None]:
    if fmt == "json":
        return lambda line: click.echo(line, err=True)
    return click.echo


def _addresses(settings: Settings) -> dict[str, str]:
    """remote id → address for everything the lock records (a job's fine-tuned model maps to its Model too)."""
    lock = read_state(settings.backend, settings.lock_path)
    if lock is None:
        return {}
    out: dict[str, str] = {}
    for address, res in lock.resources.items():
        out.setdefault(res.remote_id, address)
    return out


@click.command("init")
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init_cmd(directory: Path, force: bool) -> None:
    """Scaffold a new ftops project in DIRECTORY (default: the current directory)."""
    result = write_scaffold(directory, force=force)
    where = "the current directory" if directory == Path(".") else str(directory)
    click.echo(f"Initialised an ftops project in {where}:")
    for dest in result.written:
        note = " (overwritten)" if dest in result.overwritten else ""
        if dest in result.merged:
            note = " (added the ftops lines)"
        click.echo(f"  {dest}{note}")
    if configure_git(directory):  # the driver's command lives in .git/config, which no clone shares
        click.echo("Registered the ftops.lock merge driver in this clone's git config (see docs/lock-file.md).")
    cd = "" if directory == Path(".") else f"  cd {directory}\n"
    click.echo(
        "\nNext steps:\n"
        f"{cd}"
        "  ftops validate          check the manifests and the datasets\n"
        "  ftops plan              see what would be uploaded, created and started, and what it costs\n"
        "  ftops apply --wait      do it (the embedded local API by default: offline, nothing is billed)\n"
        "  ftops models            the fine-tuned models, once the job has finished\n"
        "Point ftops at the real API with FTOPS_ENDPOINT=https://api.mistral.ai and MISTRAL_API_KEY, commit\n"
        "everything (ftops.lock too, never .ftops/), and .github/workflows/ftops.yml plans every pull request\n"
        "and applies the reviewed plan on merge; ftops-reconcile.yml names finished models and reports drift\n"
        "(set the FTOPS_ENDPOINT variable and the MISTRAL_API_KEY secret: see docs/ci-guide.md). ftops.toml\n"
        f"caps the training spend of one apply (max_cost). Editors read {SCHEMA_FILE} for completion."
    )


@click.command("models")
@click.option("--all", "include_archived", is_flag=True, help="Include archived models.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_settings
@click.pass_context
def models_cmd(ctx: click.Context, include_archived: bool, fmt: str, settings: Settings) -> None:
    """Fine-tuned models: id, active/archived, name, the job and base model, created; ftops address if managed."""
    addresses = _addresses(settings)
    with open_session(settings, echo=_banner_echo(fmt)) as session:
        rows = model_rows(session.client.list_models(), include_archived=include_archived, addresses=addresses)
        label = session.endpoint_identity
    if fmt == "json":
        click.echo(models_json(rows, endpoint=label))
    else:
        click.echo(render_models_text(rows, plain=plain_output(ctx)))


@click.command("jobs")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True, help="How many latest jobs.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_settings
@click.pass_context
def jobs_cmd(ctx: click.Context, limit: int, fmt: str, settings: Settings) -> None:
    """Jobs dashboard: counts by status and the latest jobs with model, status, cost and error."""
    addresses = _addresses(settings)
    with open_session(settings, echo=_banner_echo(fmt)) as session:
        jobs = session.client.list_jobs()
        latest = sorted(jobs, key=lambda j: -j.created_at)[:limit]
        # Details (events, checkpoints) of failed jobs give their error; of stopped ones, how much they trained.
        stopped = {"FAILED", "FAILED_VALIDATION", "CANCELLED", "CANCELLATION_REQUESTED"}
        failed = [j.id for j in latest if j.status in stopped][:_MAX_ERROR_LOOKUPS]
        # Final losses need the detailed answer: one GET per finished job shown (at most --limit of them).
        finished = [j.id for j in latest if j.status == "SUCCESS"]
        detailed = {job_id: session.client.get_job(job_id) for job_id in [*failed, *finished]}
        jobs = [detailed.get(j.id, j) for j in jobs]
        board = jobs_dashboard(jobs, limit=limit, addresses=addresses)
        label = session.endpoint_identity
    if fmt == "json":
        click.echo(jobs_json(board, endpoint=label))
    else:
        click.echo(render_jobs_text(board, plain=plain_output(ctx)))


def register(group: click.Group) -> None:
    """Add this module's commands to the root group."""
    for command in (init_cmd, models_cmd, jobs_cmd):
        group.add_command(command)

