"""Benchmark of ``ftops eval``: cases/s on a 1,000-case set, parallel requests vs one at a time.

An ``ftops serve`` subprocess (its own process and core) gets a fine-tuned model trained on 1,000 chat rows,
then 50 ms of added latency per request (the admin faults endpoint); the same evaluation runs sequentially
(``--parallelism 1``) and in parallel (``--parallelism N``) through ftops's own runner and client, in one run.

Run: ``.venv/bin/python bench/bench_eval.py [--cases 1000] [--parallelism 16] [--latency-ms 50]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from apply_project import SECRET_KEY, ServeProcess, admin  # type: ignore[import-not-found]

from ftops.client import MistralClient
from ftops.evals import ScorerSpec, load_cases, make_scorer, run_eval


def _model(url: str, tmp: Path, n: int) -> str:
    rows = [json.dumps({"messages": [{"role": "user", "content": f"What is the code for item {i}?"},
                                     {"role": "assistant", "content": f"The code for item {i} is C{i * 7}."}]})
            for i in range(n)]
    train = tmp / "train.jsonl"
    train.write_text("\n".join(rows) + "\n")
    with MistralClient(url, SECRET_KEY) as client:
        file = client.upload_file(train, filename="train.jsonl")
        job = client.create_job({"model": "open-mistral-7b", "hyperparameters": {"training_steps": 2},
                                 "training_files": [{"file_id": file.id, "weight": 1}], "auto_start": True})
        admin(url, "POST", "/_ftops/clock/advance", {"seconds": 100_000})
        model = client.get_job(job.id).fine_tuned_model
    assert model, "the job did not finish"
    return model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--parallelism", type=int, default=16)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server = ServeProcess(tmp / "api", speed=1.0)
        try:
            model = _model(server.url, tmp, args.cases)
            cases_path = tmp / "eval.jsonl"
            cases_path.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"code of item {i}?"}],
                                                      "expected": f"The code for item {i} is C{i * 7}."}) + "\n"
                                          for i in range(args.cases)))
            cases = load_cases(cases_path)
            scorer = make_scorer(ScorerSpec("exact"))
            with MistralClient(server.url, SECRET_KEY) as client:
                client.chat(model, [{"role": "user", "content": "warm up"}])  # build the model's index once
                admin(server.url, "PUT", "/_ftops/faults", {"latency_ms": args.latency_ms})
                results = {}
                for parallelism in (1, args.parallelism):
                    started = time.perf_counter()
                    run = run_eval(client, model, cases, scorer, scorer_name="exact", parallelism=parallelism)
                    results[parallelism] = (time.perf_counter() - started, run.score)
        finally:
            server.stop()
    seq, par = results[1], results[args.parallelism]
    print(f"ftops eval, {args.cases} cases, {args.latency_ms} ms added latency, cpus={os.cpu_count()}, "
          f"load={os.getloadavg()[0]:.2f}")
    print(f"  sequential     : {seq[0]:7.2f} s  {args.cases / seq[0]:7.1f} cases/s  score {seq[1]:.3f}")
    print(f"  parallelism {args.parallelism:<3}: {par[0]:7.2f} s  {args.cases / par[0]:7.1f} cases/s  "
          f"score {par[1]:.3f}")
    print(f"  speed-up: {seq[0] / par[0]:.1f}x (same scores: {seq[1] == par[1]})")


if __name__ == "__main__":
    main()
