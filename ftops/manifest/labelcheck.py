"""Classifier targets against the labels in the data, for ``ftops validate`` (issue 12).

Every label a classifier job declares must occur in its training data, and every label the data uses must be
declared: targets ``[short, lengthy]`` against data labelled ``short``/``long`` would otherwise pass, upload
and train. Each problem is reported at the job's ``spec.classifier_targets`` and names the dataset file and
line (the first line with an undeclared label). Rows that are not valid JSON objects are the dataset
validator's business and are skipped here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ftops.errors import Diagnostic
from ftops.manifest import codes
from ftops.manifest.model import Manifest
from ftops.manifest.schema import JobResource

_MAX_LINES = 1_000_000  # bound the scan on huge files; the first million rows show any mismatch in practice


@dataclass
class _Seen:
    first_line: dict[tuple[str, str], int] = field(default_factory=dict)  # (target, label) → first line
    targets: dict[str, int] = field(default_factory=dict)  # target → first line


def _labels(path: Path) -> _Seen:
    seen = _Seen()
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if number > _MAX_LINES:
                break
            try:
                row = json.loads(raw)
            except ValueError:
                continue
            labels = row.get("labels") if isinstance(row, dict) else None
            if not isinstance(labels, dict):
                continue
            for target, value in labels.items():
                seen.targets.setdefault(str(target), number)
                for label in value if isinstance(value, list) else [value]:
                    if isinstance(label, str | int | float | bool):
                        seen.first_line.setdefault((str(target), str(label)), number)
    return seen


def _shown(manifest: Manifest, path: Path) -> str:
    try:
        return path.relative_to(manifest.root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _problems(manifest: Manifest, job: JobResource) -> Iterator[tuple[str, str]]:
    """(message, hint) for each disagreement between the job's targets and its training data."""
    declared = {t.name: set(t.labels) for t in job.spec.classifier_targets or []}
    used: dict[tuple[str, str], str] = {}  # (target, label) → "file:line"
    targets_used: dict[str, str] = {}
    for ref in job.spec.training_files:
        if ref.file not in manifest.files:
            continue
        path = manifest.file_path(ref.file)
        try:
            seen = _labels(path)
        except OSError:
            continue  # reported by the dataset check
        shown = _shown(manifest, path)
        for key, line in seen.first_line.items():
            used.setdefault(key, f"{shown}:{line}")
        for target, line in seen.targets.items():
            targets_used.setdefault(target, f"{shown}:{line}")
    for target, where in sorted(targets_used.items()):
        if target not in declared:
            yield (f"{where}: the data labels target '{target}', which classifier_targets does not declare",
                   f"add {{name: {target}, labels: [...]}} to classifier_targets, or remove it from the data")
    for (target, label), where in sorted(used.items()):
        if target in declared and label not in declared[target]:
            yield (f"{where}: label '{label}' of target '{target}' is not in its labels "
                   f"{sorted(declared[target])}", f"add '{label}' to the labels of '{target}' (or fix the data)")
    for target, labels in sorted(declared.items()):
        for label in sorted(labels):
            if (target, label) not in used:
                yield (f"target '{target}' declares label '{label}', which no training row has",
                       f"remove '{label}' or add rows labelled with it (a typo of "
                       f"{sorted(lab for (t, lab) in used if t == target) or 'nothing'}?)")


def check_classifier_labels(manifest: Manifest) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    reported: set[str] = set()  # matrix jobs share targets and data: one report each
    for job in manifest.jobs.values():
        if job.spec.job_type != "classifier" or not job.spec.classifier_targets:
            continue
        address = str(manifest.address_of(job))
        where = manifest.location_of(address, "spec.classifier_targets")
        for message, hint in _problems(manifest, job):
            if message in reported:
                continue
            reported.add(message)
            out.append(Diagnostic(codes.CLASSIFIER_LABELS, message, where, address, hint))
    return out
