"""The JSON Schema editors use: it accepts the examples, rejects broken documents, and the committed copies
(docs/ftops.schema.json, docs/manifest-reference.md) are what the code generates today."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ftops.manifest.docgen import render_reference
from ftops.manifest.json_schema import manifest_schema, render_schema
from ftops.manifest.load import load_manifests
from ftops.manifest.yamlnodes import load_documents

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "manifests"
REGENERATE = (
    "regenerate with `ftops schema > docs/ftops.schema.json` and "
    "`ftops schema --markdown > docs/manifest-reference.md`"
)


def _example_docs() -> list[Any]:
    return [doc for path in sorted(EXAMPLES.glob("*.yaml")) for doc in load_documents(path.read_text())]


def test_examples_are_valid_for_the_schema_and_the_loader() -> None:
    validator = jsonschema.Draft202012Validator(manifest_schema())
    docs = _example_docs()
    assert {d["kind"] for d in docs} == {"File", "FineTuningJob", "Model"}
    for doc in docs:
        validator.validate(doc)
    manifest = load_manifests(["manifests"], root=REPO / "examples")
    assert (len(manifest.files), len(manifest.jobs), len(manifest.models)) == (3, 2, 1)


def test_example_files_point_editors_at_the_schema() -> None:
    for path in EXAMPLES.glob("*.yaml"):
        assert path.read_text().startswith("# yaml-language-server: $schema=../../docs/ftops.schema.json\n")


BROKEN = [
    ("unknown kind", {"apiVersion": "ftops/v1", "kind": "Dataset", "metadata": {"name": "x"}, "spec": {}}),
    ("unknown field", {"apiVersion": "ftops/v1", "kind": "File", "metadata": {"name": "x"},
                       "spec": {"path": "a.jsonl", "colour": "red"}}),
    ("bad name", {"apiVersion": "ftops/v1", "kind": "File", "metadata": {"name": "Big Name"},
                  "spec": {"path": "a.jsonl"}}),
    ("out of range", {"apiVersion": "ftops/v1", "kind": "FineTuningJob", "metadata": {"name": "j"},
                      "spec": {"model": "open-mistral-7b", "training_files": [{"file": "t"}],
                               "hyperparameters": {"learning_rate": 2}}}),
    ("matrix key", {"apiVersion": "ftops/v1", "kind": "FineTuningJob", "metadata": {"name": "j"},
                    "spec": {"model": "open-mistral-7b", "training_files": [{"file": "t"}],
                             "matrix": {"learning_rte": [1e-4]}}}),
    ("literal secret", {"apiVersion": "ftops/v1", "kind": "FineTuningJob", "metadata": {"name": "j"},
                        "spec": {"model": "m", "training_files": [{"file": "t"}],
                                 "integrations": [{"project": "p", "api_key": "k", "api_key_env": "K"}]}}),
    ("wrong api version", {"apiVersion": "v1", "kind": "Model", "metadata": {"name": "m"}, "spec": {"job": "j"}}),
]


@pytest.mark.parametrize("doc", [b[1] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_schema_rejects_broken_documents(doc: dict[str, Any]) -> None:
    assert list(jsonschema.Draft202012Validator(manifest_schema()).iter_errors(doc))


def test_single_kind_schema() -> None:
    schema = manifest_schema("Model")
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate({"apiVersion": "ftops/v1", "kind": "Model", "metadata": {"name": "m"}, "spec": {"job": "j"}})
    assert list(validator.iter_errors({"apiVersion": "ftops/v1", "kind": "File", "metadata": {"name": "f"},
                                       "spec": {"path": "p"}}))
    assert "location" not in schema["properties"]


def test_committed_schema_is_up_to_date() -> None:
    assert (REPO / "docs" / "ftops.schema.json").read_text() == render_schema(), REGENERATE


def test_committed_reference_is_up_to_date() -> None:
    assert (REPO / "docs" / "manifest-reference.md").read_text() == render_reference(), REGENERATE
