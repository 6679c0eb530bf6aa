"""Request bodies of the local API, with the ranges the real API's OpenAPI document declares.

FastAPI turns a violation into the real service's list-form 422 (``{"detail": [{loc, msg, type}]}``).
Secrets (W&B ``api_key``, GitHub ``token``) are accepted here and never stored or echoed.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TrainingFile(_In):
    file_id: UUID
    weight: float = Field(1.0, gt=0)


class Hyperparameters(_In):
    training_steps: int | None = Field(None, ge=1)
    learning_rate: float = Field(1e-4, ge=1e-8, le=1)
    weight_decay: float | None = Field(0.1, ge=0, le=1)
    warmup_fraction: float | None = Field(0.05, ge=0, le=1)
    epochs: float | None = Field(None, gt=0)
    seq_len: int | None = Field(None, ge=100)
    fim_ratio: float | None = Field(None, ge=0, le=1)


class WandbIntegration(_In):
    type: Literal["wandb"] = "wandb"
    project: str = Field(min_length=1)
    api_key: str = Field(min_length=40, max_length=40, repr=False)
    name: str | None = None
    run_name: str | None = None


class GithubRepository(_In):
    type: Literal["github"] = "github"
    name: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    token: str = Field(min_length=1, repr=False)
    ref: str | None = None
    weight: float = Field(1.0, gt=0)


class ClassifierTarget(_In):
    name: str = Field(min_length=1)
    labels: list[str] = Field(min_length=1)
    weight: float = Field(1.0, ge=0)
    loss_function: Literal["single_class", "multi_class"] | None = None


class JobIn(_In):
    model: str = Field(min_length=1)
    hyperparameters: Hyperparameters
    training_files: list[TrainingFile] = Field(default_factory=list)
    validation_files: list[UUID] | None = None
    # The spec's last job-creation schema: ^[a-zA-Z0-9_-]+$, 1 to 18 characters (FastAPI answers 422).
    suffix: str | None = Field(None, min_length=1, max_length=18, pattern=r"^[a-zA-Z0-9_-]+$")
    integrations: list[WandbIntegration] | None = None
    auto_start: bool = False
    invalid_sample_skip_percentage: float = Field(0.0, ge=0, le=0.5)
    job_type: Literal["completion", "classifier"] | None = None
    repositories: list[GithubRepository] | None = None
    classifier_targets: list[ClassifierTarget] | None = None


class ModelUpdate(_In):
    name: str | None = None
    description: str | None = None


class ClockAdvance(_In):
    seconds: float = Field(ge=0, le=10 * 365 * 86400)


class FaultSettings(_In):
    """Fault injection, all off by default. Rates are probabilities per matching request."""

    rate_429: float = Field(0.0, ge=0, le=1)
    rate_5xx: float = Field(0.0, ge=0, le=1)
    rate_drop: float = Field(0.0, ge=0, le=1)
    latency_ms: int = Field(0, ge=0, le=60_000)
    retry_after: int = Field(1, ge=0, le=3600)
    seed: int | None = None
    # Only requests with these methods / path prefixes are affected (all /v1 requests when empty).
    methods: list[str] = Field(default_factory=list)
    paths: list[str] = Field(default_factory=list)
    # Stop injecting after this many faults (None: no limit); handy for "fail the next POST once".
    budget: int | None = Field(None, ge=0)
    # Share of started jobs that fail half-way through training (status FAILED), decided per job at start.
    rate_training_failure: float = Field(0.0, ge=0, le=1)


class JobFailure(_In):
    """Admin: make one job fail during training."""

    at_fraction: float = Field(0.5, ge=0, lt=1, description="How far into training it fails (0: right away).")
    reason: str | None = Field(None, max_length=500, description="The error shown in the FAILED event.")
