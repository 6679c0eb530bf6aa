"""The read-only half of apply: manifests → Desired, lock + live snapshot → Plan, and showing it.

``ftops plan`` and ``ftops apply`` must compute the same plan from the same inputs, so both call
``compute_plan`` here, which chains the shared stages (``load_manifests``, ``build_desired`` with the one
cached token counter, ``fetch_snapshot``, ``build_plan``), and both show it with the one text renderer.
``waiting_job`` names the job a model change waits for when that job is still training.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from ftops.client import MistralClient
from ftops.desired import Desired, build_desired
from ftops.hashing import HashCache
from ftops.live import Wanted, fetch_snapshot
from ftops.manifest.load import load_manifests
from ftops.manifest.model import Manifest
from ftops.plan.build import build_plan
from ftops.plan.model import Change, Plan
from ftops.render.text import render_text
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
    token_counts: dict[str, int] | None = None,
) -> Plan:
    """``token_counts``, when given, receives the exact token counts the plan used (apply records them)."""
    cache = HashCache.load(settings.state_dir / HASH_CACHE)
    tokens = token_lookup(cache, lock.token_counts if lock is not None else None)
    desired = build_desired(manifest, hashes=cache, tokens=tokens)
    cache.save()
    if token_counts is not None:
        token_counts.update(tokens.exact_counts)
    live = fetch_snapshot(client, lock=lock, wanted=wanted_by(desired))
    return build_plan(
        desired,
        lock,
        live,
        plan_id=str(uuid.uuid4()),
        now=time.time(),
        endpoint_identity=settings.endpoint_identity,
        targets=list(targets) or None,
    )


def wanted_by(desired: Desired) -> Wanted:
    """What the snapshot must find besides the tracked objects: candidates to adopt for untracked ones."""
    return Wanted(files={a: f.sha256 for a, f in desired.files.items()},
                  jobs={a: (j.suffix, str(j.spec["model"])) for a, j in desired.jobs.items()})


def render_plan(plan: Plan, echo: Callable[[str], None], *, color: bool) -> None:
    """The same text ``ftops plan`` prints."""
    echo(render_text(plan, color=color).rstrip("\n"))


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

