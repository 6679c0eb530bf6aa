"""HTTP behaviour of the local API: auth, limits, conflicts, dry run, pagination, filters, error shapes."""

from __future__ import annotations

from typing import Any

import httpx
from localapi_kit import KEY, Local, chat_lines


def test_missing_or_wrong_key_is_401_without_echo(local: Local) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": KEY}):
        r = httpx.get(f"{local.server.url}/v1/files", headers=headers)
        assert r.status_code == 401
        body = r.json()
        assert body["message"] == "Unauthorized" and body["request_id"]
        assert KEY not in r.text
    assert httpx.get(f"{local.server.url}/_ftops/faults").status_code == 401
    assert httpx.get(f"{local.server.url}/_ftops/health").json()["status"] == "ok"


def test_upload_over_limit_is_413(local: Local) -> None:
    r = local.http.post("/v1/files", files={"file": ("big.jsonl", b"x" * (200 * 1024))})
    assert r.status_code == 413 and "Too Large" in r.json()["detail"]
    r = local.http.post("/v1/files", files={"file": ("edge.jsonl", b"y" * (64 * 1024 + 10))})
    assert r.status_code == 413  # just over: caught while streaming to disk
    assert local.http.get("/v1/files").json()["total"] == 0


def test_same_name_and_content_returns_existing_file(local: Local) -> None:
    a = local.upload("same.jsonl", chat_lines(2))
    assert local.upload("same.jsonl", chat_lines(2))["id"] == a["id"]
    assert local.upload("other.jsonl", chat_lines(2))["id"] != a["id"]
    assert local.upload("same.jsonl", chat_lines(3))["id"] != a["id"]


def test_duplicate_active_job_is_409_until_it_ends(local: Local) -> None:
    file_id = local.upload()["id"]
    first = local.create_job(file_id, suffix="dup")
    again = local.http.post("/v1/fine_tuning/jobs", json=local.job_body(file_id, suffix="dup"))
    assert again.status_code == 409 and first["id"] in again.json()["detail"]
    other = local.http.post("/v1/fine_tuning/jobs", json=local.job_body(file_id, suffix="dup",
                                                                          hyperparameters={"training_steps": 5}))
    assert other.status_code == 200  # different hyperparameters: not a duplicate
    local.http.post(f"/v1/fine_tuning/jobs/{first['id']}/cancel")
    local.clock.advance(10)
    assert local.http.post("/v1/fine_tuning/jobs", json=local.job_body(file_id, suffix="dup")).status_code == 200


def test_dry_run_creates_nothing(local: Local) -> None:
    body = local.job_body(hyperparameters={"training_steps": 10})
    r = local.http.post("/v1/fine_tuning/jobs", params={"dry_run": "true"}, json=body)
    assert r.status_code == 200
    meta = r.json()
    assert meta["object"] == "job.metadata" and meta["details"] and meta["training_steps"] == 10
    assert meta["train_tokens"] == 10 * 131_072 and meta["cost"] == 4.0  # the $4 minimum applies
    assert local.http.get("/v1/fine_tuning/jobs").json()["total"] == 0
    assert "details" not in local.create_job(body["training_files"][0]["file_id"])


def test_request_ranges_are_422_and_never_echo_secrets(local: Local) -> None:
    file_id = local.upload()["id"]
    secret = "s" * 39
    bad_bodies = [
        local.job_body(file_id, suffix="x" * 19),
        local.job_body(file_id, invalid_sample_skip_percentage=0.6),
        local.job_body(file_id, hyperparameters={"learning_rate": 2.0}),
        local.job_body(file_id, hyperparameters={"training_steps": 0}),
        local.job_body(file_id, hyperparameters={"seq_len": 50}),
        local.job_body(file_id, integrations=[{"project": "p", "api_key": secret}]),
        local.job_body(file_id, repositories=[{"name": "r", "owner": "o"}], training_files=[]),
    ]
    for body in bad_bodies:
        r = local.http.post("/v1/fine_tuning/jobs", json=body)
        assert r.status_code == 422, body
        assert isinstance(r.json()["detail"], list) and secret not in r.text
    business = [
        local.job_body(file_id, training_files=[]),
        local.job_body("00000000-0000-4000-8000-000000000000"),
        local.job_body(file_id, model="gpt-4o"),
        local.job_body(file_id, job_type="classifier"),  # classifier only on ministral-3b-latest
    ]
    for body in business:
        r = local.http.post("/v1/fine_tuning/jobs", json=body)
        assert r.status_code == 422, body
    ok = local.create_job(file_id, integrations=[{"project": "p", "api_key": "k" * 40}],
                          repositories=[{"name": "r", "owner": "o", "token": "ghp_secret_token"}])
    assert "k" * 40 not in str(ok) and "ghp_secret_token" not in str(local.job(ok["id"]))


