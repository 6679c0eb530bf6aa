"""``ftops metrics``: training metrics of jobs (one in depth, or a sweep ranked), with loss curves.

Targets are job addresses from the lock (``job.sweep-*`` globs pick a matrix sweep), or job ids. Each job
costs one GET (checkpoints and events are only on the detailed answer).
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

import click

from ftops.cli._session import open_session, pass_settings
from ftops.errors import FtopsError
from ftops.metrics import METRICS, JobMetrics, job_metrics
from ftops.render.curves import PLOTS_HINT, mermaid_xychart, save_png, terminal_chart
from ftops.render.metrics_text import metrics_json, render_job, render_ranking
from ftops.settings import Settings
from ftops.state.lockfile import read_lock


def job_targets(patterns: tuple[str, ...], settings: Settings) -> list[tuple[str, str]]:
    """(label, job id) for each target: lock addresses (globs allowed) or raw job ids."""
    lock = read_lock(settings.lock_path)
    jobs = {a: r.remote_id for a, r in (lock.resources.items() if lock else []) if r.kind == "job"}
    out: list[tuple[str, str]] = []
    for pattern in patterns:
        if pattern.startswith("job."):
            found = sorted(a for a in jobs if fnmatch.fnmatchcase(a, pattern))
            if not found:
                raise FtopsError(f"no tracked job matches {pattern}", where=str(settings.lock_path),
                                 hint="known jobs: " + (", ".join(sorted(jobs)[:10]) or "none (apply first)"))
            out += [(a, jobs[a]) for a in found]
        else:
            out.append((pattern, pattern))
    return list(dict.fromkeys(out))


def curves_of(jobs: list[JobMetrics], metric: str) -> dict[str, list[tuple[int, float]]]:
    return {m.label: m.series(metric) for m in jobs if m.series(metric)}


@click.command("metrics")
@click.argument("targets", nargs=-1, required=True, metavar="JOB...")
@click.option("--metric", type=click.Choice(METRICS), default="valid_loss", show_default=True,
              help="What to rank and draw (falls back to train_loss when no job has the metric).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--png", "png", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the curves into this PNG file (needs ftops[plots]).")
@click.option("--chart/--no-chart", default=True, help="Draw the curves in the terminal (needs ftops[plots]).")
@pass_settings
def metrics_cmd(targets: tuple[str, ...], metric: str, fmt: str, png: Path | None, chart: bool,
                settings: Settings) -> None:
    """Train/validation loss and accuracy per checkpoint, cost and duration of jobs (job.X, job.sweep-*, ids)."""
    wanted = job_targets(targets, settings)
    echo = (lambda line: click.echo(line, err=True)) if fmt != "text" else click.echo
    with open_session(settings, echo=echo) as session:
        jobs = [job_metrics(session.client.get_job(job_id), label=label) for label, job_id in wanted]
        endpoint = session.endpoint_identity
    if not any(m.series(metric) for m in jobs) and any(m.series("train_loss") for m in jobs):
        metric = "train_loss"  # e.g. no validation file: rank by what exists rather than by nothing
    series = curves_of(jobs, metric)
    title = f"{metric} per step"
    if png is not None:
        save_png(series, png, title=title, metric=metric)
        echo(f"Wrote the {metric} curves of {len(series)} job(s) to {png}")
    if fmt == "json":
        click.echo(metrics_json(jobs, metric=metric, endpoint=endpoint))
        return
    if fmt == "markdown":
        click.echo(render_ranking(jobs, metric=metric))
        click.echo("\n" + mermaid_xychart(series, title=title, metric=metric))
        return
    click.echo(render_job(jobs[0]) if len(jobs) == 1 else render_ranking(jobs, metric=metric))
    if chart and series:
        drawn = terminal_chart(series, title=title, metric=metric)
        click.echo(drawn if drawn is not None else f"(loss curves: {PLOTS_HINT})")


def register(group: click.Group) -> None:
    group.add_command(metrics_cmd)
