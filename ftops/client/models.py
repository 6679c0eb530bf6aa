"""Typed API objects as the client returns them (and the live snapshot holds them).

``extra="ignore"``: accept fields the server adds later. Only what the reconciler reads is typed; the rest
stays available through ``model_extra``-free raw dicts where noted.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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


class _ApiObject(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class RemoteFile(_ApiObject):
    id: str
    filename: str
    bytes: int
    created_at: int
    purpose: str | None = None
    sample_type: str | None = None
    source: str | None = None
    num_lines: int | None = None
    deleted: bool = False


class JobMetadata(_ApiObject):
    expected_duration_seconds: int | None = None
    cost: float | None = None
    cost_currency: str | None = None
    train_tokens_per_step: int | None = None
    train_tokens: int | None = None
    data_tokens: int | None = None
    estimated_start_time: int | None = None


class Checkpoint(_ApiObject):
    step_number: int
    created_at: int
    metrics: dict[str, float | None] = Field(default_factory=dict)


class Event(_ApiObject):
    name: str
    created_at: int
    data: dict[str, Any] | None = None


class RemoteJob(_ApiObject):
    id: str
    model: str
    status: str
    job_type: str = "completion"
    auto_start: bool = False
    created_at: int
    modified_at: int
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
    archived: bool = False
    name: str | None = None
    description: str | None = None
    created: int | None = None
    type: str = "fine-tuned"
