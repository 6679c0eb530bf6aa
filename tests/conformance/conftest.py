"""Fixtures for the SDK conformance tests: a real local API over HTTP and the installed official SDK.

Every test runs once per SDK line: ``sdk1`` (mistralai 1.x, the project venv) and ``sdk2`` (mistralai 2.0-2.5.1,
marked ``sdk2`` and run by CI in a second venv). The variant that does not match the installed SDK skips.
Only ftops, pytest, httpx and mistralai are imported here, so the second venv needs nothing else.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ftops.localapi import ManualClock, start_embedded
from ftops.localapi.embedded import EmbeddedServer

SDK_VERSION = importlib.metadata.version("mistralai")
SDK_MAJOR = int(SDK_VERSION.split(".")[0])


class Sdk:
    """The installed SDK's client class and error type, whichever line it is."""

    def __init__(self, server: EmbeddedServer) -> None:
        if SDK_MAJOR >= 2:
            client_mod = importlib.import_module("mistralai.client")
            self.SDKError: type[Exception] = importlib.import_module("mistralai.client.errors").SDKError
        else:
            client_mod = importlib.import_module("mistralai")
            self.SDKError = importlib.import_module("mistralai.models").SDKError
        self.Mistral = client_mod.Mistral
        self.server = server
        self.client = self.Mistral(api_key=server.api_key, server_url=server.url)

    def chat_file(self, tmp: Path, name: str, lines: int, salt: str = "") -> Path:
        return chat_file(tmp, name, lines, salt)

    def upload(self, path: Path, **kw: Any) -> Any:
        return self.client.files.upload(file={"file_name": path.name, "content": path.read_bytes()}, **kw)

    def advance(self, seconds: float) -> None:
        """Move the server's clock forward (admin endpoint, over HTTP)."""
        self.admin("POST", "/_ftops/clock/advance", {"seconds": seconds})

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        r = httpx.request(method, f"{self.server.url}{path}", json=body,
                          headers={"Authorization": f"Bearer {self.server.api_key}"}, timeout=10)
        r.raise_for_status()
        return r.json()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    with start_embedded(tmp_path_factory.mktemp("conformance"), api_key="conformance-key", speed=1.0,
                        clock=ManualClock()) as srv:
        yield srv


@pytest.fixture(params=[pytest.param(1, id="sdk1"), pytest.param(2, id="sdk2", marks=pytest.mark.sdk2)])
def sdk(request: pytest.FixtureRequest, server: EmbeddedServer) -> Sdk:
    if request.param != SDK_MAJOR:
        pytest.skip(f"needs mistralai {request.param}.x; mistralai {SDK_VERSION} is installed")
    return Sdk(server)


def chat_file(tmp: Path, name: str, lines: int, salt: str = "") -> Path:
    """A small valid chat dataset."""
    path = tmp / name
    rows = [
        {"messages": [{"role": "user", "content": f"Question {i} {salt}: what is {i} + {i}?"},
                      {"role": "assistant", "content": f"{i} + {i} = {2 * i}."}]}
        for i in range(lines)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path

