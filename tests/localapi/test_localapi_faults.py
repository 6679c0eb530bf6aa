"""Injected faults: 429 with Retry-After, 5xx, responses dropped after the write committed, latency."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from localapi_kit import Local, chat_lines


def _faults(local: Local, **settings: Any) -> None:
    r = local.http.put("/_ftops/faults", json=settings)
    assert r.status_code == 200, r.text


def test_admin_endpoint_reads_and_writes_settings(local: Local) -> None:
    assert local.http.get("/_ftops/faults").json()["rate_429"] == 0.0
    _faults(local, rate_5xx=0.25, seed=3)
    assert local.http.get("/_ftops/faults").json()["rate_5xx"] == 0.25
    assert local.http.put("/_ftops/faults", json={"rate_429": 2}).status_code == 422
    paths = local.http.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/_ftops")]


def test_429_carries_retry_after_and_the_observed_body(local: Local) -> None:
    _faults(local, rate_429=1.0, retry_after=7)
    r = local.http.get("/v1/files")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    assert r.json()["message"] == "Requests rate limit exceeded" and r.json()["type"] == "rate_limited"
    assert local.http.get("/_ftops/health").status_code == 200  # admin paths are never faulted


def test_5xx_and_budget(local: Local) -> None:
    _faults(local, rate_5xx=1.0, budget=2, seed=1)
    codes = [local.http.get("/v1/files").status_code for _ in range(4)]
    assert all(c in (500, 502, 503) for c in codes[:2]) and codes[2:] == [200, 200]


def test_drop_after_commit_keeps_the_write(local: Local) -> None:
    _faults(local, rate_drop=1.0, methods=["POST"], paths=["/v1/files"])
    with pytest.raises(httpx.HTTPError):
        local.http.post("/v1/files", files={"file": ("dropped.jsonl", chat_lines(3))})
    _faults(local)
    listed = local.http.get("/v1/files", params={"search": "dropped"}).json()
    assert listed["total"] == 1  # the client saw a broken response, but the file exists
    assert local.upload("dropped.jsonl", chat_lines(3))["id"] == listed["data"][0]["id"]


def test_drop_after_commit_on_job_create(local: Local) -> None:
    body = local.job_body(suffix="dropjob")
    _faults(local, rate_drop=1.0, methods=["POST"], paths=["/v1/fine_tuning/jobs"])
    with pytest.raises(httpx.HTTPError):
        local.http.post("/v1/fine_tuning/jobs", json=body)
    _faults(local)
    assert local.http.get("/v1/fine_tuning/jobs", params={"suffix": "dropjob"}).json()["total"] == 1
    assert local.http.post("/v1/fine_tuning/jobs", json=body).status_code == 409  # a blind retry is refused


def test_latency_is_added(local: Local) -> None:
    _faults(local, latency_ms=300)
    t0 = time.monotonic()
    assert local.http.get("/v1/files").status_code == 200
    assert time.monotonic() - t0 >= 0.3


def test_seeded_rates_are_reproducible(local: Local) -> None:
    def run() -> list[int]:
        _faults(local, rate_429=0.3, rate_5xx=0.2, seed=42)
        return [local.http.get("/v1/models").status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second and 429 in first and 200 in first
