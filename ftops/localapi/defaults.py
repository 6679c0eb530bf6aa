"""The local API's defaults that clients need too (its key and speed), without loading the server.

The CLI reads these before it decides how to start the embedded API; ``config`` re-exports them.
"""

from __future__ import annotations

import os

from ftops.errors import ConfigError

DEFAULT_API_KEY = "ftops-local"
# Simulated seconds per real second: a small example job (about 5 min of simulated training) ends in ~3 s.
DEFAULT_SPEED = 100.0


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number", hint=f"set {name} to a number, e.g. 100") from None


def default_api_key() -> str:
    return os.environ.get("FTOPS_LOCAL_API_KEY") or DEFAULT_API_KEY


def default_speed() -> float:
    return _env_float("FTOPS_LOCAL_SPEED", DEFAULT_SPEED)
