"""Manifest → Desired: what the manifests ask for, resolved into values the plan builder can compare.

Every File gets its content hash and content-addressed upload name; every FineTuningJob gets the API
request spec (with File *addresses*, resolved to ids only by apply), its spec fingerprint (files as content
hashes, so renaming a File resource never replaces a job but editing its data does), its effective suffix and
its data-token count for the cost estimate; every Model its job and the name/description/archived it should
have. Hashing and token counting are injected (``HashLookup`` / ``TokenLookup``) so this module does no I/O of
its own beyond ``stat`` for file sizes, and secrets never enter: integrations keep only the *name* of the
environment variable holding the key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any, Protocol

from ftops.addresses import Address
from ftops.errors import DatasetError, Location
from ftops.evals.cases import load_cases
from ftops.evals.config import GateConfig
from ftops.evals.smoke import SmokeConfig
from ftops.fieldsets import share_fields_sets
from ftops.jobspec import (
    ClassifierTarget,
    Integration,
    JobSpec,
    TrainingFile,
    ValidationFile,
)
from ftops.manifest.matrix import MATRIX_OF
from ftops.manifest.model import Manifest
from ftops.manifest.schema import EvaluationResource, FileResource, JobResource, ModelResource
from ftops.providers import project_provider

SUFFIX_MAX = 18
# Without a token counter, ~4 bytes of JSONL per token is the usual rough guess for English chat data.
BYTES_PER_TOKEN_GUESS = 4


class HashLookup(Protocol):
    """Content hashes of dataset files (the CLI passes ``ftops.hashing.HashCache``)."""

    def sha256(self, path: Path) -> str: ...


@dataclass(frozen=True, slots=True)
class TokenCount:
    tokens: int
    exact: bool  # counted with the model's own tokenizer (False: an estimate)


class TokenLookup(Protocol):
    """Data tokens of one dataset for one base model (the CLI backs it with validate_path + the hash cache)."""

    def count(self, path: Path, sha256: str, model: str) -> TokenCount | None: ...


@dataclass(frozen=True, slots=True)
class DesiredFile:
    address: str
    path: Path  # absolute
    rel_path: str  # relative to the project root, POSIX; what plans and the lock record
    sha256: str
    bytes: int
    upload_name: str  # <stem>.<sha256[:12]>.jsonl: identical content → identical name → adoption by search
    purpose: str
    on_remove: str
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class DesiredJob:
    address: str
    name: str
    job_spec: JobSpec  # the one typed spec: plan, apply, adoption and the fingerprint all use it
    fingerprint: str
    state: str
    on_remove: str
    data_tokens: int | None
    tokens_exact: bool
    location: Location | None = None
    data_version: str = "latest"  # "pinned": once created, the job stays on the data it trained on
    sweep: str | None = None  # the matrix job it was expanded from (ftops.dev/matrix-of)

    @property
    def spec(self) -> dict[str, Any]:
        """The create request with File addresses instead of ids (display, cost estimate)."""
        return self.job_spec.request_shape()

    @property
    def fingerprint_input(self) -> dict[str, Any]:
        """What the fingerprint hashes (files as content hashes + weights, no secrets); recorded in the lock."""
        return self.job_spec.fingerprint_input()

    @property
    def suffix(self) -> str:
        return self.job_spec.suffix

    @property
    def file_addresses(self) -> tuple[str, ...]:
        return self.job_spec.file_addresses


@dataclass(frozen=True, slots=True)
class BestOfChoice:
    """``best_of``: follow the best finished job of a sweep by one metric of its last checkpoint."""

    sweep: str  # the matrix job's name
    by: str  # valid_loss | train_loss | valid_mean_token_accuracy
    candidates: tuple[str, ...]  # the sweep's job addresses


@dataclass(frozen=True, slots=True)
class DesiredModel:
    address: str
    job: str  # job address ("" for best_of until the plan has chosen one)
    name: str | None
    description: str | None
    archived: bool
    on_remove: str
    location: Location | None = None
    gate: GateConfig | None = None  # the Evaluation a new model must pass before it is named/promoted
    best_of: BestOfChoice | None = None
    smoke: SmokeConfig | None = None  # the call every new fine-tuned model must answer (None: smoke: false)

    @property
    def jobs(self) -> tuple[str, ...]:
        """Every job this Model may follow (its job, or all the jobs of its sweep)."""
        return self.best_of.candidates if self.best_of is not None else (self.job,)


@dataclass(frozen=True, slots=True)
class Desired:
    files: dict[str, DesiredFile] = field(default_factory=dict)
    jobs: dict[str, DesiredJob] = field(default_factory=dict)
    models: dict[str, DesiredModel] = field(default_factory=dict)
    evaluations: dict[str, GateConfig] = field(default_factory=dict)  # by Evaluation name
    order: tuple[str, ...] = ()  # every address, dependencies first (graphlib), ties broken by rank+name
    manifest_digest: str = ""
    moves: tuple[tuple[str, str], ...] = ()  # (from, to) of each Moved declaration, checked by the loader

    def dependencies(self, address: str) -> tuple[str, ...]:
        if address in self.jobs:
            return self.jobs[address].file_addresses
        if address in self.models:
            return self.models[address].jobs
        return ()


def upload_name(path: Path, sha256: str) -> str:
    return f"{path.stem}.{sha256[:12]}.jsonl"


def effective_suffix(name: str, suffix: str | None) -> str:
    from ftops.manifest.suffix import suffix_from_name  # the API's suffix rule (issue 12)

    return suffix if suffix else suffix_from_name(name, width=SUFFIX_MAX)


def build_desired(manifest: Manifest, *, hashes: HashLookup, tokens: TokenLookup | None) -> Desired:
    """Resolve a loaded Manifest. References are already checked by the loader."""
    root = manifest.root.resolve()  # once: resolving per file dominated re-plans of large projects
    # Keyed by each value's own address string (the same text as manifest.address_of): one string, not two.
    files = {f.address: f for f in (_file(root, r, hashes) for r in manifest.files.values())}
    provider = project_provider(root)
    jobs = {j.address: j for j in (_job(r, files, tokens, provider) for r in manifest.jobs.values())}
    evaluations = {e.metadata.name: _evaluation(manifest, root, e, hashes) for e in manifest.evaluations}
    sweeps: dict[str, list[str]] = {}
    for job in jobs.values():
        if job.sweep:
            sweeps.setdefault(job.sweep, []).append(job.address)
    models = {m.address: m for m in (_model(r, evaluations, sweeps) for r in manifest.models.values())}
    unordered = Desired(files=files, jobs=jobs, models=models)
    moves = tuple((m.spec.from_, m.spec.to) for m in manifest.moves)
    return Desired(files=files, jobs=jobs, models=models, evaluations=evaluations, order=_order(unordered),
                   manifest_digest=manifest.digest, moves=moves)


def _evaluation(manifest: Manifest, root: Path, resource: EvaluationResource, hashes: HashLookup) -> GateConfig:
    path = manifest.evaluation_path(resource)
    where = str(resource.location) if resource.location else f"evaluation.{resource.metadata.name}"
    try:
        sha = hashes.sha256(path)
    except OSError as exc:
        raise DatasetError(f"cannot read {resource.spec.path}: {exc.strerror or exc}", where=where,
                           hint="check the Evaluation's spec.path (relative to its manifest)") from None
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    # Read it now: a broken set must stop the plan, not the gate after a paid training run.
    load_cases(path)
    spec = resource.spec
    return GateConfig(evaluation=resource.metadata.name, path=rel, sha256=sha, scorer=spec.scorer,
                      pattern=spec.pattern, value=spec.value, schema_=spec.schema_, min_score=spec.min_score,
                      max_valid_loss=spec.max_valid_loss, not_worse=spec.not_worse, smoke_prompt=spec.smoke_prompt,
                      max_tokens=spec.max_tokens, parallelism=spec.parallelism)


def _file_path(root: Path, resource: FileResource) -> Path:
    # Paths are relative to the manifest file that declares them (the loader checked they stay inside root).
    raw = Path(resource.spec.path)
    if raw.is_absolute():
        return raw
    base = Path(resource.location.file).parent if resource.location else root
    if not base.is_absolute():
        base = root / base
    # normpath, not resolve(): the loader already checked the real path stays inside the project.
    return Path(os.path.normpath(base / raw))


def _file(root: Path, resource: FileResource, hashes: HashLookup) -> DesiredFile:
    path = _file_path(root, resource)
    try:
        sha = hashes.sha256(path)
        size = path.stat().st_size
    except OSError as exc:
        raise DatasetError(
            f"cannot read {resource.spec.path}: {exc.strerror or exc}",
            where=str(resource.location) if resource.location else f"file.{resource.metadata.name}",
            hint="check the File's spec.path (relative to its manifest) and the file's permissions",
        ) from None
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    return DesiredFile(
        address=f"file.{resource.metadata.name}",
        path=path,
        rel_path=rel,
        sha256=sha,
        bytes=size,
        upload_name=upload_name(path, sha),
        purpose=resource.spec.purpose,
        on_remove=resource.spec.on_remove,
        location=resource.location,
    )


def _job(resource: JobResource, files: dict[str, DesiredFile], tokens: TokenLookup | None,
         provider: str) -> DesiredJob:
    spec = resource.spec
    name = resource.metadata.name
    hp = spec.hyperparameters.model_dump(include=spec.hyperparameters.model_fields_set, exclude_none=True)
    job_spec = JobSpec(
        provider=spec.provider or provider,
        model=spec.model,
        job_type=spec.job_type,
        training=tuple(TrainingFile(file=f"file.{r.file}", sha256=files[f"file.{r.file}"].sha256, weight=r.weight)
                       for r in spec.training_files),
        validation=tuple(ValidationFile(file=f"file.{v}", sha256=files[f"file.{v}"].sha256)
                         for v in spec.validation_files),
        hyperparameters=hp,
        suffix=effective_suffix(name, spec.suffix),
        integrations=tuple(Integration(**i.model_dump(exclude_none=True)) for i in spec.integrations),
        classifier_targets=None if spec.classifier_targets is None else tuple(
            ClassifierTarget(name=t.name, labels=tuple(t.labels), weight=t.weight, loss_function=t.loss_function)
            for t in spec.classifier_targets),
        invalid_sample_skip_percentage=spec.invalid_sample_skip_percentage,
    )
    share_fields_sets(job_spec)  # carried by the plan's changes too: 10,000 of them add up
    data_tokens, exact = _data_tokens(spec.model, [files[t.file] for t in job_spec.training], tokens)
    return DesiredJob(
        address=f"job.{name}",
        name=name,
        job_spec=job_spec,
        fingerprint=job_spec.fingerprint,
        state=spec.state,
        on_remove=spec.on_remove,
        data_tokens=data_tokens,
        tokens_exact=exact,
        location=resource.location,
        data_version=spec.data_version,
        sweep=resource.metadata.annotations.get(MATRIX_OF),
    )


def _data_tokens(model: str, training: list[DesiredFile], tokens: TokenLookup | None) -> tuple[int | None, bool]:
    """Sum over distinct training files (the API counts each file's tokens once, whatever its weight)."""
    total, exact = 0, True
    for f in {f.address: f for f in training}.values():
        counted = tokens.count(f.path, f.sha256, model) if tokens is not None else None
        if counted is None:
            total += max(1, f.bytes // BYTES_PER_TOKEN_GUESS)
            exact = False
        else:
            total += counted.tokens
            exact = exact and counted.exact
    return total, exact


def _model(resource: ModelResource, evaluations: dict[str, GateConfig],
           sweeps: dict[str, list[str]]) -> DesiredModel:
    spec = resource.spec
    best_of = None if spec.best_of is None else BestOfChoice(
        sweep=spec.best_of.sweep, by=spec.best_of.by, candidates=tuple(sorted(sweeps.get(spec.best_of.sweep, []))))
    return DesiredModel(
        address=f"model.{resource.metadata.name}",
        job=f"job.{spec.job}" if spec.job is not None else "",
        name=spec.name,
        description=spec.description,
        archived=spec.archived,
        on_remove=spec.on_remove,
        location=resource.location,
        gate=evaluations[spec.gate] if spec.gate is not None else None,
        best_of=best_of,
        smoke=None if spec.smoke is False else SmokeConfig() if spec.smoke is True
        else SmokeConfig(prompt=spec.smoke.prompt, expect=spec.smoke.expect),
    )


def _order(desired: Desired) -> tuple[str, ...]:
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for address in [*desired.files, *desired.jobs, *desired.models]:
        sorter.add(address, *desired.dependencies(address))
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda a: (Address.parse(a).rank, a))
        order.extend(ready)
        sorter.done(*ready)
    return tuple(order)
