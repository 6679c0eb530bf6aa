"""Checks across resources and against the disk, run after every document parsed on its own.

Names unique per kind, references that resolve (with did-you-mean), no reference cycles (generic graph
check via graphlib), File paths that exist inside the project, the job-type rules of the API (classifier vs
completion), one of ``training_steps``/``epochs``, secrets by env-var name only, one Model per job and per
model name. Every check reports on the :class:`Source` of the resource it concerns.
"""

from __future__ import annotations

import graphlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftops.addresses import MANIFEST_KINDS
from ftops.manifest import codes
from ftops.manifest._pydantic import SECRET_HINT
from ftops.manifest._report import Source, did_you_mean
from ftops.manifest.matrix import MATRIX_OF
from ftops.manifest.schema import FileResource, JobResource, ModelResource, Resource
from ftops.manifest.suffix import SUFFIX_RULE, is_valid_suffix
from ftops.pricing import CLASSIFIER_MODELS, base_model_of, fine_tunable

_LOOKS_LIKE_KEY = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True, slots=True)
class Entry:
    """One loaded resource (after matrix expansion) and the document it came from."""

    resource: Resource
    source: Source
    manifest_dir: Path  # absolute folder of the manifest file: File paths are relative to it

    @property
    def address(self) -> str:
        return f"{MANIFEST_KINDS[self.resource.kind]}.{self.resource.metadata.name}"


def find_cycles(graph: Mapping[str, Iterable[str]], *, limit: int = 20) -> list[list[str]]:
    """Every independent cycle in ``graph`` (node → the nodes it depends on), each as ``[a, b, …, a]``.

    graphlib names one cycle at a time; we cut one of its edges and look again, so several loops are all
    reported in one run. ``limit`` bounds the work on pathological input.
    """
    edges = {node: set(deps) for node, deps in graph.items()}
    cycles: list[list[str]] = []
    while len(cycles) < limit:
        try:
            graphlib.TopologicalSorter(edges).prepare()
            break
        except graphlib.CycleError as exc:
            cycle = list(exc.args[1])
            cycles.append(cycle)
            # graphlib lists the cycle as [n0, n1, ..., n0] where each node depends on the one before it.
            edges.setdefault(cycle[1], set()).discard(cycle[0])
    return cycles


def dependency_graph(entries: Iterable[Entry]) -> dict[str, set[str]]:
    """address → addresses it references (jobs → files, models → jobs)."""
    graph: dict[str, set[str]] = {}
    entries = list(entries)
    sweeps = _matrix_parents(entries)
    for e in entries:
        r = e.resource
        deps: set[str] = set()
        if isinstance(r, JobResource):
            deps = {f"file.{t.file}" for t in r.spec.training_files} | {f"file.{v}" for v in r.spec.validation_files}
        elif isinstance(r, ModelResource) and r.spec.job is not None:
            deps = {f"job.{r.spec.job}"}
        elif isinstance(r, ModelResource) and r.spec.best_of is not None:
            deps = {f"job.{name}" for name in sweeps.get(r.spec.best_of.sweep, [])}
        graph[e.address] = deps
    return graph


def check_all(
    entries: list[Entry], *, root: Path, broken: Iterable[str] = (), sources: Iterable[Source] = (),
    provider: str = "mistral",
) -> None:
    """Run every cross-resource and disk check.

    ``broken`` are addresses whose documents had errors (they exist, so references to them are fine);
    ``sources`` are all documents of a known kind, valid or not, whose references are checked; ``provider``
    is the project's (a job on another provider is checked by ``provider_checks``, not against Mistral's models).
    """
    _check_duplicates(entries)
    _check_references(entries, set(broken), sources)
    by_address = {e.address: e for e in entries}
    for cycle in find_cycles(dependency_graph(entries)):
        shown = list(reversed(cycle))  # read as "a references b references … a"
        if shown[0] in by_address:
            by_address[shown[0]].source.report(
                codes.REFERENCE_CYCLE, "reference cycle: " + " → ".join(shown),
                hint="resources must not reference each other in a loop; remove one of the references",
            )
    resolved_root = root.resolve()
    reported: set[tuple[int, str]] = set()  # matrix jobs share a document: report each problem once
    for e in entries:
        if isinstance(e.resource, FileResource):
            _check_path(e, e.resource, resolved_root)
        elif isinstance(e.resource, JobResource):
            _check_job(e.resource, e.source, reported, mistral=(e.resource.spec.provider or provider) == "mistral")
    _check_models(entries)


