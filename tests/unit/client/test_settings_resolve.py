"""Settings resolution (flag > env > ftops.toml > default) and the errors for bad configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ftops.errors import ConfigError
from ftops.settings import load_settings, normalize_endpoint

KEY = "sk-abcdefghijklmnop-secret"


def write(root: Path, text: str) -> Path:
    path = root / "ftops.toml"
    path.write_text(text)
    return path


def test_defaults_use_the_embedded_api(tmp_path: Path) -> None:
    s = load_settings(tmp_path, environ={})
    assert s.endpoint is None and s.embedded and s.endpoint_identity == "local"
    assert s.lock_path == tmp_path.resolve() / "ftops.lock"
    assert s.state_dir == tmp_path.resolve() / ".ftops"
    assert s.manifest_paths == (tmp_path.resolve() / "manifests",)
    assert s.config_file is None


def test_config_file_values(tmp_path: Path) -> None:
    write(tmp_path, 'endpoint = "https://api.mistral.ai/"\nmanifests = ["a", "b/c"]\nlock = "state/x.lock"\n')
    s = load_settings(tmp_path, environ={"MISTRAL_API_KEY": KEY})
    assert s.endpoint == "https://api.mistral.ai" and s.endpoint_identity == "https://api.mistral.ai"
    assert s.manifest_paths == (tmp_path.resolve() / "a", tmp_path.resolve() / "b/c")
    assert s.lock_path == tmp_path.resolve() / "state/x.lock"
    assert s.require_api_key() == KEY


def test_precedence_flag_over_env_over_file(tmp_path: Path) -> None:
    write(tmp_path, 'endpoint = "http://file.test"\n')
    env = {"FTOPS_ENDPOINT": "http://env.test"}
    assert load_settings(tmp_path, environ={}).endpoint == "http://file.test"
    assert load_settings(tmp_path, environ=env).endpoint == "http://env.test"
    assert load_settings(tmp_path, environ=env, endpoint="http://flag.test").endpoint == "http://flag.test"
    assert load_settings(tmp_path, environ={"FTOPS_ENDPOINT": "local"}).endpoint is None


def test_api_key_never_shows_in_repr_or_str(tmp_path: Path) -> None:
    s = load_settings(tmp_path, environ={"MISTRAL_API_KEY": KEY, "FTOPS_ENDPOINT": "https://api.mistral.ai"})
    assert KEY not in repr(s) and KEY not in str(s) and KEY not in str(s.api_key)


def test_remote_endpoint_without_key_is_a_clear_error(tmp_path: Path) -> None:
    s = load_settings(tmp_path, environ={"FTOPS_ENDPOINT": "https://api.mistral.ai", "MISTRAL_API_KEY": " "})
    with pytest.raises(ConfigError) as info:
        s.require_api_key()
    assert "MISTRAL_API_KEY" in info.value.render()


def test_malformed_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'lock = "ftops.lock"\nendpoint = https://x\n')
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={})
    assert info.value.where == f"{path.resolve()}:2:12"
    assert "malformed ftops.toml" in info.value.message


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    path = write(tmp_path, '# project\n\nendpiont = "https://api.mistral.ai"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={})
    assert info.value.where == f"{path.resolve()}:3"
    assert info.value.hint == "did you mean 'endpoint'?"


def test_wrong_value_type(tmp_path: Path) -> None:
    write(tmp_path, "lock = 3\n")
    with pytest.raises(ConfigError, match=r"'lock' in ftops\.toml must be a string"):
        load_settings(tmp_path, environ={})


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("ftp://api.test", "not an http(s) URL"), ("api.mistral.ai", "not an http(s) URL"),
     ("https://api.mistral.ai/v1", "ends in /v1"), ("https://api.mistral.ai/v1/", "ends in /v1"),
     ("https://user:pw@api.test", "must not contain credentials"), ("https://api.test?x=1", "query")],
)
def test_bad_endpoints(value: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(fragment)) as info:
        normalize_endpoint(value, where="FTOPS_ENDPOINT")
    assert info.value.where == "FTOPS_ENDPOINT" and info.value.hint
    assert "pw" not in info.value.render()


def test_v1_hint_gives_the_host_root(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, environ={"FTOPS_ENDPOINT": "https://api.mistral.ai/v1"})
    assert info.value.hint == "use the host root only: https://api.mistral.ai"


def test_endpoint_with_path_prefix_is_kept(tmp_path: Path) -> None:
    assert normalize_endpoint("https://Proxy.test/mistral/", where="x") == "https://proxy.test/mistral"


def test_provider_from_ftops_toml_picks_its_key_variable(tmp_path: Path) -> None:
    write(tmp_path, 'provider = "together"\nendpoint = "https://api.together.xyz"\n')
    s = load_settings(tmp_path, environ={"MISTRAL_API_KEY": "mistral-key", "TOGETHER_API_KEY": KEY})
    assert s.provider == "together" and s.require_api_key() == KEY
    missing = load_settings(tmp_path, environ={"MISTRAL_API_KEY": "mistral-key"})
    with pytest.raises(ConfigError) as err:
        missing.require_api_key()
    assert err.value.where == "TOGETHER_API_KEY" and "export TOGETHER_API_KEY=" in (err.value.hint or "")


@pytest.mark.parametrize(("text", "message"), [('provider = "togther"\n', "unknown provider 'togther'"),
                                               ("provider = ['together']\n", "'provider' in ftops.toml must be")])
def test_bad_provider_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, text)
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        load_settings(tmp_path, environ={})
    assert str(err.value.where).endswith("ftops.toml:1")
