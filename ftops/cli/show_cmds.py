"""``ftops show PLANFILE``: render a saved plan (``ftops plan -o FILE``) as text, JSON or Markdown.

Reads only the plan file: no API, no lock, no run lock, so a reviewer (or a CI job commenting on a pull
request) can show exactly what ``ftops apply FILE`` would do without credentials. The plan file is checked
the way apply checks it (format, version, secrets), so a corrupt file gets one clear error.
"""

from __future__ import annotations

from pathlib import Path

import click

from ftops.cli._output import use_color
from ftops.plan.planfile import load_plan
from ftops.render.json import render_json
from ftops.render.markdown import render_markdown
from ftops.render.text import render_text


@click.command("show")
@click.argument("planfile", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True, help="text for people, json for tools (docs/plan-json.md), markdown for PRs.")
def show_cmd(planfile: Path, fmt: str) -> None:
    """Show a saved plan (from `ftops plan -o FILE`) without touching the API or the lock."""
    plan = load_plan(planfile)
    if fmt == "json":
        click.echo(render_json(plan), nl=False)
    elif fmt == "markdown":
        click.echo(render_markdown(plan), nl=False)
    else:
        click.echo(render_text(plan, color=use_color()), nl=False)


def register(group: click.Group) -> None:
    """Add ``show`` to the root group."""
    group.add_command(show_cmd)
