"""Project settings: one frozen ``Settings`` value resolved from flags, environment and ``ftops.toml``.

Precedence is flag > environment > ``[environments.NAME]`` > top level of ``<root>/ftops.toml`` > default.
``ftops.toml`` may set ``endpoint``, ``manifests`` (a path or a list; default ``manifests``), ``lock``
(default ``ftops.lock``), ``provider`` (``mistral``, the default, or ``together``: which API the project
lives on, and which variable holds its key by default), ``max_cost`` (USD: plan and apply fail above it
unless ``--max-cost`` says otherwise), ``api_key_env`` (the variable holding the API key; default
``MISTRAL_API_KEY``, ``TOGETHER_API_KEY`` for a Together project), a ``[backend]`` table (where the state
lives: parsed by :mod:`ftops.state.backends.config`) and ``[environments.NAME]`` tables; anything else is an
error with a did-you-mean hint.

Environments: one project, several targets (``staging``, ``production``) from the same manifests. Each
``[environments.NAME]`` table may set ``endpoint``, ``api_key_env``, ``max_cost``, ``lock`` and ``backend``;
``--env NAME`` or ``FTOPS_ENV`` selects one. An environment has its own lock (default ``ftops.NAME.lock``)
and its own ``.ftops/NAME/`` state directory, so a plan never mixes two environments' state. When the file
declares environments, a command that needs one must be told which.

``FTOPS_ENDPOINT`` (or ``--endpoint``) names the API host root; the value ``local`` (or no endpoint at all)
selects the embedded local API. In CI (``CI=true``) an endpoint that was never configured is an error, not
a silent empty local API (``require_configured_endpoint``); ``endpoint = "local"`` says it on purpose. The
API key comes only from the environment (``MISTRAL_API_KEY`` or ``api_key_env``) and is held as a
``SecretStr``: it never shows in a repr, a message or the lock, whose endpoint identity is ``local`` or the
bare base URL. A missing key is reported only when a command actually talks to a remote API
(``require_api_key``), so offline commands keep working without one.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from ftops.errors import ConfigError
from ftops.redact import redact_url

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

CONFIG_FILE = "ftops.toml"
STATE_DIR = ".ftops"
DEFAULT_MANIFESTS = "manifests"
DEFAULT_LOCK = "ftops.lock"
LOCAL = "local"
ENV_ENDPOINT = "FTOPS_ENDPOINT"
ENV_API_KEY = "MISTRAL_API_KEY"
ENV_ENVIRONMENT = "FTOPS_ENV"
ENVIRONMENTS = "environments"
# Keys an [environments.NAME] table may override; the manifests are shared by every environment.
_ENV_KEYS = ("endpoint", "lock", "max_cost", "api_key_env", "backend")
_KNOWN_KEYS = ("endpoint", "manifests", "lock", "provider", "max_cost", "api_key_env", "backend", ENVIRONMENTS)
# The variable holding the key of each provider's real service (ftops.providers has the full descriptions).
PROVIDER_KEY_ENV = {"mistral": ENV_API_KEY, "together": "TOGETHER_API_KEY"}
_ENV_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TRUE = frozenset({"1", "true", "yes"})

EndpointSource = Literal["flag", "environment", "config", "default"]


@dataclass(frozen=True)
class BackendTable:
    """The ``[backend]`` table as written (top level or an environment's), for the backend config parser.

    Settings only carries it: what the keys mean belongs to ``ftops.state.backends.config``.
    """

    values: Mapping[str, object]
    where: str  # file:line of the table, for errors
    table: str = "backend"  # its TOML name: "backend" or "environments.NAME.backend"


class SecretStr:
    """An API key that never shows in a repr, a str or a message (pydantic's ``SecretStr`` interface, without
    loading pydantic before a command knows what it needs: settings are read before anything else)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretStr('**********')"

    def __str__(self) -> str:
        return "**********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    root: Path
    lock_path: Path
    state_dir: Path
    manifest_paths: tuple[Path, ...]
    endpoint: str | None = None  # normalised host root; None → the embedded local API
    api_key: SecretStr | None = field(default=None, repr=False)
    config_file: Path | None = None  # the ftops.toml that was read, if any
    environment: str | None = None  # the selected [environments.NAME], if any
    max_cost: float | None = None  # USD limit from ftops.toml (the command line may override it)
    api_key_env: str = ENV_API_KEY  # the variable the key was (or should be) read from
    provider: str = "mistral"  # the project's provider (`provider` in ftops.toml)
    backend: BackendTable | None = None  # None → the file backend
    endpoint_source: EndpointSource = "default"  # where `endpoint` came from ("default": nobody chose it)
    ci: bool = False  # CI=true in the environment the settings were resolved from

    @property
    def embedded(self) -> bool:
        return self.endpoint is None

    @property
    def endpoint_identity(self) -> str:
        """What the lock file records about the endpoint: ``local`` or the base URL, never a key."""
        return LOCAL if self.endpoint is None else self.endpoint

    def require_api_key(self) -> str:
        """The key for a remote endpoint, or a ConfigError that says how to provide it."""
        if self.api_key is None:
            scope = f" (environment {self.environment})" if self.environment else ""
            raise ConfigError(
                f"no API key for {self.endpoint}{scope}",
                where=self.api_key_env,
                hint=f"export {self.api_key_env}=... (in CI: a secret passed to the plan and apply steps only)",
            )
        return self.api_key.get_secret_value()

    def require_configured_endpoint(self) -> None:
        """In CI, refuse to fall back to an empty embedded local API that nobody asked for.

        A fresh runner's embedded API knows nothing, so a committed lock would look deleted outside ftops
        (and every job would be planned again). Locally the embedded default stays the friendly default.
        """
        if not (self.ci and self.embedded and self.endpoint_source == "default"):
            return
        table = f"[environments.{self.environment}] " if self.environment else ""
        raise ConfigError(
            "no API endpoint is configured, and in CI ftops will not start an empty embedded local API",
            where=ENV_ENDPOINT,
            hint=(
                f"set {ENV_ENDPOINT} (e.g. https://api.mistral.ai; a repository variable in GitHub Actions) and "
                f"the {self.api_key_env} secret, or {table}endpoint in {CONFIG_FILE}; to use the embedded local "
                f'API in CI on purpose (nothing persists between runs), set {table}endpoint = "local" in '
                f"{CONFIG_FILE} or {ENV_ENDPOINT}=local"
            ),
        )


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"""^\s*(\[\s*)?["']?{re.escape(key)}["']?\s*(=|\]|\.)""")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def _where(path: Path, text: str, key: str) -> str:
    line = _line_of(text, key)
    return f"{path}:{line}" if line else str(path)


