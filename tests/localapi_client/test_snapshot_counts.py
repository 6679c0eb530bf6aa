"""fetch_snapshot against the real local API: a handful of list calls, never one GET per tracked resource."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from ftops.client import MistralClient
from ftops.live import fetch_snapshot, with_job_details
from ftops.localapi.embedded import EmbeddedServer
from ftops.state.model import LockedResource, LockFile

from .conftest import SEED_THREADS, admin, seed_files, seed_jobs

FILES, JOBS, MODELS = 500, 490, 10  # 1,000 tracked resources


@dataclass
class Seeded:
    lock: LockFile
    file_ids: set[str]
    job_ids: set[str]
    model_ids: set[str]


@pytest.fixture(scope="module")
def seeded(server: EmbeddedServer, train_path: Path) -> Seeded:
    with MistralClient(server.url, server.api_key) as client:
        files = seed_files(client, train_path, FILES, "snap-")
        jobs = seed_jobs(client, files[0].id, JOBS, "snap-")
        admin(server, "POST", "/_ftops/clock/advance", {"seconds": 120})
        with ThreadPoolExecutor(SEED_THREADS) as pool:
            list(pool.map(client.start_job, [j.id for j in jobs[:MODELS]]))
        admin(server, "POST", "/_ftops/clock/advance", {"seconds": 10 * 86400})
        finished = [client.get_job(j.id) for j in jobs[:MODELS]]
    models = [j.fine_tuned_model for j in finished if j.fine_tuned_model]
    assert len(models) == MODELS
    resources = {f"file.f{i}": LockedResource(kind="file", remote_id=f.id, fingerprint="0" * 64)
                 for i, f in enumerate(files)}
    resources.update({f"job.j{i}": LockedResource(kind="job", remote_id=j.id, fingerprint="1" * 64,
                                                   created_at=j.created_at) for i, j in enumerate(jobs)})
    resources.update({f"model.m{i}": LockedResource(kind="model", remote_id=m, fingerprint=f"job.j{i}")
                      for i, m in enumerate(models)})
    lock = LockFile(lineage=str(uuid.uuid4()), resources=resources)
    return Seeded(lock, {f.id for f in files}, {j.id for j in jobs}, set(models))


def test_thousand_tracked_resources_in_a_handful_of_requests(client: MistralClient, seeded: Seeded) -> None:
    assert len(seeded.lock.resources) == 1000
    snap = fetch_snapshot(client, lock=seeded.lock)
    assert snap.request_count <= 35
    assert snap.request_count == 5 + 5 + 1  # files: 5 pages, jobs: 5 pages, models: 1
    assert seeded.file_ids <= set(snap.files) and seeded.job_ids <= set(snap.jobs)
    assert seeded.model_ids <= set(snap.models)
    assert snap.endpoint == client.base_url and snap.fetched_at > 0
    assert sum(j.status == "SUCCESS" for j in snap.jobs.values()) == MODELS


def test_tracked_job_outside_the_window_costs_one_get(client: MistralClient, seeded: Seeded) -> None:
    job_id = next(iter(seeded.job_ids))
    # A lock whose recorded creation time is later than the job's real one (e.g. clock skew): the window
    # starts after the job, so the list misses it and exactly one GET answers it.
    lock = LockFile(lineage=str(uuid.uuid4()), resources={
        "job.late": LockedResource(kind="job", remote_id=job_id, fingerprint="1" * 64, created_at=4_000_000_000)})
    snap = fetch_snapshot(client, lock=lock)
    assert job_id in snap.jobs
    assert snap.request_count == 5 + 1 + 1 + 1  # files, jobs (empty window), models, one GET


def test_vanished_tracked_objects_are_absent_not_errors(client: MistralClient, seeded: Seeded) -> None:
    lock = LockFile(lineage=str(uuid.uuid4()), resources={
        "job.gone": LockedResource(kind="job", remote_id=str(uuid.uuid4()), fingerprint="1" * 64, created_at=1),
        "model.gone": LockedResource(kind="model", remote_id="ft:open-mistral-7b:00000000:20250101:deadbeef",
                                     fingerprint="job.gone"),
        "file.gone": LockedResource(kind="file", remote_id=str(uuid.uuid4()), fingerprint="0" * 64),
    })
    snap = fetch_snapshot(client, lock=lock)
    ids = {address: r.remote_id for address, r in lock.resources.items()}
    assert ids["job.gone"] not in snap.jobs and ids["model.gone"] not in snap.models
    assert ids["file.gone"] not in snap.files
    assert snap.request_count == 5 + 5 + 1 + 2  # lists, plus one GET each for the job and model (404)


def test_since_bounds_the_jobs_list_without_a_lock(client: MistralClient, seeded: Seeded) -> None:
    everything = fetch_snapshot(client)
    assert seeded.job_ids <= set(everything.jobs)
    later = fetch_snapshot(client, since=max(j.created_at for j in everything.jobs.values()) + 1)
    assert later.jobs == {} and later.request_count == 5 + 1 + 1


def test_sweep_details_cost_one_get_per_finished_sweep_job_only(client: MistralClient, seeded: Seeded) -> None:
    # best_of ranks a sweep by its checkpoints, which only a detailed GET carries: those jobs, and no others.
    snap = fetch_snapshot(client, lock=seeded.lock)
    finished = sorted(i for i in seeded.job_ids if snap.jobs[i].status == "SUCCESS")[:3]
    parked = sorted(i for i in seeded.job_ids if snap.jobs[i].status != "SUCCESS")[:2]
    detailed = with_job_details(client, snap, [*finished, *parked])
    assert detailed.request_count - snap.request_count == len(finished) == 3
    assert all(detailed.jobs[i].checkpoints for i in finished)
    assert all(detailed.jobs[i].checkpoints is None for i in parked)
    again = with_job_details(client, detailed, finished)  # already detailed: nothing more to fetch
    assert again.request_count == detailed.request_count
