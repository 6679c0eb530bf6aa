"""Real PostgreSQL and SeaweedFS S3 servers, one of each per test session, on loopback ports.

When a server cannot start here the tests that need it skip with the reason (shown by ``-ra``); with
``FTOPS_REQUIRE_BACKENDS=1`` (set by ``.ci/run``) that is a failure instead, so CI always runs them.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from servers import (
    BUCKET,
    S3_ACCESS_KEY,
    S3_SECRET_KEY,
    PostgresServer,
    S3Server,
    new_base_dir,
    start_postgres,
    start_s3,
)

from ftops.state.backends.postgres import PostgresBackend
from ftops.state.backends.s3 import Credentials, S3Backend


def _unavailable(what: str, why: str) -> None:
    message = f"{what} could not start, so its backend tests did not run: {why}"
    if os.environ.get("FTOPS_REQUIRE_BACKENDS") == "1":
        pytest.fail(message + " (FTOPS_REQUIRE_BACKENDS=1: these tests must run)", pytrace=False)
    pytest.skip(message)


_FAILED: dict[str, str] = {}  # a server that failed to start is not retried for every test


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    if "pg" in _FAILED:
        _unavailable("PostgreSQL", _FAILED["pg"])
    base = new_base_dir("ftops-pg-")
    server, why = start_postgres(base)
    if server is None:
        _FAILED["pg"] = why
        shutil.rmtree(base, ignore_errors=True)
        _unavailable("PostgreSQL", why)
    assert server is not None
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    if "s3" in _FAILED:
        _unavailable("SeaweedFS (S3)", _FAILED["s3"])
    base = new_base_dir("ftops-s3-")
    server, why = start_s3(base)
    if server is None:
        _FAILED["s3"] = why
        shutil.rmtree(base, ignore_errors=True)
        _unavailable("SeaweedFS (S3)", why)
    assert server is not None
    try:
        s3 = S3Backend(bucket=BUCKET, key="x", credentials=s3_credentials(), endpoint_url=server.endpoint_url)
        assert s3.request("PUT", "").status_code == 200, "could not create the test bucket"
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def s3_credentials() -> Credentials:
    return Credentials(S3_ACCESS_KEY, S3_SECRET_KEY)


@pytest.fixture
def pg_backend(pg_server: PostgresServer) -> Iterator[PostgresBackend]:
    backend = PostgresBackend(pg_server.url, name=f"t-{uuid.uuid4().hex[:8]}", url_env="FTOPS_PG_URL")
    try:
        yield backend
    finally:
        backend.close()


@pytest.fixture
def s3_backend(s3_server: S3Server) -> Iterator[S3Backend]:
    backend = S3Backend(bucket=BUCKET, key=f"t-{uuid.uuid4().hex[:8]}/ftops.lock", credentials=s3_credentials(),
                        endpoint_url=s3_server.endpoint_url)
    try:
        yield backend
    finally:
        backend.close()