def _read_config(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {CONFIG_FILE}: {exc}", where=str(path)) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        where = f"{path}:{match.group(1)}:{match.group(2)}" if match else str(path)
        reason = re.sub(r"\s*\(at line \d+, column \d+\)|\s*\(at end of document\)", "", str(exc))
        raise ConfigError(f"malformed {CONFIG_FILE}: {reason}", where=where,
                          hint='TOML syntax: key = "value", one per line') from None


def _unknown(key: str, known: Sequence[str], where: str, table: str) -> ConfigError:
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
    return ConfigError(f"unknown key '{key}' in {table}", where=where, hint=hint)


def _check_value(key: str, value: object, where: str) -> None:
    if key == "manifests":
        ok = isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        wanted = "a string or a list of strings"
    elif key == "max_cost":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
        wanted = "a number of USD, 0 or more"
    elif key in ("backend", ENVIRONMENTS):
        ok = isinstance(value, dict)
        wanted = "a table"
    elif key == "api_key_env":
        ok = isinstance(value, str) and bool(_VAR_NAME.match(value))
        wanted = "an environment variable name"
    elif key == "provider":
        if isinstance(value, str) and value not in PROVIDER_KEY_ENV:
            raise ConfigError(f"unknown provider {value!r} in {CONFIG_FILE}", where=where,
                              hint=f"use one of: {', '.join(PROVIDER_KEY_ENV)}")
        ok, wanted = isinstance(value, str), "a string"
    else:
        ok, wanted = isinstance(value, str), "a string"
    if not ok:
        shown = type(value).__name__ if not isinstance(value, (str, int, float)) else repr(value)
        raise ConfigError(f"'{key}' in {CONFIG_FILE} must be {wanted}, got {shown}", where=where,
                          hint=f"e.g. {_example(key)}")


def _example(key: str) -> str:
    return {
        "endpoint": 'endpoint = "https://api.mistral.ai"',
        "manifests": f'manifests = "{DEFAULT_MANIFESTS}"',
        "lock": f'lock = "{DEFAULT_LOCK}"',
        "max_cost": "max_cost = 50.0",
        "api_key_env": 'api_key_env = "MISTRAL_API_KEY_STAGING"',
        "provider": 'provider = "together"',
        "backend": '[backend]\ntype = "postgres"',
        ENVIRONMENTS: '[environments.staging]\nendpoint = "https://api.mistral.ai"',
    }[key]


def _check_config(data: dict[str, Any], text: str, path: Path) -> None:
    for key, value in data.items():
        where = _where(path, text, key)
        if key not in _KNOWN_KEYS:
            raise _unknown(key, _KNOWN_KEYS, where, CONFIG_FILE)
        _check_value(key, value, where)
    for name, table in data.get(ENVIRONMENTS, {}).items():
        where = _where(path, text, f"{ENVIRONMENTS}.{name}")
        if not _ENV_NAME.match(name):
            raise ConfigError(f"environment name {name!r} is not usable in file names", where=where,
                              hint="lower-case letters, digits, '-' and '_', e.g. staging or prod-eu")
        if not isinstance(table, dict):
            raise ConfigError(f"'{ENVIRONMENTS}.{name}' in {CONFIG_FILE} must be a table", where=where,
                              hint=f"[{ENVIRONMENTS}.{name}] followed by its keys")
        for key, value in table.items():
            if key not in _ENV_KEYS:
                raise _unknown(key, _ENV_KEYS, where, f"[{ENVIRONMENTS}.{name}]")
            _check_value(key, value, where)


def normalize_endpoint(value: str, *, where: str) -> str | None:
    """The host root of ``value`` without a trailing slash; None for ``local``. Raises ConfigError."""
    text = value.strip()
    if text.lower() == LOCAL:
        return None
    shown = redact_url(text)  # errors below never echo user info, a query or a fragment
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"endpoint '{shown}' is not an http(s) URL", where=where,
                          hint="use the host root, e.g. https://api.mistral.ai, or 'local' for the embedded API")
    if parts.username or parts.password:
        # The endpoint is written to the lock file; credentials must stay in MISTRAL_API_KEY.
        raise ConfigError("endpoint URL must not contain credentials", where=where,
                          hint=f"put the key in {ENV_API_KEY} and use the bare host root")
    if parts.query or parts.fragment:
        raise ConfigError(f"endpoint '{shown}' must not have a query or fragment", where=where,
                          hint="use the host root, e.g. https://api.mistral.ai")
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        raise ConfigError(f"endpoint '{shown}' ends in /v1", where=where,
                          hint=f"use the host root only: {parts.scheme}://{parts.netloc}{path[:-3]}")
    return f"{parts.scheme}://{parts.netloc.lower()}{path}"


