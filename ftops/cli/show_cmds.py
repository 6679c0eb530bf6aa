"""``ftops show PLANFILE|ADDRESS``: a saved plan, or one tracked job (or model) in depth.

``show PLANFILE`` reads only the plan file: no API, no lock, no run lock, so a reviewer (or a CI job commenting
on a pull request) can show exactly what ``ftops apply FILE`` would do without credentials. The plan file is
checked the way apply checks it (format, version, secrets), so a corrupt file gets one clear error.

``show job.X`` (or ``model.X``: the job whose model it is) renders the job as ``ftops metrics job.X`` does:
status, cost, training time, the loss per checkpoint, events; for a model also its last gate verdict.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from ftops.cli._output import use_color
from ftops.cli._session import settings_from_context
from ftops.errors import ConfigError
from ftops.settings import Settings

_ADDRESS = re.compile(r"^(job|model)\.[a-z0-9][a-z0-9._-]*$")


@click.command("show")
@click.argument("target", metavar="PLANFILE|ADDRESS")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="text for people, json for tools (docs/plan-json.md), markdown for PRs.")
@click.option("--chart/--no-chart", default=True, help="ADDRESS: draw the loss curve (needs ftops[plots]).")
@click.option("--endpoint", "endpoint", default=None, metavar="URL",
              help="ADDRESS: API host root (no /v1), or 'local'. Default: FTOPS_ENDPOINT, ftops.toml, else local.")
def show_cmd(target: str, fmt: str, chart: bool, endpoint: str | None) -> None:
    """Show a saved plan (from `ftops plan -o FILE`), or one tracked job in depth (job.X, model.X)."""
    path = Path(target)
    if _ADDRESS.match(target) and not path.exists():
        # Settings only for an address: a plan file is shown without reading any configuration.
        _show_address(target, fmt, chart, settings_from_context(endpoint=endpoint))
        return
    from ftops.plan.planfile import load_plan
    from ftops.render.json import render_json
    from ftops.render.markdown import render_markdown
    from ftops.render.text import render_text

    plan = load_plan(path)
    if fmt == "json":
        click.echo(render_json(plan), nl=False)
    elif fmt == "markdown":
        click.echo(render_markdown(plan), nl=False)
    else:
        click.echo(render_text(plan, color=use_color()), nl=False)


def _show_address(address: str, fmt: str, chart: bool, settings: Settings) -> None:
    from ftops.cli._session import open_session
    from ftops.cli.metrics_cmds import curves_of
    from ftops.metrics import job_metrics
    from ftops.render.curves import PLOTS_HINT, mermaid_xychart, terminal_chart
    from ftops.render.metrics_text import metrics_json, render_job
    from ftops.state.lockfile import read_lock

    lock = read_lock(settings.lock_path)
    resources = lock.resources if lock is not None else {}
    entry = resources.get(address)
    if entry is None:
        known = sorted(a for a in resources if a.startswith(("job.", "model.")))
        raise ConfigError(f"{address} is not in the lock file", where=str(settings.lock_path),
                          hint="known: " + (", ".join(known[:12]) or "nothing yet (apply first)"))
    gate: dict[str, Any] | None = None
    if entry.kind == "model":
        raw = entry.attributes.get("gate")
        gate = raw if isinstance(raw, dict) else None
    raw_smoke = entry.attributes.get("smoke")  # the last smoke test of this job's / this model's new model
    smoke: dict[str, Any] | None = raw_smoke if isinstance(raw_smoke, dict) else None
    echo = (lambda line: click.echo(line, err=True)) if fmt != "text" else click.echo
    with open_session(settings, echo=echo) as session:
        job_id = entry.remote_id
        if entry.kind == "model":  # the job that produced *this* model (its Model's job may have moved on)
            job_id = session.client.get_model(entry.remote_id).job or ""
            if not job_id:
                raise ConfigError(f"{address}: the API names no job for model {entry.remote_id}", where=address,
                                  hint="ftops models lists the models and their jobs")
        label = next((a for a, r in resources.items() if r.kind == "job" and r.remote_id == job_id), job_id)
        metrics = job_metrics(session.client.get_job(job_id), label=label)
        endpoint = session.endpoint_identity
    job_address = label
    metric = "valid_loss" if metrics.series("valid_loss") else "train_loss"
    if fmt == "json":
        document = json.loads(metrics_json([metrics], metric=metric, endpoint=endpoint))
        document["address"] = address
        document["gate"] = gate
        document["smoke"] = smoke
        click.echo(json.dumps(document, indent=2, sort_keys=True))
        return
    lines = [render_job(metrics)]
    if gate is not None:
        verdict = "passed" if gate.get("passed") else "FAILED: " + "; ".join(gate.get("reasons") or [])
        lines.append(f"Gate {gate.get('evaluation')}: {verdict} (score {gate.get('score')}, current "
                     f"{gate.get('current_score')}, candidate {gate.get('candidate')})")
    if smoke is not None:
        outcome = f"passed ({smoke.get('answer')!r})" if smoke.get("passed") else f"FAILED: {smoke.get('reason')}"
        lines.append(f"Smoke test of {smoke.get('model')}: {outcome}")
    series = curves_of([metrics], metric)
    if fmt == "markdown":
        lines.append(mermaid_xychart(series, title=f"{job_address} {metric}", metric=metric))
    elif chart and series:
        drawn = terminal_chart(series, title=f"{metric} per step", metric=metric)
        lines.append(drawn if drawn is not None else f"(loss curve: {PLOTS_HINT})")
    click.echo("\n".join(lines))


def register(group: click.Group) -> None:
    """Add ``show`` to the root group."""
    group.add_command(show_cmd)
