"""Dataset validation throughput and peak memory: ftops versus mistral-common's own models and validator.

Builds a file of at least ``--size-mb`` MB under bench/.out/ by repeating the shared real datasets (hh-rlhf,
the toy set and the drone set), then runs each side in its own subprocess (so ru_maxrss is that side's
peak) and prints MB/s, CPU time, peak RSS, the ratios (wall and CPU) and the load average before and
after each side: on a shared machine the wall ratio moves with the other jobs, the CPU ratio much less.
Two baselines: ``baseline`` is mistral-common's approach (OpenAI-format rows converted with
``ChatCompletionRequest.from_openai``, then its V3 finetuning validator); ``lean`` validates each row
directly with ``ChatCompletionRequest.model_validate`` and the same validator (no conversion).
Run: ``.venv/bin/python bench/bench_validate.py --size-mb 200``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
OUT = ROOT / "bench" / ".out"
SOURCES = ("hh_rlhf_harmless_base_test_messages.jsonl", "openai_cookbook_toy_chat_fine_tuning.jsonl",
           "openai_cookbook_drone_training.jsonl")


def build(size_mb: int) -> Path:
    target = OUT / f"validate_{size_mb}mb.jsonl"
    want = size_mb * 1024 * 1024
    if target.exists() and target.stat().st_size >= want:
        return target
    OUT.mkdir(parents=True, exist_ok=True)
    block = b"".join((SHARED / name).read_bytes().rstrip(b"\n") + b"\n" for name in SOURCES)
    tmp = target.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        written = 0
        while written < want:
            fh.write(block)
            written += len(block)
    tmp.replace(target)
    return target


def run_side(side: str, path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "_data_side.py"), side, str(path)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    if not SHARED.exists():
        sys.exit(f"shared datasets not found at {SHARED}")
    path = build(args.size_mb)
    size = path.stat().st_size / 1e6
    print(f"file: {path} ({size:,.0f} MB)")
    results = {}
    for side in ("ours",) + (() if args.skip_baseline else ("lean", "baseline")):
        load_before = os.getloadavg()[0]
        r = run_side(side, path)
        results[side] = r
        print(f"{side:>8}: {r['lines']:,} lines ({r['valid']:,} valid) in {r['seconds']:.1f} s = "
              f"{size / r['seconds']:.1f} MB/s (CPU {r['cpu_seconds']:.1f} s), peak RSS {r['peak_rss_mb']:.0f} MB; "
              f"load avg {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    for side in ("lean", "baseline"):
        if side in results:
            ratio = results[side]["seconds"] / results["ours"]["seconds"]
            cpu_ratio = results[side]["cpu_seconds"] / results["ours"]["cpu_seconds"]
            name = "lean (model_validate)" if side == "lean" else "mistral-common (from_openai)"
            print(f"ratio: ftops is {ratio:.1f}x the {name} baseline's throughput ({cpu_ratio:.1f}x in CPU time)")


if __name__ == "__main__":
    main()
