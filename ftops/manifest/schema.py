"""Pydantic schema of the manifest kinds (``File``, ``FineTuningJob``, ``Model``).

Spec field names follow the Mistral API (snake_case) so users can copy from its docs. Unknown fields are
errors (``extra="forbid"``). Secrets are never values here: integrations name an environment variable.
Diff only what the user set: ``model_fields_set`` tells a user-set hyperparameter from a server default.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ftops.errors import Location

API_VERSION = "ftops/v1"
NAME_PATTERN = r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Metadata(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Unique per kind; references use it.")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class FileSpec(_Strict):
    path: str = Field(description="JSONL dataset, relative to the manifest file; must stay inside the project.")
    purpose: Literal["fine-tune"] = "fine-tune"
    on_remove: Literal["forget", "delete"] = Field(
        "forget", description="When the File leaves the manifests: forget it (default) or delete the upload."
    )


class TrainingFileRef(_Strict):
    file: str = Field(description="metadata.name of a File")
    weight: float = Field(1.0, gt=0)


class Hyperparameters(_Strict):
    training_steps: int | None = Field(None, ge=1)
    learning_rate: float = Field(1e-4, ge=1e-8, le=1)
    weight_decay: float | None = Field(None, ge=0, le=1)
    warmup_fraction: float | None = Field(None, ge=0, le=1)
    epochs: float | None = Field(None, gt=0)
    seq_len: int | None = Field(None, ge=100)
    fim_ratio: float | None = Field(None, ge=0, le=1)


class WandbIntegration(_Strict):
    type: Literal["wandb"] = "wandb"
    project: str
    name: str | None = None
    run_name: str | None = None
    api_key_env: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable holding the 40-character W&B key (never the key).",
    )


class ClassifierTarget(_Strict):
    name: str
    labels: list[str] = Field(min_length=1)
    weight: float = Field(1.0, ge=0)
    loss_function: Literal["single_class", "multi_class"] | None = None


class JobSpec(_Strict):
    model: str
    job_type: Literal["completion", "classifier"] = "completion"
    training_files: list[TrainingFileRef] = Field(min_length=1)
    validation_files: list[str] = Field(default_factory=list, description="metadata.name of Files")
    hyperparameters: Hyperparameters = Field(default_factory=Hyperparameters)
    suffix: str | None = Field(None, max_length=18)
    integrations: list[WandbIntegration] = Field(default_factory=list)
    classifier_targets: list[ClassifierTarget] | None = None
    invalid_sample_skip_percentage: float = Field(0.0, ge=0, le=0.5)
    state: Literal["started", "created", "cancelled"] = Field(
        "started", description="created: park in VALIDATED (no training cost); started: train; cancelled: stop."
    )
    on_remove: Literal["cancel", "forget"] = Field(
        "cancel", description="When the job leaves the manifests: cancel it if still active, or just forget it."
    )
    matrix: dict[str, list[Any]] | None = Field(
        None, description="Hyperparameter sweep: each combination becomes its own job (see docs)."
    )


class ModelSpec(_Strict):
    job: str = Field(description="metadata.name of the FineTuningJob whose fine-tuned model this is")
    name: str | None = None
    description: str | None = None
    archived: bool = False
    on_remove: Literal["archive", "delete", "forget"] = "archive"


class _Resource(_Strict):
    apiVersion: Literal["ftops/v1"]  # Kubernetes spelling
    metadata: Metadata
    # Where the document starts; filled by the loader, not by users.
    location: Location | None = Field(None, exclude=True)


class FileResource(_Resource):
    kind: Literal["File"]
    spec: FileSpec


class JobResource(_Resource):
    kind: Literal["FineTuningJob"]
    spec: JobSpec


class ModelResource(_Resource):
    kind: Literal["Model"]
    spec: ModelSpec


Resource = FileResource | JobResource | ModelResource
