"""Typed API objects as the client returns them (and the live snapshot holds them).

Tolerant by design, because one odd field must not fail every call: ``extra="ignore"`` accepts fields the
server adds later; every field the spec marks nullable takes ``null`` (the spec's own file example has
``"bytes": null``); timestamps and counts take floats (a fractional ``created_at`` is cut to whole
seconds) and floats take ints; a checkpoint metric that is not a number reads as ``None``; an unknown
enum value (a job status the API adds later) is kept as text and reads as ``JobStatus.UNKNOWN``.
Only what the reconciler reads is typed.
"""

from __future__ import annotations

import math
from enum import Enum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidatorFunctionWrapHandler, model_validator


class JobStatus(str, Enum):
    """A fine-tuning job's status, with the predicates the reconciler decides by.

    ``UNKNOWN`` stands for any value the API adds later: it is neither active nor terminal, so nothing
    starts, cancels or waits on it by accident (``RemoteJob.status`` keeps the raw text for display).
    """

    QUEUED = "QUEUED"
    STARTED = "STARTED"
    VALIDATING = "VALIDATING"
    VALIDATED = "VALIDATED"
    RUNNING = "RUNNING"
    FAILED_VALIDATION = "FAILED_VALIDATION"
    FAILED = "FAILED"
    SUCCESS = "SUCCESS"
    CANCELLED = "CANCELLED"
    CANCELLATION_REQUESTED = "CANCELLATION_REQUESTED"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, text: str | None) -> JobStatus:
        try:
            return cls(text or "")
        except ValueError:
            return cls.UNKNOWN

    @property
    def active(self) -> bool:
        """Still moving on the API (something may happen without us): can be cancelled."""
        return self in _ACTIVE

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL

    @property
    def startable(self) -> bool:
        """Created and not yet training: ``start`` is the call that spends money."""
        return self in _STARTABLE

    @property
    def parked(self) -> bool:
        """Validated and waiting for a start that only ftops (or a person) will issue."""
        return self is JobStatus.VALIDATED

    @property
    def failed(self) -> bool:
        return self in _FAILED

    @property
    def cancelled(self) -> bool:
        return self in _CANCELLED

    @property
    def training_or_done(self) -> bool:
        """Training was started (by anyone): the job costs money from here on."""
        return self in _TRAINING_OR_DONE


_ACTIVE = frozenset({JobStatus.QUEUED, JobStatus.STARTED, JobStatus.VALIDATING, JobStatus.VALIDATED,
                     JobStatus.RUNNING, JobStatus.CANCELLATION_REQUESTED})
_TERMINAL = frozenset({JobStatus.SUCCESS, JobStatus.FAILED, JobStatus.FAILED_VALIDATION, JobStatus.CANCELLED})
_STARTABLE = frozenset({JobStatus.QUEUED, JobStatus.VALIDATING, JobStatus.VALIDATED})
_FAILED = frozenset({JobStatus.FAILED, JobStatus.FAILED_VALIDATION})
_CANCELLED = frozenset({JobStatus.CANCELLED, JobStatus.CANCELLATION_REQUESTED})
_TRAINING_OR_DONE = frozenset({JobStatus.STARTED, JobStatus.RUNNING, JobStatus.SUCCESS})

# Kept for callers that test raw status strings; the enum's predicates are the source.
ACTIVE_JOB_STATUSES = frozenset(s.value for s in _ACTIVE)
TERMINAL_JOB_STATUSES = frozenset(s.value for s in _TERMINAL)


