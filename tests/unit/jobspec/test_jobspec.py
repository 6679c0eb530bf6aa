"""The one typed job spec and the one comparison, as a table: what adoption (plan and apply) accepts as "the
same job", what it refuses, and how numbers that went through the API's JSON compare."""

from __future__ import annotations

from typing import Any

import pytest

from ftops.client.models import RemoteJob
from ftops.jobspec import (
    ClassifierTarget,
    Integration,
    JobSpec,
    TrainingFile,
    ValidationFile,
    differences,
    matches,
    same_value,
    view_of_record,
    view_of_remote,
)
from ftops.plan.model import Action, Change

SHA_T, SHA_V = "a" * 64, "b" * 64
CONTENT = {"f-train": SHA_T, "f-valid": SHA_V}.get


def spec(**over: Any) -> JobSpec:
    base: dict[str, Any] = {
        "model": "open-mistral-7b",
        "training": (TrainingFile(file="file.train", sha256=SHA_T, weight=1.0),),
        "validation": (ValidationFile(file="file.valid", sha256=SHA_V),),
        "hyperparameters": {"training_steps": 10, "learning_rate": 1e-4},
        "suffix": "support-v1",
        "integrations": (Integration(project="p", api_key_env="WANDB_KEY"),),
    }
    return JobSpec(**{**base, **over})


def remote(**over: Any) -> RemoteJob:
    base: dict[str, Any] = {
        "id": "j1", "model": "open-mistral-7b", "status": "SUCCESS", "created_at": 1, "modified_at": 1,
        "training_files": ["f-train"], "validation_files": ["f-valid"], "suffix": "support-v1",
        "hyperparameters": {"training_steps": 10, "learning_rate": 0.0001, "weight_decay": 0.1},
        "integrations": [{"type": "wandb", "project": "p"}],
    }
    return RemoteJob.model_validate({**base, **over})


@pytest.mark.parametrize(
    ("label", "job", "detailed", "expected"),
    [
        ("full match; API defaults for unset hyperparameters are ignored", remote(), True, []),
        ("1e-4 written, 0.00010000000000000002 echoed", remote(hyperparameters={
            "training_steps": 10, "learning_rate": 0.00010000000000000002}), True, []),
        ("10 steps echoed as 10.0", remote(hyperparameters={"training_steps": 10.0, "learning_rate": 1e-4}),
         True, []),
        ("another learning rate", remote(hyperparameters={"training_steps": 10, "learning_rate": 1.1e-4}), True,
         ["hyperparameters.learning_rate"]),
        ("a hyperparameter the manifest sets is missing", remote(hyperparameters={"learning_rate": 1e-4}), True,
         ["hyperparameters.training_steps"]),
        ("other training content", remote(training_files=["f-other"]), True, ["training_files"]),
        ("validation file missing", remote(validation_files=[]), True, ["validation_files"]),
        ("another suffix", remote(suffix="support-v2"), True, ["suffix"]),
        ("another base model", remote(model="open-mistral-nemo"), True, ["model"]),
        ("another job type", remote(job_type="classifier"), True, ["job_type"]),
        ("integrations differ", remote(integrations=[{"type": "wandb", "project": "q"}]), True,
         ["integrations[0].project"]),
        ("no integrations on a detailed answer", remote(integrations=None), True, ["integrations"]),
        ("integrations not listed (list answer): not observable", remote(integrations=None), False, []),
        ("skip percentage differs", remote(invalid_sample_skip_percentage=0.1), True,
         ["invalid_sample_skip_percentage"]),
    ],
)
def test_comparison_table(label: str, job: RemoteJob, detailed: bool, expected: list[str]) -> None:
    paths = [d.path for d in differences(view_of_remote(job, CONTENT, detailed=detailed), spec().view())]
    assert paths == expected, label
    assert matches(spec(), job, CONTENT, detailed=detailed) is (expected == [])


def test_same_value_is_float_noise_tolerant_but_not_blind() -> None:
    assert same_value(1e-4, 0.0001) and same_value(0.0001, 0.00010000000000000002)
    assert not same_value(1e-4, 1.0001e-4)
    assert same_value(10, 10.0)
    assert not same_value("10", 10)


