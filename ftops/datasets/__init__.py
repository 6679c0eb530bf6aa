"""Training data: streaming JSONL validation (Mistral's rules), statistics, token counting, fix, split.

Public surface used by other rooms (the local API, ``ftops validate``, the plan's cost estimate):

- ``validate_path(path, *, kind=None, model=None, count_tokens=True) -> ValidationReport``
- ``ValidationReport`` / ``LineError`` (below)

This stub fixes the contract; ``ftops/datasets/validate.py`` implements it.
"""

from __future__ import annotations

from ftops.datasets.report import LineError, ValidationReport
from ftops.datasets.validate import validate_path

__all__ = ["LineError", "ValidationReport", "validate_path"]
