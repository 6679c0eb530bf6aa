"""Saved plan files (``ftops plan -o plan.json`` → ``ftops apply plan.json``): single-use and bound.

A saved plan records the endpoint, the lock's lineage and serial at planning time and the manifest digest.
:func:`check_plan_applicable` refuses it when any of these moved, when it was already applied (the lock
keeps applied plan ids), and — closing the hole Terraform still has (hashicorp/terraform#24078) — when it was
made with *no* lock file but one exists now: the first apply of such a plan creates the lock, so the same plan
can never run twice and create everything twice. The file is deterministic JSON written atomically and
scanned for secrets like the lock file.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from ftops.errors import Location, PlanFileError
from ftops.plan.model import PLAN_FORMAT_VERSION, Plan
from ftops.state.atomic import atomic_write_text
from ftops.state.lockfile import json_problem
from ftops.state.model import LockFile
from ftops.state.secrets import secret_paths

_REPLAN = "run `ftops plan -o <file>` again and apply the new plan"


def dump_plan(plan: Plan) -> str:
    """Canonical text of a saved plan (same plan → byte-identical text)."""
    return json.dumps(plan.model_dump(mode="json"), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def save_plan(path: Path, plan: Plan) -> None:
    """Write ``plan`` to ``path`` atomically; refuses anything secret-looking."""
    path = Path(path)
    found = secret_paths(plan.model_dump(mode="json"))
    if found:
        raise PlanFileError(
            f"refusing to write a secret-looking value into the plan file at {', '.join(found)}",
            where=str(path),
            hint="this is a bug in ftops (secrets must stay in environment variables); please report it",
        )
    atomic_write_text(path, dump_plan(plan))


def _major(version: object) -> int | None:
    text = str(version)
    head = text.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def load_plan(path: Path) -> Plan:
    """Read a saved plan; corrupt, foreign or newer-format files raise PlanFileError with a hint."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanFileError("the plan file does not exist", where=str(path), hint=_REPLAN) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"cannot read the plan file: {exc}", where=str(path), hint=_REPLAN) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFileError(
            f"the plan file {json_problem(text, exc)}",
            where=str(Location(str(path), exc.lineno, exc.colno)),
            hint=_REPLAN,
        ) from None
    if not isinstance(raw, dict) or "changes" not in raw or "id" not in raw:
        raise PlanFileError(
            "this is not an ftops plan file",
            where=str(path),
            hint="pass the file written by `ftops plan -o <file>`",
        )
    version = raw.get("format_version")
    current = _major(PLAN_FORMAT_VERSION)
    if _major(version) != current:
        newer = (_major(version) or 0) > (current or 0)
        raise PlanFileError(
            f"the plan file has format_version {version!r}; this ftops reads {PLAN_FORMAT_VERSION}",
            where=str(path),
            hint=("upgrade ftops to the version that wrote it, or " if newer else "") + _REPLAN,
        )
    try:
        return Plan.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise PlanFileError(
            f"the plan file is damaged: {field}: {first['msg']}", where=str(path), hint=_REPLAN
        ) from None


def check_plan_applicable(plan: Plan, lock: LockFile | None, manifest_digest: str, endpoint_identity: str) -> None:
    """Raise PlanFileError unless ``plan`` can be applied to exactly this lock, manifests and endpoint."""
    if plan.endpoint != endpoint_identity:
        raise PlanFileError(
            f"the plan was made against {plan.endpoint}, but this run targets {endpoint_identity}",
            where=f"plan {plan.id}",
            hint=f"set FTOPS_ENDPOINT to the plan's endpoint, or {_REPLAN}",
        )
    if lock is not None and plan.id in lock.applied_plans:
        raise PlanFileError(
            "this plan was already applied; a saved plan can be applied only once",
            where=f"plan {plan.id}",
            hint=_REPLAN,
        )
    if plan.lock_lineage is None and lock is not None:
        raise PlanFileError(
            "the plan was made when the project had no lock file, but one exists now "
            f"(serial {lock.serial}): applying it could create everything a second time",
            where=f"plan {plan.id}",
            hint=_REPLAN,
        )
    if plan.lock_lineage is not None and lock is None:
        raise PlanFileError(
            "the plan was made against a lock file that no longer exists",
            where=f"plan {plan.id}",
            hint=f"restore ftops.lock (e.g. `git checkout -- ftops.lock`), or {_REPLAN}",
        )
    if lock is not None and plan.lock_lineage is not None:
        if plan.lock_lineage != lock.lineage:
            raise PlanFileError(
                f"the plan belongs to another lock file (lineage {plan.lock_lineage}, this one is {lock.lineage})",
                where=f"plan {plan.id}",
                hint=f"apply it in the project it was made for, or {_REPLAN}",
            )
        if plan.lock_serial != lock.serial:
            raise PlanFileError(
                f"the plan is stale: the lock changed since this plan was made (serial {plan.lock_serial} → "
                f"{lock.serial})",
                where=f"plan {plan.id}",
                hint=f"run ftops plan again; {_REPLAN}",
            )
    if plan.manifest_digest != manifest_digest:
        raise PlanFileError(
            "the manifests changed since this plan was made",
            where=f"plan {plan.id}",
            hint=_REPLAN,
        )
