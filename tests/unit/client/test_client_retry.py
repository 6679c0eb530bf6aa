"""Retry policy of the client: which failures are retried, how long it waits, and what is never resent.

Uses httpx.MockTransport to script exact sequences of 429/5xx/dropped responses; the waits are recorded
by an injected ``sleep`` instead of slept.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ftops.client import MistralClient, RetryPolicy, parse_retry_after
from ftops.client._retry import http_date
from ftops.errors import RateLimited, ServerError, TransportError

JOB: dict[str, Any] = {"id": "6e1c7c3c-1111-4222-8333-944444444444", "model": "open-mistral-7b", "status": "QUEUED",
       "created_at": 1, "modified_at": 1, "training_files": [], "hyperparameters": {}, "job_type": "completion"}
Step = Callable[[httpx.Request], httpx.Response]


def _ok(body: object) -> Step:
    return lambda req: httpx.Response(200, json=body)


def _status(code: int, headers: dict[str, str] | None = None) -> Step:
    return lambda req: httpx.Response(code, json={"detail": f"status {code}"}, headers=headers)


def _drop(req: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=req)


class Script:
    """A transport answering from a list of steps, recording each request it received."""

    def __init__(self, *steps: Step) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.steps.pop(0)(request)


def make(script: Script, sleeps: list[float], **policy: object) -> MistralClient:
    retry = RetryPolicy(sleep=sleeps.append, rng=random.Random(7), **policy)  # type: ignore[arg-type]
    return MistralClient("http://api.test", "sk-secret-key-123456", transport=httpx.MockTransport(script),
                         retry=retry)


def test_429_retry_after_seconds_is_honoured() -> None:
    script, sleeps = Script(_status(429, {"Retry-After": "7"}), _ok(JOB)), list[float]()
    job = make(script, sleeps).get_job(JOB["id"])
    assert job.id == JOB["id"]
    assert sleeps == [7.0]


def test_429_retry_after_http_date_is_honoured() -> None:
    when = http_date(time.time() + 20)
    script, sleeps = Script(_status(429, {"Retry-After": when}), _ok(JOB)), list[float]()
    make(script, sleeps).get_job(JOB["id"])
    assert len(sleeps) == 1 and 17 <= sleeps[0] <= 20


def test_retry_after_is_capped_by_max_delay() -> None:
    script, sleeps = Script(_status(429, {"Retry-After": "86400"}), _ok(JOB)), list[float]()
    make(script, sleeps, max_delay=30).get_job(JOB["id"])
    assert sleeps == [30]


def test_5xx_is_retried_for_get_with_growing_backoff() -> None:
    script, sleeps = Script(_status(503), _status(500), _status(502), _ok(JOB)), list[float]()
    make(script, sleeps, jitter=False).get_job(JOB["id"])
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(script.requests) == 4


def test_gives_up_after_max_attempts_with_typed_error() -> None:
    script, sleeps = Script(*[_status(503)] * 3), list[float]()
    with pytest.raises(ServerError) as info:
        make(script, sleeps, max_attempts=3).get_job(JOB["id"])
    assert info.value.status_code == 503
    assert len(script.requests) == 3 and len(sleeps) == 2


def test_jitter_stays_within_half_to_full_backoff() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, rng=random.Random(1))
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)):
        delays = [policy.delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)


def test_create_is_not_retried_on_5xx() -> None:
    script, sleeps = Script(_status(500), _ok(JOB)), list[float]()
    with pytest.raises(ServerError):
        make(script, sleeps).create_job({"model": "open-mistral-7b", "hyperparameters": {}})
    assert len(script.requests) == 1 and sleeps == []


def test_create_is_retried_on_429() -> None:
    script, sleeps = Script(_status(429, {"Retry-After": "2"}), _ok(JOB)), list[float]()
    job = make(script, sleeps).create_job({"model": "open-mistral-7b", "hyperparameters": {}})
    assert job.id == JOB["id"] and sleeps == [2.0]
    assert [json.loads(r.content)["auto_start"] for r in script.requests] == [False, False]


def test_dropped_create_raises_transport_error_without_resend() -> None:
    script, sleeps = Script(_drop, _ok(JOB)), list[float]()
    with pytest.raises(TransportError) as info:
        make(script, sleeps).create_job({"model": "open-mistral-7b", "hyperparameters": {}})
    assert len(script.requests) == 1
    assert "http://api.test" in (info.value.hint or "")


def test_dropped_upload_is_not_resent(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"messages": []}\n')
    script, sleeps = Script(_drop, _ok({})), list[float]()
    with pytest.raises(TransportError):
        make(script, sleeps).upload_file(data, filename="d.jsonl")
    assert len(script.requests) == 1


def test_upload_retried_on_429_resends_the_whole_file(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_bytes(b'{"messages": []}\n' * 1000)
    uploaded = {"id": "f", "filename": "d.jsonl", "bytes": 17000, "created_at": 1}
    script, sleeps = Script(_status(429), _ok(uploaded)), list[float]()
    make(script, sleeps).upload_file(data, filename="d.jsonl")
    assert len(script.requests[0].read()) == len(script.requests[1].read())
    assert data.read_bytes() in script.requests[1].read()


def test_dropped_idempotent_calls_are_retried() -> None:
    script, sleeps = Script(_drop, _drop, _ok(JOB)), list[float]()
    assert make(script, sleeps).cancel_job(JOB["id"]).id == JOB["id"]
    assert len(sleeps) == 2


def test_rate_limited_error_carries_retry_after_when_exhausted() -> None:
    script, sleeps = Script(_status(429, {"Retry-After": "3"}), _status(429, {"Retry-After": "3"})), list[float]()
    with pytest.raises(RateLimited) as info:
        make(script, sleeps, max_attempts=2).list_models()
    assert info.value.retry_after == 3.0


@pytest.mark.parametrize(("header", "expected"), [("5", 5.0), (" 0 ", 0.0), ("-3", 0.0), ("soon", None),
                                                  ("", None), (None, None)])
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date_in_the_past_is_zero() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