def _select_environment(
    data: dict[str, Any], chosen: str | None, path: Path, *, required: bool
) -> tuple[str | None, dict[str, Any]]:
    """The selected environment's name and table; ({}, None) for a project without environments."""
    declared: dict[str, Any] = data.get(ENVIRONMENTS, {})
    if chosen is None:
        if declared and required:
            names = ", ".join(sorted(declared))
            raise ConfigError(
                f"this project has several environments ({names}); choose one",
                where=str(path),
                hint=f"pass --env NAME or set {ENV_ENVIRONMENT}=NAME, e.g. --env {sorted(declared)[0]}",
            )
        return None, {}
    if chosen not in declared:
        close = difflib.get_close_matches(chosen, list(declared), n=1)
        if close:
            hint = f"did you mean '{close[0]}'?"
        elif declared:
            hint = f"known environments: {', '.join(sorted(declared))}"
        else:
            hint = f"declare it in {CONFIG_FILE}: [{ENVIRONMENTS}.{chosen}] with its endpoint, api_key_env, max_cost"
        raise ConfigError(f"unknown environment '{chosen}'", where=str(path), hint=hint)
    return chosen, dict(declared[chosen])


def _backend_table(raw: object, *, path: Path, text: str, table: str) -> BackendTable | None:
    """The backend table to hand on, with where it is written. The same signature as the typed parser
    ``ftops.state.backends.config.parse_backend``, which takes this place once the backends exist."""
    if not isinstance(raw, dict):
        return None
    return BackendTable(values=dict(raw), where=_where(path, text, table), table=table)


