"""Benchmark of the local API: list latency with 10,000 files and jobs, and mixed-traffic throughput.

Seeds the SQLite store directly (copies of one real file row and one real job row, fresh ids and times),
then measures over loopback HTTP against the embedded server:

- p50/p95 latency of ``GET /v1/files`` and ``GET /v1/fine_tuning/jobs`` pages of 100 (random pages, plus a
  filtered jobs list by ``status``);
- requests/s of mixed traffic (lists, gets, uploads, job creates) from N concurrent clients for a bounded time,
  twice: against the embedded server (clients and server share this process and its GIL) and against an
  ``ftops serve`` subprocess on the same state (the server has a process, and a core, of its own).

Run: ``.venv/bin/python bench/bench_localapi.py [--items 10000] [--clients 12] [--seconds 8]``. It prints a
table; figures are machine-dependent, so compare ratios rather than absolutes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ftops.localapi import start_embedded

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from apply_project import ServeProcess  # type: ignore[import-not-found]


def _chat(n: int, salt: str) -> bytes:
    return "".join(json.dumps({"messages": [{"role": "user", "content": f"q{i} {salt}"},
                                            {"role": "assistant", "content": f"a{i}"}]}) + "\n"
                   for i in range(n)).encode()


def seed(server: Any, http: httpx.Client, items: int) -> None:
    """Make one real file and job through the API, then clone their rows ``items`` times in one transaction."""
    file_id = http.post("/v1/files", files={"file": ("seed.jsonl", _chat(5, "seed"))}).json()["id"]
    job_id = http.post("/v1/fine_tuning/jobs", json={"model": "open-mistral-7b", "hyperparameters": {
        "training_steps": 3}, "training_files": [{"file_id": file_id}], "auto_start": True}).json()["id"]
    store = server.app.context.store
    with store.write() as db:
        frow = dict(db.execute("SELECT * FROM files WHERE id = ?", (file_id,)).fetchone())
        jrow = dict(db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())
        base = time.time() - items
        files, jobs = [], []
        for i in range(items):
            f = {**frow, "id": str(uuid.uuid4()), "filename": f"seed-{i}.jsonl", "created_at": base + i}
            files.append(f)
            shift = base + i - jrow["created_at"]
            j = {**jrow, "id": str(uuid.uuid4()), "fingerprint": uuid.uuid4().hex, "fine_tuned_model": None,
                 "suffix": f"s{i % 50}"}
            for col in ("created_at", "validating_at", "validated_at", "started_at", "success_at"):
                j[col] = jrow[col] + shift if jrow[col] is not None else None
            if i % 3 == 0:  # a third never started: VALIDATED
                j["started_at"] = j["success_at"] = None
            jobs.append(j)
        db.executemany(f"INSERT INTO files ({', '.join(frow)}) VALUES ({', '.join(':' + k for k in frow)})", files)
        db.executemany(f"INSERT INTO jobs ({', '.join(jrow)}) VALUES ({', '.join(':' + k for k in jrow)})", jobs)


def latency(http: httpx.Client, path: str, params: dict[str, Any], *, pages: int, samples: int) -> tuple[float, float]:
    rng = random.Random(1)
    times = []
    for _ in range(samples):
        t0 = time.perf_counter()
        r = http.get(path, params={**params, "page": rng.randrange(pages), "page_size": 100})
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.text
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mixed(url: str, key: str, *, clients: int, seconds: float, tag: str = "w",
          cpu: Callable[[], float | None] = lambda: None) -> tuple[int, int, float, float | None]:
    """Requests/s of the mixed traffic in a bounded window, after every client made one upload and one job.

    The warm-up keeps one-time costs out of the window: a fresh server loads the tokenizer (seconds) on its
    first job create, and each client's first connection is set up. ``tag`` keeps the files and job
    suffixes of two runs on one server apart (an identical active job would be refused with 409). ``cpu``
    reads the server's CPU seconds, when it has a process of its own, to report CPU ms per request (a figure
    other jobs on a shared machine disturb much less than requests/s).
    """
    done = [0]
    errors = [0]
    lock = threading.Lock()
    window = [0.0]  # when the timed window ends; set once every client is warm
    cpu_at_start: list[float | None] = [None]

    def open_window() -> None:
        cpu_at_start[0] = cpu()
        window[0] = time.monotonic() + seconds

    ready = threading.Barrier(clients + 1, action=open_window, timeout=120)

    def worker(n: int) -> None:
        ok = bad = 0
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
            file_id = http.post("/v1/files", files={"file": (f"{tag}{n}.jsonl", _chat(3, f"{tag}{n}"))}).json()["id"]
            http.post("/v1/fine_tuning/jobs", json={"model": "open-mistral-7b", "hyperparameters": {
                "training_steps": 1}, "training_files": [{"file_id": file_id}], "suffix": f"{tag}{n}-warm"})
            ready.wait()
            stop = window[0]
            i = 0
            while time.monotonic() < stop:
                i += 1
                k = i % 10
                if k == 0:
                    r = http.post("/v1/files", files={"file": (f"{tag}{n}-{i}.jsonl", _chat(2, f"{tag}{n}-{i}"))})
                elif k == 1:
                    r = http.post("/v1/fine_tuning/jobs", json={"model": "open-mistral-7b", "hyperparameters": {
                        "training_steps": i}, "training_files": [{"file_id": file_id}], "suffix": f"{tag}{n}"})
                elif k < 5:
                    r = http.get("/v1/fine_tuning/jobs", params={"page_size": 20, "suffix": f"{tag}{n}"})
                elif k < 7:
                    r = http.get(f"/v1/files/{file_id}")
                elif k == 7:
                    r = http.get("/v1/models")
                else:
                    r = http.get("/v1/files", params={"page_size": 20})
                ok += r.status_code == 200
                bad += r.status_code != 200
        with lock:
            done[0] += ok
            errors[0] += bad

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    t0 = window[0] - seconds
    for t in threads:
        t.join(seconds + 60)
    elapsed = time.monotonic() - t0
    start_cpu, end_cpu = cpu_at_start[0], cpu()
    ms_per_request = (end_cpu - start_cpu) * 1000 / max(1, done[0] + errors[0]) \
        if start_cpu is not None and end_cpu is not None else None
    return done[0], errors[0], done[0] / elapsed, ms_per_request


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=12)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--samples", type=int, default=100)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, start_embedded(Path(tmp), speed=100.0) as server:
        print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
        http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"}, timeout=60)
        t0 = time.perf_counter()
        seed(server, http, args.items)
        seeded = time.perf_counter() - t0
        pages = max(1, args.items // 100)
        rows = [
            ("GET /v1/files (page of 100)", latency(http, "/v1/files", {}, pages=pages, samples=args.samples)),
            ("GET /v1/fine_tuning/jobs (page of 100)",
             latency(http, "/v1/fine_tuning/jobs", {}, pages=pages, samples=args.samples)),
            ("GET /v1/fine_tuning/jobs?status=VALIDATED",
             latency(http, "/v1/fine_tuning/jobs", {"status": "VALIDATED"}, pages=pages // 3, samples=args.samples)),
            ("GET /v1/fine_tuning/jobs?suffix=s7",
             latency(http, "/v1/fine_tuning/jobs", {"suffix": "s7"}, pages=2, samples=args.samples)),
        ]
        embedded = mixed(server.url, server.api_key, clients=args.clients, seconds=args.seconds)
        http.close()
        server.stop()
        proc = ServeProcess(Path(tmp), key=server.api_key, speed=100.0)
        try:
            separate = mixed(proc.url, server.api_key, clients=args.clients, seconds=args.seconds, tag="p",
                             cpu=lambda: process_cpu_seconds(proc.proc.pid))
        finally:
            proc.stop()
    print(f"local API benchmark: {args.items:,} files + {args.items:,} jobs seeded in {seeded:.1f}s; "
          f"{args.samples} samples per list")
    print(f"{'request':<44} {'p50 ms':>8} {'p95 ms':>8}")
    for name, (p50, p95) in rows:
        print(f"{name:<44} {p50:>8.1f} {p95:>8.1f}")
    bad = 0
    for where, (ok, errors, rps, cpu_ms) in (("embedded, same process", embedded),
                                             ("ftops serve subprocess", separate)):
        bad += errors
        per_request = f", server CPU {cpu_ms:.2f} ms/request" if cpu_ms is not None else ""
        print(f"mixed traffic ({where}), {args.clients} clients, {args.seconds:g}s: {ok} ok, {errors} errors, "
              f"{rps:.0f} requests/s{per_request}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
