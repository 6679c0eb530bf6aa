"""Refresh cost: ftops' list-based snapshot versus one GET per tracked resource (Terraform-style refresh).

For 10 / 100 / 1,000 tracked resources (half files, half jobs) seeded through the client into a fresh
embedded local API, it times ``fetch_snapshot`` and a per-resource GET refresh (median of ``--repeat``
runs) and counts HTTP requests, printing the ratios. ``--latency-ms`` adds a per-request server delay (the
local API's fault injection) to approximate a real network round trip; loopback alone flatters per-resource
refreshes. Run: ``.venv/bin/python bench/bench_refresh.py --latency-ms 0 20``.
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
from ftops.live import fetch_snapshot
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
    resources = {f"file.f{i}": LockedResource(kind="file", remote_id=f.id, fingerprint="0" * 64)
                 for i, f in enumerate(files)}
    resources.update({f"job.j{i}": LockedResource(kind="job", remote_id=j.id, fingerprint="1" * 64,
                                                   created_at=j.created_at) for i, j in enumerate(jobs)})
    return LockFile(lineage=str(uuid.uuid4()), resources=resources)


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
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
