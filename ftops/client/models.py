"""Typed API objects as the client returns them (and the live snapshot holds them).

``extra="ignore"``: accept fields the server adds later. Only what the reconciler reads is typed; the rest
stays available through ``model_extra``-free raw dicts where noted.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ACTIVE_JOB_STATUSES = frozenset({"QUEUED", "STARTED", "VALIDATING", "VALIDATED", "RUNNING", "CANCELLATION_REQUESTED"})
TERMINAL_JOB_STATUSES = frozenset({"SUCCESS", "FAILED", "FAILED_VALIDATION", "CANCELLED"})


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
    def active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL_JOB_STATUSES


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
