"""Evaluation cases from a JSONL file, one case per line, each error with ``file:line``.

Chat cases are conversations whose last assistant message is the expected answer (the training format, so a
held-out split of the training data is an evaluation set as it is), or a conversation plus ``"expected"``.
Classifier cases are ``{"text": ..., "labels": {target: label}}`` or ``{"messages": [...], "labels": ...}``,
the classifier training format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftops.errors import DatasetError

MAX_CASES = 100_000


@dataclass(frozen=True)
class EvalCase:
    line: int  # 1-based line in the evaluation file
    messages: tuple[dict[str, Any], ...] = ()  # the prompt: the conversation before the expected answer
    expected: str | None = None  # chat: the expected answer
    text: str | None = None  # classifier: the text to classify (or None when ``messages`` is the input)
    labels: dict[str, str | list[str]] = field(default_factory=dict)  # classifier: the expected labels

    @property
    def prompt(self) -> str:
        """A one-line view of what the case asks (for tables)."""
        if self.text is not None:
            return self.text
        users = [str(m.get("content") or "") for m in self.messages if m.get("role") == "user"]
        return users[-1] if users else ""


def _bad(path: Path, line: int, message: str) -> DatasetError:
    return DatasetError(message, where=f"{path}:{line}",
                        hint="each line is {\"messages\": [... , {\"role\": \"assistant\", \"content\": EXPECTED}]}, "
                        "{\"messages\": [...], \"expected\": ...} or {\"text\": ..., \"labels\": {...}}")


def _case(path: Path, line: int, row: Any) -> EvalCase:
    if not isinstance(row, dict):
        raise _bad(path, line, "an evaluation case must be a JSON object")
    labels = row.get("labels")
    if labels is not None:
        if not isinstance(labels, dict) or not labels:
            raise _bad(path, line, "`labels` must map each classifier target to its expected label")
        clean = {str(k): [str(x) for x in v] if isinstance(v, list) else str(v) for k, v in labels.items()}
        if isinstance(row.get("text"), str):
            return EvalCase(line=line, text=row["text"], labels=clean)
        return EvalCase(line=line, messages=_messages(path, line, row.get("messages")), labels=clean)
    messages = _messages(path, line, row.get("messages"))
    if "expected" in row:
        return EvalCase(line=line, messages=messages, expected=str(row["expected"]))
    if messages[-1].get("role") != "assistant":
        raise _bad(path, line, "the case has no expected answer (a final assistant message or `expected`)")
    return EvalCase(line=line, messages=messages[:-1], expected=str(messages[-1].get("content") or ""))


def _messages(path: Path, line: int, value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not value or not all(isinstance(m, dict) and "role" in m for m in value):
        raise _bad(path, line, "`messages` must be a non-empty list of {role, content} objects")
    return tuple(value)


def load_cases(path: Path, *, limit: int | None = None) -> list[EvalCase]:
    if not path.is_file():
        raise DatasetError(f"evaluation set {path} is not a readable file", where=str(path),
                           hint="check the Evaluation's spec.path (relative to its manifest) or --set")
    cases: list[EvalCase] = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except ValueError as exc:
                raise _bad(path, number, f"not valid JSON ({exc})") from None
            cases.append(_case(path, number, row))
            if len(cases) >= (limit or MAX_CASES):
                break
    if not cases:
        raise DatasetError(f"evaluation set {path} has no cases", where=str(path), hint="add one case per line")
    return cases