def _check_duplicates(entries: list[Entry]) -> None:
    first: dict[str, Entry] = {}
    for e in entries:
        address = e.address
        name = e.resource.metadata.name
        if address not in first:
            first[address] = e
            continue
        other = first[address]
        expanded = [x for x in (e, other) if MATRIX_OF in x.resource.metadata.annotations]
        where = other.source.location(("metadata", "name"))
        if expanded:
            parent = expanded[0].resource.metadata.annotations[MATRIX_OF]
            e.source.report(codes.MATRIX_NAME_CLASH,
                            f"matrix job '{parent}' expands to '{name}', which is also defined at {where}",
                            ("metadata", "name"), hint=f"rename '{parent}' or the other {e.resource.kind}")
        else:
            e.source.report(codes.DUPLICATE_NAME,
                            f"{e.resource.kind} '{name}' is defined twice: here and at {where}",
                            ("metadata", "name"), hint=f"names are unique per kind; rename one of the two '{name}'")


def _matrix_parents(entries: Iterable[Entry]) -> dict[str, list[str]]:
    parents: dict[str, list[str]] = {}
    for e in entries:
        parent = e.resource.metadata.annotations.get(MATRIX_OF)
        if parent:
            parents.setdefault(parent, []).append(e.resource.metadata.name)
    return parents


def _check_references(entries: list[Entry], broken: set[str], sources: Iterable[Source]) -> None:
    files = {e.resource.metadata.name for e in entries if isinstance(e.resource, FileResource)}
    jobs = {e.resource.metadata.name for e in entries if isinstance(e.resource, JobResource)}
    files |= {a.partition(".")[2] for a in broken if a.startswith("file.")}
    jobs |= {a.partition(".")[2] for a in broken if a.startswith("job.")}
    parents = _matrix_parents(entries)

    broken_jobs = [a.partition(".")[2] for a in broken if a.startswith("job.")]

    def check(source: Source, name: str, known: set[str], kind: str, path: tuple[str | int, ...]) -> None:
        if name in known:
            return
        if kind == "FineTuningJob" and any(re.fullmatch(rf"{re.escape(b)}-\d+", name) for b in broken_jobs):
            return  # a job of a matrix that had errors: already reported there
        if kind == "FineTuningJob" and name in parents:
            children = parents[name]
            hint = f"'{name}' is a matrix; reference one of its jobs: {', '.join(children[:6])}"
            hint += " …" if len(children) > 6 else ""
        else:
            guess = did_you_mean(name, known)
            hint = f"did you mean '{guess}'?" if guess else f"define a {kind} with metadata.name: {name}"
        source.report(codes.DANGLING_REFERENCE, f"no {kind} named '{name}'", path, hint=hint)

    for source in sources:
        for name, kind, path in source.references:
            check(source, name, files if kind == "File" else jobs, kind, path)


def raw_references(data: Any) -> Iterator[tuple[str, str, tuple[str | int, ...]]]:
    """(name, kind, path) of each reference written in a document, read from the YAML data itself so that
    documents with other errors still get their references checked in the same run."""
    spec = data.get("spec") if isinstance(data, dict) else None
    if not isinstance(spec, dict):
        return
    if data.get("kind") == "FineTuningJob":
        training = spec.get("training_files")
        for i, item in enumerate(training if isinstance(training, list) else []):
            if isinstance(item, dict) and isinstance(item.get("file"), str):
                yield item["file"], "File", ("spec", "training_files", i, "file")
        validation = spec.get("validation_files")
        for i, item in enumerate(validation if isinstance(validation, list) else []):
            if isinstance(item, str):
                yield item, "File", ("spec", "validation_files", i)
    elif data.get("kind") == "Model" and isinstance(spec.get("job"), str):
        yield spec["job"], "FineTuningJob", ("spec", "job")


def _check_path(entry: Entry, file: FileResource, root: Path) -> None:
    path = ("spec", "path")
    try:  # a symlink loop raises RuntimeError, a name over 255 bytes OSError (ENAMETOOLONG)
        target = (entry.manifest_dir / file.spec.path).resolve()
        target.is_file()
    except (OSError, RuntimeError) as exc:
        why = "a symlink loop" if isinstance(exc, RuntimeError) else (exc.strerror or str(exc)).lower()
        entry.source.report(codes.FILE_NOT_FOUND, f"dataset path cannot be resolved: {why}", path,
                            hint="point path at a .jsonl file (names up to 255 bytes, no symlink loops)")
        return
    if not target.is_relative_to(root):
        entry.source.report(codes.PATH_ESCAPES_ROOT, f"path '{file.spec.path}' points outside the project ({root})",
                            path, hint="keep datasets inside the project root (symlinks are followed)")
    elif not target.exists():
        shown = target.relative_to(root).as_posix()
        entry.source.report(codes.FILE_NOT_FOUND, f"dataset '{file.spec.path}' does not exist (looked for {shown})",
                            path, hint="paths are relative to the folder of the manifest file that names them")
    elif not target.is_file():
        entry.source.report(codes.FILE_NOT_FOUND, f"dataset '{file.spec.path}' is not a file", path,
                            hint="point path at a .jsonl file")


