"""Live: a read-only snapshot of the account, built from a few paginated list calls.

The value type lives here; ``fetch_snapshot`` fills it using the client. Planning receives only this
value, never a client, so it cannot write. With 1,000 tracked resources a snapshot is about 21 requests
(10 pages of files, 10 of jobs, 1 of models) instead of 1,000 GETs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

from ftops.client import MistralClient
from ftops.client.client import Page
from ftops.client.models import RemoteFile, RemoteJob, RemoteModel
from ftops.errors import NotFoundError, ValidationFailed
from ftops.fieldsets import share_fields_sets
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


@dataclass(frozen=True)
class Wanted:
    """What the manifests want, so the snapshot can also find objects the lock does not track (adoption)."""

    files: Mapping[str, str] = field(default_factory=dict)  # address → sha256 of the dataset's content
    jobs: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # address → (suffix, base model)


def fetch_snapshot(client: MistralClient, *, lock: LockFile | None = None, since: float | None = None,
                   wanted: Wanted | None = None) -> LiveSnapshot:
    """Read the account with a handful of paginated list calls (never one GET per tracked resource).

    Without ``wanted``: every ``fine-tune`` file, the jobs created since the oldest tracked job (minus a
    margin) or ``since`` or all, and the fine-tuned models. With ``wanted`` (what ``plan`` passes) the
    reads are bounded by what is tracked and wanted, see ``_bounded_files`` and ``_bounded_jobs``. Models:
    the fine-tuned cards. A tracked object the lists did not answer gets one GET; a 404 means it is gone.
    """
    before = client.request_count
    if wanted is None:
        files = {f.id: f for f in client.list_files(purpose="fine-tune")}
        jobs = {j.id: j for j in client.list_jobs(created_after=_jobs_window(lock, since))}
    else:
        files = _bounded_files(client, lock, wanted)
        jobs = _bounded_jobs(client, lock, since, wanted)
    models = {m.id: m for m in client.list_models()}
    if lock is not None:
        for resource in lock.resources.values():
            rid = resource.remote_id
            if resource.kind == "file" and rid not in files and wanted is not None:
                found_file = _get_or_none(client.get_file, rid)
                if found_file is not None:
                    files[rid] = found_file
            elif resource.kind == "job" and rid not in jobs:
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
    for answers in (files, jobs, models):  # kept for the whole plan: 10,000 answers' field sets add up
        for answer in answers.values():
            share_fields_sets(answer)
    return LiveSnapshot(
        endpoint=client.base_url,
        files=files,
        jobs=jobs,
        models=models,
        fetched_at=time.time(),
        request_count=client.request_count - before,
    )


def with_job_details(client: MistralClient, live: LiveSnapshot, job_ids: Collection[str]) -> LiveSnapshot:
    """One detailed GET (checkpoints, events) for each of ``job_ids`` that has finished — a sweep whose best
    job a Model follows — and none for anything else: the lists stay the cheap path of a refresh."""
    wanted = [i for i in sorted(job_ids) if i in live.jobs and live.jobs[i].terminal
              and live.jobs[i].checkpoints is None]
    if not wanted:
        return live
    before = client.request_count
    jobs = dict(live.jobs)
    for job_id in wanted:
        found = _get_or_none(client.get_job, job_id)
        if found is not None:
            jobs[job_id] = found
    return replace(live, jobs=jobs, request_count=live.request_count + client.request_count - before)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=_HasId)


def _read_until_cheaper(pages: Iterator[Page[R]], tracked: set[str], extra: int, into: dict[str, R]) -> bool:
    """Read a newest-first list into ``into`` until every tracked id was seen, or until a page holds none of
    them (past the tracked span) and the rest would cost more requests than one GET per tracked id not yet
    seen plus ``extra`` other lookups. True when the whole list was read."""
    unseen = set(tracked)
    for page in pages:
        hits = len(unseen)
        for item in page.items:
            into[item.id] = item
            unseen.discard(item.id)
        left = page.pages_left
        if left == 0:
            return True
        if left is not None and len(unseen) + extra <= left and (not unseen or len(unseen) == hits):
            return False
    return True


def _tracked_ids(lock: LockFile | None, kind: str) -> set[str]:
    return {r.remote_id for r in lock.resources.values() if r.kind == kind} if lock is not None else set()


def _bounded_files(client: MistralClient, lock: LockFile | None, wanted: Wanted) -> dict[str, RemoteFile]:
    """Tracked uploads, plus every upload named like a wanted content the lock does not have.

    The file list (newest first; the API has no date filter) is read until the rest would cost more than
    a GET per tracked file not yet seen plus one ``search=<sha256[:12]>`` per untracked or changed content
    (the upload name embeds it); then those GETs (in ``fetch_snapshot``) and searches are made instead.
    """
    tracked = lock.resources if lock is not None else {}
    hashes = sorted({sha[:12] for address, sha in wanted.files.items()
                     if address not in tracked or tracked[address].fingerprint != sha})
    files: dict[str, RemoteFile] = {}
    if _read_until_cheaper(client.file_pages(purpose="fine-tune"), _tracked_ids(lock, "file"), len(hashes), files):
        return files
    for prefix in hashes:
        files.update((f.id, f) for f in client.list_files(search=prefix, purpose="fine-tune"))
    return files


def _bounded_jobs(client: MistralClient, lock: LockFile | None, since: float | None,
                  wanted: Wanted) -> dict[str, RemoteJob]:
    """Tracked jobs, plus every job with the suffix and base model of a wanted job the lock does not have.

    Tracked: the list from the oldest tracked job (minus a margin), read until a GET per job not yet seen
    is cheaper. Untracked wanted jobs: one ``suffix``+``model`` list each (any age), or the whole list
    when that takes fewer requests (its first page tells how long it is).
    """
    tracked = lock.resources if lock is not None else {}
    keys = sorted({key for address, key in wanted.jobs.items() if address not in tracked})
    window = _jobs_window(lock, since)
    jobs: dict[str, RemoteJob] = {}
    if keys:
        everything = client.job_pages()
        first = next(everything)
        jobs.update((j.id, j) for j in first.items)
        left = first.pages_left
        if left == 0 or left is None or left <= len(keys) or window is None:
            jobs.update((j.id, j) for page in everything for j in page.items)
            return jobs
        for suffix, model in keys:
            jobs.update((j.id, j) for j in client.list_jobs(suffix=suffix or None, model=model))
    _read_until_cheaper(client.job_pages(created_after=window), _tracked_ids(lock, "job"), 0, jobs)
    return jobs


T = TypeVar("T")


def _get_or_none(get: Callable[[str], T], remote_id: str) -> T | None:
    try:
        return get(remote_id)
    except (NotFoundError, ValidationFailed):  # 422: an id the API can't even parse is gone too
        return None
