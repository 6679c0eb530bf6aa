"""Job and file requests as apply sends them, and the full-spec comparison adoption relies on.

A plan's CREATE/REPLACE change carries the job spec with training files as *addresses*; apply turns them
into file ids from the lock (the files were uploaded by earlier steps) and adds integration secrets from
the environment at the last moment. The secret-free form (``comparable``) is what an intent records and
what a remote job must equal, field by field, to be adopted after a crash: the same model, job type, file
ids in order, validation files, user-set hyperparameters, suffix, integrations minus keys and classifier
targets. A near match is never adopted: it could be someone else's paid job.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftops.client.models import RemoteJob
from ftops.errors import ApplyError, ConfigError
from ftops.plan.model import Change
from ftops.state.model import LockFile

# What the plan's job change carries that the lock records afterwards (the planner reads these back).
LOCK_ATTRIBUTES = ("fingerprint_input", "suffix", "state", "on_remove")


def file_address(ref: Any) -> str:
    """A training/validation file reference from a plan (``file.train``, ``train`` or ``{"file": ...}``)."""
    if isinstance(ref, dict):
        ref = ref.get("file") or ref.get("address") or ref.get("name") or ref.get("file_id")
    text = str(ref)
    return text if text.startswith("file.") else f"file.{text}"


def _weight(ref: Any) -> float:
    return float(ref.get("weight", 1.0)) if isinstance(ref, dict) else 1.0


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


@dataclass(frozen=True)
class JobRequest:
    """The desired job of a CREATE/REPLACE change; file references still as addresses."""

    address: str
    fingerprint: str
    model: str
    job_type: str
    training: tuple[tuple[str, float], ...]
    validation: tuple[str, ...]
    hyperparameters: dict[str, Any]
    suffix: str | None
    integrations: tuple[dict[str, Any], ...] = ()
    classifier_targets: tuple[dict[str, Any], ...] | None = None
    invalid_sample_skip_percentage: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # LOCK_ATTRIBUTES: recorded in the lock

    @classmethod
    def from_change(cls, change: Change) -> JobRequest:
        after = dict(change.after or {})
        spec = dict(after.get("spec") or after)
        fingerprint = after.get("fingerprint") or spec.get("fingerprint")
        if not fingerprint or "model" not in spec:
            raise ApplyError(
                "the plan's job change lacks its spec or fingerprint",
                where=change.address,
                hint="run ftops plan again with this version of ftops",
            )
        targets = spec.get("classifier_targets")
        isp = spec.get("invalid_sample_skip_percentage")
        return cls(
            address=change.address,
            fingerprint=str(fingerprint),
            model=str(spec["model"]),
            job_type=str(spec.get("job_type") or "completion"),
            training=tuple((file_address(r), _weight(r)) for r in spec.get("training_files") or []),
            validation=tuple(file_address(r) for r in spec.get("validation_files") or []),
            hyperparameters={k: v for k, v in dict(spec.get("hyperparameters") or {}).items() if v is not None},
            suffix=spec.get("suffix"),
            integrations=tuple(dict(i) for i in spec.get("integrations") or []),
            classifier_targets=tuple(dict(t) for t in targets) if targets else None,
            invalid_sample_skip_percentage=float(isp) if isp is not None else None,
            extra={k: after[k] for k in LOCK_ATTRIBUTES if after.get(k) is not None},
        )

    @property
    def file_addresses(self) -> list[str]:
        return [a for a, _ in self.training] + list(self.validation)

    def secret_env_names(self) -> list[str]:
        return [str(i["api_key_env"]) for i in self.integrations if i.get("api_key_env")]

    def comparable(self, lock: LockFile) -> dict[str, Any]:
        """The secret-free request with file ids: recorded in the intent, compared against remote jobs."""
        ids: list[dict[str, Any]] = []
        for address, weight in self.training:
            ids.append({"file_id": _file_id(lock, address, self.address), "weight": weight})
        out: dict[str, Any] = {
            "model": self.model,
            "job_type": self.job_type,
            "training_files": ids,
            "validation_files": [_file_id(lock, a, self.address) for a in self.validation],
            "hyperparameters": dict(self.hyperparameters),
            "suffix": self.suffix,
            "integrations": [{k: v for k, v in i.items() if k != "api_key_env"} for i in self.integrations],
        }
        if self.classifier_targets is not None:
            out["classifier_targets"] = [dict(t) for t in self.classifier_targets]
        if self.invalid_sample_skip_percentage is not None:
            out["invalid_sample_skip_percentage"] = self.invalid_sample_skip_percentage
        return out


def _file_id(lock: LockFile, file_addr: str, job_addr: str) -> str:
    locked = lock.resources.get(file_addr)
    if locked is None:
        raise ApplyError(
            f"{file_addr} is not uploaded yet",
            where=job_addr,
            hint="its upload failed or was skipped; fix that and run ftops apply again",
        )
    return locked.remote_id


def check_secrets(requests: list[JobRequest], env: dict[str, str] | None = None) -> None:
    """Every integration key must be in the environment BEFORE the first API call of the run."""
    env = dict(os.environ) if env is None else env
    missing = [(r.address, name) for r in requests for name in r.secret_env_names() if not env.get(name)]
    if missing:
        where = ", ".join(sorted({a for a, _ in missing}))
        names = ", ".join(sorted({n for _, n in missing}))
        raise ConfigError(
            f"the W&B integration key is not set (environment variable {names})",
            where=where,
            hint=f"export {names.split(', ')[0]}=<your 40-character W&B key> and run ftops apply again; "
            "nothing was changed",
        )


def request_body(comparable: dict[str, Any], request: JobRequest, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The JobIn body: the comparable spec plus secrets read now, and always ``auto_start=false``."""
    env = dict(os.environ) if env is None else env
    body = {k: v for k, v in comparable.items() if v is not None}
    body["integrations"] = [
        {**{k: v for k, v in i.items() if k != "api_key_env" and v is not None}, "api_key": env[str(i["api_key_env"])]}
        for i in request.integrations
    ] or None
    if body["integrations"] is None:
        del body["integrations"]
    if not body.get("validation_files"):
        body.pop("validation_files", None)
    body["auto_start"] = False
    return body


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def mismatches(remote: RemoteJob, want: dict[str, Any], *, detailed: bool) -> list[str]:
    """Fields where ``remote`` differs from the desired comparable spec (empty: a full match).

    List responses omit some fields (classifier targets); pass ``detailed=True`` only for a GET answer,
    where a missing field counts as a difference.
    """
    out: list[str] = []
    if remote.model != want["model"]:
        out.append("model")
    if (remote.job_type or "completion") != want["job_type"]:
        out.append("job_type")
    if list(remote.training_files) != [t["file_id"] for t in want["training_files"]]:
        out.append("training_files")
    if list(remote.validation_files or []) != list(want.get("validation_files") or []):
        out.append("validation_files")
    for key, value in want["hyperparameters"].items():
        if not _same(remote.hyperparameters.get(key), value):
            out.append(f"hyperparameters.{key}")
    if (remote.suffix or None) != (want.get("suffix") or None):
        out.append("suffix")
    remote_integrations = [
        {k: i.get(k) for k in ("type", "project", "name", "run_name")} for i in (remote.integrations or [])
    ]
    wanted_integrations = [
        {k: i.get(k) for k in ("type", "project", "name", "run_name")} for i in want.get("integrations") or []
    ]
    if (detailed or remote.integrations is not None) and remote_integrations != wanted_integrations:
        out.append("integrations")
    targets = want.get("classifier_targets")
    comparable_targets = targets is not None and (detailed or remote.classifier_targets is not None)
    if comparable_targets and not _targets_match(remote.classifier_targets or [], targets or []):
        out.append("classifier_targets")
    isp, remote_isp = want.get("invalid_sample_skip_percentage"), remote.invalid_sample_skip_percentage
    if isp is not None and remote_isp is not None and not _same(remote_isp, isp):
        out.append("invalid_sample_skip_percentage")
    return out


def _targets_match(remote: list[dict[str, Any]], want: list[dict[str, Any]]) -> bool:
    if len(remote) != len(want):
        return False
    for r, w in zip(remote, want, strict=True):
        for key, value in w.items():
            if value is None:
                continue
            if key == "labels":
                if sorted(r.get("labels") or []) != sorted(value):
                    return False
            elif not _same(r.get(key), value):
                return False
    return True
