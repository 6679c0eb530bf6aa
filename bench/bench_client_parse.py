"""Cost of the tolerant response models (issue 12): parsing job answers, tolerant versus strict.

The baseline is a strict copy of the job model as it was before (plain int/float fields, no before-
validators), built in this same run, so the ratio does not depend on the machine's load. Each side parses
the same detailed job answers (10 checkpoints, 6 events) ``--jobs`` times, best of ``--repeat``.
Run: ``.venv/bin/python bench/bench_client_parse.py --jobs 20000``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ftops.client.models import RemoteJob


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class StrictCheckpoint(_Strict):
    step_number: int
    created_at: int
    metrics: dict[str, float | None] = Field(default_factory=dict)


class StrictEvent(_Strict):
    name: str
    created_at: int
    data: dict[str, Any] | None = None


class StrictMetadata(_Strict):
    expected_duration_seconds: int | None = None
    cost: float | None = None
    cost_currency: str | None = None
    train_tokens_per_step: int | None = None
    train_tokens: int | None = None
    data_tokens: int | None = None
    estimated_start_time: int | None = None


class StrictJob(_Strict):
    id: str
    model: str
    status: str
    job_type: str = "completion"
    auto_start: bool = False
    created_at: int
    modified_at: int
    training_files: list[str] = Field(default_factory=list)
    validation_files: list[str] | None = None
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    suffix: str | None = None
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    metadata: StrictMetadata | None = None
    integrations: list[dict[str, Any]] | None = None
    classifier_targets: list[dict[str, Any]] | None = None
    invalid_sample_skip_percentage: float | None = None
    events: list[StrictEvent] | None = None
    checkpoints: list[StrictCheckpoint] | None = None


def answer(i: int) -> dict[str, Any]:
    return {
        "id": f"{i:08x}-0000-4000-8000-000000000000", "object": "job", "auto_start": False, "model": "open-mistral-7b",
        "status": "SUCCESS", "job_type": "completion", "created_at": 1_700_000_000 + i, "modified_at": 1_700_000_900,
        "training_files": ["d56b5e4f-16ae-4f07-be8e-b837aa10240f"], "validation_files": [],
        "hyperparameters": {"training_steps": 10, "learning_rate": 1e-4}, "suffix": "s", "fine_tuned_model": None,
        "integrations": [{"type": "wandb", "project": "p", "name": None}], "trained_tokens": 1_310_720,
        "metadata": {"expected_duration_seconds": 120, "cost": 4.0, "cost_currency": "USD",
                     "train_tokens_per_step": 131_072, "train_tokens": 1_310_720, "data_tokens": 30_000,
                     "estimated_start_time": None},
        "events": [{"name": "status-updated", "created_at": 1_700_000_000 + k, "data": {"status": "RUNNING"}}
                   for k in range(6)],
        "checkpoints": [{"metrics": {"train_loss": 1.0 / (k + 1), "valid_loss": None,
                                     "valid_mean_token_accuracy": None}, "step_number": k, "created_at": 1_700_000_000}
                        for k in range(10)],
    }


def best(model: type[BaseModel], answers: list[dict[str, Any]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        for a in answers:
            model.model_validate(a)
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    answers = [answer(i) for i in range(args.jobs)]
    strict = best(StrictJob, answers, args.repeat)
    tolerant = best(RemoteJob, answers, args.repeat)
    print(f"{args.jobs:,} detailed job answers, CPU seconds (best of {args.repeat}):")
    print(f"  strict (baseline)  {strict:.3f} s  ({args.jobs / strict:,.0f} jobs/s)")
    print(f"  tolerant (ftops)   {tolerant:.3f} s  ({args.jobs / tolerant:,.0f} jobs/s)")
    print(f"  ratio tolerant/strict: {tolerant / strict:.2f}")


if __name__ == "__main__":
    main()
