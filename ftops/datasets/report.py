"""The values a dataset validation produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DataKind = Literal["instruct", "pretrain", "classifier"]


@dataclass(frozen=True)
class LineError:
    line: int  # 1-based
    code: str  # stable, e.g. "E101"; documented in docs/troubleshooting.md
    message: str


@dataclass
class ValidationReport:
    path: str
    kind: DataKind | None = None  # detected (or forced) data kind
    total_lines: int = 0
    valid_lines: int = 0
    bytes: int = 0
    errors: list[LineError] = field(default_factory=list)
    # Sum of tokens over valid lines, counted like Mistral's data_tokens (every token of every valid row).
    data_tokens: int = 0
    tokens_exact: bool = False  # True when counted with the model's own tokenizer (the tokenizers extra)
    tokenizer: str | None = None  # e.g. "v3-spm", "tekken", or "estimate"

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def sample_type(self) -> str:
        """What the API reports as the file's ``sample_type`` (instruct for chat and classifier rows)."""
        return "pretrain" if self.kind == "pretrain" else "instruct"
