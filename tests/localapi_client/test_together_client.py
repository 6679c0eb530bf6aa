"""``TogetherClient`` (ftops.providers) against the local API's Together routes: what apply relies on.

Uploads de-duplicated by content, the create body translated from the core's request (LoRA / full, SFT /
DPO, W&B), statuses mapped to the core's phases, hyperparameters echoed under the manifest's names (so the
one comparison matches), list filters done client-side, and no key in what the client returns.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ftops.client.models import JobStatus
from ftops.errors import ApiError
from ftops.localapi import ManualClock, start_embedded
from ftops.localapi.embedded import EmbeddedServer
from ftops.providers.together_client import TogetherClient, request_of

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
WANDB = "w" * 40


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    with start_embedded(tmp_path_factory.mktemp("together"), speed=1.0, clock=ManualClock()) as srv:
        yield srv


@pytest.fixture()
def client(server: EmbeddedServer) -> Iterator[TogetherClient]:
    with TogetherClient(f"{server.url}/together", server.api_key) as c:
        yield c


def advance(server: EmbeddedServer, seconds: float) -> None:
    httpx.post(f"{server.url}/_ftops/clock/advance", json={"seconds": seconds},
               headers={"Authorization": f"Bearer {server.api_key}"}, timeout=10).raise_for_status()


def dataset(tmp: Path, name: str, n: int = 8) -> Path:
    path = tmp / name
    path.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"{name} q{i}"},
                                                     {"role": "assistant", "content": f"a{i}"}]}) + "\n"
                            for i in range(n)))
    return path


def body(file_id: str, **hp: object) -> dict[str, object]:
    return {"model": MODEL, "training_files": [{"file_id": file_id, "weight": 1.0}], "hyperparameters": hp,
            "suffix": "tc", "auto_start": False}


def test_upload_is_deduplicated_by_content(client: TogetherClient, tmp_path: Path) -> None:
    path = dataset(tmp_path, "a.jsonl")
    first = client.upload_file(path, filename="a.0123456789ab.jsonl")
    again = client.upload_file(path, filename="other-name.jsonl")
    assert again.id == first.id and first.num_lines == 8 and first.bytes == path.stat().st_size
    assert [f.id for f in client.list_files(search="0123456789ab")] == [first.id]
    assert client.file_sha256(first.id) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_request_translation_lora_dpo_and_wandb() -> None:
    out = request_of({**body("file-x", n_epochs=3, batch_size="max", lora_r=8, training_method="dpo",
                             dpo_beta=0.2), "validation_files": ["file-v"],
                      "integrations": [{"type": "wandb", "project": "p", "name": "n", "api_key": WANDB}]})
    assert out["training_file"] == "file-x" and out["validation_file"] == "file-v" and out["n_epochs"] == 3
    assert out["training_type"] == {"type": "Lora", "lora_r": 8}
    assert out["training_method"] == {"method": "dpo", "dpo_beta": 0.2}
    assert (out["wandb_project_name"], out["wandb_name"], out["wandb_key"]) == ("p", "n", WANDB)
    assert request_of(body("file-x", lora=False))["training_type"] == {"type": "Full"}


def test_job_round_trip_statuses_and_echo(client: TogetherClient, server: EmbeddedServer, tmp_path: Path) -> None:
    f = client.upload_file(dataset(tmp_path, "job.jsonl", 20), filename="job.jsonl")
    created = client.create_job({**body(f.id, n_epochs=2, batch_size="max", lora_r=8),
                                 "integrations": [{"type": "wandb", "project": "p", "api_key": WANDB}]})
    assert created.phase is JobStatus.QUEUED and created.id.startswith("ft-")
    # The API's own price estimate rides on the create answer (apply records it in the lock).
    assert created.metadata is not None and created.metadata.cost is not None and created.metadata.cost > 0
    assert created.metadata.train_tokens == 2 * (created.trained_tokens or 0)
    job = client.get_job(created.id)
    assert {k: job.hyperparameters[k] for k in ("n_epochs", "batch_size", "lora", "lora_r", "training_method")} == {
        "n_epochs": 2, "batch_size": "max", "lora": True, "lora_r": 8, "training_method": "sft"}
    assert job.integrations == [{"type": "wandb", "project": "p"}] and WANDB not in job.model_dump_json()
    assert [j.id for j in client.list_jobs(suffix="tc", model=MODEL, created_after=job.created_at)] == [job.id]
    assert client.list_jobs(suffix="nope") == []
    advance(server, 10)
    assert client.start_job(job.id).phase is JobStatus.RUNNING  # nothing to start: it trains from creation
    advance(server, 100_000)
    done = client.get_job(job.id)
    assert done.phase is JobStatus.SUCCESS and done.fine_tuned_model and "tc" in done.fine_tuned_model
    assert done.events and done.events[-1].name == "job_complete"
    assert done.fine_tuned_model in [m.id for m in client.list_models()]


def test_cancel_maps_to_cancellation_then_cancelled(client: TogetherClient, server: EmbeddedServer,
                                                    tmp_path: Path) -> None:
    f = client.upload_file(dataset(tmp_path, "c.jsonl"), filename="c.jsonl")
    job = client.create_job(body(f.id, n_epochs=1))
    assert client.cancel_job(job.id).phase is JobStatus.CANCELLATION_REQUESTED
    advance(server, 5)
    assert client.get_job(job.id).phase is JobStatus.CANCELLED


def test_invalid_data_is_failed_validation_and_models_cannot_be_renamed(
        client: TogetherClient, server: EmbeddedServer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "no answer"}]}\n')
    f = client.upload_file(bad, filename="bad.jsonl")
    job = client.create_job(body(f.id))
    advance(server, 10)
    assert client.get_job(job.id).phase is JobStatus.FAILED_VALIDATION
    with pytest.raises(ApiError, match="Together has no API to archive"):
        client.archive_model("x")
