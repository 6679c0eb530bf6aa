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
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator


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


def _metrics(value: Any) -> dict[str, float | None]:
    return {str(k): _metric(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _list(value: Any) -> Any:
    return [] if value is None else value


def _mapping(value: Any) -> Any:
    return {} if value is None else value


Whole = Annotated[int, BeforeValidator(_whole)]
List = Annotated[list[Any], BeforeValidator(_list)]
Flag = Annotated[bool, BeforeValidator(lambda v: False if v is None else v)]


class _ApiObject(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RemoteFile(_ApiObject):
    id: str
    filename: str
    bytes: Whole | None = None  # the spec's example sends null; every SDK wants an int
    created_at: Whole
    purpose: str | None = None
    sample_type: str | None = None
    source: str | None = None
    num_lines: Whole | None = None
    deleted: Flag = False


class JobMetadata(_ApiObject):
    expected_duration_seconds: Whole | None = None
    cost: float | None = None
    cost_currency: str | None = None
    train_tokens_per_step: Whole | None = None
    train_tokens: Whole | None = None
    data_tokens: Whole | None = None
    estimated_start_time: Whole | None = None


class Checkpoint(_ApiObject):
    step_number: Whole
    created_at: Whole
    metrics: Annotated[dict[str, float | None], BeforeValidator(_metrics)] = Field(default_factory=dict)


class Event(_ApiObject):
    name: str
    created_at: Whole
    data: dict[str, Any] | None = None


class RemoteJob(_ApiObject):
    id: str
    model: str
    status: str  # raw text, also for values this version does not know (see ``phase``)
    job_type: Annotated[str, BeforeValidator(lambda v: "completion" if v is None else v)] = "completion"
    auto_start: Flag = False
    created_at: Whole
    modified_at: Whole = 0  # 0: not sent; read as created_at (see _fill)
    training_files: List = Field(default_factory=list)
    validation_files: list[str] | None = None
    hyperparameters: Annotated[dict[str, Any], BeforeValidator(_mapping)] = Field(default_factory=dict)
    suffix: str | None = None
    fine_tuned_model: str | None = None
    trained_tokens: Whole | None = None
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
        if self.integrations:
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


class RemoteModel(_ApiObject):
    """A fine-tuned model card (``type == "fine-tuned"``); base models are not tracked."""

    id: str
    root: str | None = None
    job: str | None = None
    archived: Flag = False
    name: str | None = None
    description: str | None = None
    created: Whole | None = None
    type: str = "fine-tuned"


class BaseModelCard(_ApiObject):
    """A base model card (``type == "base"``) from ``GET /v1/models``: which models can be fine-tuned."""

    id: str
    aliases: List = Field(default_factory=list)
    capabilities: Annotated[dict[str, Any], BeforeValidator(_mapping)] = Field(default_factory=dict)

    @property
    def fine_tunable(self) -> bool:
        return self.capabilities.get("fine_tuning") is True

    @property
    def names(self) -> list[str]:
        return [self.id, *(str(a) for a in self.aliases)]