def _whole(value: Any) -> Any:
    """A count or Unix time sent as a float (``1717200000.25``) or a numeric string: whole units."""
    if isinstance(value, float) and math.isfinite(value):
        return math.floor(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return math.floor(number) if math.isfinite(number) else value
    return value


def _metric(value: Any) -> float | None:
    """A checkpoint metric: numbers (and numeric text) as floats, anything else (``"nan"``, ``{}``) as None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _metrics_of(value: Any) -> dict[str, float | None]:
    return {str(k): _metric(v) for k, v in value.items()} if isinstance(value, dict) else {}


class _ApiObject(BaseModel):
    """One API object, with what its tolerant re-read needs to know about its fields.

    Top-level answers (:class:`_Answer`) are parsed strictly first (pydantic's fast path); only an answer that
    fails is normalised (floats cut to whole seconds, nulls where the spec allows them, non-numeric metrics,
    the same for its nested objects) and read again. The normalising runs in Python, so it is kept off the
    common path (bench/bench_client_parse.py).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)
    _whole: ClassVar[tuple[str, ...]] = ()  # int fields that may come as floats / numeric text
    _null_as: ClassVar[dict[str, Any]] = {}  # field → the value a null stands for
    _metrics: ClassVar[tuple[str, ...]] = ()  # dicts of metrics: numbers, or None
    _nested: ClassVar[dict[str, type[_ApiObject]]] = {}  # field → the object (or list items) it holds

    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for key in cls._whole:
            if key in out:
                out[key] = _whole(out[key])
        for key, value in cls._null_as.items():
            if key in out and out[key] is None:
                out[key] = value() if callable(value) else value
        for key in cls._metrics:
            if key in out:
                out[key] = _metrics_of(out[key])
        for key, kind in cls._nested.items():
            value = out.get(key)
            if isinstance(value, list):
                out[key] = [kind._normalise(v) for v in value]
            elif isinstance(value, dict):
                out[key] = kind._normalise(value)
        return out


class _Answer(_ApiObject):
    @model_validator(mode="wrap")
    @classmethod
    def _tolerate(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(data)
        except ValidationError:
            if not isinstance(data, dict):
                raise
            return handler(cls._normalise(data))


class RemoteFile(_Answer):
    _whole = ("bytes", "created_at", "num_lines")
    _null_as = {"deleted": False}

    id: str
    filename: str
    bytes: int | None = None  # the spec's example sends null; every SDK wants an int
    created_at: int
    purpose: str | None = None
    sample_type: str | None = None
    source: str | None = None
    num_lines: int | None = None
    deleted: bool = False


class JobMetadata(_ApiObject):
    _whole = ("expected_duration_seconds", "train_tokens_per_step", "train_tokens", "data_tokens",
              "estimated_start_time")

    expected_duration_seconds: int | None = None
    cost: float | None = None
    cost_currency: str | None = None
    train_tokens_per_step: int | None = None
    train_tokens: int | None = None
    data_tokens: int | None = None
    estimated_start_time: int | None = None


class Checkpoint(_ApiObject):
    # NaN/inf are refused on the fast path so that the normalising pass turns them into None.
    model_config = ConfigDict(extra="ignore", frozen=True, allow_inf_nan=False)
    _whole = ("step_number", "created_at")
    _null_as = {"metrics": dict}
    _metrics = ("metrics",)

    step_number: int
    created_at: int
    metrics: dict[str, float | None] = Field(default_factory=dict)


class Event(_ApiObject):
    _whole = ("created_at",)

    name: str
    created_at: int
    data: dict[str, Any] | None = None


class RemoteJob(_Answer):
    _whole = ("created_at", "modified_at", "trained_tokens")
    _null_as = {"job_type": "completion", "auto_start": False, "training_files": list, "hyperparameters": dict,
                "modified_at": 0}
    _nested = {"metadata": JobMetadata, "checkpoints": Checkpoint, "events": Event}

    id: str
    model: str
    status: str  # raw text, also for values this version does not know (see ``phase``)
    job_type: str = "completion"
    auto_start: bool = False
    created_at: int
    modified_at: int = 0  # 0: not sent; read as created_at (see _fill)
    training_files: list[str] = Field(default_factory=list)
    validation_files: list[str] | None = None
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    suffix: str | None = None
    fine_tuned_model: str | None = None
    trained_tokens: int | None = None
    metadata: JobMetadata | None = None
    integrations: list[dict[str, Any]] | None = None
    classifier_targets: list[dict[str, Any]] | None = None
    invalid_sample_skip_percentage: float | None = None
    # Only on detailed responses (GET/start/cancel), not on list/create.
    events: list[Event] | None = None
    checkpoints: list[Checkpoint] | None = None

    @model_validator(mode="after")
    def _fill(self) -> RemoteJob:
        if not self.modified_at:
            object.__setattr__(self, "modified_at", self.created_at)
        if self.integrations and any(i.get("name") == self.id for i in self.integrations):
            # The spec defaults a W&B run's display ``name`` to the job id: that is "not set", as the manifest
            # says it, so a comparison with the desired integrations does not see a change that is not there.
            cleaned = [{**i, "name": None} if i.get("name") == self.id else i for i in self.integrations]
            object.__setattr__(self, "integrations", cleaned)
        return self

    @property
    def phase(self) -> JobStatus:
        """The status as an enum (``UNKNOWN`` for a value this version of ftops does not know)."""
        return JobStatus.parse(self.status)

    @property
    def active(self) -> bool:
        return self.phase.active

    @property
    def terminal(self) -> bool:
        return self.phase.terminal


class RemoteModel(_Answer):
    """A fine-tuned model card (``type == "fine-tuned"``); base models are not tracked."""

    _whole = ("created",)
    _null_as = {"archived": False}

    id: str
    root: str | None = None
    job: str | None = None
    archived: bool = False
    name: str | None = None
    description: str | None = None
    created: int | None = None
    type: str = "fine-tuned"


class BaseModelCard(_Answer):
    """A base model card (``type == "base"``) from ``GET /v1/models``: which models can be fine-tuned."""

    _null_as = {"aliases": list, "capabilities": dict}

    id: str
    aliases: list[Any] = Field(default_factory=list)
    capabilities: dict[str, Any] = Field(default_factory=dict)

    @property
    def fine_tunable(self) -> bool:
        return self.capabilities.get("fine_tuning") is True

    @property
    def names(self) -> list[str]:
        return [self.id, *(str(a) for a in self.aliases)]
