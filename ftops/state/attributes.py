"""The types of the ``attributes`` a lock entry records, checked when the lock is read.

``attributes`` is open (a newer ftops may add keys, and an unknown key is kept), but the keys the planner and
apply read have one type each: a hand edit or a bad merge that puts a string where a number belongs, or a
list where the recorded job spec belongs, is refused at read time with its field, instead of failing deep
inside planning. Values are compared the way JSON carries them: an integer is a valid number.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

Number = StrictInt | StrictFloat
Scalar = StrictStr | StrictBool | StrictInt | StrictFloat


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _TrainingFile(_Closed):
    sha256: StrictStr
    weight: Number = 1.0


class _Target(_Open):
    name: StrictStr
    labels: list[StrictStr]
    weight: Number | None = None
    loss_function: StrictStr | None = None


class _FingerprintInput(_Open):
    """A job spec as an earlier apply recorded it (``JobSpec.fingerprint_input``)."""

    model: StrictStr
    job_type: StrictStr | None = None
    training_files: list[_TrainingFile] = []
    validation_files: list[StrictStr] = []
    hyperparameters: dict[str, Scalar | None] = {}
    suffix: StrictStr | None = None
    integrations: list[dict[str, StrictStr | None]] | None = None
    classifier_targets: list[_Target] | None = None
    invalid_sample_skip_percentage: Number | None = None
    provider: StrictStr | None = None


class _Attributes(_Open):
    """Every key some part of ftops reads back from a lock entry, with its one type."""

    on_remove: StrictStr | None = None
    state: StrictStr | None = None
    suffix: StrictStr | None = None
    model: StrictStr | None = None
    job: StrictStr | None = None
    name: StrictStr | None = None
    description: StrictStr | None = None
    archived: StrictBool | None = None
    checkpoints: StrictInt | None = None
    cost: Number | None = None
    cost_currency: StrictStr | None = None
    train_loss: Number | None = None
    valid_loss: Number | None = None
    filename: StrictStr | None = None
    path: StrictStr | None = None
    purpose: StrictStr | None = None
    bytes: StrictInt | None = None
    gate: dict[str, Any] | None = None
    fingerprint_input: _FingerprintInput | None = None


def attributes_problem(attributes: dict[str, Any]) -> tuple[str, tuple[int | str, ...]] | None:
    """The first attribute of the wrong type (message, path below ``attributes``); None when all are fine."""
    try:
        _Attributes.model_validate(attributes)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        loc = tuple(first["loc"])
        return f"attributes.{'.'.join(str(p) for p in loc)}: {first['msg']}", loc
    return None
