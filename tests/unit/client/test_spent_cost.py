"""``ftops jobs``' "Spent on training" counts what a job trained, not its full price (issue 12)."""

from __future__ import annotations

from typing import Any

from ftops.client.models import RemoteJob
from ftops.dashboards import jobs_dashboard, spent_on

META = {"cost": 100.0, "cost_currency": "USD", "train_tokens": 800 * 131_072, "train_tokens_per_step": 131_072}


def _job(status: str, *, steps_done: int | None = None, started: bool = True, **kw: Any) -> RemoteJob:
    events = [{"name": "status-updated", "created_at": 1, "data": {"status": s}}
              for s in ["QUEUED", "VALIDATED", *(["RUNNING"] if started else []), status]]
    body: dict[str, Any] = {"id": f"j-{status}-{steps_done}", "model": "open-mistral-7b", "status": status,
                            "created_at": 1, "modified_at": 2, "metadata": META, **kw}
    if steps_done is not None:
        body["events"] = events
        body["checkpoints"] = [{"step_number": s, "created_at": 2, "metrics": {}} for s in (steps_done, 1)]
    return RemoteJob.model_validate(body)


def test_a_job_cancelled_at_step_80_of_800_spent_a_tenth() -> None:
    assert spent_on(_job("CANCELLED", steps_done=80)) == 10.0
    assert spent_on(_job("FAILED", steps_done=400)) == 50.0
    assert spent_on(_job("SUCCESS")) == 100.0
    assert spent_on(_job("VALIDATED")) == 0.0
    assert spent_on(_job("CANCELLED", steps_done=0, started=False)) == 0.0  # cancelled while parked
    assert spent_on(_job("CANCELLED")) == 100.0  # a list answer without details: the price, as an upper bound


def test_the_dashboard_sums_spent_costs() -> None:
    board = jobs_dashboard([_job("CANCELLED", steps_done=80), _job("SUCCESS"), _job("QUEUED")])
    assert board.spent == 110.0
