"""The one typed job spec: what a FineTuningJob asks the API for, and the one comparison with a live job.

``desired`` builds a ``JobSpec`` from the manifest (files as address + content hash + weight, integrations
with the *name* of the variable holding the key, never the key); the plan carries it in the Change; apply
turns it into the request body with file ids and secrets read at the last moment (``request_body``), and
the fingerprint, plan-time adoption, apply-time recovery and ``import`` all compare through ``differences``.

The comparison works on a ``SpecView``: the spec with files as content hashes, built from a ``JobSpec``,
from what the lock recorded (``view_of_record``) or from what the API shows (``view_of_remote``). A view from
the API is *partial*: the API fills defaults for hyperparameters the manifest leaves unset, does not echo
training-file weights, and list answers omit integrations and classifier targets, so only what it shows and
the manifest sets is compared. Numbers are compared the way the API round-trips them: a float that went
through the API's JSON may come back one ulp away (``0.00010000000000000002`` for ``1e-4``), so two numbers
are equal when ``math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)`` — far tighter than any meaningful
change of a hyperparameter, far looser than float noise.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from ftops.client.models import RemoteJob

Scalar = int | float | str | bool
REL_TOL = 1e-9
ABS_TOL = 1e-12
_INTEGRATION_KEYS = ("type", "project", "name", "run_name")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TrainingFile(_Frozen):
    file: str  # address, e.g. file.train
    sha256: str
    weight: float = 1.0


class ValidationFile(_Frozen):
    file: str
    sha256: str


class Integration(_Frozen):
    """A W&B integration; ``api_key_env`` names the variable holding the key and is never fingerprinted."""

    type: str = "wandb"
    project: str
    name: str | None = None
    run_name: str | None = None
    api_key_env: str | None = None

    def public(self) -> dict[str, str]:
        """What defines the integration (and what the API echoes): no key, no variable name."""
        return {k: v for k in _INTEGRATION_KEYS if (v := getattr(self, k)) is not None}


class ClassifierTarget(_Frozen):
    name: str
    labels: tuple[str, ...]
    weight: float = 1.0
    loss_function: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "labels": list(self.labels), "weight": self.weight,
                "loss_function": self.loss_function}


class JobSpec(_Frozen):
    provider: str = "mistral"  # ftops.providers; part of the fingerprint only when not the default
    model: str
    job_type: str = "completion"
    training: tuple[TrainingFile, ...]
    validation: tuple[ValidationFile, ...] = ()
    hyperparameters: dict[str, Scalar] = {}
    suffix: str
    integrations: tuple[Integration, ...] = ()
    classifier_targets: tuple[ClassifierTarget, ...] | None = None
    invalid_sample_skip_percentage: float = 0.0

    @property
    def file_addresses(self) -> tuple[str, ...]:
        """Training then validation files, in spec order, without duplicates."""
        return tuple(dict.fromkeys([t.file for t in self.training] + [v.file for v in self.validation]))

    def secret_env_names(self) -> list[str]:
        return [i.api_key_env for i in self.integrations if i.api_key_env]

    def fingerprint_input(self) -> dict[str, Any]:
        """The canonical input the fingerprint hashes (unchanged since lock format 1: old locks stay valid).

        ``provider`` enters only when it is not Mistral: Mistral fingerprints stay what they were, and
        moving a job to another provider changes its fingerprint, which plans a replacement there.
        """
        return self._with_provider({
            "model": self.model,
            "job_type": self.job_type,
            "training_files": [{"sha256": t.sha256, "weight": t.weight} for t in self.training],
            "validation_files": [v.sha256 for v in self.validation],
            "hyperparameters": dict(self.hyperparameters),
            "suffix": self.suffix,
            "integrations": [i.public() for i in self.integrations],
            "classifier_targets": None if self.classifier_targets is None
            else [t.as_dict() for t in self.classifier_targets],
            "invalid_sample_skip_percentage": self.invalid_sample_skip_percentage,
        })

    def _with_provider(self, shape: dict[str, Any]) -> dict[str, Any]:
        return shape if self.provider == "mistral" else {"provider": self.provider, **shape}

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.fingerprint_input())

    def request_shape(self) -> dict[str, Any]:
        """The request with File addresses instead of ids (what plans show as ``after.spec``)."""
        return self._with_provider({
            "model": self.model,
            "job_type": self.job_type,
            "training_files": [{"file": t.file, "weight": t.weight} for t in self.training],
            "validation_files": [v.file for v in self.validation],
            "hyperparameters": dict(self.hyperparameters),
            "suffix": self.suffix,
            "integrations": [{**i.public(), "api_key_env": i.api_key_env} if i.api_key_env else i.public()
                             for i in self.integrations],
            "classifier_targets": None if self.classifier_targets is None
            else [t.as_dict() for t in self.classifier_targets],
            "invalid_sample_skip_percentage": self.invalid_sample_skip_percentage,
        })

    def request_body(self, file_ids: Mapping[str, str], env: Mapping[str, str]) -> dict[str, Any]:
        """The JobIn body: file ids, keys read from ``env`` now, and always ``auto_start=false``.

        Raises KeyError for a file address without an id or a missing key variable (callers check first).
        """
        body: dict[str, Any] = {
            "model": self.model,
            "job_type": self.job_type,
            "training_files": [{"file_id": file_ids[t.file], "weight": t.weight} for t in self.training],
            "hyperparameters": dict(self.hyperparameters),
            "suffix": self.suffix,
            "auto_start": False,
        }
        if self.validation:
            body["validation_files"] = [file_ids[v.file] for v in self.validation]
        if self.integrations:
            body["integrations"] = [
                {**i.public(), **({"api_key": env[i.api_key_env]} if i.api_key_env else {})}
                for i in self.integrations
            ]
        if self.classifier_targets is not None:
            body["classifier_targets"] = [
                {k: v for k, v in t.as_dict().items() if v is not None} for t in self.classifier_targets
            ]
        body["invalid_sample_skip_percentage"] = self.invalid_sample_skip_percentage
        return body

    def view(self) -> SpecView:
        return SpecView(
            model=self.model,
            job_type=self.job_type,
            training=tuple(t.sha256 for t in self.training),
            weights=tuple(t.weight for t in self.training),
            validation=tuple(v.sha256 for v in self.validation),
            hyperparameters=dict(self.hyperparameters),
            suffix=self.suffix,
            integrations=tuple(i.public() for i in self.integrations),
            classifier_targets=None if self.classifier_targets is None
            else tuple(t.as_dict() for t in self.classifier_targets),
            invalid_sample_skip_percentage=self.invalid_sample_skip_percentage,
        )


def canonical_json(value: Any) -> str:
    """The one canonical form that fingerprints hash: sorted keys, no whitespace, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint_of(fingerprint_input: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(fingerprint_input).encode()).hexdigest()


