"""Live: a read-only snapshot of the account, built from a few paginated list calls.

The value type lives here; ``fetch_snapshot`` fills it using the client. Planning receives only this
value, never a client, so it cannot write. With 1,000 tracked resources a snapshot is about 21 requests
(10 pages of files, 10 of jobs, 1 of models) instead of 1,000 GETs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from ftops.client import MistralClient
from ftops.client.models import RemoteFile, RemoteJob, RemoteModel
from ftops.errors import NotFoundError, ValidationFailed
from ftops.state.model import LockFile


@dataclass(frozen=True)
class LiveSnapshot:
    endpoint: str  # base URL of the API that was read (never a secret)
    files: Mapping[str, RemoteFile] = field(default_factory=dict)  # by file id
    jobs: Mapping[str, RemoteJob] = field(default_factory=dict)  # by job id
    models: Mapping[str, RemoteModel] = field(default_factory=dict)  # fine-tuned models by model id
    fetched_at: float = 0.0  # unix seconds
    request_count: int = 0  # HTTP requests it took (the benchmark reads this)


# Tracked jobs are listed from a little before the oldest one: covers clock skew between lock and server.
CREATED_AFTER_MARGIN = 3600.0


def _jobs_window(lock: LockFile | None, since: float | None) -> float | None:
    """``created_after`` for the jobs list: the oldest tracked job (the API's own ``created_at``), else ``since``.

    Open intents are not used: their time is this machine's clock, which may be far off the API's.
    """
    if lock is None:
        return since
    starts: list[float] = []
    for resource in lock.resources.values():
        if resource.kind == "job":
            if resource.created_at is None:
                return None  # can't bound this one: list everything rather than GET it
            starts.append(float(resource.created_at))
    if not starts:
        return since
    oldest = min(starts) - CREATED_AFTER_MARGIN
    return oldest if since is None else min(oldest, since)


def fetch_snapshot(client: MistralClient, *, lock: LockFile | None = None, since: float | None = None,
                   all_jobs: bool = False) -> LiveSnapshot:
    """Read the account with a handful of paginated list calls (never one GET per tracked resource).

    Files: every ``fine-tune`` file (deleted files drop out of the list, so a tracked file that is missing is
    gone). Jobs: those created since the oldest tracked job (minus a margin) when the lock tracks jobs,
    else since ``since``, else all (``all_jobs``: all, for plan-time adoption of untracked jobs). Models: the
    fine-tuned cards. Only a tracked job or model that the lists did not answer gets one GET; a 404 there
    means it is gone and it stays absent from the snapshot.
    """
    before = client.request_count
    files = {f.id: f for f in client.list_files(purpose="fine-tune")}
    jobs = {j.id: j for j in client.list_jobs(created_after=None if all_jobs else _jobs_window(lock, since))}
    models = {m.id: m for m in client.list_models()}
    if lock is not None:
        for resource in lock.resources.values():
            rid = resource.remote_id
            if resource.kind == "job" and rid not in jobs:
                found_job = _get_or_none(client.get_job, rid)
                if found_job is not None:
                    jobs[rid] = found_job
            elif resource.kind == "job" and jobs[rid].phase.failed and jobs[rid].events is None:
                # A failed job is reported with the API's reason, which only a detailed answer carries.
                detailed = _get_or_none(client.get_job, rid)
                if detailed is not None:
                    jobs[rid] = detailed
            elif resource.kind == "model" and rid not in models:
                found_model = _get_or_none(client.get_model, rid)
                if found_model is not None:
                    models[rid] = found_model
    return LiveSnapshot(
        endpoint=client.base_url,
        files=files,
        jobs=jobs,
        models=models,
        fetched_at=time.time(),
        request_count=client.request_count - before,
    )


T = TypeVar("T")


def _get_or_none(get: Callable[[str], T], remote_id: str) -> T | None:
    try:
        return get(remote_id)
    except (NotFoundError, ValidationFailed):  # 422: an id the API can't even parse is gone too
        return None
