"""Job lifecycle over HTTP with a manual clock: statuses, events, checkpoints, metadata, validation."""

from __future__ import annotations

import itertools

from localapi_kit import Local, chat_lines

from ftops.localapi import lifecycle


def test_full_lifecycle_with_manual_clock(local: Local) -> None:
    job = local.create_job(suffix="life")
    assert job["status"] == "QUEUED" and job["metadata"]["cost"] is None
    local.clock.advance(2.5)
    assert local.job(job["id"])["status"] == "VALIDATING"
    local.clock.advance(3)
    validated = local.job(job["id"])
    assert validated["status"] == "VALIDATED"
    meta = validated["metadata"]
    assert meta["train_tokens"] == 4 * meta["train_tokens_per_step"] and meta["cost"] >= 4.0
    assert meta["cost_currency"] == "USD" and meta["data_tokens"] > 0
    local.clock.advance(3600)
    assert local.job(job["id"])["status"] == "VALIDATED"  # waits for /start without auto_start

    started = local.http.post(f"/v1/fine_tuning/jobs/{job['id']}/start").json()
    assert started["status"] == "STARTED" and started["fine_tuned_model"] is None  # then RUNNING, as the spec lists
    local.clock.advance(meta["expected_duration_seconds"] / 2)
    halfway = local.job(job["id"])
    assert halfway["status"] == "RUNNING" and 0 < len(halfway["checkpoints"]) < 4
    local.clock.advance(meta["expected_duration_seconds"])
    done = local.job(job["id"])
    assert done["status"] == "SUCCESS" and done["trained_tokens"] == meta["train_tokens"]
    statuses = [e["data"]["status"] for e in done["events"]]
    assert statuses == ["QUEUED", "VALIDATING", "VALIDATED", "STARTED", "RUNNING", "SUCCESS"]
    assert all(e["name"] == "status-updated" for e in done["events"])
    steps = [c["step_number"] for c in done["checkpoints"]]
    losses = [c["metrics"]["train_loss"] for c in done["checkpoints"]]
    assert steps == [4, 3, 2, 1] and losses == sorted(losses)  # newest first, loss falling over time
    model = done["fine_tuned_model"]
    assert model.startswith("ft:open-mistral-7b:") and model.split(":")[4] == "life"
    assert model.endswith(":" + job["id"][:8])
    assert local.http.get(f"/v1/models/{model}").json()["job"] == job["id"]


def test_failed_validation_names_file_and_line(local: Local) -> None:
    bad = chat_lines(3) + b"this is not json\n" + chat_lines(1)
    f = local.upload("broken.jsonl", bad)
    job = local.create_job(f["id"])
    local.clock.advance(10)
    got = local.job(job["id"])
    assert got["status"] == "FAILED_VALIDATION"
    error = got["events"][-1]["data"]["error"]
    assert "broken.jsonl" in error and "line 4" in error
    assert local.http.post(f"/v1/fine_tuning/jobs/{job['id']}/start").status_code == 409
    assert local.http.post(f"/v1/fine_tuning/jobs/{job['id']}/cancel").status_code == 409


def test_last_user_turn_fails_and_skip_share_lets_it_through(local: Local) -> None:
    user_last = b'{"messages": [{"role": "user", "content": "hello?"}]}\n'
    f = local.upload("ends-with-user.jsonl", chat_lines(9) + user_last)
    strict = local.create_job(f["id"], suffix="strict")
    lenient = local.create_job(f["id"], suffix="lenient", invalid_sample_skip_percentage=0.1, auto_start=True)
    too_strict = local.create_job(f["id"], suffix="tight", invalid_sample_skip_percentage=0.05)
    local.clock.advance(10)
    assert local.job(strict["id"])["status"] == "FAILED_VALIDATION"
    assert "line 10" in local.job(strict["id"])["events"][-1]["data"]["error"]
    assert local.job(too_strict["id"])["status"] == "FAILED_VALIDATION"
    assert local.job(lenient["id"])["status"] == "RUNNING"


def test_cancel_from_each_active_state(local: Local) -> None:
    for wait in (0, 2.5, 6):
        job = local.create_job(suffix=f"cancel{int(wait)}")
        local.clock.advance(wait)
        before = local.job(job["id"])["status"]
        r = local.http.post(f"/v1/fine_tuning/jobs/{job['id']}/cancel")
        assert r.status_code == 200 and r.json()["status"] == "CANCELLATION_REQUESTED", before
        local.clock.advance(5)
        after = local.job(job["id"])
        assert after["status"] == "CANCELLED"
        assert [e["data"]["status"] for e in after["events"]][-2:] == ["CANCELLATION_REQUESTED", "CANCELLED"]


def test_running_job_cancelled_has_no_model(local: Local) -> None:
    job = local.create_job(auto_start=True, suffix="runcancel")
    local.clock.advance(60)
    assert local.job(job["id"])["status"] == "RUNNING"
    local.http.post(f"/v1/fine_tuning/jobs/{job['id']}/cancel")
    local.clock.advance(100_000)
    got = local.job(job["id"])
    assert got["status"] == "CANCELLED" and got["fine_tuned_model"] is None
    assert all(m["type"] == "base" for m in local.http.get("/v1/models").json()["data"])


def test_sql_status_matches_python_status() -> None:
    import sqlite3

    db = sqlite3.connect(":memory:")
    cases = []
    for ok, started, cancel, running, failed in itertools.product(
            (True, False), (None, 10.0), (None, 4.0, 12.0), (None, 11.0), (None, 15.0)):
        on = bool(started and ok)
        t = lifecycle.JobTimes(created_at=0.0, validating_at=2.0, validated_at=5.0, validation_ok=ok,
                               started_at=started if ok else None, success_at=started + 20 if on else None,
                               cancel_requested_at=cancel, cancelled_at=cancel + 2 if cancel else None,
                               running_at=running if on else None, failed_at=failed if on else None)
        cases.append(t)
    seen = set()
    for t in cases:
        for now in [x / 2 for x in range(0, 80)]:
            row = db.execute(f"SELECT {lifecycle.STATUS_SQL} FROM (SELECT ? AS validating_at, ? AS validated_at,"
                             " ? AS validation_ok, ? AS started_at, ? AS success_at, ? AS cancel_requested_at,"
                             " ? AS cancelled_at, ? AS running_at, ? AS failed_at)".replace(":now", str(now)),
                             (t.validating_at, t.validated_at, int(t.validation_ok), t.started_at, t.success_at,
                              t.cancel_requested_at, t.cancelled_at, t.running_at, t.failed_at)).fetchone()
            assert row[0] == lifecycle.status_at(t, now), (t, now)
            seen.add(row[0])
    assert {"STARTED", "FAILED", "RUNNING", "SUCCESS", "CANCELLED"} <= seen
