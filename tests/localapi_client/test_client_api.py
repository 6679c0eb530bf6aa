"""MistralClient against the real local API over HTTP: every call, typed errors, pagination, faults, secrets."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from ftops.client import MistralClient, RetryPolicy
from ftops.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PayloadTooLarge,
    RateLimited,
    TransportError,
    ValidationFailed,
)
from ftops.localapi.embedded import EmbeddedServer, start_embedded

from .conftest import admin, job_body, seed_files, set_faults

SECRET = "sk-do-not-print-me-0123456789abcdef"
MISSING_JOB = "00000000-0000-4000-8000-000000000000"


def test_file_job_model_lifecycle(client: MistralClient, server: EmbeddedServer, train_path: Path) -> None:
    uploaded = client.upload_file(train_path, filename="life.0123456789ab.jsonl")
    assert uploaded.filename == "life.0123456789ab.jsonl" and uploaded.purpose == "fine-tune"
    assert client.upload_file(train_path, filename="life.0123456789ab.jsonl").id == uploaded.id  # server dedup
    assert [f.id for f in client.list_files(search="0123456789ab")] == [uploaded.id]
    assert client.get_file(uploaded.id).bytes == train_path.stat().st_size

    job = client.create_job(job_body(uploaded.id, "life"))
    assert job.auto_start is False and job.status == "QUEUED"
    assert [j.id for j in client.list_jobs(suffix="life")] == [job.id]
    assert client.list_jobs(suffix="life", created_after=job.created_at + 3600) == []
    admin(server, "POST", "/_ftops/clock/advance", {"seconds": 60})
    assert client.get_job(job.id).status == "VALIDATED"
    assert client.start_job(job.id).status in {"STARTED", "RUNNING"}
    admin(server, "POST", "/_ftops/clock/advance", {"seconds": 10 * 86400})
    done = client.get_job(job.id)
    assert done.status == "SUCCESS" and done.fine_tuned_model

    model_id = done.fine_tuned_model
    assert model_id in {m.id for m in client.list_models()}
    renamed = client.update_model(model_id, name="support-bot")
    assert renamed.name == "support-bot" and renamed.description is None
    assert client.update_model(model_id, description="v1").name == "support-bot"  # PATCH keeps unset fields
    client.archive_model(model_id)
    assert client.get_model(model_id).archived
    client.unarchive_model(model_id)
    assert not client.get_model(model_id).archived
    client.delete_model(model_id)
    with pytest.raises(NotFoundError):
        client.get_model(model_id)
    client.delete_file(uploaded.id)
    assert uploaded.id not in {f.id for f in client.list_files()}


def test_error_mapping(client: MistralClient, train_path: Path) -> None:
    with pytest.raises(NotFoundError) as info:
        client.get_job(MISSING_JOB)
    assert "No fine tuning job matches" in info.value.message and info.value.status_code == 404
    with pytest.raises(ValidationFailed) as bad:
        client.create_job({"model": "open-mistral-7b", "hyperparameters": {}, "training_files": []})
    assert "training file" in bad.value.message and bad.value.hint
    uploaded = client.upload_file(train_path, filename="errors.jsonl")
    job = client.create_job(job_body(uploaded.id, "errors"))
    with pytest.raises(ConflictError):
        client.create_job(job_body(uploaded.id, "errors"))  # same spec while the first is active
    client.cancel_job(job.id)


def test_wrong_key_is_authentication_error_without_the_key(server: EmbeddedServer,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with MistralClient(server.url, SECRET) as bad:
        with pytest.raises(AuthenticationError) as info:
            bad.list_files()
        texts = [str(info.value), info.value.render(), repr(info.value), str(info.value.body), repr(bad), str(bad)]
    assert "MISTRAL_API_KEY" in (info.value.hint or "")
    assert all(SECRET not in t for t in texts)
    assert SECRET not in caplog.text


def test_unreachable_endpoint_names_it_without_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connection refused
        retry = RetryPolicy(max_attempts=2, base_delay=0.01)
        with MistralClient(f"http://127.0.0.1:{port}", SECRET, retry=retry) as c, \
                pytest.raises(TransportError) as info:
            c.list_jobs()
    assert f"127.0.0.1:{port}" in (info.value.hint or "")
    assert SECRET not in info.value.render() and SECRET not in caplog.text
    assert SECRET not in str(info.value.__cause__) and SECRET not in repr(info.value.__cause__)


def test_oversized_upload_is_payload_too_large(tmp_path: Path, train_path: Path) -> None:
    with start_embedded(tmp_path / "small", max_upload_bytes=100) as small, \
            MistralClient(small.url, small.api_key) as c, pytest.raises(PayloadTooLarge) as info:
        c.upload_file(train_path, filename="big.jsonl")
    assert info.value.status_code == 413 and "512 MB" in (info.value.hint or "")


def test_pagination_reads_every_page_once(client: MistralClient, train_path: Path) -> None:
    seeded = seed_files(client, train_path, 230, "paged-")
    before = client.request_count
    listed = client.list_files(search="paged-")
    assert client.request_count - before == 3  # 100 + 100 + 30
    assert sorted(f.id for f in listed) == sorted(f.id for f in seeded)


def test_429_then_success_honours_retry_after(client: MistralClient, server: EmbeddedServer,
                                              sleeps: list[float]) -> None:
    set_faults(server, rate_429=1.0, retry_after=3, budget=2)
    try:
        client.list_models()
    finally:
        set_faults(server)
    assert sleeps == [3.0, 3.0]


def test_create_is_retried_on_429_but_never_on_5xx(client: MistralClient, server: EmbeddedServer,
                                                   train_path: Path, sleeps: list[float]) -> None:
    uploaded = client.upload_file(train_path, filename="retry.jsonl")
    set_faults(server, rate_429=1.0, retry_after=1, budget=1, methods=["POST"])
    try:
        created = client.create_job(job_body(uploaded.id, "retry-429"))
    finally:
        set_faults(server)
    assert sleeps == [1.0] and created.suffix == "retry-429"

    set_faults(server, rate_5xx=1.0, budget=1, methods=["POST"])
    try:
        with pytest.raises(Exception) as info:
            client.create_job(job_body(uploaded.id, "retry-5xx"))
    finally:
        set_faults(server)
    assert type(info.value).__name__ == "ServerError" and sleeps == [1.0]


def test_dropped_create_raises_and_the_job_exists(client: MistralClient, server: EmbeddedServer,
                                                  train_path: Path) -> None:
    uploaded = client.upload_file(train_path, filename="drop.jsonl")
    set_faults(server, rate_drop=1.0, budget=1, methods=["POST"], paths=["/v1/fine_tuning/jobs"])
    try:
        with pytest.raises(TransportError):
            client.create_job(job_body(uploaded.id, "dropped"))
    finally:
        set_faults(server)
    # The write committed although the answer was lost: adoption (by suffix) finds exactly one job.
    assert len(client.list_jobs(suffix="dropped")) == 1


def test_5xx_and_drops_on_gets_are_retried(client: MistralClient, server: EmbeddedServer) -> None:
    set_faults(server, rate_5xx=0.5, rate_drop=0.5, budget=3, methods=["GET"])
    try:
        client.list_models()
    finally:
        set_faults(server)
    assert client.request_count == 4


def test_rate_limit_exhausted_is_typed(server: EmbeddedServer) -> None:
    set_faults(server, rate_429=1.0, retry_after=2)
    try:
        retry = RetryPolicy(max_attempts=2, sleep=lambda s: None)
        with MistralClient(server.url, server.api_key, retry=retry) as c, pytest.raises(RateLimited) as info:
            c.list_files()
    finally:
        set_faults(server)
    assert info.value.retry_after == 2.0
