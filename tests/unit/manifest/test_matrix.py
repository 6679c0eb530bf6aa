"""Matrix sweeps: expansion order, names, suffixes, hyperparameters, and their own mistakes."""

from __future__ import annotations

import json
from collections.abc import Callable

from ftops.errors import Diagnostic
from ftops.manifest import codes
from ftops.manifest.matrix import MATRIX_OF, MATRIX_VALUES, expanded_suffix
from ftops.manifest.model import Manifest

from .conftest import FILE_DOC

SWEEP = FILE_DOC + """\
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata:
  name: sweep
spec:
  model: open-mistral-7b
  training_files: [{file: train}]
  hyperparameters:
    warmup_fraction: 0.1
  matrix:
    learning_rate: [1e-4, 1.0e-5]
    training_steps: [10, 20]
"""
MODEL = "---\napiVersion: ftops/v1\nkind: Model\nmetadata: {name: best}\nspec: {job: %s}\n"


def test_cartesian_product_in_written_key_order(load: Callable[[str], Manifest]) -> None:
    manifest = load(SWEEP + MODEL % "sweep-2")
    jobs = manifest.jobs
    assert list(jobs) == ["sweep-1", "sweep-2", "sweep-3", "sweep-4"]
    combos = [(j.spec.hyperparameters.learning_rate, j.spec.hyperparameters.training_steps) for j in jobs.values()]
    assert combos == [(1e-4, 10), (1e-4, 20), (1e-5, 10), (1e-5, 20)]
    second = jobs["sweep-2"]
    # The combination and the base hyperparameters are user-set (sent and diffed); nothing else is.
    assert second.spec.hyperparameters.model_fields_set == {"warmup_fraction", "learning_rate", "training_steps"}
    assert second.spec.matrix is None
    assert [j.spec.suffix for j in jobs.values()] == ["sweep-1", "sweep-2", "sweep-3", "sweep-4"]
    assert second.metadata.annotations[MATRIX_OF] == "sweep"
    assert json.loads(second.metadata.annotations[MATRIX_VALUES]) == {"learning_rate": 1e-4, "training_steps": 20}
    assert manifest.models["best"].spec.job == "sweep-2"
    assert second.location is not None and second.location.line == 8


def test_suffixes_are_cut_to_fit_the_api_limit() -> None:
    assert expanded_suffix("customer-support-bot", 3, 12) == "customer-suppor-3"
    assert len(expanded_suffix("customer-support-bot", 12, 12)) == 18
    assert expanded_suffix("short", 1, 4) == "short-1"


def test_base_suffix_is_used(load: Callable[[str], Manifest]) -> None:
    manifest = load(SWEEP.replace("  matrix:", "  suffix: a-very-long-suffix\n  matrix:"))
    assert [j.spec.suffix for j in manifest.jobs.values()] == [f"a-very-long-suff-{i}" for i in range(1, 5)]


def _only(found: list[Diagnostic]) -> Diagnostic:
    assert len(found) == 1, [d.render() for d in found]
    return found[0]


def test_unknown_key(errors: Callable[[str], list[Diagnostic]]) -> None:
    d = _only(errors(SWEEP.replace("training_steps: [10", "trainig_steps: [10")))
    assert (d.code, str(d.location), d.address) == (codes.MATRIX_UNKNOWN_KEY, "manifests/m.yaml:19:5", "job.sweep")
    assert d.hint == "did you mean 'training_steps'?"


def test_empty_list(errors: Callable[[str], list[Diagnostic]]) -> None:
    d = _only(errors(SWEEP.replace("[10, 20]", "[]")))
    assert (d.code, str(d.location)) == (codes.MATRIX_EMPTY, "manifests/m.yaml:19:21")


def test_value_out_of_range_is_reported_at_the_value(errors: Callable[[str], list[Diagnostic]]) -> None:
    d = _only(errors(SWEEP.replace("[10, 20]", "[10, 0]")))
    assert (d.code, str(d.location)) == (codes.MATRIX_BAD_VALUE, "manifests/m.yaml:19:26")
    assert "greater than or equal to 1" in d.message and d.hint and "≥ 1" in d.hint


def test_key_also_in_hyperparameters(errors: Callable[[str], list[Diagnostic]]) -> None:
    d = _only(errors(SWEEP.replace("warmup_fraction: 0.1", "learning_rate: 0.001")))
    assert (d.code, str(d.location)) == (codes.MATRIX_KEY_TWICE, "manifests/m.yaml:18:5")


def test_name_clash_with_an_existing_job(errors: Callable[[str], list[Diagnostic]]) -> None:
    other = SWEEP.split("---\n", 1)[1].replace("name: sweep", "name: sweep-3").replace("  matrix:\n", "").replace(
        "    learning_rate: [1e-4, 1.0e-5]\n    training_steps: [10, 20]\n", "")
    d = _only(errors(SWEEP + "---\n" + other))
    assert d.code == codes.MATRIX_NAME_CLASH and "expands to 'sweep-3'" in d.message


def test_referencing_the_matrix_itself_names_its_jobs(errors: Callable[[str], list[Diagnostic]]) -> None:
    d = _only(errors(SWEEP + MODEL % "sweep"))
    assert d.code == codes.DANGLING_REFERENCE
    assert d.hint == "'sweep' is a matrix; reference one of its jobs: sweep-1, sweep-2, sweep-3, sweep-4"


def test_problems_of_the_parent_are_reported_once(errors: Callable[[str], list[Diagnostic]]) -> None:
    d = _only(errors(SWEEP.replace("file: train", "file: trian")))
    assert d.code == codes.DANGLING_REFERENCE and d.address == "job.sweep"


def test_steps_in_matrix_and_epochs_in_hyperparameters(errors: Callable[[str], list[Diagnostic]]) -> None:
    d = _only(errors(SWEEP.replace("warmup_fraction: 0.1", "epochs: 2")))
    assert (d.code, str(d.location)) == (codes.STEPS_AND_EPOCHS, "manifests/m.yaml:16:5")
