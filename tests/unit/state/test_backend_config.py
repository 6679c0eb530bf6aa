"""``[backend]`` in ftops.toml: typed values, one clear error with file:line and a hint, no secret echoed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from ftops.errors import ConfigError
from ftops.settings import load_settings
from ftops.state.backends.config import (
    FileBackendConfig,
    PostgresBackendConfig,
    S3BackendConfig,
    open_backend,
    resolve_backend,
    run_lock_target,
)
from ftops.state.runlock import FileSlot


def settings_with(tmp_path: Path, toml: str) -> object:
    (tmp_path / "ftops.toml").write_text(toml)
    return resolve_backend(load_settings(tmp_path, environ={}).backend)


def test_no_table_is_the_file_backend(tmp_path: Path) -> None:
    assert settings_with(tmp_path, 'endpoint = "local"\n') == FileBackendConfig()
    slot = run_lock_target(FileBackendConfig(), tmp_path / ".ftops")
    assert isinstance(slot, FileSlot) and slot.path == tmp_path / ".ftops" / "apply.lock"


def test_postgres_and_s3_tables_parse(tmp_path: Path) -> None:
    pg = settings_with(tmp_path, '[backend]\ntype = "postgres"\nurl_env = "PG_URL"\nname = "bot"\nschema = "ops"\n')
    assert isinstance(pg, PostgresBackendConfig) and (pg.url_env, pg.name, pg.schema) == ("PG_URL", "bot", "ops")
    s3 = settings_with(tmp_path, '[backend]\ntype = "s3"\nbucket = "b"\nkey = "/p/ftops.lock"\n'
                                 'endpoint_url = "http://127.0.0.1:9000"\n')
    assert isinstance(s3, S3BackendConfig) and (s3.bucket, s3.key) == ("b", "p/ftops.lock")


@pytest.mark.parametrize(
    ("toml", "message", "line", "hint"),
    [
        ('[backend]\ntype = "postgress"\n', "unknown backend type 'postgress'", 2, "did you mean 'postgres'?"),
        ('[backend]\ntype = "postgres"\nname = "x"\n', "needs 'url_env'", 1, 'url_env = "FTOPS_PG_URL"'),
        ('[backend]\ntype = "s3"\nbucket = "b"\nkey = "k"\nregoin = "x"\n', "unknown key 'regoin'", 5,
         "did you mean 'region'?"),
        ('x = 1\n[backend]\ntype = "postgres"\nurl_env = 5\nname = "n"\n', "must be a non-empty string", 4,
         "url_env ="),
        ('backend = "postgres"\n', "must be a table", 1, "[backend]"),
    ],
)
def test_mistakes_are_one_clear_error(tmp_path: Path, toml: str, message: str, line: int, hint: str) -> None:
    if toml.startswith("x = 1"):
        toml = toml.replace("x = 1\n", "endpoint = \"local\"\n")
    with pytest.raises(ConfigError) as err:
        settings_with(tmp_path, toml)
    assert message in err.value.message
    assert err.value.where == f"{tmp_path / 'ftops.toml'}:{line}"
    assert err.value.hint is not None and hint in err.value.hint


def test_a_url_in_url_env_is_refused_without_echoing_it(tmp_path: Path) -> None:
    toml = '[backend]\ntype = "postgres"\nurl_env = "postgresql://u:hunter2@db/x"\nname = "n"\n'
    with pytest.raises(ConfigError) as err:
        settings_with(tmp_path, toml)
    assert "must name an environment variable" in err.value.render() and "hunter2" not in err.value.render()


def test_missing_url_variable_and_credentials_are_clear(tmp_path: Path) -> None:
    pg = PostgresBackendConfig(url_env="FTOPS_PG_URL", name="n", where="ftops.toml:1")
    with pytest.raises(ConfigError, match=r"\$FTOPS_PG_URL is not set"):
        open_backend(pg, environ={})
    s3 = S3BackendConfig(bucket="b", key="k")
    with pytest.raises(ConfigError, match="no credentials for the s3 backend"):
        open_backend(s3, environ={})


@dataclass(frozen=True)
class CarriedTable:  # the shape ftops.settings carries for an environment's [environments.NAME.backend]
    values: Mapping[str, object]
    where: str


def test_a_carried_table_is_parsed_with_key_lines(tmp_path: Path) -> None:
    toml = tmp_path / "ftops.toml"
    toml.write_text('[environments.prod.backend]\ntype = "postgres"\nname = "p"\nurl_env = "postgres://x"\n')
    good = CarriedTable({"type": "s3", "bucket": "b", "key": "k"}, f"{toml}:1")
    assert resolve_backend(good) == S3BackendConfig(bucket="b", key="k", where=f"{toml}:1")
    assert resolve_backend(None) == FileBackendConfig()
    bad = CarriedTable({"type": "postgres", "name": "p", "url_env": "postgres://x"}, f"{toml}:1")
    with pytest.raises(ConfigError) as err:
        resolve_backend(bad)
    assert err.value.where == f"{toml}:4"
