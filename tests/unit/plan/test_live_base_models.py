"""Plan refuses a new job whose model the API's live model list does not mark fine-tunable (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from ftops.client import MistralClient, RetryPolicy
from ftops.desired import DesiredJob
from ftops.errors import ManifestError
from ftops.jobspec import JobSpec, TrainingFile
from ftops.plan.cost import refuse_unknown_models

MODELS = json.loads((Path(__file__).parents[2] / "conformance" / "recorded" / "responses.json").read_text())[
    "model_list"]


def _client(body: object, status: int = 200) -> MistralClient:
    return MistralClient("https://api.mistral.ai", "k", retry=RetryPolicy(max_attempts=1),
                         transport=httpx.MockTransport(lambda request: httpx.Response(status, json=body)))


def _job(model: str, job_type: str = "completion") -> DesiredJob:
    spec = JobSpec(model=model, job_type=job_type, suffix="j",
                   training=(TrainingFile(file="file.t", sha256="0" * 64, weight=1.0),))
    return DesiredJob(address="job.j", name="j", job_spec=spec, fingerprint="f", state="started",
                      on_remove="cancel", data_tokens=10, tokens_exact=False)


def test_only_models_the_live_list_marks_fine_tunable_pass() -> None:
    client = _client(MODELS)  # the recording marks only open-mistral-7b fine-tunable
    refuse_unknown_models(client, [_job("open-mistral-7b"), _job("open-mistral-7b-2407")])
    with pytest.raises(ManifestError) as err:
        refuse_unknown_models(client, [_job("mistral-large-latest")])
    (diagnostic,) = err.value.diagnostics
    assert diagnostic.code == "M056" and "capabilities.fine_tuning" in diagnostic.message
    assert diagnostic.address == "job.j" and diagnostic.hint and "open-mistral-7b" in diagnostic.hint


def test_no_usable_list_refuses_nothing() -> None:
    refuse_unknown_models(_client({"object": "list", "data": []}), [_job("mistral-large-latest")])
    refuse_unknown_models(_client({"detail": "boom"}, status=500), [_job("mistral-large-latest")])
