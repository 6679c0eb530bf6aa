"""Turn an HTTP error answer (or no answer) into the matching ``ApiError`` subclass.

Messages carry the API's own ``detail``/``message`` text and name the call; hints name the fix. Nothing here
ever formats request headers, and every message passes through ``redact`` so an API key that a server or an
exception happened to echo is masked.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from ftops.client.deprecation import removed_jobs_endpoint
from ftops.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    TransportError,
    ValidationFailed,
)

MAX_DETAIL_CHARS = 600


# A W&B key is 40 hex characters; Mistral keys are 32 alphanumerics. Either may come back inside an error
# body that quotes the request (a validation error's ``input``), so any such run is masked.
_KEY_LIKE = re.compile(r"\b(?:[0-9a-f]{40}|[A-Za-z0-9]{32})\b")
# Keys whose values quote what was sent (or a secret outright): never printed, never kept.
_QUOTING_KEYS = frozenset({"input", "ctx", "api_key", "token", "authorization", "url"})


def redact(text: str, secret: str | None) -> str:
    if secret and len(secret) >= 4:
        text = text.replace(secret, "***")
    return _KEY_LIKE.sub("***", text)


def scrub(body: Any) -> Any:
    """An error body without the parts that echo the request (``input``, ``ctx``, keys, tokens)."""
    if isinstance(body, dict):
        return {k: ("***" if k.lower() in _QUOTING_KEYS else scrub(v)) for k, v in body.items()}
    if isinstance(body, list):
        return [scrub(v) for v in body]
    if isinstance(body, str):
        return _KEY_LIKE.sub("***", body)
    return body


def _items(detail: list[Any]) -> str:
    parts = []
    for item in detail:
        if isinstance(item, dict) and "msg" in item:
            loc = ".".join(str(p) for p in item.get("loc") or [] if p != "body")
            parts.append(f"{loc}: {item['msg']}" if loc else str(item["msg"]))
        else:
            parts.append(str(scrub(item)))
    return "; ".join(parts)


def _detail(body: Any, depth: int = 0) -> str | None:
    """The human part of an error body, for every documented shape.

    FastAPI ``{"detail": "text"}`` or ``{"detail": [{loc, msg, type, input?, ctx?}]}``; the gateway's
    ``{"message": "text", ...}`` and ``{"object": "error", "message": ..., "type": ...}``; and the chat-style
    nesting ``{"message": {"detail": [...]}}``. ``input``/``ctx`` (which echo what was sent) never show.
    """
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return _items(body)
    if not isinstance(body, dict) or depth > 3:
        return None
    for key in ("detail", "message", "error"):
        if key in body and body[key] is not None:
            inner = body[key]
            if isinstance(inner, dict | list):
                return _detail(inner, depth + 1) or str(scrub(inner))
            return str(inner)
    return None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:MAX_DETAIL_CHARS] or None


def from_response(response: httpx.Response, *, call: str, endpoint: str, secret: str | None,
                  retry_after: float | None = None) -> ApiError:
    """The typed error for a non-2xx response to ``call`` (e.g. ``"POST /v1/fine_tuning/jobs"``)."""
    status = response.status_code
    body = scrub(_body(response))
    detail = _detail(body) or response.reason_phrase or "no details"
    detail = redact(str(detail), secret)[:MAX_DETAIL_CHARS]
    message = f"{call} failed with HTTP {status}: {detail}"
    kw: dict[str, Any] = {"status_code": status, "body": body, "where": endpoint}
    removed = removed_jobs_endpoint(status, call, detail)
    if removed is not None:
        return ApiError(f"{message}. {removed}", hint="see docs/mistral-deprecation.md: ftops keeps files and "
                        "fine-tuned models working; job operations need an API that still serves them", **kw)
    if status in (401, 403):
        return AuthenticationError(message, hint="check MISTRAL_API_KEY (is it set, current, and for this endpoint?)",
                                   **kw)
    if status == 404:
        return NotFoundError(message, **kw)
    if status == 409:
        return ConflictError(message, hint="the remote object changed state; re-read it (ftops status)", **kw)
    if status in (400, 422):
        return ValidationFailed(message, hint="the API rejected the request body; fix the field it names", **kw)
    if status == 413:
        return PayloadTooLarge(message, hint="files are limited to 512 MB; split the file (ftops data split)", **kw)
    if status == 429:
        return RateLimited(message, retry_after=retry_after, hint="rate limited; wait a minute and retry", **kw)
    if status >= 500:
        return ServerError(message, hint="the API had an internal error; retry later", **kw)
    return ApiError(message, **kw)


def from_transport(exc: httpx.HTTPError, *, call: str, endpoint: str, secret: str | None) -> TransportError:
    """A connection refused, timeout or dropped response, without any request detail beyond the call."""
    reason = redact(str(exc), secret)[:MAX_DETAIL_CHARS] or type(exc).__name__
    return TransportError(
        f"{call} got no answer ({type(exc).__name__}: {reason})",
        where=endpoint,
        hint=f"check that {endpoint} is reachable (network, VPN, FTOPS_ENDPOINT)",
    )
