"""The ftops.lock merge driver on big locks: in-process merge vs the driver as git runs it (a subprocess).

Run: .venv/bin/python bench/bench_lock_merge.py [--n 5000]
Two branches of one lineage each add n/2 jobs to a common base of n files. Reports the merge in process and
the subprocess git pays per merge: the driver module (what `install-merge-driver` registers) vs the ftops CLI.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ftops.state.lockfile import dump_lock, parse_lock
from ftops.state.merge import merge_locks
from ftops.state.model import LockedResource, LockFile

LINEAGE = "6f1d2c3b-9a4e-4c1f-8a77-2b0e1d5c9f10"


def lock(serial: int, resources: dict[str, LockedResource]) -> LockFile:
    return LockFile(lineage=LINEAGE, serial=serial, endpoint="local", resources=resources)


def sides(n: int) -> tuple[LockFile, LockFile, LockFile]:
    files = {f"file.d{i}": LockedResource(kind="file", remote_id=f"F{i}", fingerprint=f"{i:064x}",
                                          attributes={"filename": f"d{i}.jsonl", "bytes": 100 + i}) for i in range(n)}

    def jobs(start: int) -> dict[str, LockedResource]:
        return {f"job.j{i}": LockedResource(kind="job", remote_id=f"J{i}", fingerprint=f"{i:064x}", status="QUEUED",
                                            created_at=1_700_000_000 + i, attributes={"suffix": f"j{i}"})
                for i in range(start, n, 2)}

    return lock(n, files), lock(n + n // 2, {**files, **jobs(0)}), lock(n + n // 2, {**files, **jobs(1)})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=5000)
    n = parser.parse_args().n
    base, ours, theirs = sides(n)
    texts = [dump_lock(x) for x in (base, ours, theirs)]
    started = time.perf_counter()
    parsed = [parse_lock(t, where="bench") for t in texts]
    parse_s = time.perf_counter() - started
    started = time.perf_counter()
    merged = merge_locks(*parsed)
    merge_s = time.perf_counter() - started
    assert len(merged.lock.resources) == 2 * n
    timings: dict[str, float] = {}
    commands = {"driver module": ["-m", "ftops.state.mergedriver"],
                "ftops CLI": ["-m", "ftops", "state", "merge-driver"]}
    for label, command in commands.items():
        with tempfile.TemporaryDirectory() as tmp:
            paths = [Path(tmp) / name for name in ("base", "ours", "theirs")]
            for path, text in zip(paths, texts, strict=True):
                path.write_text(text)
            started = time.perf_counter()
            subprocess.run([sys.executable, *command, *map(str, paths)], check=True, capture_output=True)
            timings[label] = time.perf_counter() - started
            assert len(parse_lock(paths[1].read_text(), where="merged").resources) == 2 * n
    size_kb = sum(len(t) for t in texts) / 3 / 1024
    print(f"n={n} ({2 * n} resources merged, ~{size_kb:.0f} KiB per lock)")
    print(f"in process: parse 3 locks {parse_s * 1000:.0f} ms, merge {merge_s * 1000:.0f} ms")
    module, cli = timings["driver module"], timings["ftops CLI"]
    print(f"as git runs it: driver module {module * 1000:.0f} ms, ftops CLI {cli * 1000:.0f} ms "
          f"(module/CLI = {module / cli:.2f})")


if __name__ == "__main__":
    main()