@dataclass(frozen=True)
class SpecView:
    """A job spec as the comparison sees it: files as content hashes; ``None`` means "not observable here".

    ``observed`` marks a view built from the API: hyperparameters and target fields the desired side does
    not set are the API's defaults there, not differences.
    """

    model: str
    job_type: str
    training: tuple[str, ...]  # content sha256 per training file ("id:<file id>" when the content is unknown)
    weights: tuple[float, ...] | None
    validation: tuple[str, ...]
    hyperparameters: Mapping[str, Any]
    suffix: str | None
    integrations: tuple[Mapping[str, Any], ...] | None
    classifier_targets: tuple[Mapping[str, Any], ...] | None
    invalid_sample_skip_percentage: float | None
    observed: bool = False


@dataclass(frozen=True)
class Difference:
    path: str  # dotted, e.g. hyperparameters.learning_rate or integrations[0].project
    before: Any
    after: Any


def same_value(a: Any, b: Any) -> bool:
    """Equality as the API round-trips values: numbers within float noise (see the module docstring)."""
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return bool(a == b)


def differences(before: SpecView, after: SpecView) -> list[Difference]:
    """Every field where ``before`` (recorded or live) differs from ``after`` (desired); empty: a full match."""
    out: list[Difference] = []
    for name in ("model", "job_type"):
        if getattr(before, name) != getattr(after, name):
            out.append(Difference(name, getattr(before, name), getattr(after, name)))
    weights_differ = before.weights is not None and after.weights is not None and (
        len(before.weights) != len(after.weights)
        or not all(same_value(a, b) for a, b in zip(before.weights, after.weights, strict=False)))
    if before.training != after.training or weights_differ:
        out.append(Difference("training_files", _files(before.training, before.weights),
                              _files(after.training, after.weights)))
    if before.validation != after.validation:
        out.append(Difference("validation_files", list(before.validation), list(after.validation)))
    names = set(after.hyperparameters) if before.observed else set(before.hyperparameters) | set(after.hyperparameters)
    for name in sorted(names):
        old, new = before.hyperparameters.get(name), after.hyperparameters.get(name)
        if not same_value(old, new):
            out.append(Difference(f"hyperparameters.{name}", old, new))
    if (before.suffix or None) != (after.suffix or None):
        out.append(Difference("suffix", before.suffix, after.suffix))
    if before.integrations is not None and after.integrations is not None:
        out.extend(_list_differences("integrations", before.integrations, after.integrations, partial=False))
    if after.classifier_targets is not None and before.classifier_targets is not None:
        out.extend(_list_differences("classifier_targets", before.classifier_targets, after.classifier_targets,
                                     partial=before.observed))
    elif not before.observed and bool(before.classifier_targets) != bool(after.classifier_targets):
        out.append(Difference("classifier_targets", _maybe_list(before.classifier_targets),
                              _maybe_list(after.classifier_targets)))
    old_isp, new_isp = before.invalid_sample_skip_percentage, after.invalid_sample_skip_percentage
    if old_isp is not None and new_isp is not None and not same_value(old_isp, new_isp):
        out.append(Difference("invalid_sample_skip_percentage", old_isp, new_isp))
    return out