def _environment_lock(lock: str, environment: str) -> str:
    """``ftops.lock`` → ``ftops.staging.lock`` (the same folder and suffix, the environment in the name)."""
    path = Path(lock)
    return str(path.with_name(f"{path.stem}.{environment}{path.suffix}"))


def load_settings(
    root: Path | str | None = None,
    *,
    endpoint: str | None = None,
    manifests: Sequence[str] | None = None,
    lock: str | None = None,
    environment: str | None = None,
    environ: Mapping[str, str] | None = None,
    require_environment: bool = True,
) -> Settings:
    """Resolve the settings of the project at ``root`` (default: the current directory).

    ``endpoint``/``manifests``/``lock``/``environment`` are command-line overrides; ``environ`` defaults to
    ``os.environ``. ``require_environment=False`` lets offline commands (validate) run without choosing one.
    """
    env = os.environ if environ is None else environ
    base = Path(root if root is not None else Path.cwd()).resolve()
    config_path = base / CONFIG_FILE
    data: dict[str, Any] = {}
    text = ""
    if config_path.is_file():
        data, text = _read_config(config_path)
        _check_config(data, text, config_path)

    wanted = environment if environment is not None else (env.get(ENV_ENVIRONMENT, "").strip() or None)
    env_name, table = _select_environment(data, wanted, config_path, required=require_environment)
    env_where = _where(config_path, text, f"{ENVIRONMENTS}.{env_name}") if env_name else ""

    source: EndpointSource = "default"
    chosen: str | None = None
    if endpoint is not None:
        chosen, source = normalize_endpoint(endpoint, where="--endpoint"), "flag"
    elif env.get(ENV_ENDPOINT, "").strip():
        chosen, source = normalize_endpoint(env[ENV_ENDPOINT], where=ENV_ENDPOINT), "environment"
    elif "endpoint" in table:
        chosen, source = normalize_endpoint(table["endpoint"], where=env_where), "config"
    elif "endpoint" in data:
        chosen = normalize_endpoint(data["endpoint"], where=_where(config_path, text, "endpoint"))
        source = "config"

    if lock is None:
        if "lock" in table:
            lock = str(table["lock"])
        elif env_name is not None:
            lock = _environment_lock(str(data.get("lock", DEFAULT_LOCK)), env_name)
        else:
            lock = str(data.get("lock", DEFAULT_LOCK))
    raw_manifests = list(manifests) if manifests else data.get("manifests", DEFAULT_MANIFESTS)
    manifest_list = [raw_manifests] if isinstance(raw_manifests, str) else list(raw_manifests)
    provider = str(data.get("provider", "mistral"))
    key_env = str(table.get("api_key_env", data.get("api_key_env", PROVIDER_KEY_ENV[provider])))
    key = env.get(key_env, "").strip()
    raw_cost = table.get("max_cost", data.get("max_cost"))
    # An environment's [environments.NAME.backend] replaces the top-level [backend] as a whole.
    backend_name = f"{ENVIRONMENTS}.{env_name}.backend" if "backend" in table else "backend"
    backend = _backend_table(table.get("backend", data.get("backend")), path=config_path, text=text,
                             table=backend_name)
    state_dir = base / STATE_DIR / env_name if env_name else base / STATE_DIR
    return Settings(
        root=base,
        lock_path=base / lock,
        state_dir=state_dir,
        manifest_paths=tuple(base / m for m in manifest_list),
        endpoint=chosen,
        api_key=SecretStr(key) if key else None,
        config_file=config_path if data or config_path.is_file() else None,
        environment=env_name,
        max_cost=float(raw_cost) if raw_cost is not None else None,
        api_key_env=key_env,
        provider=provider,
        backend=backend,
        endpoint_source=source,
        ci=env.get("CI", "").strip().lower() in _TRUE,
    )
