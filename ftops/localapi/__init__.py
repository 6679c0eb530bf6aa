"""The local Mistral-compatible fine-tuning API (``ftops serve`` and the embedded default).

Files, fine-tuning jobs and models over HTTP, shaped so the official ``mistralai`` SDK works unchanged,
with state in SQLite, a job lifecycle derived from stored timestamps and an injectable clock, and optional
fault injection. It never imports the reconciler. Heavy imports (FastAPI, uvicorn) happen on first use::

    from ftops.localapi import start_embedded
    with start_embedded(Path(".ftops/localapi")) as srv:
        Mistral(api_key=srv.api_key, server_url=srv.url)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ftops.localapi.app import LocalApp, create_app
    from ftops.localapi.clock import Clock, ManualClock, SystemClock
    from ftops.localapi.config import ServerConfig
    from ftops.localapi.embedded import EmbeddedServer, start_embedded

__all__ = ["Clock", "EmbeddedServer", "LocalApp", "ManualClock", "ServerConfig", "SystemClock", "create_app",
           "start_embedded"]

_WHERE = {
    "LocalApp": "app", "create_app": "app", "Clock": "clock", "ManualClock": "clock", "SystemClock": "clock",
    "ServerConfig": "config", "EmbeddedServer": "embedded", "start_embedded": "embedded",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(f"ftops.localapi.{_WHERE[name]}"), name)
