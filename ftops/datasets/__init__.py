"""Training data: streaming JSONL validation (Mistral's rules), statistics, token counting, fix, split.

Public surface used by other rooms (the local API, ``ftops validate``, the plan's cost estimate):

- ``validate_path(path, *, kind=None, model=None, count_tokens=True, max_errors=1000) -> ValidationReport``
- ``ValidationReport`` / ``LineError`` (``report.py``; error codes in ``codes.py`` and docs/dataset-errors.md)

``stats.compute_stats``, ``fix.fix_file`` and ``split.split_file`` back ``ftops data stats|fix|split``.
Importing this package does not import mistral-common (tokenizers load lazily, once per tokenizer).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ftops.datasets.report import LineError, ValidationReport

if TYPE_CHECKING:
    from ftops.datasets.validate import validate_path

__all__ = ["LineError", "ValidationReport", "validate_path"]


def __getattr__(name: str) -> Any:
    # The rules load on first use: a plan that finds every token count in the lock never validates a row.
    if name == "validate_path":
        from ftops.datasets.validate import validate_path

        return validate_path
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
