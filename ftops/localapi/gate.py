"""The ASGI layer in front of the app: bearer auth, the upload size pre-check, and fault injection.

Faults (off by default) hit only ``/v1`` requests, chosen by a seeded RNG: a 429 with ``Retry-After`` and the
body the real gateway sends, a 5xx, extra latency, or a *dropped* response. A drop runs the request to the
end (so its database write commits) and then sends headers announcing more bytes than it delivers and
closes the connection: the client sees a broken response although the change stands, which is the case a
reconciler must survive without creating a duplicate.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import random
import threading
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from ftops.localapi.schemas import FaultSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

RATE_LIMIT_BODY = {"object": "error", "message": "Requests rate limit exceeded", "type": "rate_limited",
                   "param": None, "code": "1300"}
_OPEN_PATHS = ("/_ftops/health", "/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect")
# Presigned-style upload URLs (Together's PUT step): the URL's signature is the credential, not the API key.
_OPEN_PREFIXES = ("/together/_upload/",)
# Fault injection applies to the API surfaces of every provider served here.
_API_PREFIXES = ("/v1/", "/together/v1/")
_UPLOAD_SLACK = 64 * 1024  # multipart framing around the file part


class DroppedResponse(Exception):
    """Raised after a deliberately truncated response, so the server closes the connection."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, DroppedResponse)


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


@dataclass(frozen=True)
class Decision:
    latency_ms: int = 0
    fault: str | None = None  # "429" | "5xx" | "drop"
    status: int = 0


class FaultInjector:
    def __init__(self, settings: FaultSettings) -> None:
        self._lock = threading.Lock()
        self.settings = settings
        self._rng = random.Random(settings.seed)
        self._left = settings.budget

    def update(self, settings: FaultSettings) -> None:
        with self._lock:
            self.settings = settings
            self._rng = random.Random(settings.seed)
            self._left = settings.budget

    def decide(self, method: str, path: str) -> Decision:
        with self._lock:
            s = self.settings
            if not path.startswith(_API_PREFIXES):
                return Decision()
            if s.methods and method.upper() not in {m.upper() for m in s.methods}:
                return Decision()
            if s.paths and not any(path.startswith(p) for p in s.paths):
                return Decision()
            roll = self._rng.random()
            fault: str | None = None
            if self._left is None or self._left > 0:
                if roll < s.rate_429:
                    fault = "429"
                elif roll < s.rate_429 + s.rate_5xx:
                    fault = "5xx"
                elif roll < s.rate_429 + s.rate_5xx + s.rate_drop:
                    fault = "drop"
            if fault and self._left is not None:
                self._left -= 1
            status = {"429": 429, "5xx": self._rng.choice((500, 502, 503)), "drop": 0}.get(fault or "", 0)
            return Decision(latency_ms=s.latency_ms, fault=fault, status=status)


async def _buffered(receive: Receive) -> Receive:
    """Read the request body now; replay it to the app later even if the client has gone."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay


async def _json(send: Send, status: int, body: object, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    raw = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": raw})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class Gate:
    def __init__(self, app: ASGIApp, *, api_key: str, max_upload_bytes: int, faults: FaultInjector) -> None:
        self.app = app
        self._expected = f"Bearer {api_key}".encode()
        self.max_upload_bytes = max_upload_bytes
        self.faults = faults

    def _authorized(self, scope: Scope) -> bool:
        given = (_header(scope, b"authorization") or "").encode("latin-1")
        return hmac.compare_digest(given, self._expected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path not in _OPEN_PATHS and not path.startswith(_OPEN_PREFIXES) and not self._authorized(scope):
            await _json(send, 401, {"message": "Unauthorized", "request_id": uuid.uuid4().hex})
            return
        if method == "POST" and path == "/v1/files":
            length = _header(scope, b"content-length")
            if length and length.isdigit() and int(length) > self.max_upload_bytes + _UPLOAD_SLACK:
                await _json(send, 413, {"detail": f"Request Entity Too Large: files are limited to "
                                                  f"{self.max_upload_bytes} bytes."})
                return
        decision = self.faults.decide(method, path)
        if decision.latency_ms:
            # A slow server has the whole request and is slow to process it: a client that times out
            # meanwhile does not stop the write (the case where re-sending would create a duplicate).
            receive = await _buffered(receive)
            await asyncio.sleep(decision.latency_ms / 1000)
        if decision.fault == "429":
            retry = str(self.faults.settings.retry_after).encode()
            await _json(send, 429, RATE_LIMIT_BODY, [(b"retry-after", retry), (b"x-ratelimit-remaining", b"0")])
        elif decision.fault == "5xx":
            await _json(send, decision.status, {"detail": "Injected server error (ftops serve fault injection)."})
        elif decision.fault == "drop":
            await self._drop_after_commit(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _drop_after_commit(self, scope: Scope, receive: Receive, send: Send) -> None:
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        await self.app(scope, receive, capture)  # runs to completion: the write is committed
        start = next(m for m in captured if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in captured if m["type"] == "http.response.body")
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body) + 1024).encode()))
        await send({"type": "http.response.start", "status": start["status"], "headers": headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        raise DroppedResponse("response dropped on purpose (fault injection)")
