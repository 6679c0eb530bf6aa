"""The lock file model (``ftops.lock``): deterministic JSON committed next to the manifests.

Holds, per resource address, the remote id, the content hash / spec fingerprint, the last observed status
and the fine-tuned model id; plus open intents (a record written and fsynced *before* every non-idempotent
POST, so a crash can be resolved by adoption instead of a duplicate paid job). Never a secret.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LOCK_FORMAT_VERSION = 1
# Serials and timestamps are JSON numbers other tools (jq, JavaScript) read as doubles: keep them exact there.
MAX_SERIAL = 2**53 - 1
MAX_TIMESTAMP = 2**53 - 1
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
# What recovery (ftops.apply.adopt) reads from an intent's marker, per action: checked when an intent is
# created AND when a lock is read, so a hand-edited or damaged intent is refused up front instead of making
# every later apply crash in recovery.
MARKER_KEYS: dict[str, dict[str, tuple[type, ...]]] = {
    "upload": {"filename": (str,), "sha256": (str,)},
    "create": {"want": (dict,)},
}
OPTIONAL_MARKER_KEYS: dict[str, dict[str, tuple[type, ...]]] = {
    "upload": {"bytes": (int, type(None)), "attributes": (dict, type(None))},
    "create": {"attributes": (dict, type(None)), "suffix": (str, type(None)), "model": (str, type(None))},
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Frozen(BaseModel):
    # Resources and intents are shared between the store and the read-only views it hands out (copying
    # 10,000 of them per read is what made apply slow): they are replaced, never changed in place.
    model_config = ConfigDict(extra="forbid", frozen=True)


class LockedResource(_Frozen):
    kind: Literal["file", "job", "model"]
    remote_id: str = Field(min_length=1)  # file id, job id, or fine-tuned model id (ft:...)
    # Files: sha256 of the content. Jobs: the spec fingerprint (see ftops.desired). Models: the job's address.
    fingerprint: str
    status: str | None = None  # last observed job status; "archived"/"active" for models; None for files
    fine_tuned_model: str | None = None  # jobs only, once known
    created_at: int | None = Field(default=None, ge=0, le=MAX_TIMESTAMP)  # remote creation time (unix s)
    # Small kind-specific facts needed to plan without the manifest (e.g. the on_remove policy the user
    # declared, upload filename, model name/description last applied). Never secrets.
    attributes: dict[str, Any] = Field(default_factory=dict)


class Intent(_Frozen):
    """An open non-idempotent call (upload, create job): written before the POST, removed after the outcome."""

    id: str = Field(min_length=1)  # uuid4
    address: str
    action: str  # "upload" | "create" (checked below; typed as str so callers may still guard other values)
    fingerprint: str  # what the created object must match to be adopted
    marker: dict[str, Any]  # search keys recovery needs: see MARKER_KEYS
    # unix seconds, before the POST (adoption searches created_after this minus skew)
    started_at: float = Field(ge=0, le=MAX_TIMESTAMP)

    @model_validator(mode="after")
    def _marker_has_what_recovery_reads(self) -> Intent:
        if self.action not in MARKER_KEYS:
            raise ValueError(f"action must be one of {', '.join(sorted(MARKER_KEYS))}, not {self.action!r}")
        problems = marker_problems(self.action, self.marker)
        if problems:
            raise ValueError(f"the {self.action} intent's marker {problems}")
        return self


def marker_problems(action: str, marker: dict[str, Any]) -> str | None:
    """Why recovery could not use this marker (None: it can)."""
    missing = [k for k in MARKER_KEYS.get(action, {}) if k not in marker]
    if missing:
        return f"lacks {', '.join(missing)} (recovery needs them to find what the call created)"
    for table in (MARKER_KEYS, OPTIONAL_MARKER_KEYS):
        for key, types in table.get(action, {}).items():
            value = marker.get(key)
            if key in marker and (not isinstance(value, types) or isinstance(value, bool)):
                return f"has {key} of type {type(value).__name__}"
    if action == "create" and not isinstance(marker["want"].get("model"), str):
        return "has no want.model (recovery searches jobs by model)"
    return None


class LockFile(_Model):
    format_version: int = LOCK_FORMAT_VERSION
    lineage: str  # uuid4, fixed for the life of this lock file
    serial: int = Field(default=0, ge=0, le=MAX_SERIAL)  # +1 on every change
    endpoint: str | None = None  # identity of the API (base URL), never a key
    resources: dict[str, LockedResource] = Field(default_factory=dict)  # by address string
    intents: list[Intent] = Field(default_factory=list)
    # Ids of saved plans already applied against this lineage: a plan file is single-use.
    applied_plans: list[str] = Field(default_factory=list)
    # Exact data-token counts by "<dataset sha256>/<tokenizer id>", committed with the lock so that a fresh
    # clone (a CI runner) never recounts an unchanged dataset. Only exact counts are recorded here.
    token_counts: dict[str, int] = Field(default_factory=dict)

    @field_validator("lineage")
    @classmethod
    def _lineage_is_a_uuid(cls, value: str) -> str:
        if not _UUID.match(value):
            raise ValueError("must be a UUID (the id ftops gave this lock's history when it was first written)")
        return value

    @field_validator("format_version")
    @classmethod
    def _supported_version(cls, value: int) -> int:
        if value != LOCK_FORMAT_VERSION:
            raise ValueError(f"must be {LOCK_FORMAT_VERSION} (the lock format this ftops reads)")
        return value

    @field_validator("token_counts")
    @classmethod
    def _counts_are_counts(cls, value: dict[str, int]) -> dict[str, int]:
        bad = [k for k, v in value.items() if v < 0 or v > MAX_SERIAL]
        if bad:
            raise ValueError(f"token count of {bad[0]} is out of range")
        return value
