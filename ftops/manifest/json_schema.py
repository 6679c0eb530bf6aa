"""JSON Schema of manifest documents, for editors (yaml-language-server) and CI linters.

Generated from the pydantic models, so it cannot drift from what the loader accepts field by field: one
schema accepting any of the kinds (``oneOf`` discriminated on ``kind``), or one kind alone, with the
descriptions, enums, ranges and ``additionalProperties: false`` of the models. The loader-owned
``location`` field is removed. Cross-resource rules (references, paths, job-type rules) are the loader's
job and are not expressible here; ``ftops validate`` checks them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter

from ftops.manifest.schema import (
    Document,
    EvaluationResource,
    FileResource,
    JobResource,
    ModelResource,
    MovedResource,
)

SCHEMA_ID = "https://ftops.dev/schemas/ftops-v1.schema.json"
KIND_MODELS: dict[str, type[BaseModel]] = {"File": FileResource, "FineTuningJob": JobResource, "Model": ModelResource,
                                           "Evaluation": EvaluationResource, "Moved": MovedResource}


def _strip_location(schema: dict[str, Any]) -> dict[str, Any]:
    defs: dict[str, Any] = schema.get("$defs", {})
    defs.pop("Location", None)
    for node in [schema, *defs.values()]:
        props = node.get("properties")
        if isinstance(props, dict) and "location" in props:
            del props["location"]
    return schema


def manifest_schema(kind: str | None = None) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one manifest document, of any kind or of ``kind`` only."""
    if kind is None:
        adapter: TypeAdapter[Any] = TypeAdapter(Annotated[Document, Field(discriminator="kind")])
        body = adapter.json_schema()
        title = "ftops manifest document (File, FineTuningJob, Model, Evaluation or Moved)"
    else:
        body = KIND_MODELS[kind].model_json_schema()
        title = f"ftops {kind} manifest document"
    body = _strip_location(body)
    head = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, "title": title}
    if kind is not None:
        head["$id"] = SCHEMA_ID.replace("ftops-v1", f"ftops-v1-{kind.lower()}")
        body.pop("title", None)
    return {**head, **body}


def render_schema(kind: str | None = None) -> str:
    """The schema as the stable JSON text committed at ``docs/ftops.schema.json``."""
    return json.dumps(manifest_schema(kind), indent=2, ensure_ascii=False) + "\n"
