"""Project settings: one frozen ``Settings`` value resolved from flags, environment and ``ftops.toml``.

Precedence is flag > environment > ``<root>/ftops.toml`` > default. ``ftops.toml`` may set ``endpoint``,
``manifests`` (a path or a list; default ``manifests``), ``lock`` (default ``ftops.lock``) and ``provider``
(``mistral``, the default, or ``together``: which API the project lives on, and which variable holds its
key); anything else is an error with a did-you-mean hint. ``FTOPS_ENDPOINT`` (or ``--endpoint``) names the
API host root; the value ``local`` (or no endpoint at all) selects the embedded local API. The API key comes
only from ``MISTRAL_API_KEY`` (``TOGETHER_API_KEY`` for a Together project) and is held as a ``SecretStr``:
it never shows in a repr, a message or the lock, whose endpoint identity is ``local`` or the bare base URL. A
missing key is reported only when a command actually talks to a remote API (``require_api_key``), so offline
commands keep working without one.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from ftops.errors import ConfigError

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
_KNOWN_KEYS = ("endpoint", "manifests", "lock", "provider")
# The variable holding the key of each provider's real service (ftops.providers has the full descriptions).
PROVIDER_KEY_ENV = {"mistral": ENV_API_KEY, "together": "TOGETHER_API_KEY"}


@dataclass(frozen=True)
class Settings:
    root: Path
    lock_path: Path
    state_dir: Path
    manifest_paths: tuple[Path, ...]
    endpoint: str | None = None  # normalised host root; None → the embedded local API
    api_key: SecretStr | None = field(default=None, repr=False)
    config_file: Path | None = None  # the ftops.toml that was read, if any
    provider: str = "mistral"  # the project's default provider (`provider` in ftops.toml)

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
            raise ConfigError(
                f"no API key for {self.endpoint}",
                where=PROVIDER_KEY_ENV.get(self.provider, ENV_API_KEY),
                hint=f"export {PROVIDER_KEY_ENV.get(self.provider, ENV_API_KEY)}=... "
                f"(or unset {ENV_ENDPOINT} to use the embedded local API)",
            )
        return self.api_key.get_secret_value()


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"""^\s*(\[\s*)?["']?{re.escape(key)}["']?\s*(=|\])""")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


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


def _check_config(data: dict[str, Any], text: str, path: Path) -> None:
    for key, value in data.items():
        line = _line_of(text, key)
        where = f"{path}:{line}" if line else str(path)
        if key not in _KNOWN_KEYS:
            close = difflib.get_close_matches(key, _KNOWN_KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(_KNOWN_KEYS)}"
            raise ConfigError(f"unknown key '{key}' in {CONFIG_FILE}", where=where, hint=hint)
        if key == "provider" and isinstance(value, str) and value not in PROVIDER_KEY_ENV:
            raise ConfigError(f"unknown provider {value!r} in {CONFIG_FILE}", where=where,
                              hint=f"use one of: {', '.join(PROVIDER_KEY_ENV)}")
        ok = isinstance(value, str) or (
            key == "manifests" and isinstance(value, list) and all(isinstance(v, str) for v in value))
        if not ok:
            wanted = "a string or a list of strings" if key == "manifests" else "a string"
            raise ConfigError(f"'{key}' in {CONFIG_FILE} must be {wanted}, got {type(value).__name__}",
                              where=where, hint=f'e.g. {key} = "{_example(key)}"')


def _example(key: str) -> str:
    return {"endpoint": "https://api.mistral.ai", "manifests": DEFAULT_MANIFESTS, "lock": DEFAULT_LOCK,
            "provider": "together"}[key]


def normalize_endpoint(value: str, *, where: str) -> str | None:
    """The host root of ``value`` without a trailing slash; None for ``local``. Raises ConfigError."""
    text = value.strip()
    if text.lower() == LOCAL:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"endpoint {text!r} is not an http(s) URL", where=where,
                          hint="use the host root, e.g. https://api.mistral.ai, or 'local' for the embedded API")
    if parts.username or parts.password:
        # The endpoint is written to the lock file; credentials must stay in MISTRAL_API_KEY.
        raise ConfigError("endpoint URL must not contain credentials", where=where,
                          hint=f"put the key in {ENV_API_KEY} and use the bare host root")
    if parts.query or parts.fragment:
        raise ConfigError(f"endpoint {text!r} must not have a query or fragment", where=where,
                          hint="use the host root, e.g. https://api.mistral.ai")
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        raise ConfigError(f"endpoint {text!r} ends in /v1", where=where,
                          hint=f"use the host root only: {parts.scheme}://{parts.netloc}{path[:-3]}")
    return f"{parts.scheme}://{parts.netloc.lower()}{path}"


def load_settings(
    root: Path | str | None = None,
    *,
    endpoint: str | None = None,
    manifests: Sequence[str] | None = None,
    lock: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve the settings of the project at ``root`` (default: the current directory).

    ``endpoint``/``manifests``/``lock`` are command-line overrides; ``environ`` defaults to ``os.environ``.
    """
    env = os.environ if environ is None else environ
    base = Path(root if root is not None else Path.cwd()).resolve()
    config_path = base / CONFIG_FILE
    data: dict[str, Any] = {}
    text = ""
    if config_path.is_file():
        data, text = _read_config(config_path)
        _check_config(data, text, config_path)

    if endpoint is not None:
        chosen: str | None = normalize_endpoint(endpoint, where="--endpoint")
    elif env.get(ENV_ENDPOINT, "").strip():
        chosen = normalize_endpoint(env[ENV_ENDPOINT], where=ENV_ENDPOINT)
    elif "endpoint" in data:
        line = _line_of(text, "endpoint")
        chosen = normalize_endpoint(data["endpoint"], where=f"{config_path}:{line}" if line else str(config_path))
    else:
        chosen = None

    raw_manifests = list(manifests) if manifests else data.get("manifests", DEFAULT_MANIFESTS)
    manifest_list = [raw_manifests] if isinstance(raw_manifests, str) else list(raw_manifests)
    provider = str(data.get("provider", "mistral"))
    key = env.get(PROVIDER_KEY_ENV.get(provider, ENV_API_KEY), "").strip()
    return Settings(
        root=base,
        lock_path=base / (lock or data.get("lock", DEFAULT_LOCK)),
        state_dir=base / STATE_DIR,
        manifest_paths=tuple(base / m for m in manifest_list),
        endpoint=chosen,
        api_key=SecretStr(key) if key else None,
        config_file=config_path if data or config_path.is_file() else None,
        provider=provider,
    )
