"""Start-up time: ``ftops --help`` (and a few light commands) against ``python -c pass``, median of N runs.

Each command runs as a fresh process with the same interpreter (the venv's), alternating with the baseline
so machine load affects both alike; the ratio is the figure (goal: ``ftops --help`` ≤ 4× ``python -c
pass``). Run: ``.venv/bin/python bench/bench_startup.py --runs 21``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_SCRIPT = Path(sys.executable).with_name("ftops")  # the console script, as users run it
FTOPS = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "ftops"]
# The same help with every command module imported first: what `ftops --help` cost before lazy loading.
EAGER = ("import ftops.cli.apply_cmds, ftops.cli.data, ftops.cli.manifests, ftops.cli.ops, ftops.cli.plan_cmds,"
         " ftops.cli.serve, ftops.cli.state_cmds, sys; from ftops.__main__ import main; sys.argv[1:] = ['--help'];"
         " main()")


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "ftops --help": [*FTOPS, "--help"],
        "ftops --help, eager": [sys.executable, "-c", EAGER],
        "ftops data --help": [*FTOPS, "data", "--help"],
        "ftops schema": [*FTOPS, "schema"],
        "ftops plan --help": [*FTOPS, "plan", "--help"],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.runs):
            for name, argv in commands.items():
                samples[name].append(timed(argv, Path(tmp)))
    base = statistics.median(samples["python -c pass"])
    print(f"{'command':<22} {'median ms':>10} {'ratio':>7}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<22} {median * 1000:>10.1f} {median / base:>6.1f}x")


if __name__ == "__main__":
    main()
