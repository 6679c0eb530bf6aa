"""The Mistral fine-tuning API over httpx: files, jobs, models; pagination; retries; typed errors.

Imports nothing from ftops except ``ftops.errors`` and the package version (and its own modules).
Use ``MistralClient`` and ``RetryPolicy``; the underscore modules are private.
"""

from __future__ import annotations

from ftops.client._retry import RetryPolicy, parse_retry_after
from ftops.client.client import MistralClient, iso_utc

__all__ = ["MistralClient", "RetryPolicy", "iso_utc", "parse_retry_after"]
