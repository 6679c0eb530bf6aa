"""Property-based requests generated from the app's own OpenAPI document never produce a server error, and
every 2xx answer has the shape the document declares (typed response models: field names, types, nullability,
enums), so a handler that drifts from the spec's response shapes fails here.

Drives schemathesis' Python API directly (strategy per operation, bounded examples) over the ASGI app.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from ftops.localapi import ManualClock, ServerConfig, create_app  # noqa: E402

KEY = "fuzz-key"
EXAMPLES = 8


def test_no_server_errors(tmp_path: Path) -> None:
    app = create_app(ServerConfig(state_dir=tmp_path, api_key=KEY, speed=1000.0, clock=ManualClock(),
                                  max_upload_bytes=256 * 1024))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    statuses: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 20  # 17 fine-tuning operations + chat, classifications, chat classifications

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def check(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {KEY}"})
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}")
            elif response.status_code < 300:
                try:
                    case.validate_response(response, checks=[response_schema_conformance])
                except Exception as exc:  # schemathesis raises a group of failed checks
                    failures.append(f"{case.method} {case.formatted_path}: response shape: {str(exc)[:400]}")

        check()
    app.context.store.close()
    assert failures == []
    assert len(statuses) >= 2 * len(operations) and 200 in statuses
