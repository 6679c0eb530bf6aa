"""Benchmark: ``ftops plan`` of 1,000 and 10,000 resources, this tree against a baseline commit, in one run.

Each size gets a fresh project (N/2 Files + N/2 FineTuningJobs in one manifest file, tiny datasets, no lock)
planned against the embedded local API, as a user runs it: ``python -m ftops plan`` in a subprocess. The
hash cache is warmed by one untimed run, so the figures are manifest loading + refresh + build + render,
not hashing. Wall time is the median of ``--repeat`` runs; peak RSS is the child's ``ru_maxrss`` (``wait4``).

``--serve`` repeats the runs against one ``ftops serve`` subprocess (``FTOPS_ENDPOINT``), so the figures are
the plan process's alone, without the embedded server's imports and threads. ``--phases`` prints where this
tree's memory goes: the plan command's stages run in one fresh process, with its RSS and high-water mark after
each (``/proc/self/status``) and, with ``--traced``, the live Python heap (tracemalloc, several times slower).

The baseline is a ``git worktree`` of ``--base`` (default: the commit before the libyaml loader), run with
the same interpreter. Run: ``.venv/bin/python bench/bench_manifest_load.py [--sizes 1000,10000] [--serve]
[--phases]``. Prints Markdown tables for docs/benchmarks.md; reports ratios, never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
SERVE_KEY = "ftops-local"  # the key of the `ftops serve` the runs with --serve talk to


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


def run_plan(tree: Path, project: Path, endpoint: str | None = None) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one ``ftops plan`` with ``tree`` first on the import path
    (against the embedded local API, or ``endpoint``)."""
    env = {**os.environ, "PYTHONPATH": str(tree), "FTOPS_NO_COLOR": "1"}
    env.pop("FTOPS_ENDPOINT", None)
    if endpoint is not None:
        env.update(FTOPS_ENDPOINT=endpoint, MISTRAL_API_KEY=SERVE_KEY)
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


def compare(base: Path, project: Path, size: int, repeat: int, endpoint: str | None) -> None:
    results: dict[str, list[tuple[float, float, float]]] = {"base": [], "this": []}
    for _ in range(repeat):  # interleaved, so load on the shared machine hits both alike
        results["base"].append(run_plan(base, project, endpoint))
        results["this"].append(run_plan(HERE, project, endpoint))
    b, bc = (statistics.median(r[i] for r in results["base"]) for i in (0, 1))
    t, tc = (statistics.median(r[i] for r in results["this"]) for i in (0, 1))
    b_rss = max(r[2] for r in results["base"])
    t_rss = max(r[2] for r in results["this"])
    api = "ftops serve" if endpoint else "embedded"
    print(f"| {size:,} | {api} | {b:.2f} s / {bc:.2f} s | {t:.2f} s / {tc:.2f} s | {b / t:.1f}× / {bc / tc:.1f}× "
          f"| {b_rss:.0f} MB | {t_rss:.0f} MB |", flush=True)


# The phases child: the stages of cli/plan_cmds.py's plan_cmd, one after the other, measured between them.
_PHASES = """
import os, sys, time
from pathlib import Path
traced = sys.argv[2] == "1"
if traced:
    import tracemalloc
    tracemalloc.start()
def mark(label):
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    rss, hwm = (int(status[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))
    heap = tracemalloc.get_traced_memory()[0] / 2**20 if traced else -1.0
    print(f"{label}\t{rss:.0f}\t{hwm:.0f}\t{heap:.1f}\t{time.process_time():.2f}", flush=True)
mark("interpreter")
project = Path(sys.argv[1])
from ftops.apply.pipeline import desired_of, load_project, plan_desired
from ftops.cli._session import open_session
from ftops.render.text import iter_text
from ftops.settings import load_settings
from ftops.state.backends.config import read_state
import ftops.cli.plan_cmds
mark("imports: CLI and plan")
if os.environ.get("FTOPS_ENDPOINT") is None:
    import uvicorn
    import ftops.localapi.app
    mark("imports: embedded local API")
settings = load_settings(project)
manifest = load_project(settings, ())
mark("manifest loaded")
lock = read_state(settings.backend, settings.lock_path)
with open_session(settings, echo=lambda line: None) as session:
    mark("API session open")
    desired = desired_of(settings, lock, manifest)
    mark("Desired built (manifest still held)")
    del manifest
    mark("manifest freed")
    plan, _ = plan_desired(settings, session.client, lock, desired)
    mark("snapshot + plan built")
    del desired
with open(os.devnull, "w") as out:
    for piece in iter_text(plan):
        out.write(piece)
mark("text printed")
"""


