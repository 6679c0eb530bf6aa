"""When and how long to wait before trying an API call again.

``RetryPolicy`` is a small value: how many attempts, exponential backoff with full jitter capped at
``max_delay``, and a server's ``Retry-After`` (seconds or an HTTP date) taking precedence when it is given.
``sleep`` and ``rng`` are injectable so tests can record the waits instead of waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/garbled."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT; some servers omit the zone
        when = when.replace(tzinfo=timezone.utc)
    reference = time.time() if now is None else now
    return max(0.0, when.timestamp() - reference)


def _default_sleep(seconds: float) -> None:
    time.sleep(seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and backoff for retryable failures (429, 5xx, dropped connections)."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: bool = True
    sleep: Callable[[float], None] = field(default=_default_sleep, repr=False, compare=False)
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        A server-given Retry-After wins (capped at ``max_delay`` so a bogus header cannot hang a CI job);
        otherwise exponential backoff with full jitter, which spreads concurrent clients apart.
        """
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** max(0, attempt - 1))
        if not self.jitter:
            return ceiling
        return float(self.rng.uniform(ceiling / 2, ceiling))

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries (one attempt)."""
        return cls(max_attempts=1)


def http_date(ts: float) -> str:
    """Format unix seconds as an HTTP date (used by tests and the local API alike)."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
