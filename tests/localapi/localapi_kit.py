"""Helpers for the local API tests: a client bound to one embedded server with a manual clock."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from ftops.localapi import ManualClock
from ftops.localapi.embedded import EmbeddedServer

KEY = "test-key-localapi"


def chat_lines(n: int, salt: str = "") -> bytes:
    rows = [{"messages": [{"role": "user", "content": f"Q{i} {salt}: say {i}"},
                          {"role": "assistant", "content": f"{i}, as asked."}]} for i in range(n)]
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


class Local:
    """An HTTP client bound to one embedded server plus its manual clock."""

    def __init__(self, server: EmbeddedServer, clock: ManualClock) -> None:
        self.server = server
        self.clock = clock
        self.http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.api_key}"},
                                 timeout=30)

    def upload(self, name: str | None = None, content: bytes | None = None, **data: str) -> dict[str, Any]:
        name = name or f"data-{uuid.uuid4().hex[:8]}.jsonl"
        content = content if content is not None else chat_lines(5, salt=name)
        r = self.http.post("/v1/files", files={"file": (name, content)}, data=data)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def job_body(self, file_id: str | None = None, **kw: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"model": "open-mistral-7b", "hyperparameters": {"training_steps": 4},
                                "training_files": [{"file_id": file_id or self.upload()["id"], "weight": 1.0}]}
        body.update(kw)
        return body

    def create_job(self, file_id: str | None = None, **kw: Any) -> dict[str, Any]:
        r = self.http.post("/v1/fine_tuning/jobs", json=self.job_body(file_id, **kw))
        assert r.status_code == 200, r.text
        return dict(r.json())

    def job(self, job_id: str) -> dict[str, Any]:
        r = self.http.get(f"/v1/fine_tuning/jobs/{job_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())
