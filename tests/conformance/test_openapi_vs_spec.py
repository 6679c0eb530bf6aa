"""The local API's ``/openapi.json`` against the official spec: same operations, parameters and fields.

``spec/mistral-openapi-trimmed.json`` is a trimmed copy of Mistral's official OpenAPI document (files,
fine-tuning and models parts; see ``spec/trim_openapi.py`` for how it was made and how to refresh it). The
local document is trimmed the same way and every difference must be listed in ``INTENDED`` with its reason;
anything else (a renamed field, a missing parameter, a dropped enum value, a field made nullable) fails.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any, cast

from fastapi import FastAPI

from ftops.localapi import ManualClock, ServerConfig, create_app

SPEC_DIR = Path(__file__).parent / "spec"
OFFICIAL: dict[str, Any] = json.loads((SPEC_DIR / "mistral-openapi-trimmed.json").read_text())["operations"]

_trim_spec = importlib.util.spec_from_file_location("trim_openapi", SPEC_DIR / "trim_openapi.py")
assert _trim_spec is not None and _trim_spec.loader is not None
trim_openapi = importlib.util.module_from_spec(_trim_spec)
_trim_spec.loader.exec_module(trim_openapi)

# (operationId, what, name) → why the local API differs on purpose.
INTENDED: dict[tuple[str, str, str], str] = {
    # The spec declares these the SDK's way; the local API adds what the spec leaves to prose.
    ("files_api_routes_list_files", "parameter.purpose", "enum"):
        "the local API also accepts agentic_safety (SDK 3.7) and audio (spec examples)",
}


def _local(state_dir: Path) -> dict[str, Any]:
    app = create_app(ServerConfig(state_dir=state_dir, clock=ManualClock()))
    try:
        doc = cast(FastAPI, app.app).openapi()
    finally:
        app.context.store.close()
    return dict(trim_openapi.trim(doc))


def _differences(official: dict[str, Any], local: dict[str, Any]) -> list[tuple[tuple[str, str, str], str]]:
    out: list[tuple[tuple[str, str, str], str]] = []
    for op in sorted(set(official) | set(local)):
        if op not in local or op not in official:
            out.append(((op, "operation", ""), "only in the " + ("official spec" if op in official else "local API")))
            continue
        want, have = official[op], local[op]
        for key in ("method", "path"):
            if want[key] != have[key]:
                out.append(((op, key, ""), f"{want[key]} != {have[key]}"))
        for section in ("parameters", "request_body", "response_200", "response_200_items"):
            kind = {"parameters": "parameter", "request_body": "request_body",
                    "response_200": "response", "response_200_items": "item"}[section]
            a, b = want[section], have[section]
            for name in sorted(set(a) | set(b)):
                if name not in a or name not in b:
                    where = "official spec" if name in a else "local API"
                    out.append(((op, f"{kind}.{name}", "presence"), f"only in the {where}"))
                    continue
                for attr in sorted(set(a[name]) | set(b[name])):
                    if a[name].get(attr) != b[name].get(attr):
                        out.append(((op, f"{kind}.{name}", attr), f"{a[name].get(attr)} != {b[name].get(attr)}"))
    return out


def test_local_openapi_matches_the_official_spec(tmp_path: Path) -> None:
    local = _local(tmp_path)
    found = _differences(OFFICIAL, local)
    unexpected = [f"{op} {what} {attr}: {detail}" for (op, what, attr), detail in found
                  if (op, what, attr) not in INTENDED]
    assert unexpected == [], "\n".join(unexpected)
    stale = set(INTENDED) - {key for key, _ in found}
    assert not stale, f"listed as intended but no longer different: {sorted(stale)}"


def test_the_comparison_catches_a_drift(tmp_path: Path) -> None:
    local = _local(tmp_path)
    op = local["jobs_api_routes_fine_tuning_get_fine_tuning_jobs"]
    op["parameters"].pop("wandb_name")
    op["response_200_items"]["status"]["nullable"] = True
    found = {key for key, _ in _differences(OFFICIAL, local)}
    assert ("jobs_api_routes_fine_tuning_get_fine_tuning_jobs", "parameter.wandb_name", "presence") in found
    assert ("jobs_api_routes_fine_tuning_get_fine_tuning_jobs", "item.status", "nullable") in found
