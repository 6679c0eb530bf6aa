"""Saved plan files (``ftops plan -o plan.json`` → ``ftops apply plan.json``): single-use and bound.

A saved plan records the endpoint, the lock's lineage and serial at planning time and the manifest digest.
:func:`check_plan_applicable` refuses it when any of these moved, when it was already applied (the lock
keeps applied plan ids), and — closing the hole Terraform still has (hashicorp/terraform#24078) — when it was
made with *no* lock file but one exists now: the first apply of such a plan creates the lock, so the same plan
can never run twice and create everything twice. The file is deterministic JSON written atomically and
scanned for secrets like the lock file.

A saved plan can only do what its inputs say (docs/apply.md, "Saved plans"): apply recomputes the plan from
the same manifests, lock and live API and refuses, listing the differences, unless the saved changes are
exactly the recomputed ones (:mod:`ftops.plan.saved_diff`); it then applies the recomputed changes under the
saved plan's id. The file also carries ``binding.digest``, a SHA-256 of its canonical content: any edit of
any field (the id, a reason, a cost) is refused as an edit before anything else. The digest is not a
signature — whoever edits the file can recompute it — which is why the recomputation is the guarantee.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ftops.errors import Location, PlanFileError
from ftops.plan.model import PLAN_FORMAT_VERSION, Plan
from ftops.plan.saved_diff import differences, summarize
from ftops.redact import redact_url, redact_urls_in
from ftops.state.atomic import atomic_write_text
from ftops.state.lockfile import json_problem
from ftops.state.model import LockFile
from ftops.state.secrets import secret_paths

_REPLAN = "run `ftops plan -o <file>` again and apply the new plan"
BINDING = "binding"  # the top-level key holding the digest and the plan's options; not a Plan field
MAX_DEPTH = 64  # nesting levels of a plan file (a real one needs about 8)
MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class SavedPlan:
    """A plan read back from its file, with the options it was computed with (needed to recompute it)."""

    plan: Plan
    targets: tuple[str, ...] = ()
    replace: tuple[str, ...] = ()  # --replace addresses: a recompute without them would plan no replacement


def _refusal(message: str, *, where: str | None = None, hint: str | None = None) -> PlanFileError:
    """A PlanFileError whose text echoes no secret: a plan file may carry anything, URLs with tokens included."""
    return PlanFileError(redact_urls_in(message), where=redact_urls_in(where) if where else None, hint=hint)


def plan_digest(content: dict[str, Any], targets: Sequence[str], replace: Sequence[str] = ()) -> str:
    options: dict[str, Any] = {"plan": content, "targets": list(targets)}
    if replace:
        options["replace"] = list(replace)
    canonical = json.dumps(options, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def dump_plan(plan: Plan, *, targets: Sequence[str] = (), replace: Sequence[str] = ()) -> str:
    """Canonical text of a saved plan (same plan → byte-identical text)."""
    content = plan.model_dump(mode="json")
    binding: dict[str, Any] = {"digest": plan_digest(content, targets, replace), "targets": list(targets)}
    if replace:
        binding["replace"] = list(replace)
    return json.dumps({**content, BINDING: binding}, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def save_plan(path: Path, plan: Plan, *, targets: Sequence[str] = (), replace: Sequence[str] = ()) -> None:
    """Write ``plan`` (computed with ``targets`` and ``replace``) to ``path`` atomically; refuses secrets."""
    path = Path(path)
    found = secret_paths(plan.model_dump(mode="json"))
    if found:
        raise _refusal(
            f"refusing to write a secret-looking value into the plan file at {', '.join(found)}",
            where=str(path),
            hint="this is a bug in ftops (secrets must stay in environment variables); please report it",
        )
    try:
        atomic_write_text(path, dump_plan(plan, targets=targets, replace=replace))
    except OSError as exc:
        raise _refusal(
            f"cannot write the plan file: {exc.strerror or exc}",
            where=str(path),
            hint="save it in a writable directory (e.g. `-o $RUNNER_TEMP/plan.json` or `-o /tmp/plan.json`), or "
            "fix the directory's permissions or free space",
        ) from None


def _major(version: object) -> int | None:
    text = str(version)
    head = text.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def _read(path: Path) -> str:
    """The file's text, refusing anything but a regular file (a FIFO or device would hang or never end)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise _refusal("the plan file does not exist", where=str(path), hint=_REPLAN) from None
    except OSError as exc:
        raise _refusal(f"cannot read the plan file: {exc.strerror or exc}", where=str(path),
                            hint=_REPLAN) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise _refusal(f"the plan file is {what}", where=str(path),
                            hint="pass the file written by `ftops plan -o <file>`")
    with os.fdopen(fd, "rb") as fh:
        if info.st_size > MAX_BYTES:
            raise _refusal(f"the plan file is too large ({info.st_size:,} bytes)", where=str(path),
                                hint=_REPLAN)
        data = fh.read(MAX_BYTES + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refusal(f"cannot read the plan file: {exc}", where=str(path), hint=_REPLAN) from None


def _shape_problem(value: Any) -> str | None:
    """Why ``value`` (parsed JSON) cannot be a plan however its fields read: too deep, or text that is not text."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nests more than {MAX_DEPTH} levels deep"
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate escape such as "\\ud800"
                return "holds a lone UTF-16 surrogate escape (e.g. \\ud800), which is not text"
            continue
        children = [*item, *item.values()] if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return None


def load_plan(path: Path) -> Plan:
    """Read a saved plan; corrupt, foreign, edited or newer-format files raise PlanFileError with a hint."""
    return load_saved_plan(path).plan


def load_saved_plan(path: Path) -> SavedPlan:
    """Read a saved plan and the options it was made with; checks its digest."""
    path = Path(path)
    text = _read(path)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _refusal(
            f"the plan file {json_problem(text, exc)}",
            where=str(Location(str(path), exc.lineno, exc.colno)),
            hint=_REPLAN,
        ) from None
    except RecursionError:
        raise _refusal(f"the plan file nests more than {MAX_DEPTH} levels deep", where=str(path),
                            hint=_REPLAN) from None
    problem = _shape_problem(raw)
    if problem is not None:
        raise _refusal(f"the plan file {problem}", where=str(path), hint=_REPLAN)
    if not isinstance(raw, dict) or "changes" not in raw or "id" not in raw:
        raise _refusal(
            "this is not an ftops plan file",
            where=str(path),
            hint="pass the file written by `ftops plan -o <file>`",
        )
    version = raw.get("format_version")
    current = _major(PLAN_FORMAT_VERSION)
    if _major(version) != current:
        newer = (_major(version) or 0) > (current or 0)
        raise _refusal(
            f"the plan file has format_version {str(version)[:40]!r}; this ftops reads {PLAN_FORMAT_VERSION}",
            where=str(path),
            hint=("upgrade ftops to the version that wrote it, or " if newer else "") + _REPLAN,
        )
    binding = raw.pop(BINDING, None)
    try:
        plan = Plan.model_validate(raw, strict=False)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise _refusal(
            f"the plan file is damaged: {field[:200]}: {first['msg'][:200]}", where=str(path), hint=_REPLAN
        ) from None
    targets = binding.get("targets") if isinstance(binding, dict) else None
    replace = binding.get("replace", []) if isinstance(binding, dict) else None
    options = (targets, replace)
    if not all(isinstance(o, list) and all(isinstance(t, str) for t in o) for o in options):
        raise _refusal("the plan file has no valid binding (digest and options)", where=str(path),
                            hint=f"it was not written by this version of `ftops plan -o`; {_REPLAN}")
    assert isinstance(binding, dict) and isinstance(targets, list) and isinstance(replace, list)
    if binding.get("digest") != plan_digest(raw, targets, replace) or raw != plan.model_dump(mode="json"):
        raise _refusal(
            "the plan file was edited after `ftops plan` wrote it (its digest does not match its content)",
            where=str(path),
            hint=f"a saved plan is applied exactly as written or not at all; {_REPLAN}",
        )
    return SavedPlan(plan=plan, targets=tuple(targets), replace=tuple(replace))


def bind_to_inputs(saved: SavedPlan, fresh: Plan) -> Plan:
    """The plan to execute for ``saved``: ``fresh`` (recomputed now) under the saved id, when the changes match.

    Raises PlanFileError listing the differences otherwise: the manifests, lock and API the plan is bound to
    no longer ask for exactly the saved changes (or the file was edited).
    """
    found = differences(saved.plan, fresh)
    if found:
        raise _refusal(
            "the saved plan's changes are not what its manifests and state ask for now; nothing was applied:\n"
            + summarize(found),
            where=f"plan {saved.plan.id}",
            hint=f"review what changed (`ftops plan`); {_REPLAN}",
        )
    return fresh.model_copy(update={"id": saved.plan.id, "created_at": saved.plan.created_at})


def check_plan_applicable(plan: Plan, lock: LockFile | None, manifest_digest: str, endpoint_identity: str) -> None:
    """Raise PlanFileError unless ``plan`` can be applied to exactly this lock, manifests and endpoint."""
    if plan.endpoint != endpoint_identity:
        raise _refusal(
            f"the plan was made against {redact_url(plan.endpoint)}, but this run targets {endpoint_identity}",
            where=f"plan {plan.id}",
            hint=f"set FTOPS_ENDPOINT to the plan's endpoint, or {_REPLAN}",
        )
    if lock is not None and plan.id in lock.applied_plans:
        raise _refusal(
            "this plan was already applied; a saved plan can be applied only once",
            where=f"plan {plan.id}",
            hint=_REPLAN,
        )
    if plan.lock_lineage is None and lock is not None:
        raise _refusal(
            "the plan was made when the project had no lock file, but one exists now "
            f"(serial {lock.serial}): applying it could create everything a second time",
            where=f"plan {plan.id}",
            hint=_REPLAN,
        )
    if plan.lock_lineage is not None and lock is None:
        raise _refusal(
            "the plan was made against a lock file that no longer exists",
            where=f"plan {plan.id}",
            hint=f"restore ftops.lock (e.g. `git checkout -- ftops.lock`), or {_REPLAN}",
        )
    if lock is not None and plan.lock_lineage is not None:
        if plan.lock_lineage != lock.lineage:
            raise _refusal(
                f"the plan belongs to another lock file (lineage {plan.lock_lineage}, this one is {lock.lineage})",
                where=f"plan {plan.id}",
                hint=f"apply it in the project it was made for, or {_REPLAN}",
            )
        if plan.lock_serial != lock.serial:
            raise _refusal(
                f"the plan is stale: the lock changed since this plan was made (serial {plan.lock_serial} → "
                f"{lock.serial})",
                where=f"plan {plan.id}",
                hint=f"run ftops plan again; {_REPLAN}",
            )
    if plan.manifest_digest != manifest_digest:
        raise _refusal(
            "the manifests changed since this plan was made",
            where=f"plan {plan.id}",
            hint=_REPLAN,
        )
