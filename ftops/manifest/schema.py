"""Pydantic schema of the manifest kinds (``File``, ``FineTuningJob``, ``Model``, ``Evaluation``, ``Moved``).

Spec field names follow the Mistral API (snake_case) so users can copy from its docs. Unknown fields are
errors (``extra="forbid"``). Secrets are never values here: integrations name an environment variable.
Diff only what the user set: ``model_fields_set`` tells a user-set hyperparameter from a server default.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ftops.errors import Location
from ftops.manifest.suffix import SUFFIX_MAX, SUFFIX_PATTERN
from ftops.pricing import FINE_TUNABLE_MODELS

API_VERSION = "ftops/v1"
NAME_PATTERN = r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"
ADDRESS_PATTERN = r"^(file|job|model)\.[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Metadata(_Strict):
    """Identity of a resource: its name (unique per kind) and optional labels and annotations."""

    name: str = Field(pattern=NAME_PATTERN, description="Unique per kind; references use it.")
    labels: dict[str, str] = Field(default_factory=dict, description="Free-form key/value tags (kept by ftops).")
    annotations: dict[str, str] = Field(
        default_factory=dict, description="Free-form notes; ftops adds ftops.dev/* annotations to matrix jobs."
    )


class FileSpec(_Strict):
    """A JSONL dataset on disk, uploaded once per content hash."""

    path: str = Field(description="JSONL dataset, relative to the manifest file; must stay inside the project.")
    purpose: Literal["fine-tune"] = Field("fine-tune", description="Upload purpose; only fine-tune is supported.")
    on_remove: Literal["forget", "delete"] = Field(
        "forget", description="When the File leaves the manifests: forget it (default) or delete the upload."
    )


class TrainingFileRef(_Strict):
    """One training file of a job, by File name, with its sampling weight."""

    file: str = Field(description="metadata.name of a File")
    weight: float = Field(1.0, gt=0, description="Share of training drawn from this file (> 0, default 1).")


class Hyperparameters(_Strict):
    """Training settings. Only the ones you set are sent to the API and compared with the live job."""

    training_steps: int | None = Field(
        None, ge=1, description="Optimizer steps (≥ 1). Set this or epochs, not both; with neither the API decides."
    )
    learning_rate: float = Field(1e-4, ge=1e-8, le=1, description="Peak learning rate, 1e-8..1 (default 1e-4).")
    weight_decay: float | None = Field(None, ge=0, le=1, description="0..1 (API default 0.1).")
    warmup_fraction: float | None = Field(None, ge=0, le=1, description="Share of steps spent warming up, 0..1.")
    epochs: float | None = Field(None, gt=0, description="Passes over the data (> 0). Set this or training_steps.")
    seq_len: int | None = Field(None, ge=100, description="Training sequence length in tokens (≥ 100).")
    fim_ratio: float | None = Field(None, ge=0, le=1, description="Fill-in-the-middle ratio, 0..1; completion only.")
    # Together AI (provider: together); ftops rejects a field the job's provider does not have.
    n_epochs: int | None = Field(None, ge=1, le=20, description="Together: passes over the data, 1..20.")
    n_checkpoints: int | None = Field(None, ge=1, le=20, description="Together: checkpoints saved, 1..20.")
    n_evals: int | None = Field(None, ge=0, le=100, description="Together: evaluations on the validation file.")
    batch_size: int | Literal["max"] | None = Field(
        None, description='Together: batch size (an integer within the model\'s limits) or "max" (the default).'
    )
    warmup_ratio: float | None = Field(None, ge=0, le=1, description="Together: warmup share of steps, 0..1.")
    max_grad_norm: float | None = Field(None, ge=0, description="Together: gradient clipping norm (≥ 0; 0 disables).")
    lora: bool | None = Field(None, description="Together: LoRA adapters (true, default) or full training (false).")
    lora_r: int | None = Field(None, ge=1, le=64, description="Together: LoRA rank, 1..64 (default: the model's).")
    lora_alpha: int | None = Field(None, ge=1, description="Together: LoRA alpha (default 2 × rank).")
    lora_dropout: float | None = Field(None, ge=0, lt=1, description="Together: LoRA dropout, 0..<1.")
    training_method: Literal["sft", "dpo"] | None = Field(
        None, description="Together: sft (supervised, default) or dpo (preference pairs)."
    )
    dpo_beta: float | None = Field(None, gt=0, description="Together, dpo only: the DPO beta (> 0).")
    train_on_inputs: bool | Literal["auto"] | None = Field(
        None, description='Together, sft only: also train on the prompt tokens (default "auto").'
    )


class WandbIntegration(_Strict):
    """Weights & Biases logging; the key is read from the environment variable named in api_key_env."""

    type: Literal["wandb"] = Field("wandb", description="Integration type; only wandb exists.")
    project: str = Field(description="Weights & Biases project to log to.")
    name: str | None = Field(None, description="Weights & Biases run group name.")
    run_name: str | None = Field(None, description="Weights & Biases run name.")
    api_key_env: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Name of the environment variable holding the 40-character W&B key (never the key).",
    )


class ClassifierTarget(_Strict):
    """One thing a classifier predicts: a key under `labels` in the data, and its possible labels."""

    name: str = Field(description="Target name: the key under `labels` in the classifier dataset.")
    labels: list[str] = Field(min_length=1, description="Every label this target can take.")
    weight: float = Field(1.0, ge=0, description="Weight of this target in the loss (≥ 0, default 1).")
    loss_function: Literal["single_class", "multi_class"] | None = Field(
        None, description="single_class: one label per row; multi_class: a list of labels per row."
    )


_HYPERPARAMETER_NAMES = tuple(Hyperparameters.model_fields)


class JobSpec(_Strict):
    """A fine-tuning job; field names follow the Mistral API. Any change except state/on_remove makes a new job."""

    provider: Literal["mistral", "together"] | None = Field(
        None, description="Where the job runs: mistral or together (default: `provider` in ftops.toml, else mistral)."
    )
    model: str = Field(
        description="Base model to fine-tune (e.g. open-mistral-7b; classifier jobs: ministral-3b-latest).",
        json_schema_extra={"examples": list(FINE_TUNABLE_MODELS)},
    )
    job_type: Literal["completion", "classifier"] = Field(
        "completion", description="completion (chat/instruct data) or classifier (text + labels data)."
    )
    training_files: list[TrainingFileRef] = Field(min_length=1, description="Files to train on, by File name.")
    validation_files: list[str] = Field(default_factory=list, description="metadata.name of Files")
    hyperparameters: Hyperparameters = Field(
        default_factory=Hyperparameters, description="Training settings; only the ones you set are sent."
    )
    suffix: str | None = Field(
        None, min_length=1, max_length=SUFFIX_MAX,
        description=("Part of the fine-tuned model id (≤ 18 chars: letters, digits, '_', '-'); default: "
                     "metadata.name made to fit (other characters become '-', plus a short hash when changed)."),
        # Checked in checks.py (code M055, with the reason); the pattern is shown to editors here.
        json_schema_extra={"pattern": SUFFIX_PATTERN},
    )
    integrations: list[WandbIntegration] = Field(default_factory=list, description="Experiment trackers.")
    classifier_targets: list[ClassifierTarget] | None = Field(
        None, description="Classifier jobs only: the targets and their labels."
    )
    invalid_sample_skip_percentage: float = Field(
        0.0, ge=0, le=0.5, description="Share of invalid training rows the API may skip, 0..0.5 (default 0)."
    )
    state: Literal["started", "created", "cancelled"] = Field(
        "started", description="created: park in VALIDATED (no training cost); started: train; cancelled: stop."
    )
    on_remove: Literal["cancel", "forget"] = Field(
        "cancel", description="When the job leaves the manifests: cancel it if still active, or just forget it."
    )
    data_version: Literal["latest", "pinned"] = Field(
        "latest",
        description=(
            "latest: editing a File's data replaces this job (a new paid job on the new version); pinned: once "
            "created, the job stays on the version it trained on (its upload is kept while it is pinned)."
        ),
    )
    matrix: dict[str, list[Any]] | None = Field(
        None,
        description=(
            "Hyperparameter sweep: keys are hyperparameter names, values are lists; each combination becomes "
            "its own job named <name>-<i> (i from 1, cartesian product in the written key order)."
        ),
        json_schema_extra={
            "propertyNames": {"enum": list(_HYPERPARAMETER_NAMES)},
            "additionalProperties": {"type": "array", "minItems": 1},
        },
    )


# The same text as ftops.evals.smoke.DEFAULT_SMOKE_PROMPT (the manifest layer does not import the evals).
DEFAULT_SMOKE_PROMPT = "Hello! Please answer briefly: are you working?"


class BestOf(_Strict):
    """Follow the best finished job of a matrix sweep, ranked by a metric of its last checkpoint."""

    sweep: str = Field(description="metadata.name of a FineTuningJob with a `matrix` (the sweep).")
    by: Literal["valid_loss", "train_loss", "valid_mean_token_accuracy"] = Field(
        "valid_loss", description="Metric of the last checkpoint: lowest loss, or highest token accuracy."
    )


class SmokeTest(_Strict):
    """The short call a new fine-tuned model must answer before apply names or promotes it."""

    prompt: str = Field(
        DEFAULT_SMOKE_PROMPT, min_length=1,
        description="The user message sent (a classifier model gets it as the text to classify).",
    )
    expect: str | None = Field(
        None, description="A regular expression the answer must contain (Python re.search); default: any answer."
    )


class ModelSpec(_Strict):
    """The fine-tuned model a job produces: its display name, description and archive state."""

    job: str | None = Field(
        None, description="metadata.name of the FineTuningJob whose fine-tuned model this is (or best_of)."
    )
    best_of: BestOf | None = Field(
        None, description="Instead of job: the best job of a sweep, chosen once all its jobs have finished."
    )
    gate: str | None = Field(
        None, description="metadata.name of an Evaluation the candidate must pass before it is named/promoted."
    )
    smoke: bool | SmokeTest = Field(
        True,
        description="Smoke-test every new fine-tuned model before it is named/promoted: true (a default prompt), "
        "{prompt, expect}, or false (no smoke test).",
    )
    name: str | None = Field(None, description="Display name of the fine-tuned model.")
    description: str | None = Field(None, description="Description of the fine-tuned model.")
    archived: bool = Field(False, description="Keep the model archived (true) or active (false).")
    on_remove: Literal["archive", "delete", "forget"] = Field(
        "archive", description="When the Model leaves the manifests: archive it (default), delete it, or forget it."
    )


class MovedSpec(_Strict):
    """A rename: what ``from`` tracked is tracked at ``to`` from now on (no new upload, no new paid job)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: str = Field(
        alias="from", pattern=ADDRESS_PATTERN,
        description="The old address, KIND.NAME (e.g. job.support-v1); no longer declared in the manifests.",
    )
    to: str = Field(
        pattern=ADDRESS_PATTERN, description="The new address of the same kind (e.g. job.support); declared."
    )


