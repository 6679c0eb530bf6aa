"""Evaluation documents, Model gates, best_of sweeps and data_version: accepted when sound, each mistake
reported at its field with a code and a hint."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ftops.errors import Diagnostic
from ftops.manifest import codes
from ftops.manifest.model import Manifest

from .conftest import FILE_DOC

SWEEP = ("---\napiVersion: ftops/v1\nkind: FineTuningJob\nmetadata: {name: sweep}\nspec:\n"
         "  model: open-mistral-7b\n  training_files: [{file: train}]\n  data_version: pinned\n"
         "  matrix: {learning_rate: [1.0e-4, 1.0e-5]}\n")


def evaluation(spec: str = "path: ../data/train.jsonl", name: str = "support-eval") -> str:
    return f"---\napiVersion: ftops/v1\nkind: Evaluation\nmetadata: {{name: {name}}}\nspec: {{{spec}}}\n"


def model(spec: str) -> str:
    return f"---\napiVersion: ftops/v1\nkind: Model\nmetadata: {{name: support}}\nspec: {{{spec}}}\n"


def test_a_gated_best_of_model_loads_and_the_evaluation_is_in_the_digest(load: Callable[[str], Manifest]) -> None:
    base = FILE_DOC + SWEEP + model("best_of: {sweep: sweep, by: valid_loss}, gate: support-eval")
    manifest = load(base + evaluation())
    assert [e.metadata.name for e in manifest.evaluations] == ["support-eval"]
    assert [r.kind for r in manifest.resources] == ["File", "FineTuningJob", "FineTuningJob", "Model"]
    assert manifest.jobs["sweep-1"].spec.data_version == "pinned"
    stricter = load(base + evaluation("path: ../data/train.jsonl, min_score: 0.9"))
    assert stricter.digest != manifest.digest  # a saved plan is bound to the gate's thresholds


# FILE_DOC is 6 lines and SWEEP 9 (15); the next document starts at 16 and its spec is on line 20.
CASES = [
    ("missing-set", model("job: sweep-1") + evaluation("path: ../data/nope.jsonl"), codes.FILE_NOT_FOUND,
     "paths are relative"),
    ("outside", model("job: sweep-1") + evaluation("path: ../../etc/passwd"), codes.PATH_ESCAPES_ROOT,
     "inside the project"),
    ("regex-without-pattern", model("job: sweep-1") + evaluation("path: ../data/train.jsonl, scorer: regex"),
     codes.EVAL_SCORER_PARAMETER, "add pattern"),
    ("bad-pattern", model("job: sweep-1") + evaluation("path: ../data/train.jsonl, scorer: regex, pattern: '(['"),
     codes.EVAL_SCORER_PARAMETER, "fix the pattern"),
    ("schema-without-scorer", model("job: sweep-1") + evaluation("path: ../data/train.jsonl, schema: {type: object}"),
     codes.EVAL_SCORER_PARAMETER, "set scorer: json_schema"),
    ("json-schema-without-schema", model("job: sweep-1") + evaluation("path: ../data/train.jsonl, "
                                                                      "scorer: json_schema"),
     codes.EVAL_SCORER_PARAMETER, "add schema"),
    ("gate-misspelt", model("job: sweep-1, gate: support-evl") + evaluation(), codes.DANGLING_REFERENCE,
     "did you mean 'support-eval'?"),
    ("job-and-best-of", model("job: sweep-1, best_of: {sweep: sweep}"), codes.MODEL_JOB_OR_BEST_OF, "not both"),
    ("neither", model("name: x"), codes.MODEL_JOB_OR_BEST_OF, "add job"),
    ("best-of-a-single-job", model("best_of: {sweep: sweep-1}"), codes.BEST_OF_NOT_SWEEP, "use job: sweep-1"),
    ("best-of-misspelt", model("best_of: {sweep: swep}"), codes.BEST_OF_NOT_SWEEP, "did you mean 'sweep'?"),
]


@pytest.mark.parametrize(("extra", "code", "hint"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_mistake_is_reported_at_its_field(
    errors: Callable[[str], list[Diagnostic]], extra: str, code: str, hint: str
) -> None:
    found = errors(FILE_DOC + SWEEP + extra)
    matching = [d for d in found if d.code == code]
    assert matching, [d.render() for d in found]
    assert matching[0].location is not None and matching[0].location.line is not None
    assert str(matching[0].location).startswith("manifests/m.yaml:"), matching[0].render()
    assert matching[0].hint is not None and hint in matching[0].hint, matching[0].render()


def test_an_unknown_scorer_and_a_bad_threshold_are_field_errors(errors: Callable[[str], list[Diagnostic]]) -> None:
    found = errors(FILE_DOC + SWEEP + evaluation("path: ../data/train.jsonl, scorer: bleu, min_score: 2"))
    assert {d.code for d in found} == {codes.INVALID_VALUE, codes.OUT_OF_RANGE}, [d.render() for d in found]
    assert all(d.address == "evaluation.support-eval" for d in found)
