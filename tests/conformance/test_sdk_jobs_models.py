"""The official SDK drives the fine-tuning jobs and models endpoints through a whole job lifecycle."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest


def _job(sdk: Any, tmp_path: Path, **kw: Any) -> Any:
    path = sdk.chat_file(tmp_path, f"train-{uuid.uuid4().hex[:6]}.jsonl", 6)
    file_id = sdk.upload(path).id
    params: dict[str, Any] = {"model": "open-mistral-7b", "hyperparameters": {"training_steps": 3,
                                                                              "learning_rate": 1e-4},
                              "training_files": [{"file_id": file_id, "weight": 1.0}], "auto_start": False}
    params.update(kw)
    return sdk.client.fine_tuning.jobs.create(**params)


def test_job_lifecycle_to_a_usable_model(sdk: Any, tmp_path: Path) -> None:
    suffix = f"c{uuid.uuid4().hex[:6]}"
    job = _job(sdk, tmp_path, suffix=suffix,
               integrations=[{"project": "proj-x", "api_key": "k" * 40, "name": "run-x"}])
    assert job.status == "QUEUED" and job.job_type == "completion" and job.suffix == suffix
    sdk.advance(10)
    got = sdk.client.fine_tuning.jobs.get(job_id=job.id)
    assert got.status == "VALIDATED"
    assert got.metadata.cost >= 4.0 and got.metadata.train_tokens == 3 * got.metadata.train_tokens_per_step
    assert [e.data["status"] for e in got.events] == ["QUEUED", "VALIDATING", "VALIDATED"]
    assert "k" * 40 not in json.dumps(got.model_dump(mode="json"))

    started = sdk.client.fine_tuning.jobs.start(job_id=job.id)
    assert started.status == "STARTED"  # the short state between /start and RUNNING
    sdk.advance(got.metadata.expected_duration_seconds + 2)
    done = sdk.client.fine_tuning.jobs.get(job_id=job.id)
    assert done.status == "SUCCESS" and done.trained_tokens == got.metadata.train_tokens
    model_id = done.fine_tuned_model
    assert model_id.startswith("ft:open-mistral-7b:") and f":{suffix}:" in model_id
    losses = [c.metrics.train_loss for c in done.checkpoints]
    assert losses == sorted(losses) and len(losses) == 3  # newest first, so ascending here

    listed = sdk.client.fine_tuning.jobs.list(suffix=suffix, status="SUCCESS", model="open-mistral-7b",
                                              wandb_project="proj-x", created_by_me=True)
    assert listed.total == 1 and listed.data[0].id == job.id
    aware = datetime.fromtimestamp(done.created_at, tz=timezone.utc)
    assert sdk.client.fine_tuning.jobs.list(suffix=suffix, created_after=aware - timedelta(seconds=1)).total == 1
    naive = aware.replace(tzinfo=None)
    assert sdk.client.fine_tuning.jobs.list(suffix=suffix, created_before=naive - timedelta(seconds=5)).total == 0

    ids = [m.id for m in sdk.client.models.list().data]
    assert model_id in ids and "open-mistral-7b" in ids
    card = sdk.client.models.retrieve(model_id=model_id)
    assert card.type == "fine-tuned" and card.root == "open-mistral-7b" and card.job == job.id
    updated = sdk.client.models.update(model_id=model_id, name="renamed", description="a model")
    assert updated.name == "renamed" and updated.model_type == "completion" and updated.archived is False
    assert sdk.client.models.archive(model_id=model_id).archived is True
    assert sdk.client.models.retrieve(model_id=model_id).archived is True
    assert sdk.client.models.unarchive(model_id=model_id).archived is False
    assert sdk.client.models.delete(model_id=model_id).deleted is True
    with pytest.raises(sdk.SDKError) as err:
        sdk.client.models.retrieve(model_id=model_id)
    assert err.value.status_code == 404


def test_cancel_and_conflicts(sdk: Any, tmp_path: Path) -> None:
    job = _job(sdk, tmp_path, suffix=f"x{uuid.uuid4().hex[:6]}")
    with pytest.raises(sdk.SDKError) as early:
        sdk.client.fine_tuning.jobs.start(job_id=job.id)  # still QUEUED
    assert early.value.status_code == 409
    cancelled = sdk.client.fine_tuning.jobs.cancel(job_id=job.id)
    assert cancelled.status == "CANCELLATION_REQUESTED"
    sdk.advance(10)
    final = sdk.client.fine_tuning.jobs.get(job_id=job.id)
    assert final.status == "CANCELLED" and final.events[-1].data["status"] == "CANCELLED"
    with pytest.raises(sdk.SDKError) as late:
        sdk.client.fine_tuning.jobs.cancel(job_id=job.id)
    assert late.value.status_code == 409


def test_auto_start_and_pagination(sdk: Any, tmp_path: Path) -> None:
    suffix = f"p{uuid.uuid4().hex[:6]}"
    ids = [_job(sdk, tmp_path, suffix=suffix, auto_start=True).id for _ in range(3)]
    page0 = sdk.client.fine_tuning.jobs.list(suffix=suffix, page=0, page_size=2)
    page1 = sdk.client.fine_tuning.jobs.list(suffix=suffix, page=1, page_size=2)
    assert page0.total == 3 and [j.id for j in page0.data + page1.data] == ids[::-1]
    sdk.advance(10)
    assert sdk.client.fine_tuning.jobs.get(job_id=ids[0]).status == "RUNNING"


def test_classifier_job_and_model(sdk: Any, tmp_path: Path) -> None:
    path = tmp_path / f"cls-{uuid.uuid4().hex[:6]}.jsonl"
    path.write_text("".join(json.dumps({"text": f"sample {i}", "labels": {"mood": ["happy", "sad"][i % 2]}}) + "\n"
                            for i in range(6)))
    file_id = sdk.upload(path).id
    job = sdk.client.fine_tuning.jobs.create(
        model="ministral-3b-latest", job_type="classifier", auto_start=True,
        hyperparameters={"training_steps": 2, "learning_rate": 4e-5},
        training_files=[{"file_id": file_id, "weight": 1.0}],
        classifier_targets=[{"name": "mood", "labels": ["happy", "sad"]}],
    )
    assert job.job_type == "classifier"
    sdk.advance(1000)
    done = sdk.client.fine_tuning.jobs.get(job_id=job.id)
    assert done.status == "SUCCESS" and done.classifier_targets[0].name == "mood"
    assert done.fine_tuned_model.startswith("ft:classifier:ministral-3b-latest:")
    updated = sdk.client.models.update(model_id=done.fine_tuned_model, name="mood-clf")
    assert updated.model_type == "classifier" and updated.classifier_targets[0].labels == ["happy", "sad"]


def test_business_errors_are_sdk_errors(sdk: Any, tmp_path: Path) -> None:
    with pytest.raises(sdk.SDKError) as unknown:
        sdk.client.fine_tuning.jobs.create(model="open-mistral-7b", hyperparameters={"training_steps": 1},
                                           training_files=[{"file_id": str(uuid.uuid4()), "weight": 1.0}])
    assert unknown.value.status_code == 422
    with pytest.raises(sdk.SDKError) as base:
        sdk.client.models.delete(model_id="open-mistral-7b")
    assert base.value.status_code == 403


def test_job_that_fails_during_training(sdk: Any, tmp_path: Path) -> None:
    """FAILED: made to fail half-way through training (admin endpoint); the SDK parses every stage of it."""
    job = _job(sdk, tmp_path, suffix=f"f{uuid.uuid4().hex[:6]}")
    sdk.advance(10)
    sdk.admin("POST", f"/_ftops/jobs/{job.id}/fail", {"at_fraction": 0.5, "reason": "GPU fell over"})
    assert sdk.client.fine_tuning.jobs.start(job_id=job.id).status == "STARTED"
    got = sdk.client.fine_tuning.jobs.get(job_id=job.id)
    sdk.advance(got.metadata.expected_duration_seconds * 2)
    failed = sdk.client.fine_tuning.jobs.get(job_id=job.id)
    assert failed.status == "FAILED" and failed.fine_tuned_model is None and failed.trained_tokens is None
    assert failed.events[-1].data == {"status": "FAILED", "error": "GPU fell over"}
    assert [e.data["status"] for e in failed.events][-3:] == ["STARTED", "RUNNING", "FAILED"]
    assert 0 < len(failed.checkpoints) < 3  # training stopped part-way
    assert all(c.metrics.valid_loss is None for c in failed.checkpoints)  # no validation file: null, not 0.0
    assert sdk.client.fine_tuning.jobs.list(suffix=job.suffix, status="FAILED").total == 1
    assert all(m.id != failed.fine_tuned_model for m in sdk.client.models.list().data)
    with pytest.raises(sdk.SDKError) as late:
        sdk.client.fine_tuning.jobs.cancel(job_id=job.id)
    assert late.value.status_code == 409


def test_training_failure_rate(sdk: Any, tmp_path: Path) -> None:
    """A server-wide training-failure rate (``ftops serve --fail-rate``) fails started jobs."""
    sdk.admin("PUT", "/_ftops/faults", {"rate_training_failure": 1.0})
    try:
        job = _job(sdk, tmp_path, suffix=f"r{uuid.uuid4().hex[:6]}", auto_start=True)
        sdk.advance(100_000)
        failed = sdk.client.fine_tuning.jobs.get(job_id=job.id)
        assert failed.status == "FAILED" and "Training failed" in failed.events[-1].data["error"]
    finally:
        sdk.admin("PUT", "/_ftops/faults", {})


def test_failed_validation_job(sdk: Any, tmp_path: Path) -> None:
    path = tmp_path / f"bad-{uuid.uuid4().hex[:6]}.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n' * 3)
    file_id = sdk.upload(path).id
    job = sdk.client.fine_tuning.jobs.create(model="open-mistral-7b", hyperparameters={"training_steps": 1},
                                             training_files=[{"file_id": file_id, "weight": 1.0}])
    sdk.advance(10)
    got = sdk.client.fine_tuning.jobs.get(job_id=job.id)
    assert got.status == "FAILED_VALIDATION" and "3 of 3 training lines" in got.events[-1].data["error"]


def test_api_rules_the_sdk_sees(sdk: Any, tmp_path: Path) -> None:
    """Suffix pattern, purpose and unknown base models are refused with 422, as the real API does."""
    path = sdk.chat_file(tmp_path, f"rules-{uuid.uuid4().hex[:6]}.jsonl", 4)
    good = sdk.upload(path).id
    files = [{"file_id": good, "weight": 1.0}]
    for kw in ({"suffix": "my.model v2"}, {"model": "open-mistral-7bb"}, {"model": "gpt-4o"}):
        params: dict[str, Any] = {"model": "open-mistral-7b", "hyperparameters": {"training_steps": 1},
                                  "training_files": files, **kw}
        with pytest.raises(sdk.SDKError) as err:
            sdk.client.fine_tuning.jobs.create(**params)
        assert err.value.status_code == 422, kw
    batch = sdk.upload(sdk.chat_file(tmp_path, f"batch-{uuid.uuid4().hex[:6]}.jsonl", 2), purpose="batch").id
    with pytest.raises(sdk.SDKError) as purpose:
        sdk.client.fine_tuning.jobs.create(model="open-mistral-7b", hyperparameters={"training_steps": 1},
                                           training_files=[{"file_id": batch, "weight": 1.0}])
    assert purpose.value.status_code == 422 and "purpose" in str(purpose.value.body)
