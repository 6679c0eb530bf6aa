"""The ``[backend]`` table of ``ftops.toml``: where the lock document and the run lock live.

::

    [backend]                      [backend]                         (no table: type = "file")
    type = "postgres"              type = "s3"
    url_env = "FTOPS_PG_URL"       bucket = "team-ftops"
    name = "support-bot"           key = "support-bot/ftops.lock"
    schema = "ftops"   # optional  endpoint_url = "http://…"   # optional (AWS when absent)
                                   region = "eu-west-1"        # optional

Parsing is offline and typed (:class:`FileBackendConfig` | :class:`PostgresBackendConfig` |
:class:`S3BackendConfig`); every mistake is one ConfigError with ``ftops.toml:line`` and a hint. Secrets are
never in the file: the PostgreSQL URL is read from the variable ``url_env`` names, S3 credentials from the
standard AWS variables, both only when a command actually opens the backend (:func:`open_backend`).
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ftops.errors import ConfigError

if TYPE_CHECKING:  # imported where used: settings (which imports this module) stays light
    from ftops.state.backend import StateBackend
    from ftops.state.backends.postgres import PostgresBackend
    from ftops.state.backends.s3 import S3Backend
    from ftops.state.model import LockFile
    from ftops.state.runlock import RunLockSlot

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class FileBackendConfig:
    type: str = "file"

    def describe(self) -> str:
        return "file"


@dataclass(frozen=True)
class PostgresBackendConfig:
    url_env: str
    name: str
    schema: str = "public"
    where: str = "ftops.toml"  # file:line of the table, for errors raised when opening it
    type: str = "postgres"

    def describe(self) -> str:
        return f"postgres (URL from ${self.url_env}, schema {self.schema}, project {self.name!r})"


@dataclass(frozen=True)
class S3BackendConfig:
    bucket: str
    key: str
    endpoint_url: str | None = None
    region: str | None = None
    where: str = "ftops.toml"
    type: str = "s3"

    def describe(self) -> str:
        at = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.key}{at}"


BackendConfig = FileBackendConfig | PostgresBackendConfig | S3BackendConfig

_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # type: (required, optional)
    "file": ((), ()),
    "postgres": (("url_env", "name"), ("schema",)),
    "s3": (("bucket", "key"), ("endpoint_url", "region")),
}
_EXAMPLES = {
    "type": '"postgres"', "url_env": '"FTOPS_PG_URL"', "name": '"my-project"', "schema": '"ftops"',
    "bucket": '"my-bucket"', "key": '"my-project/ftops.lock"', "endpoint_url": '"https://s3.example.com"',
    "region": '"us-east-1"',
}


def _locate(text: str, table: str, key: str | None) -> int | None:
    """The line of ``[table]`` (``key`` None) or of ``key = …`` inside it."""
    header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]\s*(#.*)?$")
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        if header.match(line):
            if key is None:
                return number
            inside = True
        elif inside and re.match(r"^\s*\[", line):
            break
        elif inside and key is not None and re.match(rf"""^\s*["']?{re.escape(key)}["']?\s*=""", line):
            return number
    return None


def _top_level_line(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"""^\s*["']?{re.escape(key)}["']?\s*=""", line):
            return number
    return None


def parse_backend(raw: object, *, path: Path, text: str, table: str = "backend") -> BackendConfig:
    """The typed backend of ``[table]`` in ``path`` (whose content is ``text``); file when ``raw`` is None."""

    def where(key: str | None = None) -> str:
        line = _locate(text, table, key) or _locate(text, table, None) or _top_level_line(text, table)
        return f"{path}:{line}" if line else str(path)

    return _parse(raw, where, table)


class BackendTableLike(Protocol):
    """The ``[backend]`` table as settings carries it (``ftops.settings.BackendTable``): raw values + place."""

    @property
    def values(self) -> Mapping[str, object]: ...

    @property
    def where(self) -> str: ...


def parse_table(table: BackendTableLike) -> BackendConfig:
    """Parse a carried table; key lines are found below the table's own ``file:line`` when the file is readable."""
    path_text, _, line_text = table.where.rpartition(":")
    start = int(line_text) if line_text.isdigit() and path_text else None
    path = Path(path_text) if start is not None else Path(table.where)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []

    def where(key: str | None = None) -> str:
        if key is not None and start is not None:
            for number in range(start + 1, len(lines) + 1):
                text = lines[number - 1]
                if re.match(r"^\s*\[", text):
                    break
                if re.match(rf"""^\s*["']?{re.escape(key)}["']?\s*=""", text):
                    return f"{path}:{number}"
        return table.where

    return _parse(table.values, where, str(getattr(table, "table", "backend")))  # "environments.NAME.backend"


def resolve_backend(backend: BackendConfig | BackendTableLike | None) -> BackendConfig:
    """The typed backend from whatever settings carries: a parsed config, a raw table, or None (file)."""
    if backend is None:
        return FileBackendConfig()
    if isinstance(backend, (FileBackendConfig, PostgresBackendConfig, S3BackendConfig)):
        return backend
    return parse_table(backend)


def _parse(raw: object, where: Callable[..., str], table: str) -> BackendConfig:
    if raw is None:
        return FileBackendConfig()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"'{table}' in ftops.toml must be a table", where=where(),
                          hint=f'write it as [{table}] with type = "file" | "postgres" | "s3" below it')
    kind = raw.get("type", "file")
    if kind not in _KEYS:
        close = difflib.get_close_matches(str(kind), list(_KEYS), n=1)
        raise ConfigError(f"unknown backend type {kind!r}", where=where("type"),
                          hint=f"did you mean {close[0]!r}?" if close else "use one of: file, postgres, s3")
    required, optional = _KEYS[kind]
    values: dict[str, str] = {}
    for key, value in raw.items():
        if key == "type":
            continue
        if key not in required + optional:
            known = required + optional
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else (
                f"a {kind} backend takes: {', '.join(known)}" if known else "a file backend takes no options")
            raise ConfigError(f"unknown key '{key}' in [{table}] for a {kind} backend", where=where(key), hint=hint)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"'{key}' in [{table}] must be a non-empty string", where=where(key),
                              hint=f"e.g. {key} = {_EXAMPLES[key]}")
        values[key] = value.strip()
    for key in required:
        if key not in values:
            raise ConfigError(f"a {kind} backend needs '{key}' in [{table}]", where=where(),
                              hint=f"add {key} = {_EXAMPLES[key]}")
    if kind == "postgres":
        if not _ENV_NAME.match(values["url_env"]):
            # The value may be the URL itself, password included: never echo it.
            raise ConfigError(f"'url_env' in [{table}] must name an environment variable, not hold the URL",
                              where=where("url_env"),
                              hint='url_env = "FTOPS_PG_URL", then export FTOPS_PG_URL=postgresql://… where ftops runs')
        return PostgresBackendConfig(url_env=values["url_env"], name=values["name"],
                                     schema=values.get("schema", "public"), where=where())
    if kind == "s3":
        endpoint = values.get("endpoint_url")
        if endpoint is not None and not re.match(r"^https?://[^/@]+(/.*)?$", endpoint):
            raise ConfigError("'endpoint_url' must be an http(s) URL without credentials", where=where("endpoint_url"),
                              hint="e.g. endpoint_url = \"https://s3.example.com\"; credentials go in AWS_* variables")
        return S3BackendConfig(bucket=values["bucket"], key=values["key"].lstrip("/"), endpoint_url=endpoint,
                               region=values.get("region"), where=where())
    return FileBackendConfig()