def phases(project: Path, endpoint: str | None, traced: bool) -> None:
    env = {**os.environ, "PYTHONPATH": str(HERE), "FTOPS_NO_COLOR": "1"}
    env.pop("FTOPS_ENDPOINT", None)
    if endpoint is not None:
        env.update(FTOPS_ENDPOINT=endpoint, MISTRAL_API_KEY=SERVE_KEY)
    out = subprocess.run([sys.executable, "-c", _PHASES, str(project), "1" if traced else "0"], env=env,
                         cwd=project, capture_output=True, text=True, check=True).stdout
    print(f"\n{project.name} against {'ftops serve' if endpoint else 'the embedded local API'}:\n")
    print("| after | RSS | peak RSS so far | Python heap (tracemalloc) | CPU s |")
    print("|---|---:|---:|---:|---:|")
    for line in out.splitlines():
        label, rss, hwm, heap, cpu = line.split("\t")
        shown = f"{float(heap):.1f} MB" if float(heap) >= 0 else "–"
        print(f"| {label} | {rss} MB | {hwm} MB | {shown} | {cpu} |", flush=True)


def start_serve(state_dir: Path) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FTOPS_")}
    env.update(FTOPS_LOCAL_API_KEY=SERVE_KEY, PYTHONPATH=str(HERE))
    proc = subprocess.Popen([sys.executable, "-m", "ftops", "serve", "--port", "0", "--state-dir", str(state_dir)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        found = re.search(r"listening on (http://\S+)", line)
        if found:
            return proc, found.group(1).rstrip(",")
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("ftops serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--base", default="f7ea2cb", help="baseline commit")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help="also plan against a separate `ftops serve`")
    parser.add_argument("--phases", action="store_true", help="per-stage memory of this tree's plan")
    parser.add_argument("--traced", action="store_true", help="with --phases: also the tracemalloc heap")
    parser.add_argument("--no-compare", action="store_true", help="skip the timed runs (with --phases)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="ftops-bench-load-") as tmp:
        base = base_tree(args.base, Path(tmp) / "base")
        server, endpoint = start_serve(Path(tmp) / "serve") if args.serve else (None, None)
        try:
            projects = {}
            for size in sizes:
                projects[size] = project = Path(tmp) / f"p{size}"
                write_project(project, size)
                run_plan(HERE, project)  # warm the hash cache (same cache format in both trees)
            if not args.no_compare:
                print("| resources | API | base plan wall / CPU (median) | this plan wall / CPU (median) "
                      "| speed-up wall / CPU | base peak RSS | this peak RSS |")
                print("|---:|---|---:|---:|---:|---:|---:|")
                for size in sizes:
                    compare(base, projects[size], size, args.repeat, None)
                    if endpoint is not None:
                        compare(base, projects[size], size, args.repeat, endpoint)
            if args.phases:
                for size in sizes:
                    phases(projects[size], None, args.traced)
                    if endpoint is not None:
                        phases(projects[size], endpoint, args.traced)
        finally:
            if server is not None:
                server.terminate()
                server.wait(10)
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force", str(base)], check=False,
                           capture_output=True)


if __name__ == "__main__":
    main()
