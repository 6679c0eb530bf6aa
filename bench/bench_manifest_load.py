"""Benchmark: ``ftops plan`` of 1,000 and 10,000 resources, this tree against a baseline commit, in one run.

Each size gets a fresh project (N/2 Files + N/2 FineTuningJobs in one manifest file, tiny datasets, no lock)
planned against the embedded local API, as a user runs it: ``python -m ftops plan`` in a subprocess. The
hash cache is warmed by one untimed run, so the figures are manifest loading + refresh + build + render,
not hashing. Wall time is the median of ``--repeat`` runs; peak RSS is the child's ``ru_maxrss`` (``wait4``).

The baseline is a ``git worktree`` of ``--base`` (default: the commit before the libyaml loader), run with
the same interpreter. Run: ``.venv/bin/python bench/bench_manifest_load.py [--sizes 1000,10000]``.
Prints a Markdown table for docs/benchmarks.md; reports ratios, never pass/fail.
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

HERE = Path(__file__).resolve().parent.parent


def write_project(root: Path, size: int) -> None:
    (root / "data").mkdir(parents=True)
    (root / "manifests").mkdir()
    docs = []
    for i in range(size // 2):
        row = {"messages": [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": "ok"}]}
        (root / "data" / f"d{i:05d}.jsonl").write_text(json.dumps(row) + "\n")
        docs.append(f"apiVersion: ftops/v1\nkind: File\nmetadata:\n  name: d{i:05d}\n"
                    f"spec:\n  path: ../data/d{i:05d}.jsonl\n")
        docs.append(f"apiVersion: ftops/v1\nkind: FineTuningJob\nmetadata:\n  name: j{i:05d}\n"
                    f"  labels: {{team: support}}\nspec:\n  model: open-mistral-7b\n"
                    f"  training_files:\n    - file: d{i:05d}\n  hyperparameters:\n    training_steps: 10\n"
                    f"    learning_rate: 1.0e-4\n  state: created\n")
    (root / "manifests" / "all.yaml").write_text("---\n".join(docs))


def run_plan(tree: Path, project: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one ``ftops plan`` with ``tree`` first on the import path."""
    env = {**os.environ, "PYTHONPATH": str(tree), "FTOPS_NO_COLOR": "1"}
    env.pop("FTOPS_ENDPOINT", None)
    start = time.perf_counter()
    # cwd=project: `python -m` puts the working directory first on sys.path, which would shadow `tree`.
    proc = subprocess.Popen([sys.executable, "-m", "ftops", "-C", str(project), "plan"], env=env, cwd=project,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if "Error" in err and proc.returncode not in (0, 2):
        raise SystemExit(err[-500:])
    if proc.returncode not in (0, 2):
        raise SystemExit(f"plan failed in {tree} ({proc.returncode}): {err[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def base_tree(commit: str, where: Path) -> Path:
    subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", str(where), commit], check=True,
                   capture_output=True)
    return where


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--base", default="f7ea2cb", help="baseline commit")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ftops-bench-load-") as tmp:
        base = base_tree(args.base, Path(tmp) / "base")
        try:
            print("| resources | base plan wall / CPU (median) | this plan wall / CPU (median) | speed-up wall / CPU "
                  "| base peak RSS | this peak RSS |")
            print("|---:|---:|---:|---:|---:|---:|")
            for size in (int(s) for s in args.sizes.split(",")):
                project = Path(tmp) / f"p{size}"
                write_project(project, size)
                run_plan(HERE, project)  # warm the hash cache (same cache format in both trees)
                results: dict[str, list[tuple[float, float, float]]] = {"base": [], "this": []}
                for _ in range(args.repeat):  # interleaved, so load on the shared machine hits both alike
                    results["base"].append(run_plan(base, project))
                    results["this"].append(run_plan(HERE, project))
                b, bc = (statistics.median(r[i] for r in results["base"]) for i in (0, 1))
                t, tc = (statistics.median(r[i] for r in results["this"]) for i in (0, 1))
                b_rss = max(r[2] for r in results["base"])
                t_rss = max(r[2] for r in results["this"])
                print(f"| {size:,} | {b:.2f} s / {bc:.2f} s | {t:.2f} s / {tc:.2f} s | {b / t:.1f}× / {bc / tc:.1f}× "
                      f"| {b_rss:.0f} MB | {t_rss:.0f} MB |", flush=True)
        finally:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(base)], check=False,
                           capture_output=True)


if __name__ == "__main__":
    main()
