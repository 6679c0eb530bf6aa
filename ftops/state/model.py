"""The lock file model (``ftops.lock``): deterministic JSON committed next to the manifests.

Holds, per resource address, the remote id, the content hash / spec fingerprint, the last observed status
and the fine-tuned model id; plus open intents (a record written and fsynced *before* every non-idempotent
POST, so a crash can be resolved by adoption instead of a duplicate paid job). Never a secret.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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
    "create": {},  # and one of SPEC_KEYS (below)
}
# A create intent carries the job it was creating: ``spec`` (the typed JobSpec, which this ftops writes)
# or ``want`` (the request with file ids, written by older versions). Recovery needs one of them.
SPEC_KEYS = ("spec", "want")
OPTIONAL_MARKER_KEYS: dict[str, dict[str, tuple[type, ...]]] = {
    "upload": {"bytes": (int, type(None)), "attributes": (dict, type(None))},
    "create": {"attributes": (dict, type(None)), "suffix": (str, type(None)), "model": (str, type(None)),
               "spec": (dict,), "want": (dict,)},
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Frozen(BaseModel):
    # Resources and intents are shared between the store and the read-only views it hands out (copying
    # 10,000 of them per read is what made apply slow): they are replaced, never changed in place.
    model_config = ConfigDict(extra="forbid", frozen=True)


class LockedResource(_Frozen):
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


class Intent(_Frozen):
    """An open non-idempotent call (upload, create job): written before the POST, removed after the outcome."""

    id: str  # uuid4
    address: str
    action: str  # "upload" | "create": see intent_problems (checked when recorded and when read)
    fingerprint: str  # what the created object must match to be adopted
    marker: dict[str, Any] = Field(default_factory=dict)  # search keys recovery needs: see MARKER_KEYS
    started_at: float  # unix seconds, before the POST (adoption searches created_after this minus skew)


def is_uuid(value: str) -> bool:
    return bool(_UUID.match(value))


def intent_problems(action: str, marker: dict[str, Any]) -> str | None:
    """Why recovery could not resolve an intent with this action and marker (None: it can)."""
    if action not in MARKER_KEYS:
        return f"has action {action!r}, not one of {', '.join(sorted(MARKER_KEYS))}"
    missing = [k for k in MARKER_KEYS.get(action, {}) if k not in marker]
    if missing:
        return f"marker lacks {', '.join(missing)} (recovery needs them to find what the call created)"
    for table in (MARKER_KEYS, OPTIONAL_MARKER_KEYS):
        for key, types in table.get(action, {}).items():
            value = marker.get(key)
            if key in marker and (not isinstance(value, types) or isinstance(value, bool)):
                return f"marker has {key} of type {type(value).__name__}"
    if action == "create":
        found = [k for k in SPEC_KEYS if k in marker]
        if not found:
            return "marker lacks spec (recovery needs it to find what the call created)"
        if not isinstance(marker[found[0]].get("model"), str):
            return f"marker has no {found[0]}.model (recovery searches jobs by model)"
    return None


class LockFile(_Model):
    format_version: int = LOCK_FORMAT_VERSION
    lineage: str  # uuid4, fixed for the life of this lock file
    serial: int = 0  # +1 on every change (read strictly: see ftops.state.lockschema)
    endpoint: str | None = None  # identity of the API (base URL), never a key
    resources: dict[str, LockedResource] = Field(default_factory=dict)  # by address string
    intents: list[Intent] = Field(default_factory=list)
    # Ids of saved plans already applied against this lineage: a plan file is single-use.
    applied_plans: list[str] = Field(default_factory=list)
    # Exact data-token counts by "<dataset sha256>/<tokenizer id>", committed with the lock so that a fresh
    # clone (a CI runner) never recounts an unchanged dataset. Only exact counts are recorded here.
    token_counts: dict[str, int] = Field(default_factory=dict)