def test_classifier_targets_compare_labels_as_sets_and_only_the_fields_the_manifest_sets() -> None:
    want = spec(job_type="classifier", integrations=(), classifier_targets=(
        ClassifierTarget(name="topic", labels=("a", "b")),))
    echoed = remote(job_type="classifier", integrations=None, classifier_targets=[
        {"name": "topic", "labels": ["b", "a"], "weight": 1.0, "loss_function": "single_class"}])
    assert matches(want, echoed, CONTENT, detailed=True)
    other = remote(job_type="classifier", integrations=None, classifier_targets=[
        {"name": "topic", "labels": ["a", "c"], "weight": 1.0}])
    assert [d.path for d in differences(view_of_remote(other, CONTENT, detailed=True), want.view())] == [
        "classifier_targets[0].labels"]
    assert not matches(want, remote(job_type="classifier", integrations=None), CONTENT, detailed=True)


def test_weights_are_compared_between_specs_but_not_observable_on_the_api() -> None:
    heavy = spec(training=(TrainingFile(file="file.train", sha256=SHA_T, weight=2.0),))
    assert [d.path for d in differences(spec().view(), heavy.view())] == ["training_files"]
    assert matches(heavy, remote(), CONTENT, detailed=True)  # the API does not echo weights


def test_recorded_fingerprint_input_compares_like_the_spec_it_came_from() -> None:
    old = spec()
    new = spec(hyperparameters={"training_steps": 20, "learning_rate": 1e-4})
    diffs = differences(view_of_record(old.fingerprint_input()), new.view())
    assert [(d.path, d.before, d.after) for d in diffs] == [("hyperparameters.training_steps", 10, 20)]
    assert differences(view_of_record(old.fingerprint_input()), old.view()) == []


def test_fingerprint_is_pinned_and_ignores_the_key_variable_name() -> None:
    # Pinned: the canonical input is the same as before the typed spec, so existing locks stay valid.
    assert spec().fingerprint == spec(integrations=(Integration(project="p", api_key_env="OTHER"),)).fingerprint
    # sha256 of the pre-typed-spec canonical JSON (model, job_type, training_files [{sha256, weight}], ...).
    assert spec().fingerprint == "884da8b3793b3d6b3371d7898241d88adc8186f29bf8e165aca7c253b37006da"
    assert spec().fingerprint != spec(suffix="support-v2").fingerprint


def test_request_body_sends_ids_the_key_read_now_and_never_auto_start() -> None:
    body = spec().request_body({"file.train": "f-train", "file.valid": "f-valid"}, {"WANDB_KEY": "k" * 40})
    assert body["auto_start"] is False
    assert body["training_files"] == [{"file_id": "f-train", "weight": 1.0}]
    assert body["validation_files"] == ["f-valid"]
    assert body["integrations"] == [{"type": "wandb", "project": "p", "api_key": "k" * 40}]
    assert "WANDB_KEY" not in repr(body) and "api_key_env" not in repr(body)
    assert "k" * 40 not in spec().model_dump_json() and "k" * 40 not in repr(spec().fingerprint_input())


def test_the_spec_survives_a_saved_plan_round_trip() -> None:
    change = Change(address="job.support", kind="job", action=Action.CREATE, job_spec=spec())
    again = Change.model_validate_json(change.model_dump_json())
    assert again.job_spec == spec() and again.job_spec is not None
    assert again.job_spec.fingerprint == spec().fingerprint
    assert isinstance(again.job_spec.hyperparameters["training_steps"], int)


def test_targets_added_or_removed_between_specs_are_differences() -> None:
    plain = spec(job_type="classifier", integrations=())
    targeted = spec(job_type="classifier", integrations=(), classifier_targets=(
        ClassifierTarget(name="topic", labels=("a",)),))
    assert [d.path for d in differences(view_of_record(plain.fingerprint_input()), targeted.view())] == [
        "classifier_targets"]
    assert [d.path for d in differences(view_of_record(targeted.fingerprint_input()), plain.view())] == [
        "classifier_targets"]
