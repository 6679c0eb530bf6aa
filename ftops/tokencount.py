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

import os
from collections.abc import Mapping
from pathlib import Path

from ftops.datasets.tokens import choose_tokenizer
from ftops.desired import TokenCount
from ftops.errors import DatasetError
from ftops.hashing import HashCache


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


def count_tokens(path: Path, model: str, *, workers: int | None = None) -> tuple[int, bool]:
    """``data_tokens`` of a dataset exactly as ``validate_path`` counts it, and whether it is exact.

    A large file is checked and counted over every core (``ftops.datasets.parallel``: the same count).
    """
    from ftops.datasets import validate_path

    report = validate_path(path, model=model, count_tokens=True, workers=workers or os.cpu_count() or 1)
    return report.data_tokens, report.tokens_exact
