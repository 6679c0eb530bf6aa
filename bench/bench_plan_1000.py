"""Benchmark: ``ftops plan`` of 1,000 resources as a user runs it, this tree against a baseline commit.

A fresh project of N/2 Files + N/2 FineTuningJobs (``bench_manifest_load.write_project``), no lock, planned
with ``python -m ftops plan`` in a subprocess, interleaved with the baseline tree (a ``git worktree`` of
``--base``) so that load on the shared machine hits both alike:

- against the embedded local API, which the plan starts itself (now a child process started before the
  heavy imports; in the baseline, a thread that imports FastAPI in the plan's own process);
- against an API already running (``ftops.localapi.process``, as a remote API would be).

Wall time is the median of ``--repeat`` runs; CPU is the plan process's own (``wait4``; the embedded child's
is not included: it runs on the other core while the plan imports and loads). The hash cache is warmed first.
Run: ``.venv/bin/python bench/bench_plan_1000.py [--size 1000] [--repeat 7]``. Reports figures, never pass/fail.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_manifest_load import HERE, base_tree, write_project

from ftops.localapi.process import spawn_local_api


def run_plan(tree: Path, project: Path, endpoint: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one ``ftops plan`` with ``tree`` first on the import path."""
    env = {k: v for k, v in os.environ.items() if k not in ("FTOPS_ENDPOINT", "MISTRAL_API_KEY", "CI")}
    env.update(PYTHONPATH=str(tree), FTOPS_NO_COLOR="1", **(endpoint or {}))
    start = time.perf_counter()
    # cwd=project: `python -m` puts the working directory first on sys.path, which would shadow `tree`.
    proc = subprocess.Popen([sys.executable, "-m", "ftops", "-C", str(project), "plan"], env=env, cwd=project,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 2):
        raise SystemExit(f"plan failed in {tree}: {proc.stderr.read().decode()[-500:] if proc.stderr else ''}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--base", default="c7797c5", help="baseline commit (before the child-process API)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="ftops-bench-plan-") as tmp:
        base = base_tree(args.base, Path(tmp) / "base")
        project = Path(tmp) / "project"
        write_project(project, args.size)
        try:
            run_plan(HERE, project)  # warm the hash cache (same format in both trees)
            results: dict[str, list[tuple[float, float, float]]] = {"base": [], "this": []}
            for _ in range(args.repeat):
                results["base"].append(run_plan(base, project))
                results["this"].append(run_plan(HERE, project))
            (Path(tmp) / "api").mkdir()
            with spawn_local_api(Path(tmp) / "api", "bench-key") as server:
                endpoint = {"FTOPS_ENDPOINT": server.url, "MISTRAL_API_KEY": server.api_key}
                remote: dict[str, list[tuple[float, float, float]]] = {"base": [], "this": []}
                for _ in range(args.repeat):
                    remote["base"].append(run_plan(base, project, endpoint))
                    remote["this"].append(run_plan(HERE, project, endpoint))
        finally:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(base)], check=False,
                           capture_output=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"\n| plan of {args.size:,} resources | base wall | base CPU | base RSS | this wall | this CPU | this RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, runs in (("embedded local API", results), ("API already running", remote)):
        cells = []
        for side in ("base", "this"):
            wall = statistics.median(r[0] for r in runs[side])
            cpu = statistics.median(r[1] for r in runs[side])
            rss = max(r[2] for r in runs[side])
            cells += [f"{wall:.2f} s", f"{cpu:.2f} s", f"{rss:.0f} MB"]
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
