"""The lock file model (``ftops.lock``): deterministic JSON committed next to the manifests.

Holds, per resource address, the remote id, the content hash / spec fingerprint, the last observed status
and the fine-tuned model id; plus open intents (a record written and fsynced *before* every non-idempotent
POST, so a crash can be resolved by adoption instead of a duplicate paid job). Never a secret.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

LOCK_FORMAT_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LockedResource(_Model):
    kind: Literal["file", "job", "model"]
    remote_id: str  # file id, job id, or fine-tuned model id (ft:...)
    # Files: sha256 of the content. Jobs: the spec fingerprint (see ftops.desired). Models: the job's address.
    fingerprint: str
    status: str | None = None  # last observed job status; "archived"/"active" for models; None for files
    fine_tuned_model: str | None = None  # jobs only, once known
    created_at: int | None = None  # remote creation time (unix s)
    # Small kind-specific facts needed to plan without the manifest (e.g. the on_remove policy the user
    # declared, upload filename, model name/description last applied). Never secrets.
    attributes: dict[str, Any] = Field(default_factory=dict)


class Intent(_Model):
    """An open non-idempotent call (upload, create job): written before the POST, removed after the outcome."""

    id: str  # uuid4
    address: str
    action: str  # "upload" | "create"
    fingerprint: str  # what the created object must match to be adopted
    marker: dict[str, Any] = Field(default_factory=dict)  # search keys: filename, suffix, model, ...
    started_at: float  # unix seconds, before the POST (adoption searches created_after this minus skew)


class LockFile(_Model):
    format_version: int = LOCK_FORMAT_VERSION
    lineage: str  # uuid4, fixed for the life of this lock file
    serial: int = 0  # +1 on every write
    endpoint: str | None = None  # identity of the API (base URL), never a key
    resources: dict[str, LockedResource] = Field(default_factory=dict)  # by address string
    intents: list[Intent] = Field(default_factory=list)
    # Ids of saved plans already applied against this lineage: a plan file is single-use.
    applied_plans: list[str] = Field(default_factory=list)
    # Exact data-token counts by "<dataset sha256>/<tokenizer id>", committed with the lock so that a fresh
    # clone (a CI runner) never recounts an unchanged dataset. Only exact counts are recorded here.
    token_counts: dict[str, int] = Field(default_factory=dict)
