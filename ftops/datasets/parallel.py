"""Validating one large dataset on every core: line-aligned chunks checked in worker processes, one report.

Only the rows up to and including the first valid one depend on what came before them (that row fixes the
file's data kind), so the calling process checks those first, exactly as the serial pass does. Every later
row is checked with that kind fixed, which is also how the serial pass checks it, so a chunk can be
checked anywhere: the workers return chunk reports numbered from line 1 and the merge shifts their line
numbers, sums the counters and keeps the first ``max_records`` errors and warnings in line order. The
report is the one ``validate_path`` builds serially (``tests/unit/datasets/test_parallel_validate.py``).

Classifier files stay serial after the head: their W601 warning compares each row's label shapes with the
first shapes seen in the whole file.
"""

from __future__ import annotations

import io
import itertools
import multiprocessing
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ftops.datasets.report import DataKind, LineError, ValidationReport
from ftops.datasets.validate import Row, account, iter_rows, open_dataset

CHUNK_BYTES = 16 * 1024 * 1024  # per task: bounded memory per worker, several tasks per core to balance


def validate_chunked(
    path: Path,
    report: ValidationReport,
    *,
    counter: Any,
    model: str | None,
    workers: int,
    chunk_bytes: int | None = None,
) -> ValidationReport:
    """Fill ``report`` (fresh, with its kind forced or None) from ``path`` using up to ``workers`` processes;
    ``counter`` is the caller's token counter for ``model`` (None: no counting), workers load their own."""
    with open_dataset(path) as stream:
        rows = iter_rows(stream, kind=report.kind)
        if not _head(rows, report, counter):
            return report  # the file ended before a valid row: nothing is left to spread
        if report.kind == "classifier":
            for row in rows:
                account(report, row, counter)
            return report
        start, size = stream.tell(), path.stat().st_size
    # Four chunks per worker at least, so that the last one to finish is short; at most CHUNK_BYTES each.
    even = -(-(size - start) // (workers * 4))
    ranges = line_ranges(path, start, size, chunk_bytes or max(min(CHUNK_BYTES, even), 64 * 1024))
    tasks = [(str(path), a, b, report.kind, model, counter is not None, report.max_records) for a, b in ranges]
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)) or 1, mp_context=_context()) as pool:
        for part in pool.map(_validate_range, tasks):
            merge(report, part)
    return report


def _counter(model: str | None) -> Any:
    from ftops.datasets.tokens import get_counter

    return get_counter(model)


def _head(rows: Iterator[Row], report: ValidationReport, counter: Any) -> bool:
    """Account the rows up to the first valid one; False when the file has none."""
    for row in rows:
        account(report, row, counter)
        if row.valid and row.kind is not None:
            return True
    return False


def _context() -> Any:
    # fork is cheapest but copies only the calling thread: with other threads running (the embedded local
    # API, a thread pool) a lock one of them holds would stay locked in the child, so start clean instead.
    return multiprocessing.get_context("fork" if threading.active_count() == 1 else "spawn")


def line_ranges(path: Path, start: int, size: int, chunk_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges ``[a, b)`` covering ``[start, size)``, each starting at the beginning of a line."""
    cuts = [start]
    with path.open("rb") as fh:
        at = start + chunk_bytes
        while at < size:
            fh.seek(at - 1)
            fh.readline()  # to the end of the line holding byte at-1: the next line starts a chunk
            at = fh.tell()
            if at >= size:
                break
            cuts.append(at)
            at += chunk_bytes
    cuts.append(size)
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]


def _validate_range(task: tuple[str, int, int, DataKind | None, str | None, bool, int]) -> ValidationReport:
    """The report of one byte range, lines numbered from 1 (a worker; a tokenizer loads once per worker)."""
    path, start, end, kind, model, count_tokens, max_records = task
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    report = ValidationReport(path=path, kind=kind, max_records=max_records)
    counter = _counter(model) if count_tokens else None
    for row in iter_rows(io.BytesIO(data), kind=kind):
        account(report, row, counter)
    return report


def merge(report: ValidationReport, part: ValidationReport) -> None:
    """Append the report of the lines that follow ``report``'s (numbered from 1) to it."""
    offset = report.total_lines
    report.total_lines += part.total_lines
    report.valid_lines += part.valid_lines
    report.invalid_lines += part.invalid_lines
    report.bytes += part.bytes
    report.data_tokens += part.data_tokens
    report.trained_tokens += part.trained_tokens
    for records, counts, more, more_counts in ((report.errors, report.error_counts, part.errors, part.error_counts),
                                               (report.warnings, report.warning_counts, part.warnings,
                                                part.warning_counts)):
        room = report.max_records - len(records)
        records.extend(LineError(e.line + offset, e.code, e.message) for e in more[:max(room, 0)])
        for code, n in more_counts.items():
            counts[code] = counts.get(code, 0) + n