SCORER_NAMES = ("exact", "contains", "regex", "json_schema", "classifier_accuracy")


class EvaluationSpec(_Strict):
    """An evaluation set and how to score it; a Model's ``gate`` runs it before promoting a new model."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    path: str = Field(description="JSONL evaluation set, relative to the manifest file; inside the project.")
    scorer: Literal["exact", "contains", "regex", "json_schema", "classifier_accuracy"] = Field(
        "exact", description="How an answer is scored (0..1 per case; the score is the mean)."
    )
    pattern: str | None = Field(None, description="regex scorer: the pattern an answer must match.")
    value: str | None = Field(None, description="contains scorer: a fixed text instead of each expected answer.")
    schema_: dict[str, Any] | None = Field(
        None, alias="schema", description="json_schema scorer: the JSON Schema every answer must satisfy."
    )
    min_score: float = Field(0.0, ge=0, le=1, description="The candidate must score at least this (0..1).")
    max_valid_loss: float | None = Field(
        None, gt=0, description="The job's final validation loss must be at most this (needs validation_files)."
    )
    not_worse: bool = Field(True, description="The candidate must score no lower than the current model (A/B).")
    smoke_prompt: str | None = Field(
        DEFAULT_SMOKE_PROMPT, description="A short chat that must get an answer first (null: no smoke test)."
    )
    max_tokens: int = Field(256, ge=1, description="Answer length limit per case.")
    parallelism: int = Field(8, ge=1, le=64, description="Calls in flight at once (1..64).")


class _Resource(_Strict):
    apiVersion: Literal["ftops/v1"] = Field(description="Always ftops/v1.")  # Kubernetes spelling
    metadata: Metadata = Field(description="The resource's name (and optional labels/annotations).")
    # Where the document starts; filled by the loader, not by users.
    location: Location | None = Field(None, exclude=True)


class FileResource(_Resource):
    """A local JSONL dataset, uploaded once per content hash."""

    kind: Literal["File"] = Field(description="File: a local JSONL dataset.")
    spec: FileSpec = Field(description="Where the dataset is and what to do when it leaves the manifests.")


class JobResource(_Resource):
    """A fine-tuning job on Mistral's platform."""

    kind: Literal["FineTuningJob"] = Field(description="FineTuningJob: a fine-tuning job.")
    spec: JobSpec = Field(description="The job as the Mistral API takes it, plus its desired state.")


class ModelResource(_Resource):
    """The fine-tuned model a FineTuningJob produces: its name, description and archive state."""

    kind: Literal["Model"] = Field(description="Model: the fine-tuned model of a FineTuningJob.")
    spec: ModelSpec = Field(description="Which job's model, and its name, description and archive state.")


class EvaluationResource(_Resource):
    """An evaluation set with its scorer and thresholds: run by ``ftops eval`` and as a Model's gate."""

    kind: Literal["Evaluation"] = Field(description="Evaluation: an evaluation set and its thresholds.")
    spec: EvaluationSpec = Field(description="The set, the scorer and the thresholds a candidate must pass.")


class MovedResource(_Resource):
    """A declared rename, like Terraform's ``moved`` block: keep it until every lock has applied it."""

    kind: Literal["Moved"] = Field(description="Moved: an address renamed (metadata.name changed).")
    spec: MovedSpec = Field(description="The old and the new address.")


Resource = FileResource | JobResource | ModelResource
Document = Resource | EvaluationResource | MovedResource  # every kind a manifest document may have
