"""Write ``mistral-openapi-trimmed.json`` from Mistral's official OpenAPI document.

Run by hand when the official spec changes (it is not part of the test run)::

    cd tests/conformance/spec
    python trim_openapi.py path/to/openapi.yaml COMMIT > mistral-openapi-trimmed.json

Only what the comparison test reads is kept, per operation of the files, fine-tuning and models parts: the
method, path and operationId; each parameter's name, place, required flag and enum; the request body's
fields; and the fields of the 200 response (the union over ``oneOf``/``anyOf`` alternatives), each with
whether it may be null. The local API's ``/openapi.json`` is trimmed the same way by the test.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import yaml

OPERATIONS = {
    "files_api_routes_upload_file", "files_api_routes_list_files", "files_api_routes_retrieve_file",
    "files_api_routes_delete_file", "files_api_routes_download_file", "files_api_routes_get_signed_url",
    "jobs_api_routes_fine_tuning_get_fine_tuning_jobs", "jobs_api_routes_fine_tuning_create_fine_tuning_job",
    "jobs_api_routes_fine_tuning_get_fine_tuning_job", "jobs_api_routes_fine_tuning_start_fine_tuning_job",
    "jobs_api_routes_fine_tuning_cancel_fine_tuning_job", "list_models_v1_models_get",
    "retrieve_model_v1_models__model_id__get", "delete_model_v1_models__model_id__delete",
    "jobs_api_routes_fine_tuning_update_fine_tuned_model", "jobs_api_routes_fine_tuning_archive_fine_tuned_model",
    "jobs_api_routes_fine_tuning_unarchive_fine_tuned_model",
}


def resolve(doc: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    while isinstance(schema, dict) and "$ref" in schema and depth < 50:
        node: Any = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema, depth = node, depth + 1
    return schema


def _alternatives(doc: dict[str, Any], schema: Any) -> list[Any]:
    schema = resolve(doc, schema)
    if not isinstance(schema, dict):
        return []
    for key in ("oneOf", "anyOf", "allOf"):
        if key in schema:
            return [a for s in schema[key] for a in _alternatives(doc, s)]
    return [schema]


def nullable(doc: dict[str, Any], schema: Any) -> bool:
    schema = resolve(doc, schema)
    if not isinstance(schema, dict):
        return False
    if schema.get("nullable") or schema.get("type") == "null":
        return True
    return any(nullable(doc, s) for k in ("oneOf", "anyOf") for s in schema.get(k, []))


def fields(doc: dict[str, Any], schema: Any) -> dict[str, dict[str, bool]]:
    """field → {required, nullable}, over every alternative (a field is required only if all require it)."""
    out: dict[str, dict[str, bool]] = {}
    alts = [a for a in _alternatives(doc, schema) if a.get("type", "object") == "object" and "properties" in a]
    for alt in alts:
        for name, prop in alt["properties"].items():
            entry = out.setdefault(name, {"required": True, "nullable": False})
            entry["nullable"] = entry["nullable"] or nullable(doc, prop)
    for name, entry in out.items():
        entry["required"] = all(name in a.get("required", []) for a in alts)
    return dict(sorted(out.items()))


def list_items(doc: dict[str, Any], schema: Any) -> dict[str, dict[str, bool]]:
    """The fields of a list answer's ``data`` items (empty for answers that are not lists)."""
    for alt in _alternatives(doc, schema):
        data = resolve(doc, alt.get("properties", {}).get("data"))
        if isinstance(data, dict):
            for arr in _alternatives(doc, data):
                if arr.get("type") == "array":
                    return fields(doc, arr.get("items"))
    return {}


def trim(doc: dict[str, Any]) -> dict[str, Any]:
    ops: dict[str, Any] = {}
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or op.get("operationId") not in OPERATIONS:
                continue
            params = {}
            for p in op.get("parameters", []):
                p = resolve(doc, p)
                enum = sorted({str(v) for a in _alternatives(doc, p.get("schema")) for v in a.get("enum", [])
                               if v is not None})
                params[p["name"]] = {"in": p["in"], "required": bool(p.get("required")), "enum": enum}
            body: dict[str, Any] = {}
            for media in (op.get("requestBody") or {}).get("content", {}).values():
                body = fields(doc, media.get("schema"))
            ok = op.get("responses", {}).get("200", {}).get("content", {})
            response: dict[str, Any] = {}
            items: dict[str, Any] = {}
            if "application/json" in ok:
                schema = ok["application/json"].get("schema")
                response = fields(doc, schema)
                items = list_items(doc, schema)
            ops[op["operationId"]] = {"method": method.upper(), "path": path, "parameters": params,
                                      "request_body": body, "response_200": response, "response_200_items": items}
    return dict(sorted(ops.items()))


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        spec = yaml.safe_load(fh)
    trimmed = {"source": f"mistralai/platform-docs-public openapi.yaml @ {sys.argv[2]}",
               "operations": trim(spec)}
    json.dump(trimmed, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")
