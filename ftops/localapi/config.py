"""Settings of one local API server and the per-server context the handlers share.

``ServerConfig`` is what ``ftops serve`` flags, environment variables and ``start_embedded`` fill in;
``Context`` adds the open store and answers "what time is it for job progress" (clock + stored offset).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from ftops.errors import ConfigError
from ftops.localapi.clock import Clock, SystemClock
from ftops.localapi.defaults import DEFAULT_API_KEY, DEFAULT_SPEED
from ftops.localapi.schemas import FaultSettings
from ftops.localapi.store import Store

MAX_UPLOAD_BYTES = 512 * 1024 * 1024


@dataclass
class ServerConfig:
    state_dir: Path
    api_key: str = DEFAULT_API_KEY
    speed: float = DEFAULT_SPEED
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    clock: Clock = field(default_factory=SystemClock)
    faults: FaultSettings = field(default_factory=FaultSettings)

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ConfigError(f"speed must be greater than 0, got {self.speed}", hint="use e.g. --speed 100")
        if not self.api_key:
            raise ConfigError("the local API key must not be empty", hint="pass --api-key or FTOPS_LOCAL_API_KEY")

    def __repr__(self) -> str:  # keep the key out of any log or traceback
        return f"ServerConfig(state_dir={str(self.state_dir)!r}, speed={self.speed}, api_key=***)"


class Problem(Exception):
    """An HTTP error answer: ``{"detail": detail}`` with ``status``."""

    def __init__(self, status: int, detail: object, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail
        self.headers = headers or {}


class Context:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.store = Store(config.state_dir)
        self.owner = self.store.meta("owner")
        self.faults = config.faults
        self.faults_lock = threading.Lock()

    @property
    def speed(self) -> float:
        return self.config.speed

    def now(self) -> float:
        return self.config.clock.now() + self.store.clock_offset()
