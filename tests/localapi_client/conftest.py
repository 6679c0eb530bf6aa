"""A real local API over HTTP for the client, snapshot and session tests (module-scoped: ~0.5 s to start)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from ftops.client import MistralClient, RetryPolicy
from ftops.client.models import RemoteFile, RemoteJob
from ftops.localapi.embedded import EmbeddedServer, start_embedded

SEED_THREADS = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    with start_embedded(tmp_path_factory.mktemp("localapi")) as srv:
        yield srv


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(server: EmbeddedServer, sleeps: list[float]) -> Iterator[MistralClient]:
    with MistralClient(server.url, server.api_key, retry=RetryPolicy(sleep=sleeps.append)) as c:
        yield c


def admin(server: EmbeddedServer, method: str, path: str, body: Any = None) -> Any:
    """Call the local API's admin surface (/_ftops/...), e.g. faults or the clock."""
    response = httpx.request(method, server.url + path, json=body, timeout=10,
                             headers={"Authorization": f"Bearer {server.api_key}"})
    response.raise_for_status()
    return response.json()


def set_faults(server: EmbeddedServer, **faults: Any) -> None:
    admin(server, "PUT", "/_ftops/faults", {"seed": 1, **faults})


@pytest.fixture(scope="module")
def train_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "train.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"question {i}"},
                          {"role": "assistant", "content": f"answer {i}"}]} for i in range(20)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def job_body(file_id: str, suffix: str) -> dict[str, Any]:
    return {"model": "open-mistral-7b", "training_files": [{"file_id": file_id, "weight": 1}],
            "hyperparameters": {"training_steps": 10, "learning_rate": 0.0001}, "suffix": suffix}


def seed_files(client: MistralClient, path: Path, count: int, prefix: str) -> list[RemoteFile]:
    with ThreadPoolExecutor(SEED_THREADS) as pool:
        return list(pool.map(lambda i: client.upload_file(path, filename=f"{prefix}{i}.jsonl"), range(count)))


def seed_jobs(client: MistralClient, file_id: str, count: int, prefix: str) -> list[RemoteJob]:
    with ThreadPoolExecutor(SEED_THREADS) as pool:
        return list(pool.map(lambda i: client.create_job(job_body(file_id, f"{prefix}{i}")), range(count)))
