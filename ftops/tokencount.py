"""The cached token counter planning uses for cost estimates, shared by ``ftops plan`` and ``ftops apply``.

Counting a dataset's tokens reads the whole file, so the count is kept in the hash cache under the file's
content hash and the model's tokenizer; a re-plan of unchanged data reads nothing. Exact and estimated
counts are cached under different keys, so installing the tokenizers later upgrades an estimate instead of
reusing it. It lives outside the CLI so the one planning pipeline (``ftops.apply.pipeline.compute_plan``)
can call it directly.
"""

from __future__ import annotations

from pathlib import Path

from ftops.datasets import validate_path
from ftops.desired import TokenCount, TokenLookup
from ftops.errors import DatasetError
from ftops.hashing import HashCache


class CachedTokenCounter:
    """Data tokens per (content hash, model), counted once with ``validate_path`` and kept in the hash cache."""

    def __init__(self, cache: HashCache) -> None:
        self.cache = cache
        self.counted = 0  # files actually read (tests and the benchmark check re-plans read nothing)

    def count(self, path: Path, sha256: str, model: str) -> TokenCount | None:
        for exact in (True, False):
            cached = self.cache.tokens(sha256, _token_key(model, exact))
            if cached is not None:
                return TokenCount(cached, exact)
        try:
            report = validate_path(path, model=model, count_tokens=True)
        except DatasetError:
            return None  # the plan falls back to a size-based guess; `ftops validate` reports the problem
        self.counted += 1
        self.cache.set_tokens(sha256, _token_key(model, report.tokens_exact), report.data_tokens)
        return TokenCount(report.data_tokens, report.tokens_exact)


def _token_key(model: str, exact: bool) -> str:
    return f"{model}|{'exact' if exact else 'estimate'}"


def token_lookup(cache: HashCache) -> TokenLookup:
    """The token counter every plan uses (so ``plan`` and ``apply`` show the same cost)."""
    return CachedTokenCounter(cache)