def test_ids_are_uuids_and_404s(local: Local) -> None:
    assert local.http.get("/v1/files/not-a-uuid").status_code == 422
    assert local.http.get("/v1/fine_tuning/jobs/nope").status_code == 422
    r = local.http.get("/v1/fine_tuning/jobs/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404 and r.json() == {"detail": "No fine tuning job matches the given query."}
    r = local.http.get("/v1/models/ft:open-mistral-7b:abcd1234:20250101:1a2b3c4d")
    assert r.status_code == 404 and "ft:open-mistral-7b" in r.json()["detail"]
    assert local.http.get("/v1/models/open-mistral-7b").json()["type"] == "base"
    assert local.http.get("/v1/files/00000000-0000-4000-8000-000000000000/content").status_code == 404


def test_jobs_pagination_and_filters(local: Local) -> None:
    ids = []
    for i in range(7):
        ids.append(local.create_job(suffix=f"s{i % 2}", auto_start=i % 3 == 0,
                                    integrations=[{"project": f"proj{i % 2}", "name": f"run{i}",
                                                   "api_key": "k" * 40}])["id"])
        local.clock.advance(100)
    pages = [local.http.get("/v1/fine_tuning/jobs", params={"page": p, "page_size": 3}).json() for p in range(3)]
    assert [p["total"] for p in pages] == [7, 7, 7] and [len(p["data"]) for p in pages] == [3, 3, 1]
    assert [j["id"] for p in pages for j in p["data"]] == ids[::-1]

    def total(**params: object) -> int:
        r = local.http.get("/v1/fine_tuning/jobs", params=params)
        assert r.status_code == 200, r.text
        return int(r.json()["total"])

    assert total(suffix="s0") == 4 and total(wandb_project="proj1") == 3 and total(wandb_name="run2") == 1
    assert total(model="open-mistral-7b") == 7 and total(model="codestral-latest") == 0
    assert total(status="RUNNING") + total(status="SUCCESS") == 3 and total(status="VALIDATED") == 4
    created = [local.job(i)["created_at"] for i in ids]
    from datetime import datetime, timezone

    mid = datetime.fromtimestamp(created[3], tz=timezone.utc)
    assert total(created_after=mid.isoformat()) == 4
    assert total(created_after=mid.replace(tzinfo=None).isoformat()) == 4  # naive means UTC
    assert total(created_before=mid.strftime("%Y-%m-%dT%H:%M:%SZ")) == 4
    assert total(created_by_me="true") == 7
    assert local.http.get("/v1/fine_tuning/jobs", params={"status": "BOGUS"}).status_code == 422


def test_files_filters_and_pagination(local: Local) -> None:
    for i in range(5):
        local.upload(f"alpha-{i}.jsonl")
    local.upload("beta.jsonl", purpose="batch")
    local.upload("pre.jsonl", b'{"text": "plain text"}\n')

    def listing(**params: object) -> dict[str, Any]:
        r = local.http.get("/v1/files", params=params)
        assert r.status_code == 200, r.text
        return dict(r.json())

    assert listing(search="ALPHA")["total"] == 5
    assert listing(purpose="batch")["total"] == 1
    assert listing(sample_type=["pretrain"])["total"] == 1
    assert listing(sample_type=["pretrain", "batch_request"])["total"] == 2
    assert listing(source=["upload", "mistral"])["total"] == 7 and listing(source=["mistral"])["total"] == 0
    assert listing(mimetypes=["application/jsonl"])["total"] == 7
    page = listing(page=1, page_size=4)
    assert page["total"] == 7 and len(page["data"]) == 3


def test_model_management(local: Local) -> None:
    job = local.create_job(auto_start=True, suffix="mgmt")
    local.clock.advance(10_000)
    model = local.job(job["id"])["fine_tuned_model"]
    r = local.http.patch(f"/v1/fine_tuning/models/{model}", json={"name": "n1", "description": "d1"})
    assert r.status_code == 200 and r.json()["name"] == "n1" and r.json()["model_type"] == "completion"
    assert local.http.post(f"/v1/fine_tuning/models/{model}/archive").json()["archived"] is True
    card = next(m for m in local.http.get("/v1/models").json()["data"] if m["id"] == model)
    assert card["archived"] is True and card["name"] == "n1" and card["description"] == "d1"
    assert local.http.delete(f"/v1/fine_tuning/models/{model}/archive").json()["archived"] is False
    assert local.http.delete("/v1/models/open-mistral-7b").status_code == 403
    assert local.http.delete(f"/v1/models/{model}").json() == {"id": model, "object": "model", "deleted": True}
    assert local.http.get(f"/v1/models/{model}").status_code == 404
    assert local.http.patch(f"/v1/fine_tuning/models/{model}", json={"name": "x"}).status_code == 404
