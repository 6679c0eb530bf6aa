"""The read-only half of apply: manifests → Desired, lock + live snapshot → Plan, and showing it.

``ftops plan`` and ``ftops apply`` must compute the same plan from the same inputs, so both call
``compute_plan`` here, which chains the shared stages (``load_manifests``, ``build_desired`` with the one
cached token counter, ``fetch_snapshot``, ``build_plan``), and the CLI shows it with the one
text renderer (apply never imports render). ``plan`` calls its two halves, ``desired_of`` and
``plan_desired``, itself, so that it can free the loaded manifest in between (peak memory of large projects).
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
from ftops.live import LiveSnapshot, Wanted, fetch_snapshot, with_job_details
from ftops.manifest.load import load_manifests
from ftops.manifest.model import Manifest
from ftops.plan.build import build_plan
from ftops.plan.charts import loss_charts
from ftops.plan.cost import refuse_unknown_models
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
    token_counts: dict[str, int] | None = None,
) -> Plan:
    """``token_counts``, when given, receives the exact token counts the plan used (apply records them)."""
    return plan_and_snapshot(settings, client, lock, manifest, targets=targets, replace=replace,
                             token_counts=token_counts)[0]


def plan_and_snapshot(
    settings: Settings,
    client: MistralClient,
    lock: LockFile | None,
    manifest: Manifest,
    *,
    targets: Sequence[str] = (),
    replace: Sequence[str] = (),
    token_counts: dict[str, int] | None = None,
) -> tuple[Plan, LiveSnapshot]:
    """The plan and the live snapshot it was made from (apply and refresh record what it observed)."""
    desired = desired_of(settings, lock, manifest, token_counts=token_counts)
    return plan_desired(settings, client, lock, desired, targets=targets, replace=replace)


def desired_of(settings: Settings, lock: LockFile | None, manifest: Manifest, *,
               token_counts: dict[str, int] | None = None) -> Desired:
    """Desired, with content hashes and token counts (the hash cache is saved; ``token_counts`` receives the
    exact counts used). A caller that holds nothing else of the manifest can drop it after this."""
    cache = HashCache.load(settings.state_dir / HASH_CACHE)
    tokens = token_lookup(cache, lock.token_counts if lock is not None else None)
    desired = build_desired(manifest, hashes=cache, tokens=tokens)
    cache.save()
    if token_counts is not None:
        token_counts.update(tokens.exact_counts)
    return desired


def plan_desired(
    settings: Settings,
    client: MistralClient,
    lock: LockFile | None,
    desired: Desired,
    *,
    targets: Sequence[str] = (),
    replace: Sequence[str] = (),
) -> tuple[Plan, LiveSnapshot]:
    """The plan of ``desired`` against the lock and a fresh live snapshot, and that snapshot."""
    known = lock.resources if lock is not None else {}
    refuse_unknown_models(client, (j for a, j in desired.jobs.items() if a not in known))  # before pricing them
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
    charts, uncharted = loss_charts(desired, lock, live, plan.changes)  # from the lock and the snapshot: no GET
    if charts:
        plan = plan.model_copy(update={"charts": charts, "uncharted": uncharted})
    return plan, live


def wanted_by(desired: Desired) -> Wanted:
    """What the snapshot must find besides the tracked objects: candidates to adopt for untracked ones."""
    return Wanted(files={a: f.sha256 for a, f in desired.files.items()},
                  jobs={a: (j.suffix, j.job_spec.model) for a, j in desired.jobs.items()})


def snapshot_for(client: MistralClient, desired: Desired, lock: LockFile | None) -> LiveSnapshot:
    """The live snapshot a plan needs, bounded by what is tracked and wanted (see ``fetch_snapshot``).

    A job the lock does not track — or whose tracked id is gone — may exist on the API all the same, created
    by an apply whose lock was lost, reverted or merged away, or by another clone: plan-time adoption must see
    it. Untracked wanted jobs are listed by suffix and model; when a tracked job turns out to be gone, the
    snapshot is read once more treating its address as untracked, so its candidates are listed too.
    """
    wanted = wanted_by(desired)
    live = fetch_snapshot(client, lock=lock, wanted=wanted)
    tracked = lock.resources if lock is not None else {}
    gone = {a for a in desired.jobs if a in tracked and tracked[a].remote_id not in live.jobs}
    if gone and lock is not None:
        view = lock.model_copy(update={"resources": {a: r for a, r in tracked.items() if a not in gone}})
        again = fetch_snapshot(client, lock=view, wanted=wanted)
        live = LiveSnapshot(endpoint=live.endpoint, files={**live.files, **again.files},
                            jobs={**live.jobs, **again.jobs}, models={**live.models, **again.models},
                            fetched_at=again.fetched_at, request_count=live.request_count + again.request_count)
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

