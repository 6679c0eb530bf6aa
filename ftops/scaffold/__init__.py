"""Project scaffold for ``ftops init``: the template files (package data) and where each one goes.

The templates are real, working files — a small valid support dataset, File/FineTuningJob/Model manifests,
``ftops.toml``, a ``.gitignore`` for ``.ftops/``, a ``.gitattributes`` naming the lock merge driver and the
GitHub Actions workflow (the same file as
``examples/github/ftops.yml``) — so a fresh project validates, plans and applies on the embedded local API
unchanged. The manifests point editors at ``.ftops-schema.json``, written next to them from the manifest
schema so completion works offline and matches the installed ftops.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ftops.errors import FtopsError

SCHEMA_FILE = ".ftops-schema.json"

# template (under ftops/scaffold/templates) → destination relative to the project root. Hidden names and
# .yml/.toml would need extra package-data patterns, so the template names differ from the destinations.
TEMPLATES: tuple[tuple[str, str], ...] = (
    ("manifests/files.yaml", "manifests/files.yaml"),
    ("manifests/jobs.yaml", "manifests/jobs.yaml"),
    ("manifests/models.yaml", "manifests/models.yaml"),
    ("data/train.jsonl", "data/train.jsonl"),
    ("data/eval.jsonl", "data/eval.jsonl"),
    ("ftops.toml", "ftops.toml"),
    ("gitignore", ".gitignore"),
    ("gitattributes", ".gitattributes"),
    ("workflow.yml", ".github/workflows/ftops.yml"),
)


@dataclass(frozen=True)
class ScaffoldResult:
    root: Path
    written: list[str]  # destinations relative to root, in TEMPLATES order (+ the schema)
    overwritten: list[str]
    merged: list[str]  # existing files ftops added lines to instead of replacing (.gitignore)


# An existing .gitignore is the user's: init appends the lines it lacks instead of refusing or replacing it.
_MERGED = frozenset({".gitignore", ".gitattributes"})


def _merge_lines(existing: str, ours: str) -> str | None:
    """``existing`` plus the lines of ``ours`` it lacks, or None when nothing is missing."""
    have = {line.strip() for line in existing.splitlines()}
    missing = [line for line in ours.splitlines() if line.strip() and line.strip() not in have]
    if not missing:
        return None
    head = existing if existing.endswith("\n") or not existing else existing + "\n"
    return head + "\n".join(missing) + "\n"


def template_text(name: str) -> str:
    """The text of one template, e.g. ``template_text("workflow.yml")``."""
    return resources.files("ftops.scaffold").joinpath(f"templates/{name}").read_text(encoding="utf-8")


def manifest_schema_text() -> str:
    """The JSON Schema of manifest documents, as ``ftops schema`` prints it."""
    from ftops.manifest.json_schema import render_schema

    return render_schema()


def planned_files() -> dict[str, str]:
    """Destination → content for every scaffold file."""
    files = {dest: template_text(src) for src, dest in TEMPLATES}
    files[SCHEMA_FILE] = manifest_schema_text()
    return files


def write_scaffold(root: Path, *, force: bool = False) -> ScaffoldResult:
    """Write the scaffold under ``root``; refuse (naming every file) to overwrite anything without ``force``."""
    if root.exists() and not root.is_dir():
        raise FtopsError(f"{root} exists and is not a directory", hint="pass a new or existing directory to init")
    files = planned_files()
    existing = [dest for dest in files if (root / dest).exists() and dest not in _MERGED]
    if existing and not force:
        raise FtopsError(
            f"{len(existing)} file{'s' if len(existing) != 1 else ''} already exist in {root}: {', '.join(existing)}",
            hint="nothing was written; rerun with --force to overwrite them, or init into an empty directory",
        )
    merged: list[str] = []
    for dest, text in files.items():
        path = root / dest
        if dest in _MERGED and path.exists():
            combined = _merge_lines(path.read_text(encoding="utf-8"), text)
            if combined is None:
                continue
            text = combined
            merged.append(dest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return ScaffoldResult(root=root, written=list(files), overwritten=existing, merged=merged)
