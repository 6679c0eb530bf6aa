"""State writes: cost of one mutation at 100 vs 10,000 tracked resources, and the first apply of 1,000 resources,
for this tree and a baseline commit (default: the commit before journaled state writes), in the same run.

Run: .venv/bin/python bench/bench_state.py [--base f7ea2cb] [--sizes 100,10000] [--first-apply-n 500]
The baseline's ``ftops`` package is extracted with ``git archive`` into a temp directory (no worktree is
created) and each measurement runs in a child process with that tree first on ``PYTHONPATH``. A mutation
is one ``begin_intent`` or ``complete_intent`` (apply makes two per upload or job create); reported: the
median latency of one call, the CPU time per call (the figure a loaded machine disturbs least), and the total
time of K begin+complete pairs including the store's final flush/close, divided by 2K. The first
apply is ``ftops apply --auto-approve`` of N files + N jobs on a fresh ``ftops serve`` (no added latency).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
DEFAULT_BASE = "f7ea2cb"  # main before journaled state writes (issue 13)


def _mutations(size: int, max_pairs: int, max_seconds: float) -> dict[str, object]:
    from ftops.state.lockfile import new_lock, write_lock
    from ftops.state.model import LockedResource
    from ftops.state.store import LockStore

    sha = "ab" * 32
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ftops.lock"
        lock = new_lock("local")
        for i in range(size):
            lock.resources[f"file.r{i}"] = LockedResource(
                kind="file", remote_id=f"f-{i:08d}", fingerprint=sha, created_at=1_700_000_000 + i,
                attributes={"filename": f"r{i}.abababababab.jsonl", "bytes": 1234, "path": f"data/r{i}.jsonl"})
        write_lock(path, lock)
        store = LockStore.open(path, endpoint="local", backup=False)
        marker = {"filename": "n.abababababab.jsonl", "sha256": sha, "bytes": 10, "attributes": {}}
        calls: list[float] = []
        started, cpu_started = time.perf_counter(), time.process_time()
        pairs = 0
        while pairs < max_pairs and (pairs < 2 or time.perf_counter() - started < max_seconds):
            t0 = time.perf_counter()
            intent = store.begin_intent(f"file.n{pairs}", "upload", sha, marker)
            t1 = time.perf_counter()
            store.complete_intent(intent.id, LockedResource(kind="file", remote_id=f"n-{pairs}", fingerprint=sha))
            calls += [t1 - t0, time.perf_counter() - t1]
            pairs += 1
        cpu = time.process_time() - cpu_started
        closing = time.perf_counter()
        closer = getattr(store, "close", None)
        if callable(closer):
            closer()
        close_ms = 1000 * (time.perf_counter() - closing)
        total = time.perf_counter() - started
    n = 2 * pairs
    return {"size": size, "mutations": n, "ms_per_mutation": round(1000 * total / n, 3),
            "median_call_ms": round(1000 * statistics.median(calls), 3),
            "cpu_ms_per_mutation": round(1000 * cpu / n, 3), "close_ms": round(close_ms, 1)}


def _first_apply(n: int, parallelism: int, latency_ms: int) -> dict[str, object]:
    sys.path.insert(0, str(HERE.parent))
    from bench_apply import run

    return run(n, parallelism, latency_ms)


def _child(tree: Path, args: list[str], timeout: float) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FTOPS_")}
    env["PYTHONPATH"] = str(tree)
    out = subprocess.run([sys.executable, str(HERE), *args], env=env, capture_output=True, text=True,
                         timeout=timeout, cwd=tempfile.gettempdir())
    if out.returncode != 0:
        raise RuntimeError(f"child failed: {out.stderr[-2000:]}")
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _extract(base: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", base, "ftops"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default=DEFAULT_BASE, help="baseline commit ('' to skip the baseline)")
    parser.add_argument("--sizes", default="100,10000")
    parser.add_argument("--first-apply-n", type=int, default=500, help="N files + N jobs (0 to skip)")
    parser.add_argument("--parallelism", type=int, default=4)
    parser.add_argument("--only", choices=["mutations", "first-apply"], default=None)
    sub = parser.add_subparsers(dest="child")
    m = sub.add_parser("_mutations")
    m.add_argument("--size", type=int)
    m.add_argument("--max-pairs", type=int, default=500)
    m.add_argument("--max-seconds", type=float, default=8.0)
    f = sub.add_parser("_first_apply")
    f.add_argument("--n", type=int)
    f.add_argument("--parallelism", type=int)
    args = parser.parse_args()
    if args.child == "_mutations":
        print(json.dumps(_mutations(args.size, args.max_pairs, args.max_seconds)))
        return
    if args.child == "_first_apply":
        print(json.dumps(_first_apply(args.n, args.parallelism, 0)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": REPO}
        if args.base:
            trees = {f"base {args.base}": _extract(args.base, Path(tmp)), **trees}
        sizes = [int(s) for s in args.sizes.split(",")]
        if args.only in (None, "mutations"):
            for name, tree in trees.items():
                rows = [_child(tree, ["_mutations", "--size", str(s)], 600) for s in sizes]
                for row in rows:
                    print(json.dumps({"tree": name, **row}), flush=True)
                for key in ("ms_per_mutation", "median_call_ms", "cpu_ms_per_mutation"):
                    ratio = float(rows[-1][key]) / float(rows[0][key])  # type: ignore[arg-type]
                    print(f"{name}: {key} at {sizes[-1]} resources is {ratio:.2f}x the one at {sizes[0]}", flush=True)
        if args.only in (None, "first-apply") and args.first_apply_n:
            walls = {}
            for name, tree in trees.items():
                row = _child(tree, ["_first_apply", "--n", str(args.first_apply_n), "--parallelism",
                                    str(args.parallelism)], 3600)
                walls[name] = float(row["wall_s"])  # type: ignore[arg-type]
                print(json.dumps({"tree": name, **row}), flush=True)
            if len(walls) == 2:
                base, new = walls.values()
                print(f"first apply of {2 * args.first_apply_n} resources: {base / new:.1f}x faster than the base",
                      flush=True)


if __name__ == "__main__":
    main()
