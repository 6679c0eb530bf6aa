"""Providers: the hosted fine-tuning APIs ftops reconciles against (Mistral, the default, and Together).

``get(name)`` gives a provider; ``project_provider(root)`` reads ``provider`` from the project's
``ftops.toml`` (settings validate it; here an unreadable file simply means the default). Adding a provider is
one new module with a class satisfying ``ftops.providers.base.Provider``, listed in ``_REGISTRY``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ftops.errors import ConfigError
from ftops.providers.base import Provider
from ftops.providers.mistral import MistralProvider
from ftops.providers.together import TogetherProvider

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

DEFAULT = "mistral"
_REGISTRY: dict[str, Provider] = {p.name: p for p in (MistralProvider(), TogetherProvider())}
NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get(name: str | None) -> Provider:
    chosen = name or DEFAULT
    if chosen not in _REGISTRY:
        raise ConfigError(f"unknown provider {chosen!r}", hint=f"use one of: {', '.join(NAMES)}")
    return _REGISTRY[chosen]


def project_provider(root: Path) -> str:
    """The project's default provider: ``provider`` in ``<root>/ftops.toml``, else ``mistral``."""
    try:
        data = tomllib.loads((Path(root) / "ftops.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return DEFAULT
    value = data.get("provider")
    return value if isinstance(value, str) and value in _REGISTRY else DEFAULT
