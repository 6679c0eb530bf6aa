"""open_session / pass_settings: the endpoint line comes first, the embedded API starts and stops with it."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ftops.cli._session import open_session, pass_settings
from ftops.client import MistralClient, RetryPolicy
from ftops.errors import ConfigError, TransportError
from ftops.localapi.embedded import EmbeddedServer
from ftops.settings import Settings, load_settings


def test_embedded_session_banner_and_lifecycle(tmp_path: Path) -> None:
    lines: list[str] = []
    settings = load_settings(tmp_path, environ={})
    with open_session(settings, echo=lines.append) as session:
        assert session.client.list_files() == []
        assert session.endpoint_identity == "local"
        url = session.base_url
    assert len(lines) == 1
    assert re.fullmatch(r"Using the embedded local API at http://127\.0\.0\.1:\d+ \(state in \.ftops/localapi\)",
                        lines[0])
    assert url in lines[0]
    assert (tmp_path / ".ftops" / "localapi").is_dir() and (tmp_path / ".ftops" / ".gitignore").is_file()
    retry = RetryPolicy(max_attempts=1)
    with MistralClient(url, "ftops-local", retry=retry) as again, pytest.raises(TransportError):
        again.list_files()  # the embedded server stopped with the session


def test_remote_session_uses_the_key_and_names_the_endpoint(tmp_path: Path, server: EmbeddedServer) -> None:
    lines: list[str] = []
    settings = load_settings(tmp_path, environ={"FTOPS_ENDPOINT": server.url, "MISTRAL_API_KEY": server.api_key})
    with open_session(settings, echo=lines.append) as session:
        session.client.list_models()
        assert session.endpoint_identity == server.url
    assert lines == [f"Using the Mistral API at {server.url}"]
    assert not (tmp_path / ".ftops").exists()


def test_remote_session_without_key_fails_before_any_output(tmp_path: Path) -> None:
    lines: list[str] = []
    settings = load_settings(tmp_path, environ={"FTOPS_ENDPOINT": "https://api.mistral.ai"})
    with pytest.raises(ConfigError, match="no API key"), open_session(settings, echo=lines.append):
        pass
    assert lines == []


def test_pass_settings_reads_cwd_env_and_flag(tmp_path: Path, server: EmbeddedServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    @click.command()
    @pass_settings
    def probe(settings: Settings) -> None:
        with open_session(settings) as session:
            click.echo(f"models={len(session.client.list_models())} root={settings.root}")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MISTRAL_API_KEY", server.api_key)
    monkeypatch.delenv("FTOPS_ENDPOINT", raising=False)
    result = CliRunner().invoke(probe, ["--endpoint", server.url])
    assert result.exit_code == 0, result.output
    first, second = result.output.splitlines()
    assert first == f"Using the Mistral API at {server.url}"
    assert second.startswith("models=") and second.endswith(f"root={tmp_path.resolve()}")


def test_unusable_state_dir_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".ftops").write_text("not a directory")
    with pytest.raises(ConfigError, match="cannot create the local API state directory") as info, \
            open_session(load_settings(tmp_path, environ={}), echo=lambda line: None):
        pass
    assert info.value.where and info.value.where.endswith("localapi")
