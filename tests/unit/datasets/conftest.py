"""Shared helpers for the dataset tests: writing JSONL rows to temp files and locating the real datasets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared" / "datasets"
HH = SHARED / "hh_rlhf_harmless_base_test_messages.jsonl"
DRONE = SHARED / "openai_cookbook_drone_training.jsonl"
TOY = SHARED / "openai_cookbook_toy_chat_fine_tuning.jsonl"


@pytest.fixture
def shared() -> Path:
    if not HH.exists():
        pytest.skip(f"real datasets not found at {SHARED} (CI provides ../shared/datasets)")
    return SHARED


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """Write rows (dicts are JSON-encoded, bytes/str written as they are) one per line."""
    counter = iter(range(10_000))

    def write(*rows: Any, name: str | None = None) -> Path:
        path = tmp_path / (name or f"data{next(counter)}.jsonl")
        out = b""
        for row in rows:
            if isinstance(row, bytes):
                out += row + b"\n"
            elif isinstance(row, str):
                out += row.encode() + b"\n"
            else:
                out += json.dumps(row).encode() + b"\n"
        path.write_bytes(out)
        return path

    return write
