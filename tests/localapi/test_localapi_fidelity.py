"""What the real API rejects, returns and defaults, the local API does too (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

from localapi_kit import KEY, Local, chat_lines

from ftops.localapi import ManualClock, start_embedded


def test_suffix_outside_the_pattern_is_refused_with_the_real_error_shape(local: Local) -> None:
    for suffix in ("my.model v2", "", "x" * 19):
        r = local.http.post("/v1/fine_tuning/jobs", json=local.job_body(suffix=suffix))
        assert r.status_code == 422, suffix
        (item,) = r.json()["detail"]
        assert item["loc"] == ["body", "suffix"] and "input" not in item
    assert local.create_job(suffix="ok_suffix-2")["suffix"] == "ok_suffix-2"


def test_unknown_base_models_and_batch_files_are_refused(local: Local) -> None:
    for model in ("open-mistral-7bb", "gpt-4o"):
        r = local.http.post("/v1/fine_tuning/jobs", json=local.job_body(model=model))
        assert r.status_code == 422 and "Model not available" in r.json()["detail"], model
    assert local.create_job(model="open-mistral-7b-2407")["model"] == "open-mistral-7b-2407"  # a dated release
    batch = local.upload(purpose="batch")
    r = local.http.post("/v1/fine_tuning/jobs", json=local.job_body(batch["id"]))
    assert r.status_code == 422 and "purpose 'batch'" in r.json()["detail"]


def test_base_models_are_listed_with_the_fine_tuning_capability(local: Local) -> None:
    cards = {c["id"]: c for c in local.http.get("/v1/models").json()["data"] if c["type"] == "base"}
    assert cards["open-mistral-7b"]["capabilities"]["fine_tuning"] is True
    assert "gpt-4o" not in cards


def test_wandb_name_defaults_to_the_job_id_and_validation_metrics_are_null(local: Local) -> None:
    integration = {"type": "wandb", "project": "p", "api_key": "k" * 40}
    job = local.create_job(auto_start=True, integrations=[integration])
    assert job["integrations"][0]["name"] == job["id"]
    listed = local.http.get("/v1/fine_tuning/jobs", params={"wandb_name": job["id"]}).json()
    assert listed["total"] == 1
    local.clock.advance(100_000)
    done = local.job(job["id"])
    assert done["status"] == "SUCCESS" and done["checkpoints"]
    assert all(c["metrics"]["valid_loss"] is None and c["metrics"]["valid_mean_token_accuracy"] is None
               for c in done["checkpoints"])


def test_the_validation_message_counts_lines_not_errors(local: Local) -> None:
    # Each bad line breaks two rules (both contents are numbers): 6 errors on 3 lines.
    bad = b'{"messages": [{"role": "user", "content": 1}, {"role": "assistant", "content": 2}]}\n' * 3
    job = local.create_job(local.upload("twice.jsonl", bad + chat_lines(3))["id"])
    local.clock.advance(10)
    error = local.job(job["id"])["events"][-1]["data"]["error"]
    assert "3 of 6 training lines are invalid (50.0%)" in error and "(and 2 more invalid lines)" in error, error


def test_list_filters_are_checked_and_include_total_is_honoured(local: Local) -> None:
    local.upload()
    assert local.http.get("/v1/files", params={"purpose": "pictures"}).status_code == 422
    assert local.http.get("/v1/files", params={"sample_type": "nonsense"}).status_code == 422
    assert local.http.get("/v1/files", params={"source": "elsewhere"}).status_code == 422
    assert local.http.get("/v1/fine_tuning/jobs", params={"status": "DONE"}).status_code == 422
    with_total = local.http.get("/v1/files", params={"include_total": "true", "sample_type": "instruct"}).json()
    assert with_total["total"] >= 1
    assert local.http.get("/v1/files", params={"include_total": "false"}).json()["total"] is None


def test_upload_and_signed_url_expiry(local: Local) -> None:
    now = local.http.get("/_ftops/clock").json()["now"]
    r = local.http.post("/v1/files", files={"file": ("e.jsonl", chat_lines(2, "exp"))}, data={"expiry": "2"})
    assert r.status_code == 200
    assert abs(r.json()["expires_at"] - (now + 2 * 3600)) <= 2
    assert local.upload()["expires_at"] is None
    url = local.http.get(f"/v1/files/{r.json()['id']}/url", params={"expiry": 1}).json()["url"]
    assert abs(int(url.rsplit("expires=", 1)[1]) - (now + 3600)) <= 2


def test_validation_files_over_1_mb_are_refused(tmp_path: Path) -> None:
    with start_embedded(tmp_path / "state", api_key=KEY, speed=1.0, clock=ManualClock(),
                        max_upload_bytes=4 * 1024 * 1024) as srv:
        local = Local(srv, ManualClock())
        row = json.dumps({"messages": [{"role": "user", "content": "q" * 1000},
                                       {"role": "assistant", "content": "a"}]}) + "\n"
        big = local.upload("big-eval.jsonl", (row * 1100).encode())
        assert big["bytes"] > 1024 * 1024
        r = local.http.post("/v1/fine_tuning/jobs", json=local.job_body(validation_files=[big["id"]]))
        assert r.status_code == 422 and "limited to 1 MB" in r.json()["detail"]
        small = local.upload("eval.jsonl", (row * 10).encode())
        ok = local.http.post("/v1/fine_tuning/jobs", json=local.job_body(validation_files=[small["id"]]))
        assert ok.status_code == 200, ok.text
        local.http.close()
