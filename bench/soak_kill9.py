"""Soak: hundreds of kill -9 trials of `ftops apply`, then a final apply each; counts duplicates found.

Run: .venv/bin/python bench/soak_kill9.py [--trials 300] [--latency-ms 25] [--seed 1]
Same protocol as tests/reliability/test_apply_kill9.py (forked applies against an ``ftops serve``
subprocess), without asserting: it prints trials, kills that landed mid-run, duplicates and failed re-runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(ROOT / "tests" / "reliability"))

from apply_forked import fork_cli, run_forked, wait_pid, warm_up  # noqa: E402
from apply_project import (  # noqa: E402
    SECRET_KEY,
    WANDB_SECRET,
    ServeProcess,
    admin,
    api_env,
    list_all,
    make_project,
    sha12,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--latency-ms", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server = ServeProcess(tmp / "api")
        try:
            admin(server.url, "PUT", "/_ftops/faults", {"latency_ms": args.latency_ms})
            env = {**api_env(server.url), "FTOPS_WANDB_KEY": WANDB_SECRET}
            warm = make_project(tmp / "warm", tag="-warm")
            warm_up(["-C", str(warm), "apply", "--auto-approve"], env)
            killed = duplicates = failures = leaks = 0
            started = time.monotonic()
            for trial in range(args.trials):
                tag = f"-s{trial}"
                root = make_project(tmp / f"t{trial}", state_a="started", tag=tag)
                cmd = ["-C", str(root), "apply", "--auto-approve"]
                pid = fork_cli(cmd, env, tmp / "kill.log")
                time.sleep(rng.uniform(0.0, 0.7))
                if os.waitpid(pid, os.WNOHANG)[0] == 0:  # still running: the kill lands mid-apply
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                    wait_pid(pid, 30)
                first = (tmp / "kill.log").read_text(errors="replace")
                code, out = run_forked(cmd, env, tmp / "final.log")
                if code != 0:  # say why: a failed re-run is what the soak exists to find
                    failures += 1
                    print(f"trial {trial}: the final apply exited {code}:\n" + "\n".join(out.splitlines()[-6:]))
                lock_text = (root / "ftops.lock").read_text() if (root / "ftops.lock").exists() else ""
                leaks += any(s in t for s in (SECRET_KEY, WANDB_SECRET) for t in (first, out, lock_text))
                shas = {sha12(root / "data" / "train.jsonl"), sha12(root / "data" / "valid.jsonl")}
                files = [f for f in list_all(server.url, "files") if any(s in f["filename"] for s in shas)]
                jobs = [j for j in list_all(server.url, "jobs") if (j.get("suffix") or "").endswith(tag)]
                duplicates += max(0, len(files) - 2) + max(0, len(jobs) - 2)
            print(json.dumps({"trials": args.trials, "killed_mid_run": killed, "duplicates": duplicates,
                              "failed_final_applies": failures, "secret_leaks": leaks,
                              "wall_s": round(time.monotonic() - started, 1)}))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
