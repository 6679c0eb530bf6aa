"""Sessions on Mistral's own API warn once that the fine-tuning jobs API is deprecated; local ones do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftops.cli._session import open_session
from ftops.client.deprecation import WARNING, deprecation_warning
from ftops.settings import load_settings


@pytest.mark.parametrize(("url", "warned"), [
    ("https://api.mistral.ai", True), ("https://api.eu.mistral.ai/", True), ("http://127.0.0.1:8787", False),
    ("https://mistral.ai.example.com", False), ("https://notmistral.ai", False),
])
def test_only_mistral_hosts_get_the_warning(url: str, warned: bool) -> None:
    assert (deprecation_warning(url) is not None) is warned


def test_the_banner_is_followed_by_the_warning_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", "k" * 32)
    lines: list[str] = []
    with open_session(load_settings(tmp_path, endpoint="https://api.mistral.ai"), echo=lines.append):
        pass  # no request is sent: the warning is about the endpoint, not an answer
    assert lines == ["Using the Mistral API at https://api.mistral.ai", WARNING]
    assert "2026-07" in WARNING and "2.5.2" in WARNING and "docs/mistral-deprecation.md" in WARNING


def test_the_local_api_gets_no_warning(tmp_path: Path) -> None:
    lines: list[str] = []
    with open_session(load_settings(tmp_path, endpoint="local"), echo=lines.append):
        pass
    assert len(lines) == 1 and lines[0].startswith("Using the embedded local API")
