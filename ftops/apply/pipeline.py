"""The read-only half of apply: manifests → Desired, lock + live snapshot → Plan, and showing it.

``ftops plan`` and ``ftops apply`` must compute the same plan from the same inputs, so both call
``compute_plan`` here, which chains the shared stages (``load_manifests``, ``build_desired`` with the one
cached token counter, ``fetch_snapshot``, ``build_plan``), and the CLI shows it with the one
text renderer (apply never imports render).
``waiting_job`` names the job a model change waits for when that job is still training.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from ftops.client import MistralClient
from ftops.desired import Desired, build_desired
from ftops.hashing import HashCache
from ftops.live import LiveSnapshot, fetch_snapshot, with_job_details
from ftops.manifest.load import load_manifests
from ftops.manifest.model import Manifest
from ftops.plan.build import build_plan
from ftops.plan.model import Change, Plan
from ftops.settings import Settings
from ftops.state.model import LockFile
from ftops.tokencount import token_lookup

HASH_CACHE = "hashes.json"


def load_project(settings: Settings, paths: Sequence[str | Path] = ()) -> Manifest:
    return load_manifests(list(paths) or list(settings.manifest_paths), root=settings.root)


def compute_plan(
    settings: Settings,
    client: MistralClient,
    lock: LockFile | None,
    manifest: Manifest,
    *,
    targets: Sequence[str] = (),
    replace: Sequence[str] = (),
) -> Plan:
    return plan_and_snapshot(settings, client, lock, manifest, targets=targets, replace=replace)[0]


def plan_and_snapshot(
    settings: Settings,
    client: MistralClient,
    lock: LockFile | None,
    manifest: Manifest,
    *,
    targets: Sequence[str] = (),
    replace: Sequence[str] = (),
) -> tuple[Plan, LiveSnapshot]:
    """The plan and the live snapshot it was made from (apply and refresh record what it observed)."""
    cache = HashCache.load(settings.state_dir / HASH_CACHE)
    desired = build_desired(manifest, hashes=cache, tokens=token_lookup(cache))
    cache.save()
    live = snapshot_for(client, desired, lock)
    plan = build_plan(
        desired,
        lock,
        live,
        plan_id=str(uuid.uuid4()),
        now=time.time(),
        endpoint_identity=settings.endpoint_identity,
        targets=list(targets) or None,
        replace=replace,
    )
    return plan, live


def snapshot_for(client: MistralClient, desired: Desired, lock: LockFile | None) -> LiveSnapshot:
    """The live snapshot a plan needs: every job, when some desired job may have to be adopted.

    A job the lock does not track (or whose tracked id is gone) may exist on the API all the same — created
    by an apply whose lock was lost, reverted or merged away, or by another clone. Plan-time adoption must
    see it whatever its age, so the jobs list is then not narrowed to the tracked jobs' time window.
    """
    tracked = lock.resources if lock is not None else {}
    untracked = any(address not in tracked for address in desired.jobs)
    live = fetch_snapshot(client, lock=lock, all_jobs=untracked)
    gone = any(address in tracked and tracked[address].remote_id not in live.jobs for address in desired.jobs)
    if gone and not untracked:
        live = fetch_snapshot(client, lock=lock, all_jobs=True)
    # best_of ranks a sweep by its checkpoints: only those jobs get a detailed GET.
    sweep_jobs = {a for m in desired.models.values() if m.best_of is not None for a in m.best_of.candidates}
    return with_job_details(client, live, {tracked[a].remote_id for a in sweep_jobs if a in tracked})


def waiting_job(change: Change, plan: Plan) -> str | None:
    """The job a model change waits for, when that job is already training (it has no change in this plan).

    The planner gives such changes ``depends_on=[job]``; when the job itself is being created or started
    by this plan it appears among the changes, otherwise the job exists but has not produced its
    fine-tuned model yet (parked or failed jobs get no model changes at all).
    """
    if change.kind != "model":
        return None
    planned = {c.address for c in plan.changes}
    return next((d for d in change.depends_on if d.startswith("job.") and d not in planned), None)

