"""Expanding a FineTuningJob's ``matrix`` into one job per hyperparameter combination.

``matrix: {learning_rate: [1e-4, 1e-5], training_steps: [10, 20]}`` on job ``sweep`` becomes ``sweep-1`` …
``sweep-4`` (cartesian product in the written key order, i from 1). Each expanded job carries the
combination in its hyperparameters (as user-set fields, so they are sent and diffed) and a distinct
suffix: the base suffix (or the job name) cut so ``-<i>`` still fits the API's 18 characters. Annotations
``ftops.dev/matrix-of`` and ``ftops.dev/matrix-values`` record where a job came from.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from pydantic import ValidationError

from ftops.manifest import codes
from ftops.manifest._report import Source, did_you_mean
from ftops.manifest.schema import NAME_PATTERN, Hyperparameters, JobResource
from ftops.manifest.suffix import suffix_from_name

SUFFIX_MAX = 18
MATRIX_OF = "ftops.dev/matrix-of"
MATRIX_VALUES = "ftops.dev/matrix-values"


def _check(job: JobResource, source: Source) -> dict[str, list[Any]] | None:
    """The matrix with every value validated and coerced, or None after reporting its problems."""
    matrix = job.spec.matrix or {}
    allowed = list(Hyperparameters.model_fields)
    already = job.spec.hyperparameters.model_fields_set
    ok = True
    out: dict[str, list[Any]] = {}
    for key, values in matrix.items():
        path: tuple[str | int, ...] = ("spec", "matrix", key)
        if key not in allowed:
            guess = did_you_mean(key, allowed)
            hint = f"did you mean '{guess}'?" if guess else f"matrix keys are hyperparameters: {', '.join(allowed)}"
            source.report(codes.MATRIX_UNKNOWN_KEY, f"matrix key '{key}' is not a hyperparameter", path, key=True,
                          hint=hint)
            ok = False
            continue
        if key in already:
            source.report(codes.MATRIX_KEY_TWICE, f"'{key}' is set both in matrix and in hyperparameters", path,
                          key=True, hint=f"remove '{key}' from hyperparameters or from matrix")
            ok = False
        if not values:
            source.report(codes.MATRIX_EMPTY, f"matrix key '{key}' has no values", path,
                          hint=f"list at least one value, e.g. {key}: [{Hyperparameters.model_fields[key].default}]")
            ok = False
            continue
        out[key] = []
        for i, value in enumerate(values):
            try:
                checked = Hyperparameters.model_validate({key: value})
            except ValidationError as exc:
                ok = False
                description = Hyperparameters.model_fields[key].description
                source.report(codes.MATRIX_BAD_VALUE, f"matrix.{key}[{i}]: {exc.errors()[0]['msg']} (got {value!r})",
                              (*path, i), hint=description)
                continue
            out[key].append(getattr(checked, key))
    return out if ok else None


def expanded_suffix(base: str, index: int, count: int, *, from_name: bool = False) -> str:
    """``base`` cut so ``-<index>`` fits in 18 characters (the width of the largest index is reserved).

    A base taken from the job's name is first sanitised into the API's suffix rule (see ``suffix.py``).
    """
    width = len(f"-{count}")
    if from_name:
        return f"{suffix_from_name(base, width=SUFFIX_MAX - width)}-{index}"
    return f"{base[: SUFFIX_MAX - width]}-{index}"


def expand(job: JobResource, source: Source) -> list[JobResource]:
    """The jobs a matrix job stands for (``[job]`` when it has no matrix; ``[]`` after reporting errors)."""
    if not job.spec.matrix:
        if job.spec.matrix is not None:
            source.report(codes.MATRIX_EMPTY, "matrix is empty", ("spec", "matrix"),
                          hint="list hyperparameters to sweep, e.g. learning_rate: [1e-4, 1e-5], or remove matrix")
            return []
        return [job]
    matrix = _check(job, source)
    if matrix is None:
        return []
    combos = list(itertools.product(*matrix.values()))
    name = job.metadata.name
    base_hyper = job.spec.hyperparameters.model_dump(exclude_unset=True)
    spec_fields = job.spec.model_dump(exclude_unset=True, exclude={"matrix", "hyperparameters", "suffix"})
    meta = job.metadata.model_dump(exclude_unset=True)
    out: list[JobResource] = []
    for i, combo in enumerate(combos, start=1):
        values = dict(zip(matrix, combo, strict=True))
        new_name = f"{name}-{i}"
        if not re.match(NAME_PATTERN, new_name):
            source.report(codes.BAD_NAME, f"expanded job name '{new_name}' is too long", ("metadata", "name"),
                          hint="matrix jobs are named <name>-<i>; shorten metadata.name to fit 63 characters")
            return []
        annotations = {**meta.get("annotations", {}), MATRIX_OF: name, MATRIX_VALUES: json.dumps(values)}
        out.append(
            JobResource.model_validate(
                {
                    "apiVersion": job.apiVersion,
                    "kind": job.kind,
                    "metadata": {**meta, "name": new_name, "annotations": annotations},
                    "spec": {
                        **spec_fields,
                        "hyperparameters": {**base_hyper, **values},
                        "suffix": expanded_suffix(job.spec.suffix or name, i, len(combos),
                                              from_name=not job.spec.suffix),
                    },
                    "location": job.location,
                }
            )
        )
    return out
