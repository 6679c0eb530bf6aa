"""Cold plan of a fresh clone with a large dataset: the token count comes from the committed lock.

Builds a dataset of ``--gb`` GB in a temp dir (the shared real datasets repeated; never committed). With
``--count`` it times the first exact token count (``ftops.tokencount.count_tokens``: a process pool over
line-aligned chunks, all cores) and, with ``--serial`` too, the single-process count it replaces (minutes
per GB); without, the lock gets a placeholder count, since what is timed next is the plan, not the count.
Then it writes a project whose lock holds that count (what the apply that first counted it commits),
deletes ``.ftops/`` (a fresh clone has no hash cache) and times ``ftops plan`` as a subprocess against the
embedded local API, checking that the plan recounted nothing (the new hash cache holds no token count) and
shows the count as exact. Goal: ≤ 5 s. Run: ``.venv/bin/python bench/bench_cold_plan.py --gb 1``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ftops.datasets import validate_path
from ftops.hashing import sha256_file
from ftops.localapi.embedded import start_embedded
from ftops.state.store import LockStore
from ftops.tokencount import count_tokens, lock_key

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"
MODEL = "open-mistral-7b"


def build_dataset(path: Path, size: int) -> None:
    sources = sorted(SHARED.glob("*.jsonl"))
    with path.open("wb") as out:
        while out.tell() < size:
            for source in sources:
                with source.open("rb") as fh:
                    shutil.copyfileobj(fh, out)


def write_project(root: Path, data: Path, counts: dict[str, int], endpoint: str) -> None:
    (root / "manifests").mkdir(exist_ok=True)
    (root / "ftops.toml").write_text('manifests = "manifests"\n')
    (root / "manifests" / "train.yaml").write_text(
        "apiVersion: ftops/v1\nkind: File\nmetadata:\n  name: big\nspec:\n"
        f"  path: {os.path.relpath(data, root / 'manifests')}\n---\n"
        "apiVersion: ftops/v1\nkind: FineTuningJob\nmetadata:\n  name: big-job\nspec:\n"
        f"  model: {MODEL}\n  training_files:\n    - file: big\n  hyperparameters:\n    training_steps: 10\n"
        "  state: created\n")
    with LockStore.open(root / "ftops.lock", endpoint=endpoint) as store:  # closing writes the lock itself
        store.record_token_counts(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--count", action="store_true", help="time the first exact count (process pool)")
    parser.add_argument("--serial", action="store_true", help="with --count: also the one-process count")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        data = root / "data" / "big.jsonl"
        data.parent.mkdir(parents=True)
        build_dataset(data, int(args.gb * 1e9))
        size = data.stat().st_size
        print(f"dataset: {size / 1e6:,.0f} MB, {os.cpu_count()} cores")
        start = time.perf_counter()
        sha = sha256_file(data)
        print(f"sha256: {time.perf_counter() - start:.2f} s")
        tokens, exact = 123_456_789, True  # placeholder: the plan below only reads it from the lock
        if args.count:
            start = time.perf_counter()
            tokens, exact = count_tokens(data, MODEL)
            print(f"first exact count, process pool: {time.perf_counter() - start:.1f} s ({tokens:,} tokens,"
                  f" exact={exact})")
        if args.count and args.serial:
            start = time.perf_counter()
            serial = validate_path(data, model=MODEL).data_tokens
            print(f"first exact count, one process: {time.perf_counter() - start:.1f} s (same: {serial == tokens})")
        counts = {lock_key(sha, MODEL): tokens} if exact else {}
        # As in CI: an API the runner reaches over HTTP (here a local API in this process) ...
        with start_embedded(Path(tmp) / "api") as server:
            write_project(root, data, counts, server.url)
            env = {**os.environ, "FTOPS_ENDPOINT": server.url, "MISTRAL_API_KEY": server.api_key}
            cold_plan(root, tokens, env, "remote API")
        # ... and the default embedded local API, which ftops plan starts itself (imports FastAPI).
        (root / "ftops.lock").unlink()
        write_project(root, data, counts, "local")
        cold_plan(root, tokens, {k: v for k, v in os.environ.items() if k != "FTOPS_ENDPOINT"}, "embedded API")


def cold_plan(root: Path, tokens: int, env: dict[str, str], label: str) -> None:
    shutil.rmtree(root / ".ftops", ignore_errors=True)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ftops", "--no-color", "-C", str(root), "plan"],
                          capture_output=True, text=True, timeout=600, env=env)
    wall = time.perf_counter() - start
    assert done.returncode in (0, 2), done.stdout + done.stderr
    cache = root / ".ftops" / "hashes.json"  # not written when nothing was cached (a just-written file is "racy")
    recounted = cache.exists() and bool(json.loads(cache.read_text()).get("tokens"))
    shown = f"{tokens:,} data tokens, exact count" in done.stdout
    print(f"cold plan, {label} (fresh clone, count in the lock): {wall:.2f} s; recounted: {recounted}; "
          f"shows the exact count: {shown}")


if __name__ == "__main__":
    main()
