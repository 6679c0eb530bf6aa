"""ftops's client reads every real-shaped answer the spec allows, and prints every documented error shape
without secrets.

The answers are in ``recorded/responses.json`` (written from ``shared/reference/mistral-api.md``: the spec's
examples, real payloads it quotes, and the tolerance cases of issue 12). A recording server (an httpx
transport that answers each route with its recorded body) stands in for api.mistral.ai; the client under
test is the real one, over its real HTTP session.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ftops.client import MistralClient, RetryPolicy
from ftops.client.models import JobStatus
from ftops.errors import ApiError, NotFoundError, ValidationFailed

RECORDED: dict[str, Any] = json.loads((Path(__file__).parent / "recorded" / "responses.json").read_text())
FILE_ID = "497f6eca-6276-4993-bfeb-53cbbbba6f09"
JOB_ID = "20178c3c-d75b-4c6d-8e9f-0a1b2c3d4e5f"
FT = "ft:open-mistral-7b:587a6b29:20240514:7e773925"
WANDB_KEY = "0123456789abcdef0123456789abcdef01234567"
API_KEY = "sk-recorded-test-key"


def _routes() -> dict[tuple[str, str], Any]:
    r = RECORDED
    files = [r["file_spec_example"], r["file_2x"], r["file_batch_purpose_open_enum"]]
    jobs = [r["job_created_2025"], r["job_smallest"], r["job_unknown_status"]]
    return {
        ("GET", "/v1/files"): {"data": files, "object": "list", "total": len(files)},
        ("POST", "/v1/files"): r["file_spec_example"],
        ("GET", f"/v1/files/{FILE_ID}"): r["file_2x"],
        ("DELETE", f"/v1/files/{FILE_ID}"): r["file_delete"],
        ("GET", "/v1/fine_tuning/jobs"): {**r["jobs_list"], "data": jobs, "total": len(jobs)},
        ("POST", "/v1/fine_tuning/jobs"): r["job_created_2025"],
        ("GET", f"/v1/fine_tuning/jobs/{JOB_ID}"): r["job_detailed_2024"],
        ("POST", f"/v1/fine_tuning/jobs/{JOB_ID}/start"): r["job_unknown_status"],
        ("POST", f"/v1/fine_tuning/jobs/{JOB_ID}/cancel"): r["job_smallest"],
        ("GET", "/v1/models"): r["model_list"],
        ("GET", f"/v1/models/{FT}"): r["model_list"]["data"][1],
        ("DELETE", f"/v1/models/{FT}"): {"id": FT, "object": "model", "deleted": True},
        ("PATCH", f"/v1/fine_tuning/models/{FT}"): r["model_update"],
        ("POST", f"/v1/fine_tuning/models/{FT}/archive"): r["model_archive"],
        ("DELETE", f"/v1/fine_tuning/models/{FT}/archive"): {**r["model_archive"], "archived": False},
    }


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> MistralClient:
    return MistralClient("https://api.mistral.ai", API_KEY, transport=httpx.MockTransport(handler),
                         retry=RetryPolicy(max_attempts=1))


@pytest.fixture()
def recorded() -> MistralClient:
    routes = _routes()

    def answer(request: httpx.Request) -> httpx.Response:
        body = routes.get((request.method, request.url.path))
        if body is None:
            return httpx.Response(404, json={"detail": "Not Found"})
        return httpx.Response(200, json=body)

    return _client(answer)


def test_every_call_parses_the_recorded_answers(recorded: MistralClient, tmp_path: Path) -> None:
    files = recorded.list_files()
    assert [f.bytes for f in files] == [None, 1234, 10]  # the spec's example sends "bytes": null
    assert files[1].created_at == 1716963433 and files[2].purpose == "agentic_safety"
    assert recorded.get_file(FILE_ID).num_lines == 103
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")
    assert recorded.upload_file(data, filename="train.jsonl").id == FILE_ID
    recorded.delete_file(FILE_ID)

    jobs = recorded.list_jobs()
    assert [j.phase for j in jobs] == [JobStatus.QUEUED, JobStatus.QUEUED, JobStatus.UNKNOWN]
    assert jobs[2].status == "PAUSED_FOR_REVIEW"  # shown as the API sent it
    assert not jobs[2].active and not jobs[2].terminal
    assert jobs[0].metadata is not None and jobs[0].metadata.cost == 0.0 and jobs[0].classifier_targets
    created = recorded.create_job({"model": "ministral-3b-latest"})
    assert created.job_type == "classifier" and created.hyperparameters["epochs"] is None

    detailed = recorded.get_job(JOB_ID)
    assert detailed.modified_at == 1721389434 and detailed.trained_tokens == 1310720
    assert detailed.events is not None and [e.data for e in detailed.events][1:] == [None, None]
    assert detailed.checkpoints is not None
    assert detailed.checkpoints[1].metrics == {"train_loss": None, "valid_loss": None,
                                               "valid_mean_token_accuracy": None}
    assert detailed.checkpoints[1].step_number == 5
    assert recorded.start_job(JOB_ID).phase is JobStatus.UNKNOWN
    assert recorded.cancel_job(JOB_ID).hyperparameters == {}

    models = recorded.list_models()
    assert [m.id for m in models] == [FT]  # base cards are not tracked
    assert recorded.get_model(FT).root == "open-mistral-7b"
    updated = recorded.update_model(FT, name="intent")
    assert updated.job is None and updated.name == "intent"  # job is nullable in 2.x
    recorded.archive_model(FT)
    recorded.unarchive_model(FT)
    recorded.delete_model(FT)


def test_an_unreadable_answer_names_the_field_and_the_endpoint() -> None:
    broken = {**RECORDED["job_smallest"]}
    del broken["created_at"]
    client = _client(lambda request: httpx.Response(200, json=broken))
    with pytest.raises(ApiError) as err:
        client.get_job(JOB_ID)
    assert f"GET /v1/fine_tuning/jobs/{JOB_ID}" in err.value.message and "created_at" in err.value.message
    assert err.value.where == "https://api.mistral.ai"


ERROR_BODIES = [
    (401, {"message": "Unauthorized", "request_id": "c3f5"}, "Unauthorized"),
    (404, {"detail": "No fine tuning job matches the given query."}, "No fine tuning job matches"),
    (422, {"detail": [{"type": "value_error", "loc": ["body", "job_in"],
                       "msg": "Value error, At least one training file or repository is required.",
                       "ctx": {"error": "x"}}]}, "job_in: Value error, At least one training file"),
    (422, {"detail": "Model not available for this type of fine-tuning (completion)."}, "Model not available"),
    (422, {"detail": [{"type": "string_too_short", "loc": ["body", "integrations", 0, "api_key"],
                       "msg": "String should have at least 40 characters", "input": WANDB_KEY[:-1],
                       "ctx": {"min_length": 40}}]}, "integrations.0.api_key: String should have"),
    (422, {"message": {"detail": [{"type": "extra_forbidden", "loc": ["body", "integrations", 0],
                                   "msg": "Extra inputs are not permitted",
                                   "input": {"project": "p", "api_key": WANDB_KEY}}]}},
     "integrations.0: Extra inputs are not permitted"),
    (429, {"object": "error", "message": "Requests rate limit exceeded", "type": "rate_limited", "param": None,
           "code": "1300"}, "Requests rate limit exceeded"),
    (500, {"object": "error", "message": f"internal error for key {WANDB_KEY}", "type": "server_error"},
     "internal error for key ***"),
]


@pytest.mark.parametrize(("status", "body", "shown"), ERROR_BODIES)
def test_error_bodies_are_printed_without_secrets(status: int, body: Any, shown: str) -> None:
    client = _client(lambda request: httpx.Response(status, json=body))
    with pytest.raises(ApiError) as err:
        client.get_job(JOB_ID)
    text = err.value.render() if hasattr(err.value, "render") else str(err.value)
    assert shown in err.value.message, err.value.message
    for secret in (WANDB_KEY, WANDB_KEY[:-1], API_KEY):
        assert secret not in text and secret not in json.dumps(err.value.body)


def test_removed_jobs_endpoints_name_the_deprecation() -> None:
    gone = _client(lambda request: httpx.Response(410, json={"detail": "Gone"}))
    with pytest.raises(ApiError) as err:
        gone.list_jobs()
    assert "deprecated" in err.value.message and err.value.hint and "mistral-deprecation" in err.value.hint
    not_routed = _client(lambda request: httpx.Response(404, json={"detail": "Not Found"}))
    with pytest.raises(ApiError) as err:
        not_routed.create_job({"model": "open-mistral-7b"})
    assert "deprecated" in err.value.message and not isinstance(err.value, NotFoundError)
    with pytest.raises(ApiError) as err:
        not_routed.get_job(JOB_ID)
    assert "deprecated" in err.value.message
    # A job that does not exist is still just that: not found.
    no_job = {"detail": "No fine tuning job matches the given query."}
    missing = _client(lambda request: httpx.Response(404, json=no_job))
    with pytest.raises(NotFoundError) as nf:
        missing.get_job(JOB_ID)
    assert "deprecated" not in nf.value.message
    # Files and models are not part of the deprecation.
    with pytest.raises(NotFoundError):
        not_routed.get_file(FILE_ID)


def test_the_local_api_rejects_what_the_real_one_rejects() -> None:
    refused = _client(lambda request: httpx.Response(422, json={"detail": [
        {"type": "string_pattern_mismatch", "loc": ["body", "suffix"],
         "msg": "String should match pattern '^[a-zA-Z0-9_-]+$'", "ctx": {"pattern": "^[a-zA-Z0-9_-]+$"}}]}))
    with pytest.raises(ValidationFailed) as err:
        refused.create_job({"suffix": "my.model v2"})
    assert "suffix: String should match pattern" in err.value.message


def test_a_wandb_name_defaulted_to_the_job_id_reads_as_unset() -> None:
    """The spec defaults the W&B display name to the job id; the reconciler must not see it as a change."""
    from ftops.client.models import RemoteJob

    body = {**RECORDED["job_smallest"], "integrations": [{"type": "wandb", "project": "p", "name": JOB_ID},
                                                         {"type": "wandb", "project": "q", "name": "mine"}]}
    job = RemoteJob.model_validate(body)
    assert [i["name"] for i in job.integrations or []] == [None, "mine"]
