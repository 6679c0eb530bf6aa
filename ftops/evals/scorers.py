"""Built-in scorers: each turns (case, answer) into a score between 0 and 1.

``exact`` (the whole answer, whitespace-trimmed), ``contains`` (the expected text, or a fixed ``value``,
anywhere in the answer, case-insensitive), ``regex`` (a pattern matches), ``json_schema`` (the answer is JSON
valid against a schema) and ``classifier_accuracy`` (the share of targets whose top label is the expected one;
multi-label targets: the labels scored ≥ 0.5 equal the expected set). A validation-loss threshold is not a
per-case scorer: it is read from the job's checkpoints by the gate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ftops.errors import ConfigError
from ftops.evals.cases import EvalCase

SCORERS = ("exact", "contains", "regex", "json_schema", "classifier_accuracy")


@dataclass(frozen=True)
class ScorerSpec:
    kind: str = "exact"
    pattern: str | None = None  # regex
    value: str | None = None  # contains: a fixed text instead of the case's expected answer
    schema: Mapping[str, Any] | None = field(default=None, hash=False)  # json_schema


Scorer = Callable[[EvalCase, str, Mapping[str, Mapping[str, float]] | None], float]


def _exact(case: EvalCase, answer: str, _: Any) -> float:
    return float(answer.strip() == (case.expected or "").strip())


def _contains(value: str | None) -> Scorer:
    def score(case: EvalCase, answer: str, _: Any) -> float:
        needle = (value if value is not None else case.expected or "").strip().lower()
        return float(bool(needle) and needle in answer.lower())

    return score


def _regex(pattern: str) -> Scorer:
    compiled = re.compile(pattern, re.DOTALL)

    def score(case: EvalCase, answer: str, _: Any) -> float:
        return float(compiled.search(answer) is not None)

    return score


def _json_schema(schema: Mapping[str, Any]) -> Scorer:
    import jsonschema  # a core dependency; imported here because only this scorer needs it

    validator = jsonschema.Draft202012Validator(dict(schema))

    def score(case: EvalCase, answer: str, _: Any) -> float:
        try:
            document = json.loads(answer)
        except ValueError:
            return 0.0
        return float(validator.is_valid(document))

    return score


def _classifier_accuracy(case: EvalCase, _: str, scores: Mapping[str, Mapping[str, float]] | None) -> float:
    if not case.labels:
        return 0.0
    hits = 0
    for target, want in case.labels.items():
        got = (scores or {}).get(target) or {}
        if isinstance(want, list):
            hits += {k for k, v in got.items() if v >= 0.5} == set(want)
        elif got:
            hits += max(sorted(got), key=lambda k: got[k]) == want
    return hits / len(case.labels)


def make_scorer(spec: ScorerSpec) -> Scorer:
    if spec.kind == "exact":
        return _exact
    if spec.kind == "contains":
        return _contains(spec.value)
    if spec.kind == "regex":
        if not spec.pattern:
            raise ConfigError("the regex scorer needs a pattern", hint="set pattern: (or --pattern) to a regex")
        try:
            return _regex(spec.pattern)
        except re.error as exc:
            raise ConfigError(f"the regex scorer's pattern does not compile: {exc}", hint="fix the pattern") from None
    if spec.kind == "json_schema":
        if spec.schema is None:
            raise ConfigError("the json_schema scorer needs a schema", hint="set schema: to a JSON Schema object")
        return _json_schema(spec.schema)
    if spec.kind == "classifier_accuracy":
        return _classifier_accuracy
    raise ConfigError(f"unknown scorer {spec.kind!r}", hint=f"use one of {', '.join(SCORERS)}")
