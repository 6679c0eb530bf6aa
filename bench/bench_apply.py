"""Apply wall time and request count for N files + N jobs on the local API, --parallelism 1 vs 8.

Run: .venv/bin/python bench/bench_apply.py [--n 100] [--latency-ms 50] [--base f7ea2cb]
Each side gets a fresh ``ftops serve`` subprocess and a fresh project; apply runs in this process (the CLI
entry point), and HTTP requests are counted per method by wrapping httpx's send (observation only). With
``--base REV`` the same two sides also run on that commit's ``ftops`` (extracted with ``git archive``, run in
a child process with it first on ``PYTHONPATH``), so the ratios of both trees come from one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from apply_project import ServeProcess, _rows, api_env

HERE = os.getcwd()


def make_big_project(root: Path, n: int) -> None:
    (root / "manifests").mkdir(parents=True)
    (root / "data").mkdir()
    docs = []
    for i in range(n):
        (root / "data" / f"d{i}.jsonl").write_text(_rows(4, f"bench{i}"))
        docs.append(f"apiVersion: ftops/v1\nkind: File\nmetadata: {{name: d{i}}}\nspec: {{path: ../data/d{i}.jsonl}}\n")
        docs.append(f"apiVersion: ftops/v1\nkind: FineTuningJob\nmetadata: {{name: j{i}}}\nspec:\n"
                    f"  model: open-mistral-7b\n  training_files: [{{file: d{i}}}]\n"
                    f"  hyperparameters: {{training_steps: 2}}\n  state: created\n")
    (root / "manifests" / "all.yaml").write_text("---\n".join(docs))


def run(n: int, parallelism: int, latency_ms: int) -> dict[str, object]:
    from ftops.cli import cli

    with tempfile.TemporaryDirectory() as tmp:
        server = ServeProcess(Path(tmp) / "api")
        try:
            httpx.put(f"{server.url}/_ftops/faults", json={"latency_ms": latency_ms},
                      headers={"Authorization": f"Bearer {api_env(server.url)['MISTRAL_API_KEY']}"})
            root = Path(tmp) / "proj"
            make_big_project(root, n)
            os.environ.update(api_env(server.url))
            counts: Counter[str] = Counter()
            original = httpx.Client.send

            def counting(self: httpx.Client, request: httpx.Request, **kw: object) -> httpx.Response:
                counts[request.method] += 1
                return original(self, request, **kw)  # type: ignore[arg-type]

            httpx.Client.send = counting  # type: ignore[method-assign]
            # Time the execution phase apart from planning (manifests, hashing, token counts, refresh), which
            # --parallelism does not touch.
            import ftops.cli.apply_cmds as apply_cmds

            executing = {"s": 0.0}
            execute = apply_cmds.execute_plan

            def timed_execute(*a: object, **kw: object) -> object:
                t0 = time.perf_counter()
                try:
                    return execute(*a, **kw)  # type: ignore[arg-type]
                finally:
                    executing["s"] += time.perf_counter() - t0

            apply_cmds.execute_plan = timed_execute  # type: ignore[assignment]
            started = time.perf_counter()
            try:
                cli.main(["-C", str(root), "apply", "--auto-approve", "--parallelism", str(parallelism)],
                         standalone_mode=False)
            except SystemExit:
                pass
            finally:
                httpx.Client.send = original  # type: ignore[method-assign]
                apply_cmds.execute_plan = execute
                os.chdir(HERE)
            wall = time.perf_counter() - started
            lock = json.loads((root / "ftops.lock").read_text())
            return {"parallelism": parallelism, "wall_s": round(wall, 2), "execute_s": round(executing["s"], 2),
                    "requests": sum(counts.values()),
                    "by_method": dict(counts), "tracked": len(lock["resources"])}
        finally:
            server.stop()


def _in_tree(tree: Path, n: int, parallelism: int, latency_ms: int) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FTOPS_")}
    env["PYTHONPATH"] = str(tree)
    out = subprocess.run([sys.executable, __file__, "--n", str(n), "--latency-ms", str(latency_ms), "--one",
                          str(parallelism)], env=env, capture_output=True, text=True, timeout=3600,
                         cwd=tempfile.gettempdir())
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    row: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--latency-ms", type=int, default=20, help="added per request, like a real network")
    parser.add_argument("--base", default="", help="also measure this commit's ftops (e.g. f7ea2cb)")
    parser.add_argument("--one", type=int, default=0, help=argparse.SUPPRESS)  # child: one side, JSON out
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run(args.n, args.one, args.latency_ms)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"this tree": Path(__file__).resolve().parents[1]}
        if args.base:
            repo = Path(__file__).resolve().parents[1]
            archive = subprocess.run(["git", "-C", str(repo), "archive", args.base, "ftops"], capture_output=True,
                                     check=True)
            subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
            trees = {f"base {args.base}": Path(tmp), **trees}
        for name, tree in trees.items():
            rows = [_in_tree(tree, args.n, p, args.latency_ms) for p in (1, 8)]
            for row in rows:
                print(json.dumps({"tree": name, **row}), flush=True)
            print(f"{name}: speed-up with --parallelism 8: "
                  f"{rows[0]['wall_s'] / rows[1]['wall_s']:.1f}x wall, "  # type: ignore[operator]
                  f"{rows[0]['execute_s'] / rows[1]['execute_s']:.1f}x execution phase "  # type: ignore[operator]
                  f"({args.n} files + {args.n} jobs, {args.latency_ms} ms latency)", flush=True)


if __name__ == "__main__":
    main()