def _check_model(spec: Any, source: Source) -> None:
    """``model`` must be a base model the API fine-tunes for this job type (offline: the rate table)."""
    known = fine_tunable(spec.job_type)
    base = base_model_of(spec.model)
    if base is not None and (spec.job_type != "classifier" or base in CLASSIFIER_MODELS):
        return
    if spec.job_type == "classifier" and base is not None:
        source.report(codes.CLASSIFIER_MODEL, f"classifier jobs cannot run on '{spec.model}'", ("spec", "model"),
                      hint=f"set model: {CLASSIFIER_MODELS[0]}")
        return
    guess = did_you_mean(spec.model, known)
    choices = ", ".join(known)
    hint = f"did you mean '{guess}'? Fine-tunable: {choices}" if guess else f"use one of: {choices}"
    source.report(codes.UNKNOWN_BASE_MODEL,
                  f"'{spec.model}' is not a base model Mistral fine-tunes for {spec.job_type} jobs",
                  ("spec", "model"), hint=hint)


def _check_suffix(spec: Any, source: Source) -> None:
    if spec.suffix is not None and len(spec.suffix) <= 18 and not is_valid_suffix(spec.suffix):
        bad = sorted({c for c in spec.suffix if not (c.isascii() and (c.isalnum() or c in "_-"))})
        shown = " ".join(repr(c) for c in bad)
        source.report(codes.BAD_SUFFIX, f"suffix '{spec.suffix}' has characters the API refuses: {shown}",
                      ("spec", "suffix"), hint=f"the suffix allows {SUFFIX_RULE}; e.g. "
                      f"'{''.join(c if c not in bad else '-' for c in spec.suffix)}'")


def _check_job(job: JobResource, source: Source, reported: set[tuple[int, str]] | None = None, *,
               mistral: bool = True) -> None:
    spec = job.spec
    hyper = spec.hyperparameters.model_fields_set
    matrix = spec.matrix or {}
    seen = reported if reported is not None else set()
    for key, check in (("model", _check_model), ("suffix", _check_suffix)):
        if key == "model" and not mistral:
            continue  # Mistral's base models and rate table say nothing about another provider's models
        if (id(source), key) not in seen:
            seen.add((id(source), key))
            check(spec, source)

    def where(key: str) -> tuple[str, ...]:
        return ("spec", "matrix", key) if key in matrix else ("spec", "hyperparameters", key)

    if spec.job_type == "classifier":
        if spec.hyperparameters.fim_ratio is not None:
            source.report(codes.FIM_RATIO_NOT_COMPLETION, "fim_ratio is only for completion jobs", where("fim_ratio"),
                          key=True, hint="remove fim_ratio from this classifier job")
        if not spec.classifier_targets:
            source.report(codes.CLASSIFIER_NEEDS_TARGETS, "a classifier job needs classifier_targets",
                          ("spec", "job_type"),
                          hint="add classifier_targets: [{name: intent, labels: [billing, bug, other]}]")
    elif spec.classifier_targets is not None:
        source.report(codes.TARGETS_ON_COMPLETION, "classifier_targets on a completion job",
                      ("spec", "classifier_targets"), key=True,
                      hint="set job_type: classifier, or remove classifier_targets")
    if {"training_steps", "epochs"} <= (hyper | set(matrix)):
        source.report(codes.STEPS_AND_EPOCHS, "both training_steps and epochs are set", where("epochs"), key=True,
                      hint="choose one: the API derives the other (epochs = steps × tokens per step / data tokens)")
    for i, integration in enumerate(spec.integrations):
        if _LOOKS_LIKE_KEY.match(integration.api_key_env):
            source.report(codes.LITERAL_SECRET, f"integrations[{i}].api_key_env looks like a key, not a variable name",
                          ("spec", "integrations", i, "api_key_env"), hint=SECRET_HINT)


def _check_models(entries: list[Entry]) -> None:
    by_job: dict[str, Entry] = {}
    by_name: dict[str, Entry] = {}
    for e in entries:
        r = e.resource
        if not isinstance(r, ModelResource) or r.spec.job is None:
            continue
        if r.spec.job in by_job:
            other = by_job[r.spec.job]
            e.source.report(codes.MODELS_SHARE_JOB,
                            f"Models '{other.resource.metadata.name}' and '{r.metadata.name}' both point at job "
                            f"'{r.spec.job}' (other at {other.source.location(('spec', 'job'))})",
                            ("spec", "job"), hint="a job produces one fine-tuned model; keep one Model per job")
        else:
            by_job[r.spec.job] = e
        if r.spec.name is None:
            continue
        if r.spec.name in by_name:
            other = by_name[r.spec.name]
            e.source.report(codes.MODEL_NAME_TWICE,
                            f"model name '{r.spec.name}' is also given by Model '{other.resource.metadata.name}' "
                            f"at {other.source.location(('spec', 'name'))}",
                            ("spec", "name"), hint="give each Model its own name")
        else:
            by_name[r.spec.name] = e
