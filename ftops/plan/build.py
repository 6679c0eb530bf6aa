"""The pure plan builder: (Desired, LockFile, LiveSnapshot) → Plan.

No I/O and no clock reads: the plan id and time come in as values, so the same inputs always give the same
plan (the table-driven tests in ``tests/unit/plan/cases`` rely on it). Kinds are planned in dependency order —
files, then jobs (which depend on uploads), then models (which depend on jobs) — and changes come out in
that order. ``targets`` narrows the plan to some addresses plus everything they depend on, like
``terraform plan -target``.
"""

from __future__ import annotations

from collections.abc import Collection

from ftops.addresses import Address
from ftops.desired import Desired
from ftops.errors import FtopsError
from ftops.live import LiveSnapshot
from ftops.plan._context import PlanContext
from ftops.plan._files import plan_files
from ftops.plan._jobs import plan_jobs
from ftops.plan._models import plan_models
from ftops.plan.model import Plan
from ftops.plan.moves import apply_moves
from ftops.state.model import LockFile


def build_plan(
    desired: Desired,
    lock: LockFile | None,
    live: LiveSnapshot,
    *,
    plan_id: str,
    now: float,
    endpoint_identity: str,
    targets: Collection[str] | None = None,
    replace: Collection[str] = (),
) -> Plan:
    replace_set = _replace_addresses(desired, lock, replace)
    # Renames first, so the per-kind planners see each tracked object at its new address.
    view, moved = apply_moves(desired.moves, lock, {a: j.job_spec.suffix for a, j in desired.jobs.items()})
    ctx = PlanContext(desired=desired, locked=view.resources if view is not None else {}, live=live,
                      replace=replace_set)
    plan_files(ctx)
    plan_jobs(ctx)
    plan_models(ctx)
    changes, drift, progress, problems = moved + ctx.changes, ctx.drift, ctx.progress, ctx.problems
    errors = ctx.errors
    if targets:
        keep = target_closure(desired, lock, targets)
        changes = [c for c in changes if c.address in keep]
        drift = [o for o in drift if o.address in keep]
        progress = [o for o in progress if o.address in keep]
        problems = [o for o in problems if o.address in keep]
        errors = [e for e in errors if e.split(":", 1)[0] in keep]
    return Plan(
        id=plan_id,
        created_at=now,
        endpoint=endpoint_identity,
        lock_lineage=lock.lineage if lock is not None else None,
        lock_serial=lock.serial if lock is not None else 0,
        manifest_digest=desired.manifest_digest,
        changes=changes,
        drift=drift,
        progress=progress,
        problems=problems,
        errors=errors,
    )


def _replace_addresses(desired: Desired, lock: LockFile | None, replace: Collection[str]) -> frozenset[str]:
    """``--replace`` names jobs (like ``terraform -replace``): a new job even when nothing changed."""
    out: set[str] = set()
    for raw in replace:
        address = str(Address.parse(raw))
        if not address.startswith("job.") or address not in desired.jobs:
            raise FtopsError(
                f"--replace {raw}: not a FineTuningJob declared in the manifests",
                hint="known jobs: " + (", ".join(sorted(desired.jobs)[:12]) or "none"),
            )
        out.add(address)
    return frozenset(out)


def target_closure(desired: Desired, lock: LockFile | None, targets: Collection[str]) -> set[str]:
    """The targeted addresses and, transitively, what they depend on (a job needs its files uploaded)."""
    known = set(desired.order) | (set(lock.resources) if lock is not None else set())
    keep: set[str] = set()
    for target in targets:
        address = str(Address.parse(target))
        if address not in known:
            raise FtopsError(
                f"--target {target}: no such resource in the manifests or the lock file",
                hint="known addresses: " + (", ".join(sorted(known)[:12]) or "none"),
            )
        stack = [address]
        while stack:
            current = stack.pop()
            if current not in keep:
                keep.add(current)
                stack.extend(desired.dependencies(current))
    return keep
