"""Fixtures for the local API tests: a real server on loopback with a manual clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from localapi_kit import KEY, Local

from ftops.localapi import ManualClock, start_embedded


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    clock = ManualClock()
    with start_embedded(tmp_path / "state", api_key=KEY, speed=1.0, clock=clock,
                        max_upload_bytes=64 * 1024) as srv:
        client = Local(srv, clock)
        yield client
        client.http.close()
