"""``--wait`` stops following a job whose status this ftops does not know, and says so (issue 12)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx

from ftops.apply.wait import PlainDisplay, follow_jobs
from ftops.client import MistralClient, RetryPolicy
from ftops.state.store import LockStore

RECORDED = json.loads((Path(__file__).parents[2] / "conformance" / "recorded" / "responses.json").read_text())


def test_wait_stops_following_an_unknown_status_with_a_warning(tmp_path: Path) -> None:
    job = RECORDED["job_unknown_status"]
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json=job)

    client = MistralClient("https://api.mistral.ai", "k", transport=httpx.MockTransport(answer),
                           retry=RetryPolicy(max_attempts=1))
    store = LockStore.open(tmp_path / "ftops.lock", endpoint="https://api.mistral.ai")
    lines: list[str] = []
    result = follow_jobs(client, store, {"job.x": job["id"]}, timeout=30, stop=threading.Event(),
                         display=PlainDisplay(lines.append), first_delay=0.0)
    assert result.unknown == ["job.x"] and result.timed_out == [] and len(calls) == 1
    assert any("PAUSED_FOR_REVIEW" in line for line in lines)  # shown as the API sent it
    (warning,) = result.unknown_warnings()
    assert "PAUSED_FOR_REVIEW" in warning and "stopped following" in warning
