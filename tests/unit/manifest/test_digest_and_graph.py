"""Manifest digest stability, the generic cycle finder, and field locations for other stages."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from ftops.manifest.checks import find_cycles
from ftops.manifest.model import Manifest

from .conftest import FILE_DOC, write

JOB = """\
apiVersion: ftops/v1
kind: FineTuningJob
metadata:
  name: support-v1
spec:
  model: open-mistral-7b
  training_files:
    - file: train
  hyperparameters:
    learning_rate: 1e-4
    training_steps: 10
"""


def test_digest_ignores_layout_comments_and_order(load: Callable[[str], Manifest], project: Path) -> None:
    base = load(FILE_DOC + "---\n" + JOB).digest
    flow = JOB.replace(
        "  hyperparameters:\n    learning_rate: 1e-4\n    training_steps: 10\n",
        "  hyperparameters: {training_steps: 10,   learning_rate: 0.0001}  # tuned\n",
    )
    (project / "manifests" / "m.yaml").unlink()
    write(project, "# datasets\n" + FILE_DOC, "a.yaml")
    write(project, flow, "b.yaml")
    from ftops.manifest.load import load_manifests

    assert load_manifests(["manifests"], root=project).digest == base
    assert len(base) == 64


def test_digest_changes_with_meaning(load: Callable[[str], Manifest]) -> None:
    base = load(FILE_DOC + "---\n" + JOB).digest
    assert load(FILE_DOC + "---\n" + JOB.replace("training_steps: 10", "training_steps: 11")).digest != base
    # Writing a default explicitly is a change too: only user-set hyperparameters are sent to the API.
    assert load(FILE_DOC + "---\n" + JOB + "  state: started\n").digest != base


def test_field_locations_for_later_stages(load: Callable[[str], Manifest]) -> None:
    manifest = load(FILE_DOC + "---\n" + JOB)
    assert str(manifest.location_of("file.train", "spec.path")) == "manifests/m.yaml:6:9"
    assert str(manifest.location_of("job.support-v1", "spec.training_files[0].file")) == "manifests/m.yaml:15:13"
    assert str(manifest.location_of("job.support-v1")) == "manifests/m.yaml:8:1"
    assert manifest.location_of("job.nope") is None


def test_find_cycles() -> None:
    assert find_cycles({"job.a": {"file.x"}, "model.m": {"job.a"}}) == []
    [cycle] = find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}})
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert len(find_cycles({"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"c"}, "e": {"e"}})) == 3


def test_digest_is_the_hash_of_one_canonical_json_list(load: Callable[[str], Manifest]) -> None:
    # Hashed resource by resource, it must stay the hash of the one JSON list saved plans were bound to.
    manifest = load(FILE_DOC + "---\n" + JOB + "---\n" + JOB.replace("support-v1", "a-first"))
    ordered = sorted(manifest.resources, key=lambda r: (r.kind != "File", r.metadata.name))
    text = json.dumps([r.model_dump(mode="json", exclude_unset=True) for r in ordered], sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)
    assert manifest.digest == hashlib.sha256(text.encode()).hexdigest()
