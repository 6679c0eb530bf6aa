"""Benchmark: ``ftops plan`` at 10 / 100 / 1,000 tracked resources against the embedded local API.

For each size it seeds a fresh local API with N/2 uploaded files and N/2 created (parked) jobs, writes the
matching manifests and lock, then measures:

- the plan's refresh + build (``fetch_snapshot`` + ``build_plan``): wall time and HTTP requests;
- a Terraform-style refresh, one GET per tracked resource, on the same data: wall time and requests;
- building Desired twice with the on-disk HashCache: the second (re-plan) pass must hash nothing.

Run: ``.venv/bin/python bench/bench_plan.py [--sizes 10,100,1000]``. Prints a Markdown table for
docs/benchmarks.md. Reports ratios, never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from ftops.client import MistralClient
from ftops.desired import Desired, build_desired
from ftops.hashing import HashCache
from ftops.live import fetch_snapshot
from ftops.localapi.embedded import start_embedded
from ftops.manifest.load import load_manifests
from ftops.plan._files import file_after
from ftops.plan._jobs import job_after
from ftops.plan.build import build_plan
from ftops.state.model import LockedResource, LockFile


def _write_project(root: Path, pairs: int) -> None:
    (root / "data").mkdir(parents=True)
    (root / "manifests").mkdir()
    docs = []
    old = time.time() - 3600  # older than the hash cache's "racy" window, like a checked-out repo
    for i in range(pairs):
        rows = [{"messages": [{"role": "user", "content": f"question {i}.{j}"},
                              {"role": "assistant", "content": f"answer {i}.{j}"}]} for j in range(3)]
        path = root / "data" / f"d{i:04d}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        os.utime(path, (old, old))
        docs.append(f"apiVersion: ftops/v1\nkind: File\nmetadata: {{name: d{i:04d}}}\n"
                    f"spec: {{path: ../data/d{i:04d}.jsonl}}\n")
        docs.append(f"apiVersion: ftops/v1\nkind: FineTuningJob\nmetadata: {{name: j{i:04d}}}\nspec:\n"
                    f"  model: open-mistral-7b\n  training_files: [{{file: d{i:04d}}}]\n"
                    f"  hyperparameters: {{training_steps: 1}}\n  state: created\n")
    (root / "manifests" / "all.yaml").write_text("---\n".join(docs))


def _seed(client: MistralClient, desired: Desired) -> LockFile:
    """Upload and create what the manifests say, and record it the way apply would."""
    resources: dict[str, LockedResource] = {}
    ids: dict[str, str] = {}
    for address, f in desired.files.items():
        upload = client.upload_file(f.path, filename=f.upload_name)
        ids[address] = upload.id
        resources[address] = LockedResource(kind="file", remote_id=upload.id, fingerprint=f.sha256,
                                             created_at=upload.created_at, attributes=file_after(f))
    for address, j in desired.jobs.items():
        train = [{"file_id": ids[t["file"]], "weight": t["weight"]} for t in j.spec["training_files"]]
        body = {**j.spec, "auto_start": False, "training_files": train,
                "validation_files": [ids[v] for v in j.spec["validation_files"]], "integrations": None,
                "classifier_targets": None}
        remote = client.create_job(body)
        attrs = {k: v for k, v in job_after(j).items() if k in ("fingerprint_input", "suffix", "state", "on_remove")}
        resources[address] = LockedResource(kind="job", remote_id=remote.id, fingerprint=j.fingerprint,
                                            status=remote.status, created_at=remote.created_at, attributes=attrs)
    return LockFile(lineage=str(uuid.uuid4()), serial=1, endpoint="local", resources=resources)


def _per_resource_refresh(client: MistralClient, lock: LockFile) -> tuple[float, int]:
    before, start = client.request_count, time.perf_counter()
    for entry in lock.resources.values():
        (client.get_file if entry.kind == "file" else client.get_job)(entry.remote_id)
    return time.perf_counter() - start, client.request_count - before


def run(size: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ftops-bench-plan-") as tmp:
        root = Path(tmp)
        _write_project(root, size // 2)
        manifest = load_manifests([root / "manifests"], root=root)
        cache_path = root / ".ftops" / "hashes.json"
        cache = HashCache.load(cache_path)
        t0 = time.perf_counter()
        desired = build_desired(manifest, hashes=cache, tokens=None)
        first_hash_s, first_hash_calls = time.perf_counter() - t0, cache.hash_calls
        cache.save()
        cache = HashCache.load(cache_path)
        t0 = time.perf_counter()
        desired = build_desired(manifest, hashes=cache, tokens=None)
        replan_hash_s, replan_hash_calls = time.perf_counter() - t0, cache.hash_calls
        with start_embedded(root / ".ftops" / "localapi") as server, MistralClient(server.url, server.api_key) as c:
            lock = _seed(c, desired)
            t0 = time.perf_counter()
            live = fetch_snapshot(c, lock=lock)
            plan = build_plan(desired, lock, live, plan_id="bench", now=time.time(), endpoint_identity="local")
            plan_s = time.perf_counter() - t0
            assert not plan.changes, [(ch.address, ch.action) for ch in plan.changes][:5]
            get_s, get_requests = _per_resource_refresh(c, lock)
        return {"size": size, "plan_s": plan_s, "plan_requests": live.request_count, "get_s": get_s,
                "get_requests": get_requests, "first_hash_s": first_hash_s, "first_hash_calls": first_hash_calls,
                "replan_hash_s": replan_hash_s, "replan_hash_calls": replan_hash_calls}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    print("| tracked resources | plan refresh+build | requests | one GET per resource | requests | speed-up "
          "| hash calls (first / re-plan) | desired build (first / re-plan) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        r = run(size)
        print(f"| {r['size']:,} | {r['plan_s'] * 1000:,.0f} ms | {r['plan_requests']:,} "
              f"| {r['get_s'] * 1000:,.0f} ms | {r['get_requests']:,} | {r['get_s'] / r['plan_s']:.1f}× "
              f"| {r['first_hash_calls']:,} / {r['replan_hash_calls']:,} "
              f"| {r['first_hash_s'] * 1000:,.0f} ms / {r['replan_hash_s'] * 1000:,.0f} ms |", flush=True)


if __name__ == "__main__":
    main()
