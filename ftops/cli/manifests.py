"""CLI commands for manifests: ``ftops validate`` (manifests and their datasets) and ``ftops schema``.

Neither talks to an API. ``validate`` reports every problem at once and exits 1 when there is one;
``--format json`` prints ``{"valid", "diagnostics", "summary"}`` for CI annotations. ``schema`` prints the
JSON Schema editors use (``docs/ftops.schema.json``) or, with ``--markdown``, the manifest reference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ftops.errors import Diagnostic, ManifestError
from ftops.manifest.datacheck import check_datasets
from ftops.manifest.json_schema import KIND_MODELS, render_schema
from ftops.manifest.load import load_manifests
from ftops.manifest.model import Manifest
from ftops.settings import DEFAULT_MANIFESTS, Settings, load_settings


def default_manifest_paths(settings: Settings) -> list[Path]:
    """``manifests`` from ftops.toml, else ``manifests/`` when it exists, else the project root itself."""
    paths = list(settings.manifest_paths)
    if paths == [settings.root / DEFAULT_MANIFESTS] and not paths[0].is_dir():
        return [settings.root]
    return paths


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    loc = d.location
    return {
        "code": d.code,
        "message": d.message,
        "file": loc.file if loc else None,
        "line": loc.line if loc else None,
        "column": loc.column if loc else None,
        "address": d.address,
        "hint": d.hint,
    }


def _summary(manifest: Manifest, examples: int) -> dict[str, int]:
    return {"files": len(manifest.files), "examples": examples, "jobs": len(manifest.jobs),
            "models": len(manifest.models)}


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people, json for tools.")
@click.pass_context
def validate_cmd(ctx: click.Context, paths: tuple[str, ...], fmt: str) -> None:
    """Check manifests and the datasets they name; report every problem at once (no API calls)."""
    # validate never talks to an API: pin the endpoint so a bad FTOPS_ENDPOINT cannot fail it.
    settings = load_settings(Path.cwd(), endpoint="local", require_environment=False)
    root = settings.root
    targets: list[str | Path] = [*paths] if paths else [*default_manifest_paths(settings)]
    manifest: Manifest | None = None
    diagnostics: list[Diagnostic] = []
    examples = 0
    try:
        manifest = load_manifests(targets, root=root)
    except ManifestError as exc:
        diagnostics = exc.diagnostics
    if manifest is not None:
        data = check_datasets(manifest)
        diagnostics = data.diagnostics
        examples = sum(r.valid_lines for r in data.reports.values())
    if fmt == "json":
        doc: dict[str, Any] = {"valid": not diagnostics, "diagnostics": [_diagnostic_json(d) for d in diagnostics]}
        if manifest is not None:
            doc["summary"] = _summary(manifest, examples)
            doc["digest"] = manifest.digest
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        ctx.exit(1 if diagnostics else 0)
    if diagnostics:
        raise ManifestError(diagnostics)
    assert manifest is not None
    click.echo(
        f"Valid: {_plural(len(manifest.files), 'file')} ({_plural(examples, 'example')}), "
        f"{_plural(len(manifest.jobs), 'job')}, {_plural(len(manifest.models), 'model')}."
    )


@click.command("schema")
@click.option("--kind", type=click.Choice(list(KIND_MODELS)), default=None,
              help="Only this kind's document (default: any kind, discriminated on `kind`).")
@click.option("--markdown", is_flag=True, help="Print the Markdown manifest reference instead.")
def schema_cmd(kind: str | None, markdown: bool) -> None:
    """Print the JSON Schema of manifest documents (for yaml-language-server and other editors)."""
    if markdown:
        if kind:
            raise click.UsageError("--markdown prints the whole reference; leave out --kind")
        from ftops.manifest.docgen import render_reference

        click.echo(render_reference(), nl=False)
        return
    click.echo(render_schema(kind), nl=False)


def register(group: click.Group) -> None:
    """Add this module's commands to the root group."""
    group.add_command(validate_cmd)
    group.add_command(schema_cmd)
