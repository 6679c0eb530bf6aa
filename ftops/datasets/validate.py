"""Streaming validation of a JSONL training file: ``validate_path`` and the row iterator it is built on.

Each line is parsed (``reader``), its kind decided (forced by the caller, else taken from the first valid
row, and rows of another kind flagged), checked by the rules of that kind and, when valid, counted in
tokens. Memory stays constant: lines are not kept, and the report keeps at most ``max_errors`` records
while counting every problem per code. ``iter_rows`` exposes the same pass to ``stats``, ``fix`` and
``split`` so every command agrees on what a valid row is.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ftops.datasets.reader import MAX_LINE_BYTES, iter_raw_lines, parse_line, parse_object_fast
from ftops.datasets.report import DEFAULT_MAX_RECORDS, DataKind, LineError, ValidationReport
from ftops.datasets.rules_instruct import check_instruct
from ftops.datasets.rules_other import check_classifier, check_pretrain, label_shape, row_kind
from ftops.datasets.rules_tools import Issue
from ftops.errors import DatasetError

# Row kinds that cannot live in a file of the other kind (the reference would read them as the wrong thing).
_CLASH = {("instruct", "pretrain"), ("pretrain", "instruct")}


@dataclass(slots=True)
class Row:
    """One line after checking: its parsed value (None when not JSON), kind and problems."""

    number: int
    size: int
    value: Any
    kind: DataKind | None
    issues: list[Issue] = field(default_factory=list)
    has_image: bool = False

    @property
    def valid(self) -> bool:
        return not self.issues or all(code[0] != "E" for code, _ in self.issues)


def _check(kind: DataKind, row: dict[str, Any], raw: dict[str, str] | None) -> tuple[list[Issue], bool]:
    if kind == "instruct":
        res = check_instruct(row, raw)
        return res.issues, res.has_image
    if kind == "pretrain":
        return check_pretrain(row), False
    return check_classifier(row), False


class _KindTracker:
    """Decides each row's kind and keeps file-level facts (the file kind, label shapes per target)."""

    def __init__(self, forced: DataKind | None) -> None:
        self.kind: DataKind | None = forced
        self._label_shapes: dict[str, str] = {}

    def check(self, number: int, size: int, value: Any, raw: dict[str, str] | None = None) -> Row:
        """``raw`` holds the raw text of top-level tool lists when the reader kept it (a cache key)."""
        if not isinstance(value, dict):
            return Row(number, size, value, self.kind,
                       [("E105", f"line is a JSON {type(value).__name__}, not an object")])
        suggested = row_kind(value)
        if self.kind is None:
            kind: DataKind = suggested or "instruct"
            issues, has_image = _check(kind, value, raw)
            row = Row(number, size, value, kind, issues, has_image)
            if row.valid:
                self.kind = kind
            return row
        if suggested is not None and (self.kind, suggested) in _CLASH:
            return Row(number, size, value, self.kind,
                       [("E110", f"row looks like {suggested} data, but this file holds {self.kind} rows")])
        issues, has_image = _check(self.kind, value, raw)
        if self.kind == "classifier" and isinstance(value.get("labels"), dict):
            self._check_label_shapes(value["labels"], issues)
        return Row(number, size, value, self.kind, issues, has_image)

    def _check_label_shapes(self, labels: dict[str, Any], issues: list[Issue]) -> None:
        for target, label in labels.items():
            shape = label_shape(label)
            if shape is None:
                continue
            seen = self._label_shapes.get(target)
            if seen is None and len(self._label_shapes) < 1000:
                self._label_shapes[target] = shape
            elif seen is not None and seen != shape:
                issues.append(("W601", f"labels[{target!r}] is {shape}-label here but {seen}-label earlier"))


