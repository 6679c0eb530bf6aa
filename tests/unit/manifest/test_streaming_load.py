"""Large manifests are read one document at a time: documents are released once read, their positions come
back exactly when a later check reports on them, and a file libyaml gives up on is read again from scratch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ftops.errors import Diagnostic, ManifestError
from ftops.manifest import codes, yamlnodes
from ftops.manifest.load import load_manifests
from ftops.manifest.model import Manifest
from ftops.manifest.yamlnodes import has_fast_parser, iter_documents

from .conftest import FILE_DOC, write

PARSERS = [pytest.param(True, id="libyaml"), pytest.param(False, id="pure-python")]


def _job(name: str, file: str) -> str:
    return (f"apiVersion: ftops/v1\nkind: FineTuningJob\nmetadata:\n  name: {name}\nspec:\n  model: open-mistral-7b\n"
            f"  training_files:\n    - file: {file}\n  hyperparameters:\n    training_steps: 10\n")


def _diagnostics(project: Path, monkeypatch: pytest.MonkeyPatch, fast: bool) -> list[Diagnostic]:
    if not fast:
        monkeypatch.setattr(yamlnodes, "_CLoader", None)
    with pytest.raises(ManifestError) as info:
        load_manifests(["manifests"], root=project)
    return info.value.diagnostics


@pytest.mark.parametrize("fast", PARSERS)
def test_later_checks_point_into_released_documents(
    project: Path, monkeypatch: pytest.MonkeyPatch, fast: bool
) -> None:
    # Reference and duplicate-name checks run after every document was read (and released).
    docs = [FILE_DOC, _job("a", "train"), _job("b", "tarin"), _job("a", "train")]
    write(project, "---\n".join(docs))
    found = {(d.code, str(d.location)) for d in _diagnostics(project, monkeypatch, fast)}
    # FILE_DOC is 6 lines and each "---" one more: job b starts at line 19, the second job a at line 30.
    assert found == {
        (codes.DANGLING_REFERENCE, "manifests/m.yaml:26:13"),  # b's "file: tarin"
        (codes.DUPLICATE_NAME, "manifests/m.yaml:33:9"),  # the second a's metadata.name
    }


@pytest.mark.skipif(not has_fast_parser(), reason="PyYAML built without libyaml")
def test_a_file_libyaml_gives_up_on_is_read_again_from_the_start(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # libyaml has yielded (and the loader taken in) the first documents when it fails on the last one: they are
    # forgotten and the pure-Python parser reads the file again, so nothing counts twice ("defined twice").
    bad_file = FILE_DOC.replace("  path:", "  colour: red\n  path:").replace("name: train", "name: other")
    write(project, "---\n".join([FILE_DOC, bad_file, _job("a", "train"), "b: [\n"]))
    fast = _diagnostics(project, monkeypatch, True)
    pure = _diagnostics(project, monkeypatch, False)
    assert fast == pure
    assert sorted(d.code for d in fast) == sorted([codes.UNKNOWN_FIELD, codes.YAML_SYNTAX])


@pytest.mark.parametrize("fast", PARSERS)
def test_released_document_restores_the_same_positions(fast: bool) -> None:
    text = "a: 1\n---\nb:\n  c: [1, {d: 2}]\n---\ne: 3\n"
    restarted: list[bool] = []
    docs = list(iter_documents(text, fast=fast, on_restart=lambda: restarted.append(True)))
    before = [(dict(d.keys), dict(d.values)) for d in docs]
    for doc in docs:
        doc.release()
    assert [d.data for d in docs] == [None, None, None]
    assert tuple(docs[1].key_pos(("b", "c", 1, "d"))) == (4, 11)
    for doc, (keys, values) in zip(docs, before, strict=True):
        doc.restore()
        assert (doc.keys, doc.values) == (keys, values)
    assert not restarted


def test_field_locations_survive_the_release(load: Callable[[str], Manifest]) -> None:
    manifest = load("---\n".join([FILE_DOC, _job("a", "train"), _job("b", "train")]))
    assert str(manifest.location_of("job.b", "spec.training_files[0].file")) == "manifests/m.yaml:26:13"
