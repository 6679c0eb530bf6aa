"""Live: a read-only snapshot of the account, built from a few paginated list calls.

The value type lives here; ``fetch_snapshot`` (implemented with the client) fills it. Planning receives
only this value, never a client, so it cannot write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ftops.client.models import RemoteFile, RemoteJob, RemoteModel


@dataclass(frozen=True)
class LiveSnapshot:
    endpoint: str  # base URL of the API that was read (never a secret)
    files: Mapping[str, RemoteFile] = field(default_factory=dict)  # by file id
    jobs: Mapping[str, RemoteJob] = field(default_factory=dict)  # by job id
    models: Mapping[str, RemoteModel] = field(default_factory=dict)  # fine-tuned models by model id
    fetched_at: float = 0.0  # unix seconds
    request_count: int = 0  # HTTP requests it took (the benchmark reads this)
