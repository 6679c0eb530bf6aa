"""STUB: replaced by the dataset issue's implementation; keep the signature."""

from __future__ import annotations

from pathlib import Path

from ftops.datasets.report import DataKind, ValidationReport


def validate_path(
    path: str | Path,
    *,
    kind: DataKind | None = None,
    model: str | None = None,
    count_tokens: bool = True,
) -> ValidationReport:
    p = Path(path)
    data = p.read_bytes()
    lines = data.count(b"\n")
    return ValidationReport(path=str(p), kind=kind or "instruct", total_lines=lines, valid_lines=lines,
                            bytes=len(data), data_tokens=len(data) // 4)
