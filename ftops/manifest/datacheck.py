"""Checking the datasets a loaded manifest names, for ``ftops validate``.

Each File's JSONL is validated with :func:`ftops.datasets.validate_path` (as classifier data when a classifier
job trains on it) and its problems become diagnostics at the File's ``spec.path`` in the manifest, each
naming the dataset line. At most :data:`MAX_PER_FILE` per file are listed, then one line with the count.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ftops.datasets import ValidationReport, validate_path
from ftops.datasets.report import DataKind
from ftops.errors import Diagnostic, FtopsError
from ftops.manifest import codes
from ftops.manifest.labelcheck import check_classifier_labels
from ftops.manifest.model import Manifest
from ftops.manifest.schema import FileResource

MAX_PER_FILE = 20


@dataclass
class DataCheck:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    reports: dict[str, ValidationReport] = field(default_factory=dict)  # File name → its report


def _usage(manifest: Manifest, name: str) -> tuple[DataKind | None, str | None]:
    """How jobs use a File: classifier data if any classifier job trains on it; the first job's model."""
    kind: DataKind | None = None
    model = None
    for job in manifest.jobs.values():
        names = {t.file for t in job.spec.training_files} | set(job.spec.validation_files)
        if name in names:
            model = model or job.spec.model
            if job.spec.job_type == "classifier":
                kind = "classifier"
    return kind, model


def check_datasets(manifest: Manifest, *, count_tokens: bool = False) -> DataCheck:
    out = DataCheck()
    for name, file in manifest.files.items():
        report = _check_one(manifest, name, file, out, count_tokens=count_tokens)
        if report is not None:
            out.reports[name] = report
    out.diagnostics.extend(check_classifier_labels(manifest))
    return out


def _check_one(
    manifest: Manifest, name: str, file: FileResource, out: DataCheck, *, count_tokens: bool
) -> ValidationReport | None:
    address = f"file.{name}"
    where = manifest.location_of(address, "spec.path")
    kind, model = _usage(manifest, name)
    path = manifest.file_path(file)
    try:
        report = validate_path(path, kind=kind, model=model, count_tokens=count_tokens, workers=os.cpu_count() or 1)
    except (OSError, FtopsError) as exc:
        reason = exc.message if isinstance(exc, FtopsError) else (exc.strerror or str(exc))
        out.diagnostics.append(Diagnostic(codes.DATASET_UNREADABLE, f"cannot read dataset {file.spec.path}: {reason}",
                                          where, address, "check that the file exists and is readable"))
        return None
    try:
        shown = path.relative_to(manifest.root.resolve()).as_posix()
    except ValueError:
        shown = str(path)
    for err in report.errors[:MAX_PER_FILE]:
        out.diagnostics.append(Diagnostic(err.code, f"{shown}:{err.line}: {err.message}", where, address,
                                          f"see {err.code} in docs/dataset-errors.md"))
    total = max(report.error_total, len(report.errors))
    if total > MAX_PER_FILE:
        out.diagnostics.append(Diagnostic(codes.DATASET_TRUNCATED,
                                          f"{shown}: {total - MAX_PER_FILE:,} more dataset errors not shown",
                                          where, address, f"run `ftops data validate {shown}` to see all of them"))
    return report
