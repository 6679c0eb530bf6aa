"""Turn an HTTP error answer (or no answer) into the matching ``ApiError`` subclass.

Messages carry the API's own ``detail``/``message`` text and name the call; hints name the fix. Nothing here
ever formats request headers, and every message passes through ``redact`` so an API key that a server or an
exception happened to echo is masked.
"""

from __future__ import annotations

from typing import Any

import httpx

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


def redact(text: str, secret: str | None) -> str:
    if secret and len(secret) >= 4:
        text = text.replace(secret, "***")
    return text


def _detail(body: Any) -> str | None:
    """The human part of an error body: FastAPI ``detail`` (string or list of {loc, msg}) or ``message``."""
    if not isinstance(body, dict):
        return None
    detail = body.get("detail", body.get("message"))
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict) and "msg" in item:
                loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                parts.append(f"{loc}: {item['msg']}" if loc else str(item["msg"]))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return None if detail is None else str(detail)


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:MAX_DETAIL_CHARS] or None


def from_response(response: httpx.Response, *, call: str, endpoint: str, secret: str | None,
                  retry_after: float | None = None) -> ApiError:
    """The typed error for a non-2xx response to ``call`` (e.g. ``"POST /v1/fine_tuning/jobs"``)."""
    status = response.status_code
    body = _body(response)
    detail = _detail(body) or (body if isinstance(body, str) else None) or response.reason_phrase or "no details"
    detail = redact(str(detail), secret)[:MAX_DETAIL_CHARS]
    message = f"{call} failed with HTTP {status}: {detail}"
    kw: dict[str, Any] = {"status_code": status, "body": body, "where": endpoint}
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
