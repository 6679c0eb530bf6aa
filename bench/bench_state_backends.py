"""Latency of one state write on each backend: file (baseline), PostgreSQL, S3 (SeaweedFS), on this machine.

Run: .venv/bin/python bench/bench_state_backends.py [--writes 200] [--resources 40]

Measures, per backend, the median and p99 of: one compare-and-swap write of the lock document (a realistic
lock with ``--resources`` tracked objects), one journal append (what each change costs during apply: the
document itself is written in batches), and one run-lock acquire + release. The servers are real and local
(loopback), started like the tests start them, with their default durability (PostgreSQL fsyncs its WAL on
commit; SeaweedFS as shipped). Ratios are against the file backend in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "backends"))

from servers import S3_ACCESS_KEY, S3_SECRET_KEY, new_base_dir, start_postgres, start_s3  # noqa: E402

from ftops.state.backend import StateBackend  # noqa: E402
from ftops.state.backends.file import FileBackend  # noqa: E402
from ftops.state.backends.postgres import PostgresBackend  # noqa: E402
from ftops.state.backends.s3 import Credentials, S3Backend  # noqa: E402
from ftops.state.lockfile import dump_lock, new_lock  # noqa: E402
from ftops.state.model import LockedResource  # noqa: E402
from ftops.state.runlock import FileSlot, RunLockSlot, acquire  # noqa: E402


def document(resources: int, serial: int) -> str:
    lock = new_lock("local")
    lock.lineage = "00000000-0000-4000-8000-000000000000"
    lock.serial = serial
    for i in range(resources):
        kind = "file" if i % 2 == 0 else "job"
        lock.resources[f"{kind}.r{i}"] = LockedResource(
            kind=kind, remote_id=str(uuid.UUID(int=i)), fingerprint=f"{i:064x}",
            status="SUCCESS" if kind == "job" else None, attributes={"filename": f"r{i}.jsonl"},
        )
    return dump_lock(lock)


def timed(n: int, op: Callable[[int], None]) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        op(i)
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


Timings = dict[str, tuple[float, float]]  # operation -> (median ms, p99 ms)


def measure(name: str, backend: StateBackend, slot: RunLockSlot, writes: int, resources: int) -> Timings:
    texts = [document(resources, s) for s in range(writes + 1)]
    version = backend.write(texts[0], expected=None)

    def write(i: int) -> None:
        nonlocal version
        version = backend.write(texts[i + 1], expected=version)

    def journal(i: int) -> None:
        backend.append_journal(f'{{"serial": {i}, "change": "put", "address": "job.r{i}"}}')

    def lock(i: int) -> None:
        acquire(slot, "bench", notify=lambda _: None).release()

    for _ in range(5):  # warm connections and caches
        journal(0)
    backend.clear_journal()
    result = {"document write": summary(timed(writes, write)), "journal append": summary(timed(writes, journal)),
              "run lock acquire+release": summary(timed(max(writes // 4, 10), lock))}
    backend.clear_journal()
    print(f"  {name}: done ({len(texts[0]) / 1024:.1f} KiB document)", file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=200)
    parser.add_argument("--resources", type=int, default=40)
    args = parser.parse_args()
    results: dict[str, dict[str, tuple[float, float]]] = {}
    work = Path(tempfile.mkdtemp(prefix="ftops-bench-"))
    file_backend = FileBackend(work / "ftops.lock")
    results["file"] = measure("file", file_backend, FileSlot(work / ".ftops"), args.writes, args.resources)
    pg, why = start_postgres(new_base_dir("ftops-bench-pg-"))
    if pg is None:
        print(f"postgres skipped: {why}", file=sys.stderr)
    else:
        try:
            backend = PostgresBackend(pg.url, name="bench")
            results["postgres"] = measure("postgres", backend, backend.run_lock_slot(), args.writes, args.resources)
            backend.close()
        finally:
            pg.stop()
    s3, why = start_s3(new_base_dir("ftops-bench-s3-"))
    if s3 is None:
        print(f"s3 skipped: {why}", file=sys.stderr)
    else:
        try:
            creds = Credentials(S3_ACCESS_KEY, S3_SECRET_KEY)
            s3b = S3Backend(bucket="bench", key="p/ftops.lock", credentials=creds, endpoint_url=s3.endpoint_url)
            s3b.request("PUT", "")
            results["s3"] = measure("s3 (SeaweedFS)", s3b, s3b.run_lock_slot(), args.writes, args.resources)
        finally:
            s3.stop()
    base = results["file"]
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f} writes={args.writes} resources={args.resources}")
    print(f"{'backend':<10} {'operation':<26} {'median ms':>10} {'p99 ms':>9} {'median vs file':>15}")
    for name, ops in results.items():
        for op, (median, p99) in ops.items():
            ratio = median / base[op][0] if base[op][0] else float("nan")
            print(f"{name:<10} {op:<26} {median:>10.2f} {p99:>9.2f} {ratio:>14.1f}x")


if __name__ == "__main__":
    main()
