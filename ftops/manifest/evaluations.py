"""Checks of ``Evaluation`` documents and of what Models ask of them (``gate``) and of sweeps (``best_of``).

An Evaluation names a JSONL set that must exist inside the project (like a File's path), and a scorer with
the parameter it needs (``regex`` a compilable ``pattern``, ``json_schema`` a ``schema``). A Model's ``gate``
must name a declared Evaluation; a Model follows exactly one of ``job`` and ``best_of``, and ``best_of.sweep``
must name a FineTuningJob with a ``matrix``; a Model's ``smoke.expect`` must compile. Each problem is
reported at its field with a hint.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ftops.manifest import codes
from ftops.manifest._report import Source, did_you_mean
from ftops.manifest.checks import Entry
from ftops.manifest.matrix import MATRIX_OF
from ftops.manifest.schema import EvaluationResource, ModelResource


@dataclass(frozen=True)
class EvaluationEntry:
    """One loaded Evaluation document and where it was written."""

    resource: EvaluationResource
    source: Source
    manifest_dir: Path  # the set's path is relative to the manifest file's folder

    @property
    def name(self) -> str:
        return self.resource.metadata.name


def check_evaluations(evaluations: list[EvaluationEntry], entries: Iterable[Entry], *, root: Path,
                      broken: Iterable[str] = ()) -> None:
    entries = list(entries)
    resolved_root = root.resolve()
    seen: dict[str, EvaluationEntry] = {}
    for evaluation in evaluations:
        if evaluation.name in seen:
            where = seen[evaluation.name].source.location(("metadata", "name"))
            evaluation.source.report(codes.DUPLICATE_NAME, f"Evaluation '{evaluation.name}' is defined twice: here "
                                     f"and at {where}", ("metadata", "name"), hint="rename one of the two")
        seen.setdefault(evaluation.name, evaluation)
        _check_path(evaluation, resolved_root)
        _check_scorer(evaluation)
    known = set(seen) | {a.partition(".")[2] for a in broken if a.startswith("evaluation.")}
    sweeps = {e.resource.metadata.annotations[MATRIX_OF] for e in entries
              if MATRIX_OF in e.resource.metadata.annotations}
    jobs = {e.resource.metadata.name for e in entries if e.resource.kind == "FineTuningJob"}
    for entry in entries:
        if isinstance(entry.resource, ModelResource):
            _check_model(entry.resource, entry.source, known, sweeps, jobs)


def _check_path(evaluation: EvaluationEntry, root: Path) -> None:
    raw = evaluation.resource.spec.path
    target = (evaluation.manifest_dir / raw).resolve()
    path = ("spec", "path")
    if not target.is_relative_to(root):
        evaluation.source.report(codes.PATH_ESCAPES_ROOT, f"path '{raw}' points outside the project ({root})", path,
                                 hint="keep evaluation sets inside the project root (symlinks are followed)")
    elif not target.is_file():
        shown = target.relative_to(root).as_posix()
        evaluation.source.report(codes.FILE_NOT_FOUND, f"evaluation set '{raw}' does not exist (looked for {shown})",
                                 path, hint="paths are relative to the folder of the manifest file that names them")


def _check_scorer(evaluation: EvaluationEntry) -> None:
    spec = evaluation.resource.spec
    report = evaluation.source.report
    if spec.scorer == "regex":
        if spec.pattern is None:
            report(codes.EVAL_SCORER_PARAMETER, "the regex scorer needs a pattern", ("spec", "scorer"),
                   hint="add pattern: '<regular expression an answer must match>'")
        else:
            try:
                re.compile(spec.pattern)
            except re.error as exc:
                report(codes.EVAL_SCORER_PARAMETER, f"pattern is not a valid regular expression: {exc}",
                       ("spec", "pattern"), hint="fix the pattern (Python `re` syntax; quote it in YAML)")
    if spec.scorer == "json_schema" and spec.schema_ is None:
        report(codes.EVAL_SCORER_PARAMETER, "the json_schema scorer needs a schema", ("spec", "scorer"),
               hint="add schema: {type: object, required: [answer]} (a JSON Schema as YAML)")
    for name, wanted in (("pattern", "regex"), ("value", "contains"), ("schema", "json_schema")):
        given = spec.schema_ if name == "schema" else getattr(spec, name)
        if given is not None and spec.scorer != wanted:
            report(codes.EVAL_SCORER_PARAMETER, f"`{name}` is only used by the {wanted} scorer (scorer is "
                   f"{spec.scorer})", ("spec", name), key=True, hint=f"set scorer: {wanted}, or remove `{name}`")


def _check_model(model: ModelResource, source: Source, evaluations: set[str], sweeps: set[str],
                 jobs: set[str]) -> None:
    spec = model.spec
    if (spec.job is None) == (spec.best_of is None):
        both = spec.job is not None
        source.report(codes.MODEL_JOB_OR_BEST_OF,
                      "a Model sets both `job` and `best_of`" if both else "a Model needs `job` or `best_of`",
                      ("spec", "best_of") if both else ("spec",), key=both,
                      hint="follow one job (job: NAME) or the best job of a sweep (best_of: {sweep: NAME, "
                      "by: valid_loss}), not both" if both else "add job: <FineTuningJob name>")
    if spec.best_of is not None and spec.best_of.sweep not in sweeps:
        sweep = spec.best_of.sweep
        guess = did_you_mean(sweep, sweeps)
        if sweep in jobs:
            hint = f"'{sweep}' is a single job: use job: {sweep}" + (f" (the sweep is '{guess}')" if guess else "")
        else:
            hint = f"did you mean '{guess}'?" if guess else "best_of.sweep names a FineTuningJob that has a `matrix`"
        source.report(codes.BEST_OF_NOT_SWEEP, f"no matrix FineTuningJob named '{sweep}'",
                      ("spec", "best_of", "sweep"), hint=hint)
    if not isinstance(spec.smoke, bool) and spec.smoke.expect is not None:
        try:
            re.compile(spec.smoke.expect)
        except re.error as exc:
            source.report(codes.SMOKE_EXPECT, f"smoke.expect is not a valid regular expression: {exc}",
                          ("spec", "smoke", "expect"), hint="fix the pattern (Python `re` syntax; quote it in YAML)")
    if spec.gate is not None and spec.gate not in evaluations:
        guess = did_you_mean(spec.gate, evaluations)
        source.report(codes.DANGLING_REFERENCE, f"no Evaluation named '{spec.gate}'", ("spec", "gate"),
                      hint=f"did you mean '{guess}'?" if guess else
                      f"declare kind: Evaluation with metadata.name: {spec.gate}")
