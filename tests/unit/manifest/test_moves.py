"""Moved declarations in the manifests: accepted when sound, each mistake located at its field with a hint."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ftops.errors import Diagnostic
from ftops.manifest import codes
from ftops.manifest.model import Manifest

from .conftest import FILE_DOC

JOB = ("---\napiVersion: ftops/v1\nkind: FineTuningJob\nmetadata: {name: support-v2}\nspec:\n"
       "  model: open-mistral-7b\n  training_files: [{file: train}]\n")


def moved(old: str, new: str, name: str = "rename") -> str:
    return f"---\napiVersion: ftops/v1\nkind: Moved\nmetadata: {{name: {name}}}\nspec: {{from: {old}, to: {new}}}\n"


def test_a_sound_move_loads_and_changes_the_digest(load: Callable[[str], Manifest]) -> None:
    without = load(FILE_DOC + JOB)
    manifest = load(FILE_DOC + JOB + moved("job.support-v1", "job.support-v2"))
    assert [(m.spec.from_, m.spec.to) for m in manifest.moves] == [("job.support-v1", "job.support-v2")]
    assert [r.kind for r in manifest.resources] == ["File", "FineTuningJob"]  # a Moved is not a resource
    assert manifest.digest != without.digest  # a saved plan is bound to the declared moves too


# Lines: FILE_DOC is 6 lines, JOB 7 (13), the first Moved document starts at line 14 and its spec is line 18.
CASES = [
    ("other-kind", moved("job.support-v1", "file.train"), codes.MOVE_KIND, "18:34", "job.<new name>"),
    ("to-undeclared", moved("job.support-v1", "job.support-v3"), codes.MOVE_TO_MISSING, "18:34",
     "did you mean 'job.support-v2'?"),
    ("to-itself", moved("job.support-v2", "job.support-v2"), codes.MOVE_CHAIN, "18:34", "remove"),
    ("from-still-declared", moved("file.train", "file.train2"), codes.MOVE_FROM_DECLARED, "18:14",
     "no longer declared"),
]


@pytest.mark.parametrize(("extra", "code", "where", "hint"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_move_mistake_is_located(
    errors: Callable[[str], list[Diagnostic]], extra: str, code: str, where: str, hint: str
) -> None:
    found = errors(FILE_DOC + JOB + extra)
    matching = [d for d in found if d.code == code]
    assert matching, [d.render() for d in found]
    assert str(matching[0].location) == f"manifests/m.yaml:{where}", matching[0].render()
    assert matching[0].hint is not None and hint in matching[0].hint


def test_from_still_declared_chains_and_duplicates(errors: Callable[[str], list[Diagnostic]]) -> None:
    job_v1 = JOB.replace("support-v2", "support-v1")
    found = errors(FILE_DOC + JOB + job_v1 + moved("job.support-v1", "job.support-v2"))
    assert [d.code for d in found] == [codes.MOVE_FROM_DECLARED]
    assert "still declared (at manifests/m.yaml:" in found[0].message

    chain = moved("job.a", "job.b", "one") + moved("job.b", "job.support-v2", "two")
    codes_found = [d.code for d in errors(FILE_DOC + JOB + chain)]
    assert codes.MOVE_CHAIN in codes_found and codes.MOVE_TO_MISSING in codes_found  # job.b is not declared

    twice = moved("job.a", "job.support-v2", "one") + moved("job.b", "job.support-v2", "two")
    assert [d.code for d in errors(FILE_DOC + JOB + twice)] == [codes.MOVE_TWICE]


def test_a_misspelt_field_suggests_from(errors: Callable[[str], list[Diagnostic]]) -> None:
    text = moved("job.support-v1", "job.support-v2").replace("from:", "form:")
    found = errors(FILE_DOC + JOB + text)
    assert any(d.code == codes.UNKNOWN_FIELD and d.hint and "'from'" in d.hint for d in found), found
