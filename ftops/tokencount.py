"""The token counter planning uses for cost estimates, shared by ``ftops plan`` and ``ftops apply``.

Counting a dataset's tokens reads the whole file, so a count is looked up, in order, in:

1. the lock's ``token_counts`` (exact counts by ``<sha256>/<tokenizer>``, committed: a fresh clone or a CI
   runner never recounts an unchanged dataset);
2. the local hash cache (``.ftops/hashes.json``; exact and estimated counts under different keys, so
   installing the tokenizers later upgrades an estimate instead of reusing it);
3. a count of the file, exact with the model's tokenizer when mistral-common is installed (large files
   split over every core, see ``count_tokens``), else an estimate the plan labels as such.

``CachedTokenCounter.exact_counts`` is what apply records in the lock. It lives outside the CLI so the one
planning pipeline (``ftops.apply.pipeline.compute_plan``) can call it directly.
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ftops.datasets import validate_path
from ftops.datasets.report import DataKind, ValidationReport
from ftops.datasets.tokens import choose_tokenizer, get_counter, mistral_common_available
from ftops.datasets.validate import _account, iter_rows, open_dataset
from ftops.desired import TokenCount
from ftops.errors import DatasetError
from ftops.hashing import HashCache

# Below this size one process counts faster than starting workers that each load the tokenizer.
PARALLEL_MIN_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 32 * 1024 * 1024  # per task: bounded memory per worker, enough tasks to balance the cores


def lock_key(sha256: str, model: str) -> str:
    """The key of a count in the lock: the content and the tokenizer (models sharing one share counts)."""
    return f"{sha256}/{choose_tokenizer(model).name}"


class CachedTokenCounter:
    """Data tokens per (content hash, model): from the lock, the hash cache, or counted once."""

    def __init__(self, cache: HashCache, recorded: Mapping[str, int] | None = None) -> None:
        self.cache = cache
        self.recorded = dict(recorded or {})
        self.counted = 0  # files actually read (tests and the benchmark check re-plans read nothing)
        self.exact_counts: dict[str, int] = {}  # every exact count this plan used, by lock key

    def count(self, path: Path, sha256: str, model: str) -> TokenCount | None:
        key = lock_key(sha256, model)
        if key in self.recorded:
            self.exact_counts[key] = self.recorded[key]
            return TokenCount(self.recorded[key], True)
        for exact in (True, False):
            cached = self.cache.tokens(sha256, _token_key(model, exact))
            if cached is not None:
                if exact:
                    self.exact_counts[key] = cached
                return TokenCount(cached, exact)
        try:
            tokens, exact = count_tokens(path, model)
        except DatasetError:
            return None  # the plan falls back to a size-based guess; `ftops validate` reports the problem
        self.counted += 1
        self.cache.set_tokens(sha256, _token_key(model, exact), tokens)
        if exact:
            self.exact_counts[key] = tokens
        return TokenCount(tokens, exact)


def _token_key(model: str, exact: bool) -> str:
    return f"{model}|{'exact' if exact else 'estimate'}"


def token_lookup(cache: HashCache, recorded: Mapping[str, int] | None = None) -> CachedTokenCounter:
    """The token counter every plan uses (so ``plan`` and ``apply`` show the same cost)."""
    return CachedTokenCounter(cache, recorded)


def count_tokens(path: Path, model: str, *, min_parallel_bytes: int = PARALLEL_MIN_BYTES,
                 chunk_bytes: int = CHUNK_BYTES, workers: int | None = None) -> tuple[int, bool]:
    """``data_tokens`` of a dataset exactly as ``validate_path`` counts it, and whether it is exact.

    A large file with the tokenizers installed is cut at line boundaries into chunks counted in a process
    pool. Only the rows before and including the first valid one depend on what came before (that row
    fixes the file's data kind), so they are counted here first; every later chunk is counted with that
    kind fixed, which is how ``validate_path`` checks them too, so the sum is the same number.
    """
    workers = workers or os.cpu_count() or 1
    size = path.stat().st_size if path.is_file() else 0
    if workers < 2 or size < min_parallel_bytes or not mistral_common_available():
        report = validate_path(path, model=model, count_tokens=True)
        return report.data_tokens, report.tokens_exact
    head = ValidationReport(path=str(path))
    counter = get_counter(model)
    with open_dataset(path) as stream:
        kind: DataKind | None = None
        for row in iter_rows(stream, kind=None):
            _account(head, row, counter)
            if row.valid and row.kind is not None:
                kind = row.kind
                break
        start = stream.tell()
    if kind is None:  # no valid row at all: nothing more to count
        return head.data_tokens, counter.choice.exact
    ranges = _line_ranges(path, start, size, chunk_bytes)
    with ProcessPoolExecutor(max_workers=min(workers, len(ranges)) or 1) as pool:
        parts = pool.map(_count_range, [(str(path), a, b, model, kind) for a, b in ranges])
        total = head.data_tokens + sum(parts)
    return total, counter.choice.exact


def _line_ranges(path: Path, start: int, size: int, chunk_bytes: int) -> list[tuple[int, int]]:
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


def _count_range(task: tuple[str, int, int, str, DataKind]) -> int:
    """Tokens of the valid rows in one byte range (a worker process; the tokenizer loads once per worker)."""
    path, start, end, model, kind = task
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    report = ValidationReport(path=path)
    counter = get_counter(model)
    for row in iter_rows(io.BytesIO(data), kind=kind):
        _account(report, row, counter)
    return report.data_tokens

