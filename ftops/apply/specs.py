"""What apply reads from a plan's changes: file uploads, and the typed job spec with its lock attributes.

A plan's CREATE/REPLACE/ADOPT job change carries the ``JobSpec`` (``ftops.jobspec``) with files as
*addresses* + content hashes; apply resolves file ids from the lock (the files were uploaded by earlier
steps) and reads integration secrets from the environment at the last moment (``JobSpec.request_body``).
Remote jobs are compared with the one comparison, ``ftops.jobspec.differences``, files by content: a near
match is never adopted, it could be someone else's paid job.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftops.client.models import RemoteJob
from ftops.errors import ApplyError, ConfigError
from ftops.jobspec import JobSpec, differences, view_of_remote
from ftops.plan.model import Change
from ftops.state.model import LockFile

# What the plan's job change carries that the lock records afterwards (the planner reads these back).
LOCK_ATTRIBUTES = ("fingerprint_input", "suffix", "state", "on_remove")


@dataclass(frozen=True)
class FileUpload:
    address: str
    path: Path
    sha256: str
    filename: str
    purpose: str = "fine-tune"
    bytes: int | None = None

    @property
    def sha12(self) -> str:
        return self.sha256[:12]

    @classmethod
    def from_change(cls, change: Change, root: Path) -> FileUpload:
        after = change.after or {}
        try:
            path = Path(str(after["path"]))
            sha = str(after.get("sha256") or after["content_hash"])
        except KeyError as exc:
            raise ApplyError(
                f"the plan's upload has no {exc.args[0]!r}", where=change.address, hint="run ftops plan again"
            ) from None
        if not path.is_absolute():
            path = root / path
        filename = str(after.get("filename") or f"{path.stem}.{sha[:12]}.jsonl")
        size = after.get("bytes")
        return cls(change.address, path, sha, filename, str(after.get("purpose") or "fine-tune"), size)


def job_spec_of(change: Change) -> JobSpec:
    """The typed spec a CREATE/REPLACE/ADOPT job change carries (plans from before format 1.1 have none)."""
    if change.job_spec is None:
        raise ApplyError(
            "the plan's job change lacks its typed spec",
            where=change.address,
            hint="run ftops plan again with this version of ftops",
        )
    return change.job_spec


def lock_attributes(change: Change) -> dict[str, Any]:
    """What the plan's job change carries that the lock records afterwards (the planner reads these back)."""
    after = change.after or {}
    return {k: after[k] for k in LOCK_ATTRIBUTES if after.get(k) is not None}


def fingerprint_of_change(change: Change) -> str:
    fingerprint = (change.after or {}).get("fingerprint")
    return str(fingerprint) if fingerprint else job_spec_of(change).fingerprint


def content_by_file_id(lock: LockFile) -> dict[str, str]:
    """File id → content sha256 for every upload the lock records (what remote jobs are compared by)."""
    return {r.remote_id: r.fingerprint for r in lock.resources.values() if r.kind == "file"}


def file_ids(spec: JobSpec, lock: LockFile, address: str) -> dict[str, str]:
    """File address → uploaded file id, from the lock (the uploads ran as earlier steps)."""
    out: dict[str, str] = {}
    for file_addr in spec.file_addresses:
        locked = lock.resources.get(file_addr)
        if locked is None:
            raise ApplyError(
                f"{file_addr} is not uploaded yet",
                where=address,
                hint="its upload failed or was skipped; fix that and run ftops apply again",
            )
        out[file_addr] = locked.remote_id
    return out


def job_differences(spec: JobSpec, remote: RemoteJob, lock: LockFile, *, detailed: bool) -> list[str]:
    """Paths where ``remote`` differs from ``spec`` (empty: a full match), files compared by content."""
    content = content_by_file_id(lock)
    return [d.path for d in differences(view_of_remote(remote, content.get, detailed=detailed), spec.view())]


def check_secrets(specs: list[tuple[str, JobSpec]], env: Mapping[str, str] | None = None) -> None:
    """Every integration key must be in the environment BEFORE the first API call of the run."""
    env = os.environ if env is None else env
    missing = [(address, name) for address, spec in specs for name in spec.secret_env_names() if not env.get(name)]
    if missing:
        where = ", ".join(sorted({a for a, _ in missing}))
        names = ", ".join(sorted({n for _, n in missing}))
        raise ConfigError(
            f"the W&B integration key is not set (environment variable {names})",
            where=where,
            hint=f"export {names.split(', ')[0]}=<your 40-character W&B key> and run ftops apply again; "
            "nothing was changed",
        )