# -- opening a configured backend ----------------------------------------------------------------------


class RemoteBackend:
    """An opened remote backend: the StateBackend for the document and the slot for its run lock."""

    def __init__(self, config: PostgresBackendConfig | S3BackendConfig, environ: Mapping[str, str]) -> None:
        self.config = config
        if isinstance(config, PostgresBackendConfig):
            from ftops.state.backends.postgres import PostgresBackend

            url = environ.get(config.url_env, "").strip()
            if not url:
                raise ConfigError(f"${config.url_env} is not set: the postgres backend reads its URL from it",
                                  where=config.where,
                                  hint=f"export {config.url_env}=postgresql://USER:PASSWORD@HOST:5432/DBNAME")
            self.backend: PostgresBackend | S3Backend = PostgresBackend(
                url, name=config.name, schema=config.schema, url_env=config.url_env)
        else:
            from ftops.state.backends.s3 import Credentials, S3Backend

            region = config.region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
            endpoint = config.endpoint_url or environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL")
            self.backend = S3Backend(bucket=config.bucket, key=config.key, credentials=Credentials.from_env(environ),
                                     region=region, endpoint_url=endpoint or None)
        self._slot: RunLockSlot | None = None

    def run_lock_slot(self) -> RunLockSlot:
        if self._slot is None:
            self._slot = self.backend.run_lock_slot()
        return self._slot

    def close(self) -> None:
        self.backend.close()


AnyBackend = BackendConfig | BackendTableLike | None  # what Settings.backend may hold


def open_backend(config: AnyBackend, environ: Mapping[str, str] | None = None) -> RemoteBackend | None:
    """The opened remote backend of ``config`` (connections open lazily, on first use); None for the file
    backend, which callers use through the lock path and ``.ftops/`` as before."""
    typed = resolve_backend(config)
    if isinstance(typed, FileBackendConfig):
        return None
    return RemoteBackend(typed, os.environ if environ is None else environ)


def run_lock_target(config: AnyBackend, state_dir: Path) -> Path | RunLockSlot:
    """What :class:`~ftops.state.runlock.RunLock` should lock: ``.ftops/`` for file, the backend's slot otherwise."""
    from ftops.state.runlock import FileSlot

    opened = open_backend(config)
    return FileSlot(state_dir) if opened is None else opened.run_lock_slot()


def state_backend(config: AnyBackend, lock_path: Path) -> StateBackend:
    """Where the lock document and its journal live: ``FileBackend(lock_path)`` or the remote backend."""
    opened = open_backend(config)
    if opened is None:
        from ftops.state.backends.file import FileBackend

        return FileBackend(lock_path)
    return opened.backend


def read_state(config: AnyBackend, lock_path: Path) -> LockFile | None:
    """The project's state (journal replayed) from the configured backend; None when it has none yet."""
    from ftops.state.backends.file import FileBackend
    from ftops.state.lockfile import load_state

    opened = open_backend(config)
    if opened is None:
        return load_state(FileBackend(lock_path))[0]
    try:
        return load_state(opened.backend)[0]
    finally:
        opened.close()  # a read-only command: do not keep a session open
