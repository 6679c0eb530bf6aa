"""Refresh cost: ftops' list-based snapshot versus one GET per tracked resource (Terraform-style refresh).

For 10 / 100 / 1,000 tracked resources (half files, half jobs) seeded through the client into a fresh
embedded local API, it times ``fetch_snapshot`` and a per-resource GET refresh (median of ``--repeat``
runs) and counts HTTP requests, printing the ratios. ``--latency-ms`` adds a per-request server delay (the
local API's fault injection) to approximate a real network round trip; loopback alone flatters per-resource
refreshes. Run: ``.venv/bin/python bench/bench_refresh.py --latency-ms 0 20``.

``--others N`` first fills the account with N files and N jobs created a year earlier (rows cloned straight
into the local API's store, as an account with history), and compares the plan's bounded snapshot
(``wanted`` = the tracked objects, as ``ftops plan`` passes it) with the unbounded one (every file, every
job in the window). Goal: ≤ 15 requests for 1,000 tracked among 20,000 others:
``.venv/bin/python bench/bench_refresh.py --sizes 1000 --others 10000 --latency-ms 0``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import httpx

from ftops.client import MistralClient
from ftops.live import Wanted, fetch_snapshot
from ftops.localapi.embedded import EmbeddedServer, start_embedded
from ftops.state.model import LockedResource, LockFile


def seed(client: MistralClient, workdir: Path, tracked: int) -> LockFile:
    data = workdir / "train.jsonl"
    data.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                                     {"role": "assistant", "content": f"a{i}"}]}) + "\n"
                            for i in range(20)))
    n_files, n_jobs = tracked - tracked // 2, tracked // 2
    with ThreadPoolExecutor(8) as pool:
        files = list(pool.map(lambda i: client.upload_file(data, filename=f"bench{i}.jsonl"), range(n_files)))
        jobs = list(pool.map(lambda i: client.create_job({
            "model": "open-mistral-7b", "training_files": [{"file_id": files[0].id, "weight": 1}],
            "hyperparameters": {"training_steps": 10}, "suffix": f"bench-{i}"}), range(n_jobs)))
    resources = {f"file.f{i}": LockedResource(kind="file", remote_id=f.id, fingerprint=f"{i:064x}")
                 for i, f in enumerate(files)}
    resources.update({f"job.j{i}": LockedResource(kind="job", remote_id=j.id, fingerprint="1" * 64,
                                                   created_at=j.created_at) for i, j in enumerate(jobs)})
    return LockFile(lineage=str(uuid.uuid4()), resources=resources)


def add_history(server: EmbeddedServer, client: MistralClient, workdir: Path, others: int) -> None:
    """``others`` files and jobs created a year ago, cloned from one real upload and job in one transaction."""
    data = workdir / "old.jsonl"
    data.write_text(json.dumps({"messages": [{"role": "user", "content": "q"},
                                             {"role": "assistant", "content": "a"}]}) + "\n")
    file_id = client.upload_file(data, filename="old.jsonl").id
    job_id = client.create_job({"model": "open-mistral-7b", "training_files": [{"file_id": file_id, "weight": 1}],
                                "hyperparameters": {"training_steps": 10}, "suffix": "old"}).id
    base = time.time() - 365 * 86400
    with server.app.context.store.write() as db:
        frow = dict(db.execute("SELECT * FROM files WHERE id = ?", (file_id,)).fetchone())
        jrow = dict(db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())
        files = [{**frow, "id": str(uuid.uuid4()), "filename": f"old-{i}.jsonl", "created_at": base + i}
                 for i in range(others)]
        jobs = [{**jrow, "id": str(uuid.uuid4()), "fingerprint": uuid.uuid4().hex, "suffix": f"old-{i % 999}",
                 "created_at": base + i} for i in range(others)]
        db.executemany(f"INSERT INTO files ({', '.join(frow)}) VALUES ({', '.join(':' + k for k in frow)})", files)
        db.executemany(f"INSERT INTO jobs ({', '.join(jrow)}) VALUES ({', '.join(':' + k for k in jrow)})", jobs)


def tracked_wanted(lock: LockFile) -> Wanted:
    """What a plan of the project that made ``lock`` would pass: every tracked object is also wanted."""
    return Wanted(files={a: r.fingerprint for a, r in lock.resources.items() if r.kind == "file"},
                  jobs={a: (f"bench-{a.split('j', 1)[1]}", "open-mistral-7b")
                        for a, r in lock.resources.items() if r.kind == "job"})


def per_resource_refresh(client: MistralClient, lock: LockFile) -> None:
    for resource in lock.resources.values():
        (client.get_file if resource.kind == "file" else client.get_job)(resource.remote_id)


def measure(client: MistralClient, run: Callable[[], object], repeat: int) -> tuple[float, int]:
    times, requests = [], 0
    for _ in range(repeat):
        before = client.request_count
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
        requests = client.request_count - before
    return statistics.median(times), requests


def set_latency(server: EmbeddedServer, latency_ms: int) -> None:
    httpx.put(f"{server.url}/_ftops/faults", json={"latency_ms": latency_ms},
              headers={"Authorization": f"Bearer {server.api_key}"}, timeout=10).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 20])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--others", type=int, default=0, help="older files and jobs (each) already in the account")
    args = parser.parse_args()
    if args.others:
        bounded_vs_unbounded(args)
        return
    print(f"{'tracked':>8} {'latency':>8} | {'snapshot s':>10} {'req':>5} | {'per-GET s':>10} {'req':>6} |"
          f" {'time ratio':>10} {'req ratio':>9}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp, start_embedded(Path(tmp) / "api") as server, \
                MistralClient(server.url, server.api_key) as client:
            lock = seed(client, Path(tmp), size)
            for latency in args.latency_ms:
                set_latency(server, latency)
                snap_s, snap_n = measure(client, partial(fetch_snapshot, client, lock=lock), args.repeat)
                get_s, get_n = measure(client, partial(per_resource_refresh, client, lock), args.repeat)
                print(f"{size:>8} {latency:>6}ms | {snap_s:>10.3f} {snap_n:>5} | {get_s:>10.3f} {get_n:>6} |"
                      f" {get_s / snap_s:>9.1f}x {get_n / snap_n:>8.1f}x", flush=True)
            set_latency(server, 0)


def bounded_vs_unbounded(args: argparse.Namespace) -> None:
    print(f"{'tracked':>8} {'others':>7} {'latency':>8} | {'bounded s':>9} {'req':>4} | {'unbounded s':>11} {'req':>5}"
          f" | {'per-GET s':>9} {'req':>5}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp, start_embedded(Path(tmp) / "api") as server, \
                MistralClient(server.url, server.api_key) as client:
            add_history(server, client, Path(tmp), args.others)
            lock = seed(client, Path(tmp), size)
            wanted = tracked_wanted(lock)
            for latency in args.latency_ms:
                set_latency(server, latency)
                snap = fetch_snapshot(client, lock=lock, wanted=wanted)
                assert all(r.remote_id in (snap.files if r.kind == "file" else snap.jobs)
                           for r in lock.resources.values()), "the bounded snapshot missed a tracked object"
                b_s, b_n = measure(client, partial(fetch_snapshot, client, lock=lock, wanted=wanted), args.repeat)
                u_s, u_n = measure(client, partial(fetch_snapshot, client, lock=lock), args.repeat)
                g_s, g_n = measure(client, partial(per_resource_refresh, client, lock), 1)
                print(f"{size:>8} {2 * args.others:>7} {latency:>6}ms | {b_s:>9.3f} {b_n:>4} | {u_s:>11.3f}"
                      f" {u_n:>5} | {g_s:>9.3f} {g_n:>5}", flush=True)
            set_latency(server, 0)


if __name__ == "__main__":
    main()
