"""Helpers for manifest tests: a throwaway project with a valid dataset, and one-call loading."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from ftops.errors import Diagnostic, ManifestError
from ftops.manifest.load import load_manifests
from ftops.manifest.model import Manifest

TRAIN = (
    '{"messages": [{"role": "user", "content": "Where is my order?"}, '
    '{"role": "assistant", "content": "It ships tomorrow."}]}\n'
)
CLASSIFIER = '{"text": "I was charged twice", "labels": {"intent": "billing"}}\n'

FILE_DOC = """\
apiVersion: ftops/v1
kind: File
metadata:
  name: train
spec:
  path: ../data/train.jsonl
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text(TRAIN * 3)
    (tmp_path / "data" / "tickets.jsonl").write_text(CLASSIFIER * 3)
    (tmp_path / "manifests").mkdir()
    return tmp_path


def write(project: Path, text: str, name: str = "m.yaml") -> Path:
    path = project / "manifests" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def load(project: Path) -> Callable[[str], Manifest]:
    def _load(text: str) -> Manifest:
        write(project, text)
        return load_manifests(["manifests"], root=project)

    return _load


@pytest.fixture
def errors(project: Path) -> Callable[[str], list[Diagnostic]]:
    """Load ``text`` as manifests/m.yaml and return the diagnostics (failing if it loads cleanly)."""

    def _errors(text: str) -> list[Diagnostic]:
        write(project, text)
        with pytest.raises(ManifestError) as info:
            load_manifests(["manifests"], root=project)
        return info.value.diagnostics

    return _errors