def iter_rows(stream: IO[bytes], *, kind: DataKind | None = None,
              max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[Row]:
    """Parse and check every line of a binary stream; never raises for any content."""
    tracker = _KindTracker(kind)
    check = tracker.check
    for number, raw, size in iter_raw_lines(stream, max_line_bytes):
        fast = parse_object_fast(raw) if raw is not None else None
        if fast is not None:
            yield check(number, size, fast[0], fast[1])
            continue
        line = parse_line(number, raw, size, max_line_bytes)
        if line.problem is not None:
            yield Row(number, size, None, tracker.kind, [line.problem])
            continue
        yield tracker.check(number, size, line.value)


def open_dataset(path: str | Path) -> IO[bytes]:
    """Open a dataset for binary reading, turning OS errors into a DatasetError with a hint.

    Only regular files are read: a FIFO would block forever and ``/dev/zero`` never ends. The file is opened
    non-blocking (so opening a FIFO returns at once) and checked with ``fstat`` on the descriptor itself.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise DatasetError("file not found", where=str(p), hint="check the path (relative to the "
                           "current directory)") from None
    except PermissionError:
        raise DatasetError("permission denied", where=str(p), hint="make the file readable") from None
    except OSError as exc:
        raise DatasetError(f"cannot read the file: {exc.strerror or exc}", where=str(p),
                           hint="name a readable .jsonl file") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a pipe, socket or device)"
        raise DatasetError(f"is {what}, not a JSONL file", where=str(p), hint="name a .jsonl file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def validate_path(
    path: str | Path,
    *,
    kind: DataKind | None = None,
    model: str | None = None,
    count_tokens: bool = True,
    max_errors: int = DEFAULT_MAX_RECORDS,
    workers: int = 1,
) -> ValidationReport:
    """Validate a JSONL file against Mistral's fine-tuning rules and count its tokens.

    ``kind`` forces the data kind (``"classifier"`` for classifier jobs); otherwise the first valid row
    decides. ``model`` picks the tokenizer (mistral-common's table); without mistral-common the count is
    an estimate (``tokens_exact=False``). Raises :class:`DatasetError` only when the file cannot be read.
    With ``workers`` > 1 a large file is checked in that many processes (``ftops.datasets.parallel``), with
    the same report; callers running threads of their own (the local API) keep the default of one.
    """
    report = ValidationReport(path=str(path), kind=kind, max_records=max(1, max_errors))
    counter = None
    if count_tokens:
        from ftops.datasets.tokens import get_counter

        counter = get_counter(model)
        report.tokenizer = counter.choice.name
        report.tokens_exact = counter.choice.exact
        report.tokenizer_note = counter.choice.note
    if workers > 1 and _size(path) >= parallel_min_bytes(count_tokens):
        from ftops.datasets.parallel import validate_chunked

        return validate_chunked(Path(path), report, counter=counter, model=model, workers=workers)
    with open_dataset(path) as stream:
        for row in iter_rows(stream, kind=kind):
            account(report, row, counter)
    return report


def parallel_min_bytes(count_tokens: bool) -> int:
    """Below this size one process is faster than starting workers (each loads the tokenizer when counting)."""
    return (64 if count_tokens else 16) * 1024 * 1024


def _size(path: str | Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0  # open_dataset reports it


def account(report: ValidationReport, row: Row, counter: Any) -> None:
    report.total_lines += 1
    report.bytes += row.size
    if report.kind is None and row.kind is not None:
        report.kind = row.kind
    if row.kind is not None and row.kind != report.kind and row.valid:
        report.kind = row.kind  # the first valid row decides, even after invalid rows of another kind
    valid = row.valid
    if valid and counter is not None:
        try:
            total, trained = counter.count(row.value, row.kind, row.has_image)
        except Exception as exc:  # e.g. lone surrogates the tokenizer cannot encode
            row.issues.append(("E120", f"the tokenizer could not encode this row ({type(exc).__name__})"))
        else:
            report.data_tokens += total
            report.trained_tokens += trained
            if row.has_image and counter.choice.name != "tekken-mm":
                row.issues.append(("W302", "image chunks need a vision model (pixtral); image tokens "
                                           "are not counted"))
        valid = row.valid
    for code, message in row.issues:
        report.add(LineError(row.number, code, message))
    if valid:
        report.valid_lines += 1
    else:
        report.invalid_lines += 1
