"""The official ``together`` SDK (3.1.1) against the local API's Together routes, over HTTP.

Each test is a call a user makes with the SDK: upload (the three-step presigned flow, de-duplicated by
content), list / retrieve / delete files, model limits and price estimate, create (which calls limits and
estimate itself), list / retrieve / cancel / delete jobs, events and checkpoints as the clock moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ftops.localapi.embedded import EmbeddedServer
from tests.conformance.conftest import chat_file

together = pytest.importorskip("together")
FileAlreadyExistsError = pytest.importorskip("together.lib.resources.files").FileAlreadyExistsError

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
BIG = "meta-llama/Meta-Llama-3.1-70B-Instruct-Reference"


@pytest.fixture()
def client(server: EmbeddedServer) -> Iterator[Any]:
    with together.Together(api_key=server.api_key, base_url=f"{server.url}/together", max_retries=0) as c:
        yield c


def advance(server: EmbeddedServer, seconds: float) -> None:
    httpx.post(f"{server.url}/_ftops/clock/advance", json={"seconds": seconds},
               headers={"Authorization": f"Bearer {server.api_key}"}, timeout=10).raise_for_status()


def test_upload_is_three_steps_and_deduplicated_by_content(client: Any, tmp_path: Path) -> None:
    path = chat_file(tmp_path, "train.jsonl", 12, salt="dedup")
    first = client.files.upload(file=str(path), purpose="fine-tune", check=True)
    assert first.id.startswith("file-") and first.bytes == path.stat().st_size
    assert first.filename == "train.jsonl" and first.processing_status == "COMPLETED"
    again = client.files.upload(file=str(path), purpose="fine-tune", check=True)
    assert again.id == first.id  # 409 with the existing file id, which the SDK turns into a retrieve
    with pytest.raises(FileAlreadyExistsError):
        client.files.upload(file=str(path), purpose="fine-tune", raise_if_already_exists=True)
    assert first.id in [f.id for f in client.files.list().data]
    assert client.files.retrieve(first.id).validation_report.nlines == 12


def test_delete_file_then_it_is_gone(client: Any, tmp_path: Path) -> None:
    uploaded = client.files.upload(file=str(chat_file(tmp_path, "gone.jsonl", 5, salt="gone")))
    assert client.files.delete(uploaded.id).deleted is True
    with pytest.raises(together.NotFoundError):
        client.files.retrieve(uploaded.id)
    assert uploaded.id not in [f.id for f in client.files.list().data]


def test_upload_url_needs_its_signature(client: Any, server: EmbeddedServer) -> None:
    r = httpx.put(f"{server.url}/together/_upload/file-x?signature=wrong", content=b"{}\n", timeout=10)
    assert r.status_code == 403 and r.json()["error"]["message"] == "Invalid upload signature"


def test_model_limits_and_unknown_model(client: Any) -> None:
    limits = client.fine_tuning.model_limits(model_name=MODEL)
    assert limits.max_num_epochs >= 1 and limits.lora_training.max_rank >= limits.lora_training.default_rank
    assert client.fine_tuning.model_limits(model_name=BIG).supports_full_training is False
    with pytest.raises(together.NotFoundError):
        client.fine_tuning.model_limits(model_name="nobody/no-model")


def test_estimate_price_scales_with_epochs(client: Any, tmp_path: Path) -> None:
    f = client.files.upload(file=str(chat_file(tmp_path, "price.jsonl", 40, salt="price")))
    one = client.fine_tuning.estimate_price(training_file=f.id, model=MODEL, n_epochs=1)
    three = client.fine_tuning.estimate_price(training_file=f.id, model=MODEL, n_epochs=3)
    assert one.estimation_available is True and one.estimated_total_price > 0
    assert three.estimated_train_token_count == 3 * one.estimated_train_token_count
    assert three.estimated_total_price == pytest.approx(3 * one.estimated_total_price, rel=0.01)


def test_job_lifecycle_events_checkpoints(client: Any, server: EmbeddedServer, tmp_path: Path) -> None:
    f = client.files.upload(file=str(chat_file(tmp_path, "life.jsonl", 30, salt="life")))
    job = client.fine_tuning.create(training_file=f.id, model=MODEL, n_epochs=2, n_checkpoints=3,
                                    suffix="conformance", lora=True, train_on_inputs="auto",
                                    wandb_api_key="w" * 40, wandb_project_name="proj")
    assert job.id.startswith("ft-") and job.status == "pending" and job.suffix == "conformance"
    assert job.training_type.lora_r == 64 and job.n_epochs == 2 and job.batch_size == 32
    assert "w" * 40 not in client.fine_tuning.retrieve(job.id).model_dump_json()
    assert job.id in [j.id for j in client.fine_tuning.list().data]
    advance(server, 3)
    assert client.fine_tuning.retrieve(job.id).status == "queued"
    advance(server, 5)
    running = client.fine_tuning.retrieve(job.id)
    assert running.status == "running" and running.started_at is not None
    advance(server, 100_000)
    done = client.fine_tuning.retrieve(job.id)
    assert done.status == "completed" and "conformance" in (done.x_model_output_name or "")
    kinds = [e.type for e in client.fine_tuning.list_events(job.id).data]
    assert kinds[0] == "job_pending" and kinds[-1] == "job_complete" and "training_start" in kinds
    points = client.fine_tuning.list_checkpoints(job.id).data
    assert len(points) == 3 and points[0].checkpoint_type == "Final"
    assert [p.step for p in points] == sorted((p.step for p in points), reverse=True)


def test_cancel_then_delete(client: Any, server: EmbeddedServer, tmp_path: Path) -> None:
    f = client.files.upload(file=str(chat_file(tmp_path, "cancel.jsonl", 8, salt="cancel")))
    job = client.fine_tuning.create(training_file=f.id, model=MODEL, suffix="stopme", train_on_inputs="auto")
    with pytest.raises(together.BadRequestError):
        client.fine_tuning.delete(job.id)  # an active job must be cancelled first
    assert client.fine_tuning.cancel(job.id).status == "cancel_requested"
    advance(server, 5)
    assert client.fine_tuning.retrieve(job.id).status == "cancelled"
    assert [e.type for e in client.fine_tuning.list_events(job.id).data][-2:] == ["cancel_requested",
                                                                                "job_stopped"]
    with pytest.raises(together.BadRequestError):
        client.fine_tuning.cancel(job.id)
    client.fine_tuning.delete(job.id)
    with pytest.raises(together.NotFoundError):
        client.fine_tuning.retrieve(job.id)


def test_invalid_data_ends_in_user_error(client: Any, server: EmbeddedServer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "no answer"}]}\n' * 3)
    f = client.files.upload(file=str(bad), check=False)
    job = client.fine_tuning.create(training_file=f.id, model=MODEL, train_on_inputs="auto")
    advance(server, 10)
    assert client.fine_tuning.retrieve(job.id).status == "user_error"
    assert client.fine_tuning.list_events(job.id).data[-1].type == "job_error"


def test_out_of_range_requests_are_refused(client: Any, tmp_path: Path) -> None:
    f = client.files.upload(file=str(chat_file(tmp_path, "range.jsonl", 6, salt="range")))
    with pytest.raises(together.BadRequestError, match="n_epochs"):
        client.fine_tuning.create(training_file=f.id, model=MODEL, n_epochs=50, train_on_inputs="auto")
    with pytest.raises(together.BadRequestError, match="validation_file"):
        client.fine_tuning.create(training_file=f.id, model=MODEL, n_evals=2, train_on_inputs="auto")
    with pytest.raises(together.BadRequestError, match="does not exist"):
        client.fine_tuning.create(training_file="file-missing", model=MODEL, train_on_inputs="auto")
    with pytest.raises(ValueError, match="Full training is not supported"):  # the SDK checks the limits first
        client.fine_tuning.create(training_file=f.id, model=BIG, lora=False, train_on_inputs="auto")


def test_wrong_key_is_401(server: EmbeddedServer) -> None:
    with together.Together(api_key="wrong", base_url=f"{server.url}/together", max_retries=0) as c, \
            pytest.raises(together.AuthenticationError):
        c.fine_tuning.list()