def _maybe_list(items: tuple[Mapping[str, Any], ...] | None) -> list[dict[str, Any]] | None:
    return None if items is None else [dict(i) for i in items]


def _files(shas: tuple[str, ...], weights: tuple[float, ...] | None) -> list[dict[str, Any]]:
    return [{"sha256": sha, "weight": weights[i] if weights is not None and i < len(weights) else None}
            for i, sha in enumerate(shas)]


def _list_differences(key: str, before: tuple[Mapping[str, Any], ...], after: tuple[Mapping[str, Any], ...], *,
                      partial: bool) -> list[Difference]:
    """Nested lists of small objects, field by field (``integrations[0].project``), for the plan's display."""
    if len(before) != len(after):
        return [Difference(key, [dict(b) for b in before], [dict(a) for a in after])]
    out: list[Difference] = []
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        fields = [k for k in new if new[k] is not None] if partial else sorted(set(old) | set(new))
        for field_name in fields:
            a, b = old.get(field_name), new.get(field_name)
            if field_name == "labels" and a is not None and b is not None:
                equal = sorted(a) == sorted(b)
            else:
                equal = same_value(a, b)
            if not equal:
                out.append(Difference(f"{key}[{index}].{field_name}", a, b))
    return out


ContentOf = Callable[[str], "str | None"]


def view_of_remote(remote: RemoteJob, content_of: ContentOf, *, detailed: bool) -> SpecView:
    """What the API shows of a job. ``content_of`` maps a file id to its content sha256 (None: unknown).

    ``detailed``: the answer of a GET, where a missing integrations/targets field means "none" rather
    than "not listed".
    """
    def sha(file_id: str) -> str:
        return content_of(file_id) or f"id:{file_id}"

    integrations = remote.integrations if remote.integrations is not None else ([] if detailed else None)
    targets = remote.classifier_targets if remote.classifier_targets is not None else ([] if detailed else None)
    return SpecView(
        model=remote.model,
        job_type=remote.job_type or "completion",
        training=tuple(sha(f) for f in remote.training_files),
        weights=None,  # the API does not echo weights
        validation=tuple(sha(f) for f in remote.validation_files or []),
        hyperparameters={k: v for k, v in remote.hyperparameters.items() if v is not None},
        suffix=remote.suffix,
        integrations=None if integrations is None
        else tuple({k: v for k in _INTEGRATION_KEYS if (v := i.get(k)) is not None} for i in integrations),
        classifier_targets=None if targets is None else tuple(dict(t) for t in targets),
        invalid_sample_skip_percentage=remote.invalid_sample_skip_percentage,
        observed=True,
    )


def view_of_record(record: Mapping[str, Any]) -> SpecView:
    """A fingerprint input as the lock recorded it (``JobSpec.fingerprint_input`` of an earlier apply)."""
    training = [t for t in record.get("training_files") or [] if isinstance(t, Mapping)]
    integrations = record.get("integrations")
    targets = record.get("classifier_targets")
    isp = record.get("invalid_sample_skip_percentage")
    return SpecView(
        model=str(record.get("model")),
        job_type=str(record.get("job_type") or "completion"),
        training=tuple(str(t.get("sha256")) for t in training),
        weights=tuple(float(t.get("weight", 1.0)) for t in training),
        validation=tuple(str(v) for v in record.get("validation_files") or []),
        hyperparameters=dict(record.get("hyperparameters") or {}),
        suffix=record.get("suffix"),
        integrations=None if integrations is None else tuple(dict(i) for i in integrations),
        classifier_targets=None if targets is None else tuple(dict(t) for t in targets),
        invalid_sample_skip_percentage=float(isp) if isinstance(isp, (int, float)) else None,
    )


def matches(spec: JobSpec, remote: RemoteJob, content_of: ContentOf, *, detailed: bool) -> bool:
    """The full-spec match that plan-time adoption and apply-time recovery both rely on."""
    return not differences(view_of_remote(remote, content_of, detailed=detailed), spec.view())
