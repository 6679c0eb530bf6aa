"""The Plan: the contract between ``plan`` (pure builder), ``render`` (text/JSON/Markdown) and ``apply``.

A Plan is a serialisable value. Each Change says what will happen to one address, why, and what it costs;
``apply`` executes changes in order and needs nothing else but the lock and the client. Drift (someone
changed a tracked object outside ftops) and progress (a job moved on by itself) are listed apart from
changes: progress is never something to undo.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ftops.evals.config import GateConfig
from ftops.evals.smoke import SmokeConfig
from ftops.jobspec import JobSpec

# 1.1: changes carry a typed ``reason`` and jobs their typed ``job_spec``; plans list ``problems``.
PLAN_FORMAT_VERSION = "1.1"


class Action(str, Enum):
    UPLOAD = "upload"  # + file: upload the dataset (adopting an existing identical upload)
    CREATE = "create"  # + job: create with auto_start=false (parks in VALIDATED, no training cost)
    START = "start"  # ▶ job: start training (only for a job id recorded in the lock)
    CANCEL = "cancel"  # ■ job: cancel an active job
    REPLACE = "replace"  # -/+ job: the spec changed → a new job; the old one is cancelled if active, else kept
    UPDATE = "update"  # ~ model: name/description
    ARCHIVE = "archive"  # model
    UNARCHIVE = "unarchive"  # model
    DELETE = "delete"  # - file or model: only what the lock records, only when the manifest asks
    FORGET = "forget"  # drop from the lock, leave the remote object alone
    ADOPT = "adopt"  # record an existing matching remote object in the lock (no API write)
    MOVE = "move"  # → a declared rename: the lock tracks the object at a new address (no API call, no cost)
    GATE = "gate"  # ? model: evaluate the candidate model before it is named/promoted (fails: nothing promoted)
    SMOKE = "smoke-test"  # ? model: a short call the new model must answer before it is named/promoted
    NOOP = "no-op"


class Reason(str, Enum):
    """Why a change is planned, as a value tools can branch on (``reasons`` holds the sentences)."""

    NEW = "new"  # declared and nothing on the API matches it
    GONE = "gone"  # the tracked object no longer exists on the API
    CONTENT_CHANGED = "content-changed"  # a File's data changed
    SPEC_CHANGED = "spec-changed"  # a job's fingerprinted spec changed: replaced
    REPLACE_REQUESTED = "replace-requested"  # --replace ADDRESS
    MATCHED_LIVE = "matched-live"  # adopt: an untracked live object matches the manifest in full
    STATE = "state"  # a job's ``state`` asks for a start or a cancel
    FIELDS = "fields"  # a model's name/description/archived differ
    PROMOTED = "promoted"  # a model follows its job's new fine-tuned model
    ON_REMOVE = "on-remove"  # only the recorded on_remove changes (lock write)
    REMOVED = "removed"  # left the manifests: cancel/delete/archive/forget per on_remove
    MOVED = "moved"  # a Moved declaration: the lock records the object at its new address
    GATE = "gate"  # a Model's gate: its Evaluation runs on the candidate before promotion
    SMOKE = "smoke"  # a new fine-tuned model is smoke-tested before it is named/promoted


class FieldChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str  # dotted, e.g. "hyperparameters.learning_rate"
    before: Any = None
    after: Any = None
    forces_replacement: bool = False


class Cost(BaseModel):
    model_config = ConfigDict(frozen=True)

    data_tokens: int | None = None
    train_tokens: int | None = None
    training_steps: int | None = None
    epochs: float | None = None
    cost: float | None = None
    currency: str = "USD"
    expected_duration_seconds: int | None = None
    # "api": the job's own metadata; "estimate": local token counts × ftops.pricing (exact or estimated tokens)
    source: Literal["api", "estimate"] = "estimate"
    tokens_exact: bool = False
    # Sentences that explain the figures (steps rounded up, minimum fee) or warn ("Warning: ...") before paying.
    notes: list[str] = Field(default_factory=list)


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    address: str
    kind: Literal["file", "job", "model"]
    action: Action
    remote_id: str | None = None  # the object the action targets (None when it does not exist yet)
    before: dict[str, Any] | None = None  # as recorded/observed (never secrets)
    after: dict[str, Any] | None = None  # as desired; for uploads/creates everything apply needs
    field_changes: list[FieldChange] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)  # human sentences: why this change
    depends_on: list[str] = Field(default_factory=list)  # addresses that must be applied first
    cost: Cost | None = None  # jobs to be created/started
    # For REPLACE: what happens to the old job ("cancel" when still active, "keep" when finished).
    replaced_remote_id: str | None = None
    old_job_disposition: Literal["cancel", "keep"] | None = None
    reason: Reason | None = None
    # Jobs to create or adopt: the typed spec apply sends and compares (files by address + content hash).
    job_spec: JobSpec | None = None
    # GATE changes: the Evaluation (set by path + content hash, scorer, thresholds) the candidate must pass.
    gate: GateConfig | None = None
    # SMOKE changes: the prompt (and expectation) the new model must answer.
    smoke: SmokeConfig | None = None


class Observation(BaseModel):
    """Drift or progress: something that changed remotely since the lock was written."""

    model_config = ConfigDict(frozen=True)

    address: str
    remote_id: str | None = None
    message: str
    field_changes: list[FieldChange] = Field(default_factory=list)


class LossChart(BaseModel):
    """One loss chart for the Markdown plan: a few jobs' curves of one metric on a shared grid of steps."""

    model_config = ConfigDict(frozen=True)

    title: str  # e.g. 'sweep "sweep"' or 'model.support: candidate vs current'
    metric: Literal["valid_loss", "train_loss"]
    series: dict[str, list[list[float]]] = Field(default_factory=dict)  # label → [[step, value], ...]


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    format_version: str = PLAN_FORMAT_VERSION
    id: str  # uuid4; a saved plan is single-use (the lock records applied plan ids)
    created_at: float
    endpoint: str
    lock_lineage: str | None  # None when there was no lock file yet (bound anyway: see planfile)
    lock_serial: int
    manifest_digest: str
    changes: list[Change] = Field(default_factory=list)  # dependency order; no NOOPs
    drift: list[Observation] = Field(default_factory=list)
    progress: list[Observation] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)  # e.g. a policy violation found while planning
    # Not in sync although nothing is planned: a job that FAILED under ``state: started`` (retry: --replace).
    problems: list[Observation] = Field(default_factory=list)
    # Loss curves of the project's finished jobs, for the Markdown plan (ftops.plan.charts); capped in size.
    charts: list[LossChart] = Field(default_factory=list)
    uncharted: int = 0  # jobs with curves the cap left out

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def in_sync(self) -> bool:
        """Nothing to change and nothing wrong: what ``No changes`` means."""
        return not self.changes and not self.problems and not self.errors

    def total_cost(self) -> float:
        """What applying would spend: only starts train (creates park in VALIDATED at no training cost)."""
        return sum(c.cost.cost or 0.0 for c in self.changes if c.cost and c.action is Action.START)
