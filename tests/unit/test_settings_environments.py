"""ftops.toml environments, cost limit, key variable and backend table: resolution and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftops.errors import ConfigError
from ftops.settings import load_settings

TOML = """\
manifests = "manifests"
lock = "state/ftops.lock"
max_cost = 20
endpoint = "https://top.example"

[backend]
type = "s3"
bucket = "top"

[environments.staging]
endpoint = "https://staging.example"
api_key_env = "KEY_STAGING"
max_cost = 5.5

[environments.production]
lock = "prod.lock"

[environments.production.backend]
type = "postgres"
url_env = "FTOPS_PG_URL"
"""


def _project(tmp_path: Path, text: str = TOML) -> Path:
    (tmp_path / "ftops.toml").write_text(text)
    return tmp_path


def test_an_environment_overrides_the_top_level_and_gets_its_own_lock_and_state_dir(tmp_path: Path) -> None:
    root = _project(tmp_path)
    staging = load_settings(root, environ={"FTOPS_ENV": "staging", "KEY_STAGING": "k1", "MISTRAL_API_KEY": "k0"})
    assert staging.environment == "staging"
    assert staging.endpoint == "https://staging.example" and staging.endpoint_source == "config"
    assert staging.lock_path == root / "state" / "ftops.staging.lock"
    assert staging.state_dir == root / ".ftops" / "staging"
    assert staging.max_cost == 5.5 and staging.api_key_env == "KEY_STAGING"
    assert staging.require_api_key() == "k1"
    assert staging.backend is not None and staging.backend.values == {"type": "s3", "bucket": "top"}

    production = load_settings(root, environment="production", environ={})
    assert production.endpoint == "https://top.example" and production.lock_path == root / "prod.lock"
    assert production.max_cost == 20.0 and production.api_key_env == "MISTRAL_API_KEY"
    assert production.backend is not None and production.backend.values["type"] == "postgres"
    assert production.backend.where.endswith("ftops.toml:18")
    # The flag wins over FTOPS_ENV.
    assert load_settings(root, environment="production", environ={"FTOPS_ENV": "staging"}).environment == "production"


def test_without_environments_nothing_changes(tmp_path: Path) -> None:
    settings = load_settings(_project(tmp_path, 'max_cost = 3\n'), environ={})
    assert settings.environment is None and settings.lock_path == tmp_path / "ftops.lock"
    assert settings.state_dir == tmp_path / ".ftops" and settings.max_cost == 3.0 and settings.backend is None
    assert settings.endpoint is None and settings.endpoint_source == "default"


def test_validate_may_run_without_choosing_an_environment(tmp_path: Path) -> None:
    root = _project(tmp_path)
    with pytest.raises(ConfigError, match="several environments"):
        load_settings(root, environ={})
    assert load_settings(root, environ={}, require_environment=False).environment is None


@pytest.mark.parametrize(("text", "message", "hint"), [
    ("[environments.staging]\nendpont = 'x'\n", "unknown key 'endpont' in [environments.staging]", "endpoint"),
    ("[environments.staging]\nmanifests = 'x'\n", "unknown key 'manifests'", "known keys"),
    ("[environments.Bad_Name]\n", "not usable in file names", "lower-case"),
    ("max_cost = -1\n", "'max_cost' in ftops.toml must be a number of USD", "max_cost = 50.0"),
    ("max_cost = true\n", "'max_cost' in ftops.toml must be a number", "max_cost"),
    ("api_key_env = 'MY KEY'\n", "must be an environment variable name", "api_key_env"),
    ("backend = 'postgres'\n", "'backend' in ftops.toml must be a table", "[backend]"),
    ("max_cots = 5\n", "unknown key 'max_cots'", "did you mean 'max_cost'"),
])
def test_bad_configuration_is_one_clear_error(tmp_path: Path, text: str, message: str, hint: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_project(tmp_path, text), environ={"FTOPS_ENV": ""}, require_environment=False)
    assert message in info.value.message
    assert hint in (info.value.hint or "")
    assert str(tmp_path / "ftops.toml") in (info.value.where or "")


def test_an_unknown_environment_suggests_the_close_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(_project(tmp_path), environment="prod", environ={})
    assert "unknown environment 'prod'" in info.value.message and "production" in (info.value.hint or "")
    with pytest.raises(ConfigError) as none:
        load_settings(_project(tmp_path, ""), environment="staging", environ={})
    assert "[environments.staging]" in (none.value.hint or "")


@pytest.mark.parametrize(("environ", "toml", "refused"), [
    ({"CI": "true"}, "", True),
    ({"CI": "1"}, "", True),
    ({}, "", False),
    ({"CI": "true", "FTOPS_ENDPOINT": "local"}, "", False),
    ({"CI": "true"}, 'endpoint = "local"\n', False),
    ({"CI": "true"}, "[environments.ci]\nendpoint = 'local'\n", False),
])
def test_ci_refuses_an_embedded_api_nobody_chose(tmp_path: Path, environ: dict[str, str], toml: str,
                                                 refused: bool) -> None:
    settings = load_settings(_project(tmp_path, toml), environ={**environ, "FTOPS_ENV": "ci" if "ci]" in toml else ""})
    if refused:
        with pytest.raises(ConfigError, match="no API endpoint is configured"):
            settings.require_configured_endpoint()
    else:
        settings.require_configured_endpoint()
