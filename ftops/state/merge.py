"""Merging two ``ftops.lock`` files of one lineage: the git merge driver behind ``ftops state merge-driver``.

Two branches that each applied something both rewrite ``ftops.lock``; git's line merge then conflicts (or,
worse, splices JSON). The lock is a record of remote objects, so two sides of one lineage merge by rule:

- resources: the union. An address both sides recorded differently is merged three-way against the common
  ancestor: a side that did not change it from the ancestor yields to the side that did (so a forget on one
  branch wins over no change on the other, and a change wins over a forget). When both sides changed it:
  the same remote object keeps the record observed furthest along (a fine-tuned model known, then the higher
  status rank, then the canonical text, so the choice never depends on which side is "ours"); two different
  remote objects keep the one the API created LATER (``created_at``, then the id), and the merge reports the
  other one, which stays on the API untracked.
- intents and applied plans: the union (an open intent is resolved by the next apply either way).
- token counts: the union (an exact count of one dataset is the same number on both sides).
- serial: the larger one plus one, so every saved plan made on either side is stale after the merge.

Different lineages or endpoints are not two versions of one record: :class:`LockMergeConflict` and the
driver exits non-zero, which leaves git's conflict for a person to settle (docs/lock-file.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ftops.errors import StateError
from ftops.state.lockfile import LOCK_FILE_NAME
from ftops.state.model import Intent, LockedResource, LockFile

MAX_APPLIED_PLANS = 100  # as in ftops.state.store: older ids are already stale by serial

# How far along a job is, for picking between two observations of the same job.
_STATUS_RANK = {"QUEUED": 1, "STARTED": 2, "VALIDATING": 2, "VALIDATED": 3, "RUNNING": 4,
                "CANCELLATION_REQUESTED": 5, "FAILED_VALIDATION": 6, "FAILED": 6, "CANCELLED": 6, "SUCCESS": 6}


class LockMergeConflict(StateError):
    """The two locks are not versions of one record: a person must choose."""


@dataclass
class LockMerge:
    lock: LockFile
    notes: list[str] = field(default_factory=list)  # what the rules decided, for the person merging


def _canonical(resource: LockedResource) -> str:
    return json.dumps(resource.model_dump(mode="json"), sort_keys=True)


def _further_along(a: LockedResource, b: LockedResource) -> LockedResource:
    def key(r: LockedResource) -> tuple[bool, int, str]:
        return r.fine_tuned_model is not None, _STATUS_RANK.get(r.status or "", 0), _canonical(r)

    return max(a, b, key=key)


def _later(a: LockedResource, b: LockedResource) -> LockedResource:
    return max(a, b, key=lambda r: (r.created_at or 0, r.remote_id))


def _merge_one(
    address: str, base: LockedResource | None, ours: LockedResource | None, theirs: LockedResource | None,
    notes: list[str],
) -> LockedResource | None:
    if ours == theirs:
        return ours
    if ours == base:  # only their side changed it (possibly by forgetting it)
        return theirs
    if theirs == base:
        return ours
    if ours is None or theirs is None:  # one side forgot it, the other changed it: the change wins
        return ours or theirs
    if ours.remote_id == theirs.remote_id:
        return _further_along(ours, theirs)
    kept = _later(ours, theirs)
    dropped = theirs if kept is ours else ours
    notes.append(
        f"{address}: the two sides track different {kept.kind}s; kept {kept.remote_id} (created later), "
        f"{dropped.remote_id} stays on the API untracked (cancel or delete it there if it is not wanted, or "
        f"`ftops import` it at another address)"
    )
    return kept


def _union_intents(ours: list[Intent], theirs: list[Intent]) -> list[Intent]:
    by_id = {i.id: i for i in ours}
    for intent in theirs:
        by_id.setdefault(intent.id, intent)
    return sorted(by_id.values(), key=lambda i: (i.started_at, i.id))


def merge_locks(base: LockFile | None, ours: LockFile, theirs: LockFile, *, where: str = LOCK_FILE_NAME) -> LockMerge:
    """One lock holding what both sides recorded (see the module docstring for the rules)."""
    if ours.lineage != theirs.lineage:
        raise LockMergeConflict(
            f"the two sides are different lock files (lineage {ours.lineage} vs {theirs.lineage})",
            where=where,
            hint="keep one side whole (`git checkout --ours -- ftops.lock` or `--theirs`), then run `ftops plan`: "
            "plan-time adoption finds what the other side created; see docs/lock-file.md",
        )
    if ours.endpoint and theirs.endpoint and ours.endpoint != theirs.endpoint:
        raise LockMergeConflict(
            f"the two sides record different APIs ({ours.endpoint} vs {theirs.endpoint})",
            where=where, hint="keep the side that belongs to this project's API; see docs/lock-file.md",
        )
    base_resources = base.resources if base is not None and base.lineage == ours.lineage else {}
    notes: list[str] = []
    resources: dict[str, LockedResource] = {}
    for address in sorted(set(ours.resources) | set(theirs.resources) | set(base_resources)):
        merged = _merge_one(address, base_resources.get(address), ours.resources.get(address),
                            theirs.resources.get(address), notes)
        if merged is not None:
            resources[address] = merged
    applied = list(ours.applied_plans) + [p for p in theirs.applied_plans if p not in ours.applied_plans]
    lock = LockFile(
        format_version=max(ours.format_version, theirs.format_version),
        lineage=ours.lineage,
        serial=max(ours.serial, theirs.serial) + 1,
        endpoint=ours.endpoint or theirs.endpoint,
        resources=resources,
        intents=_union_intents(ours.intents, theirs.intents),
        applied_plans=applied[-MAX_APPLIED_PLANS:],
        token_counts={**theirs.token_counts, **ours.token_counts},
    )
    return LockMerge(lock=lock, notes=notes)
