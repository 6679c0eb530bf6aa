"""The values a dataset validation produces.

A :class:`ValidationReport` is what every caller gets back from ``validate_path``: the detected kind, line and
byte counts, the problems found (each a :class:`LineError` with a 1-based line, a stable code documented in
``docs/dataset-errors.md`` and a readable message) and the token count. Error records are capped so a
file with millions of bad lines still validates in constant memory; the per-code counters always count
everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DataKind = Literal["instruct", "pretrain", "classifier"]

# How many LineError records a report keeps (errors and warnings each); the counters keep counting.
DEFAULT_MAX_RECORDS = 1000


@dataclass(frozen=True)
class LineError:
    line: int  # 1-based
    code: str  # stable, e.g. "E101"; documented in docs/dataset-errors.md
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "code": self.code, "message": self.message}


@dataclass
class ValidationReport:
    path: str
    kind: DataKind | None = None  # detected (or forced) data kind
    total_lines: int = 0
    valid_lines: int = 0
    bytes: int = 0
    # The first ``max_records`` errors (in line order); ``error_counts`` counts all of them per code.
    errors: list[LineError] = field(default_factory=list)
    # Sum of tokens over valid lines, counted like Mistral's data_tokens (every token of every valid row).
    data_tokens: int = 0
    tokens_exact: bool = False  # True when counted with the model's own tokenizer (the tokenizers extra)
    tokenizer: str | None = None  # e.g. "v3-spm", "tekken", or "estimate"
    # --- added by the datasets implementation (all optional for older callers) ---
    warnings: list[LineError] = field(default_factory=list)
    error_counts: dict[str, int] = field(default_factory=dict)
    warning_counts: dict[str, int] = field(default_factory=dict)
    invalid_lines: int = 0  # lines with at least one error (each line counted once)
    max_records: int = DEFAULT_MAX_RECORDS
    tokenizer_note: str | None = None  # why this tokenizer (e.g. a fallback for a model it does not know)
    # Tokens of assistant messages that carry loss (weight 0/1, only-last for tool samples), valid rows only.
    trained_tokens: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_total(self) -> int:
        return sum(self.error_counts.values())

    @property
    def errors_truncated(self) -> bool:
        return self.error_total > len(self.errors)

    @property
    def sample_type(self) -> str:
        """What the API reports as the file's ``sample_type`` (instruct for chat and classifier rows)."""
        return "pretrain" if self.kind == "pretrain" else "instruct"

    def add(self, err: LineError) -> None:
        """Record a problem: warnings (codes starting with W) never make the report fail."""
        if err.code.startswith("W"):
            self.warning_counts[err.code] = self.warning_counts.get(err.code, 0) + 1
            if len(self.warnings) < self.max_records:
                self.warnings.append(err)
        else:
            self.error_counts[err.code] = self.error_counts.get(err.code, 0) + 1
            if len(self.errors) < self.max_records:
                self.errors.append(err)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape of ``ftops data validate --format json`` (documented in dataset-errors.md)."""
        return {
            "path": self.path,
            "ok": self.ok,
            "kind": self.kind,
            "sample_type": self.sample_type,
            "total_lines": self.total_lines,
            "valid_lines": self.valid_lines,
            "invalid_lines": self.invalid_lines,
            "bytes": self.bytes,
            "data_tokens": self.data_tokens,
            "trained_tokens": self.trained_tokens,
            "tokens_exact": self.tokens_exact,
            "tokenizer": self.tokenizer,
            "tokenizer_note": self.tokenizer_note,
            "error_counts": dict(sorted(self.error_counts.items())),
            "warning_counts": dict(sorted(self.warning_counts.items())),
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [w.to_dict() for w in self.warnings],
            "errors_truncated": self.errors_truncated,
        }
