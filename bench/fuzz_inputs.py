"""Longer fuzzing run over manifests, locks, saved plans and datasets (the CI suite runs ~15 s per kind).

Run: ``.venv/bin/python bench/fuzz_inputs.py [--seconds 120] [--seed 1]``: ``--seconds`` per input kind.
Prints trials, exit codes, the slowest run and every invariant broken (see tests/fuzz/fuzzkit.py), as a
Markdown table for docs/benchmarks.md. Exits 1 when an invariant was broken.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "fuzz"))

from fuzzkit import SECRET, Arena, Stats, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="budget per input kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default="manifest,lock,plan,dataset")
    args = parser.parse_args()
    for var in ("FTOPS_ENDPOINT", "MISTRAL_API_KEY", "CI"):
        os.environ.pop(var, None)
    os.environ["WANDB_API_KEY"] = SECRET
    stats = Stats()
    with tempfile.TemporaryDirectory(prefix="ftops-fuzz-") as tmp:
        arena = Arena(Path(tmp))
        for kind in args.kinds.split(","):
            run(arena, kind, seed=args.seed, budget_seconds=args.seconds, max_trials=10**9, stats=stats)
    print("| input | trials | exit 0 / 1 / 2 | broken invariants |")
    print("|---|---:|---:|---:|")
    for kind, count in stats.trials.items():
        exits = stats.exits[kind]
        broken = sum(1 for f in stats.failures if f.startswith(kind + " "))
        print(f"| {kind} | {count:,} | {exits.get(0, 0)} / {exits.get(1, 0)} / {exits.get(2, 0)} | {broken} |")
    print(f"\nslowest run: {stats.slowest:.1f} s")
    for failure in stats.failures:
        print("-", failure.replace("\n", " ")[:400])
    sys.exit(1 if stats.failures else 0)


if __name__ == "__main__":
    main()
