"""Validation of a job's training data with ftops' dataset rules, cached per (content, kind, model).

The verdict decides whether the job reaches VALIDATED or FAILED_VALIDATION, and gives ``data_tokens`` for
the job's metadata. ``invalid_sample_skip_percentage`` is read as the share of invalid training lines the
job may drop: at or below it, the invalid lines are skipped and the job continues.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ftops.datasets import validate_path
from ftops.localapi.config import Context

_SHOWN_ERRORS = 5


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str | None
    data_tokens: int
    total_lines: int
    invalid_lines: int


def _report(ctx: Context, row: sqlite3.Row, *, kind: str | None, model: str) -> dict[str, Any]:
    key = f"{row['sha256']}:{kind or 'auto'}:{model}"
    db = ctx.store.conn()
    cached = db.execute("SELECT report FROM validations WHERE key = ?", (key,)).fetchone()
    if cached is not None:
        return dict(json.loads(cached[0]))
    try:
        rep = validate_path(ctx.store.blob_path(row["sha256"]), kind=kind, model=model)  # type: ignore[arg-type]
        out: dict[str, Any] = {
            "total_lines": rep.total_lines,
            "valid_lines": rep.valid_lines,
            "data_tokens": rep.data_tokens,
            "error_count": len(rep.errors),
            # Lines, not errors: one line can break several rules ("206 of 103 lines" was a real message).
            "invalid_lines": rep.invalid_lines or len({e.line for e in rep.errors}),
            "errors": [[e.line, e.code, e.message] for e in rep.errors[:_SHOWN_ERRORS]],
        }
    except Exception as exc:  # an unreadable file is a validation failure of the job, not a server error
        out = {"total_lines": 0, "valid_lines": 0, "data_tokens": 0, "error_count": 1, "invalid_lines": 1,
               "errors": [[1, "E000", f"cannot read the file: {exc}"]]}
    with ctx.store.write() as w:
        w.execute("INSERT OR REPLACE INTO validations (key, report) VALUES (?, ?)", (key, json.dumps(out)))
    return out


def _describe_errors(role: str, row: sqlite3.Row, rep: dict[str, Any]) -> str:
    first = rep["errors"][0] if rep["errors"] else [0, "E000", "invalid data"]
    text = f"{role} file '{row['filename']}' ({row['id']}) line {first[0]}: [{first[1]}] {first[2]}"
    more = _invalid_lines(rep) - 1
    if more > 0:
        text += f" (and {more} more invalid line{'s' if more != 1 else ''})"
    return text


def _invalid_lines(rep: dict[str, Any]) -> int:
    if "invalid_lines" in rep:
        return int(rep["invalid_lines"])
    # A report cached by an older server: its lines are total minus valid (never more than the file has).
    return min(int(rep["error_count"]), max(0, int(rep["total_lines"]) - int(rep["valid_lines"])))


def check(
    ctx: Context,
    *,
    training: list[sqlite3.Row],
    validation: list[sqlite3.Row],
    kind: str | None,
    model: str,
    skip_share: float,
) -> Verdict:
    total = invalid = tokens = 0
    problems: list[str] = []
    for row in training:
        rep = _report(ctx, row, kind=kind, model=model)
        total += rep["total_lines"]
        invalid += _invalid_lines(rep)
        tokens += rep["data_tokens"]
        if rep["error_count"]:
            problems.append(_describe_errors("training", row, rep))
    for row in validation:
        rep = _report(ctx, row, kind=kind, model=model)
        if rep["error_count"]:
            skip_share = -1.0  # invalid validation data is never skipped
            problems.append(_describe_errors("validation", row, rep))
    if not problems:
        return Verdict(True, None, tokens, total, 0)
    share = invalid / total if total else 1.0
    if share <= skip_share:
        note = f"skipped {invalid} invalid of {total} training lines (invalid_sample_skip_percentage={skip_share})"
        return Verdict(True, note, tokens, total, invalid)
    message = "; ".join(problems)
    if skip_share >= 0:
        message += (
            f". {invalid} of {total} training lines are invalid ({share:.1%}), more than"
            f" invalid_sample_skip_percentage={skip_share} allows"
        )
    return Verdict(False, message, tokens, total, invalid)
