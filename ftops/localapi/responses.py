"""Response shapes of the local API, as the real API's OpenAPI document declares them.

They document ``/openapi.json`` (so schemathesis checks every answer against them, and the spec comparison in
``tests/conformance`` sees the same fields as the official spec) without being run on each response: the
handlers build plain dicts, and a test keeps the two in step. Field names, nullability and enums follow the
spec; extra fields are allowed, as the SDKs allow them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

JobStatusName = Literal["QUEUED", "STARTED", "VALIDATING", "VALIDATED", "RUNNING", "FAILED_VALIDATION", "FAILED",
                        "SUCCESS", "CANCELLED", "CANCELLATION_REQUESTED"]
JobType = Literal["completion", "classifier"]
FilePurpose = Literal["fine-tune", "batch", "ocr", "agentic_safety", "audio"]
SampleType = Literal["pretrain", "instruct", "batch_request", "batch_result", "batch_error"]
Source = Literal["upload", "repository", "mistral"]
Visibility = Literal["workspace", "user"]


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- files ---------------------------------------------------------------------------------------------
class FileSchema(_Out):
    id: str
    object: str
    bytes: int  # the spec's example shows null, but the schema (and every SDK) wants an int
    created_at: int
    filename: str
    purpose: FilePurpose
    sample_type: SampleType
    source: Source
    num_lines: int | None = None
    mimetype: str | None = None
    signature: str | None = None
    expires_at: int | None = None
    visibility: Visibility | None = None


class RetrieveFileOut(FileSchema):
    deleted: bool


class ListFilesOut(_Out):
    data: list[FileSchema]
    object: str
    total: int | None = None


class DeleteFileOut(_Out):
    id: str
    object: str
    deleted: bool


class FileSignedURL(_Out):
    url: str


# -- jobs ----------------------------------------------------------------------------------------------
class TrainingParameters(_Out):
    training_steps: int | None = None
    learning_rate: float = 1e-4
    weight_decay: float | None = None
    warmup_fraction: float | None = None
    epochs: float | None = None
    seq_len: int | None = None
    fim_ratio: float | None = None


class JobMetadataOut(_Out):
    expected_duration_seconds: int | None = None
    cost: float | None = None
    cost_currency: str | None = None
    train_tokens_per_step: int | None = None
    train_tokens: int | None = None
    data_tokens: int | None = None
    estimated_start_time: int | None = None


class WandbIntegrationOut(_Out):
    type: Literal["wandb"] = "wandb"
    project: str
    name: str | None = None
    run_name: str | None = None
    url: str | None = None


class GithubRepositoryOut(_Out):
    type: Literal["github"] = "github"
    name: str
    owner: str
    ref: str | None = None
    weight: float = 1.0
    commit_id: str = Field(min_length=40, max_length=40)


class ClassifierTargetOut(_Out):
    name: str
    labels: list[str]
    weight: float
    loss_function: Literal["single_class", "multi_class"]


class EventOut(_Out):
    name: str
    created_at: int
    data: dict[str, object] | None = None


class CheckpointMetrics(_Out):
    train_loss: float | None = None
    valid_loss: float | None = None
    valid_mean_token_accuracy: float | None = None


class CheckpointOut(_Out):
    metrics: CheckpointMetrics
    step_number: int
    created_at: int


class JobOut(_Out):
    id: str
    object: Literal["job"] = "job"
    auto_start: bool
    model: str
    status: JobStatusName
    job_type: JobType = "completion"
    created_at: int
    modified_at: int
    training_files: list[str]
    validation_files: list[str] | None = None
    hyperparameters: TrainingParameters
    fine_tuned_model: str | None = None
    suffix: str | None = None
    integrations: list[WandbIntegrationOut] | None = None
    trained_tokens: int | None = None
    metadata: JobMetadataOut | None = None
    repositories: list[GithubRepositoryOut] = Field(default_factory=list)
    # Classifier jobs also carry ``classifier_targets`` here (an extra field the SDKs ignore; the spec
    # declares it on detailed answers only).


class DetailedJobOut(JobOut):
    classifier_targets: list[ClassifierTargetOut] = Field(default_factory=list)
    events: list[EventOut] = Field(default_factory=list)
    checkpoints: list[CheckpointOut] = Field(default_factory=list)


class JobsOut(_Out):
    data: list[JobOut] = Field(default_factory=list)
    object: Literal["list"] = "list"
    total: int


class LegacyJobMetadataOut(JobMetadataOut):
    details: str
    object: Literal["job.metadata"] = "job.metadata"
    deprecated: bool = True
    epochs: float | None = None
    training_steps: int | None = None


# -- models --------------------------------------------------------------------------------------------
class ModelCapabilities(_Out):
    completion_chat: bool = False
    completion_fim: bool = False
    function_calling: bool = False
    fine_tuning: bool = False
    vision: bool = False
    classification: bool = False


class _Card(_Out):
    id: str
    object: str = "model"
    created: int = 0
    owned_by: str = "mistralai"
    capabilities: ModelCapabilities
    name: str | None = None
    description: str | None = None
    max_context_length: int = 32768
    aliases: list[str] = Field(default_factory=list)
    deprecation: str | None = None
    deprecation_replacement_model: str | None = None
    default_model_temperature: float | None = None


class BaseModelCard(_Card):
    type: Literal["base"] = "base"


class FTModelCard(_Card):
    type: Literal["fine-tuned"] = "fine-tuned"
    job: str
    root: str
    archived: bool = False


class ModelList(_Out):
    object: str = "list"
    data: list[BaseModelCard | FTModelCard] = Field(default_factory=list)


class DeleteModelOut(_Out):
    id: str
    object: str = "model"
    deleted: bool = True


class FTModelCapabilitiesOut(_Out):
    completion_chat: bool = True
    completion_fim: bool = False
    function_calling: bool = False
    fine_tuning: bool = False
    classification: bool = False


class FTModelOut(_Out):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str
    workspace_id: str
    root: str
    root_version: str
    archived: bool
    name: str | None = None
    description: str | None = None
    capabilities: FTModelCapabilitiesOut
    max_context_length: int = 32768
    aliases: list[str] = Field(default_factory=list)
    job: str
    model_type: JobType = "completion"
    classifier_targets: list[ClassifierTargetOut] = Field(default_factory=list)


class ArchiveFTModelOut(_Out):
    id: str
    object: Literal["model"] = "model"
    archived: bool = True


class UnarchiveFTModelOut(_Out):
    id: str
    object: Literal["model"] = "model"
    archived: bool = False
