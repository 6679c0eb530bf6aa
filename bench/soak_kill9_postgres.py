"""Soak: hundreds of kill -9 trials of `ftops apply` with the state on PostgreSQL, then a final apply each.

Run: .venv/bin/python bench/soak_kill9_postgres.py [--trials 300] [--latency-ms 25] [--seed 1]
Same protocol as tests/backends/test_two_machines.py::test_kill9_of_apply_on_postgres_never_duplicates (forked
applies against an ``ftops serve`` subprocess and a real PostgreSQL started for the run), without asserting:
prints trials, kills that landed mid-run, takeovers of the dead run's lock, unreadable states, failed re-runs
and duplicates (extra uploads or jobs for a trial's project).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for sub in ("e2e", "reliability", "backends"):
    sys.path.insert(0, str(ROOT / "tests" / sub))

from apply_forked import fork_cli, run_forked, wait_pid, warm_up  # noqa: E402
from apply_project import ServeProcess, admin, api_env, list_all, make_project, sha12  # noqa: E402
from servers import new_base_dir, start_postgres  # noqa: E402

from ftops.errors import FtopsError  # noqa: E402
from ftops.settings import load_settings  # noqa: E402
from ftops.state.backends.config import read_state  # noqa: E402


def project(root: Path, name: str, tag: str) -> Path:
    make_project(root, tag=tag)
    (root / "ftops.toml").write_text(f'[backend]\ntype = "postgres"\nurl_env = "FTOPS_PG_URL"\nname = "{name}"\n')
    return root


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--latency-ms", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    pg, why = start_postgres(new_base_dir("ftops-soak-pg-"))
    if pg is None:
        sys.exit(f"PostgreSQL could not start: {why}")
    work = Path(tempfile.mkdtemp(prefix="ftops-soak-"))
    server = ServeProcess(work / "api")
    rng = random.Random(args.seed)
    counts = {"killed": 0, "took_over": 0, "failed_rerun": 0, "unreadable": 0, "duplicates": 0}
    started = time.monotonic()
    try:
        admin(server.url, "PUT", "/_ftops/faults", {"latency_ms": args.latency_ms})
        env = {**api_env(server.url), "FTOPS_PG_URL": pg.url}
        os.environ["FTOPS_PG_URL"] = pg.url
        warm_up(["-C", str(project(work / "warm", "warm", "-w")), "apply", "--auto-approve"], env)
        for trial in range(args.trials):
            tag = f"-s{trial}"
            root = project(work / f"t{trial}", f"soak-{trial}", tag)
            cmd = ["-C", str(root), "apply", "--auto-approve"]
            pid = fork_cli(cmd, env, work / f"t{trial}.log")
            time.sleep(rng.uniform(0.0, 0.6))
            if os.waitpid(pid, os.WNOHANG)[0] == 0:
                os.kill(pid, signal.SIGKILL)
                counts["killed"] += 1
                wait_pid(pid, 30)
            code, out = run_forked(cmd, env, work / f"t{trial}.final.log")
            counts["took_over"] += "took over the run lock" in out
            if code != 0:
                counts["failed_rerun"] += 1
                print(f"trial {trial}: re-run failed:\n{out[-800:]}", file=sys.stderr)
            try:
                settings = load_settings(root)
                lock = read_state(settings.backend, settings.lock_path)
            except FtopsError as exc:
                counts["unreadable"] += 1
                print(f"trial {trial}: state unreadable: {exc.render()}", file=sys.stderr)
                continue
            shas = {sha12(root / "data" / "train.jsonl"), sha12(root / "data" / "valid.jsonl")}
            files = [f for f in list_all(server.url, "files") if any(s in f["filename"] for s in shas)]
            jobs = [j for j in list_all(server.url, "jobs") if (j.get("suffix") or "").endswith(tag)]
            extra = max(len(files) - 2, 0) + max(len(jobs) - 2, 0)
            tracked = {r.remote_id for r in lock.resources.values()} if lock else set()
            if extra or not ({f["id"] for f in files} | {j["id"] for j in jobs}) <= tracked:
                counts["duplicates"] += extra or 1
            if (trial + 1) % 50 == 0:
                print(f"{trial + 1} trials, {time.monotonic() - started:.0f} s: {counts}", file=sys.stderr)
    finally:
        server.stop()
        pg.stop()
    print(f"trials={args.trials} latency_ms={args.latency_ms} seconds={time.monotonic() - started:.0f} "
          + " ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
