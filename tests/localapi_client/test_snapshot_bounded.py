"""A plan's snapshot reads what is tracked and wanted, not the whole account: an account with 2,000 older
files and 2,000 older jobs costs the same few requests as an empty one, and untracked wanted objects
(identical uploads, jobs with the wanted suffix and model) are still found for adoption."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from ftops.client import MistralClient
from ftops.client.models import RemoteFile, RemoteJob
from ftops.live import Wanted, fetch_snapshot
from ftops.localapi.embedded import EmbeddedServer
from ftops.state.model import LockedResource, LockFile

from .conftest import seed_files, seed_jobs

OTHERS = 2000  # files and jobs each, a year older than the tracked ones
TRACKED = 50  # files and jobs each
OLD_SHA = "ab12cd34ef56" + "0" * 52  # the content of one old upload a manifest now wants


@dataclass
class Account:
    files: list[RemoteFile]
    jobs: list[RemoteJob]
    old_file: str  # id of the old upload named like OLD_SHA
    old_job: str  # id of an old job with suffix "old-7"
    lock: LockFile


def _clone_old_rows(server: EmbeddedServer, file_id: str, job_id: str) -> tuple[str, str]:
    """OTHERS copies of one file and one job, created a year ago, written straight into the API's store."""
    store = server.app.context.store
    base = time.time() - 365 * 86400
    with store.write() as db:
        frow = dict(db.execute("SELECT * FROM files WHERE id = ?", (file_id,)).fetchone())
        jrow = dict(db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())
        files = [{**frow, "id": str(uuid.uuid4()), "filename": f"old-{i}.jsonl", "created_at": base + i}
                 for i in range(OTHERS)]
        files[7]["filename"] = f"data.{OLD_SHA[:12]}.jsonl"
        jobs = [{**jrow, "id": str(uuid.uuid4()), "fingerprint": uuid.uuid4().hex, "suffix": f"old-{i}",
                 "created_at": base + i} for i in range(OTHERS)]
        db.executemany(f"INSERT INTO files ({', '.join(frow)}) VALUES ({', '.join(':' + k for k in frow)})", files)
        db.executemany(f"INSERT INTO jobs ({', '.join(jrow)}) VALUES ({', '.join(':' + k for k in jrow)})", jobs)
    return files[7]["id"], jobs[7]["id"]


@pytest.fixture(scope="module")
def account(server: EmbeddedServer, train_path: Path) -> Account:
    with MistralClient(server.url, server.api_key) as client:
        first = seed_files(client, train_path, 1, "template-")[0]
        template = seed_jobs(client, first.id, 1, "template-")[0]
        old_file, old_job = _clone_old_rows(server, first.id, template.id)
        files = seed_files(client, train_path, TRACKED, "tracked-")
        jobs = seed_jobs(client, files[0].id, TRACKED, "tracked-")
    resources = {f"file.f{i}": LockedResource(kind="file", remote_id=f.id, fingerprint=f"{i:064x}")
                 for i, f in enumerate(files)}
    resources.update({f"job.j{i}": LockedResource(kind="job", remote_id=j.id, fingerprint="1" * 64,
                                                   created_at=j.created_at) for i, j in enumerate(jobs)})
    return Account(files, jobs, old_file, old_job, LockFile(lineage=str(uuid.uuid4()), resources=resources))


def _tracked_wanted(account: Account) -> Wanted:
    return Wanted(files={a: r.fingerprint for a, r in account.lock.resources.items() if r.kind == "file"},
                  jobs={f"job.j{i}": (f"tracked-{i}", "open-mistral-7b") for i in range(TRACKED)})


def test_tracked_objects_cost_a_page_each_not_the_account(client: MistralClient, account: Account) -> None:
    snap = fetch_snapshot(client, lock=account.lock, wanted=_tracked_wanted(account))
    assert {f.id for f in account.files} <= set(snap.files) and {j.id for j in account.jobs} <= set(snap.jobs)
    assert snap.request_count == 1 + 1 + 1  # a page of files, a page of jobs, the models
    unbounded = fetch_snapshot(client, lock=account.lock)  # what every plan used to read
    assert unbounded.request_count >= 20 + 1 + 1


def test_untracked_wanted_objects_are_found_for_adoption(client: MistralClient, account: Account) -> None:
    wanted = _tracked_wanted(account)
    wanted = Wanted(files={**wanted.files, "file.new": OLD_SHA},
                    jobs={**wanted.jobs, "job.new": ("old-7", "open-mistral-7b")})
    snap = fetch_snapshot(client, lock=account.lock, wanted=wanted)
    assert account.old_file in snap.files  # found by search=<sha256[:12]>
    assert account.old_job in snap.jobs  # found by its suffix and model
    # + the whole list's first page (to know its length), one search, one suffix+model list
    assert snap.request_count == 3 + 3


def test_a_tracked_object_the_pages_miss_costs_one_get(client: MistralClient, account: Account) -> None:
    resources = {**account.lock.resources,
                 "file.old": LockedResource(kind="file", remote_id=account.old_file, fingerprint=OLD_SHA),
                 "file.gone": LockedResource(kind="file", remote_id=str(uuid.uuid4()), fingerprint="2" * 64)}
    lock = account.lock.model_copy(update={"resources": resources})
    snap = fetch_snapshot(client, lock=lock, wanted=Wanted(files={"file.old": OLD_SHA}))
    assert account.old_file in snap.files and {f.id for f in account.files} <= set(snap.files)
    assert resources["file.gone"].remote_id not in snap.files
    # One more page of files shows the list has moved past the tracked span; then one GET each (the gone
    # one answers 404) instead of the 20 remaining pages.
    assert snap.request_count == 3 + 1 + 2


def test_no_lock_and_nothing_wanted_reads_one_page_each(client: MistralClient, account: Account) -> None:
    snap = fetch_snapshot(client, lock=None, wanted=Wanted())
    assert snap.request_count == 1 + 1 + 1
