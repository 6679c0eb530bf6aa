"""The ``s3`` backend: the lock document, its journal and the run lock as objects on any S3-compatible store.

Objects, for ``key = K``: ``K`` (the document), ``K.runlock`` (the run lock), ``K.journal/<time>-<uuid>``
(one small object per intent record). The document is written with ``If-Match: <ETag read>`` (the first
write with ``If-None-Match: *``), so a write over a state that moved underneath answers 412 and becomes
:class:`StateConflict`; the run lock is created with ``If-None-Match: *``, as Terraform ≥ 1.10 does with
``use_lockfile``. Not every S3-compatible server implements conditional writes: the test suite checks the
one it runs, and a server that answers 501 gets a clear error instead of silently unsafe writes.

The client is httpx (already a dependency) with AWS Signature Version 4 done here: the backend needs five
requests (GET, PUT, DELETE, list, with two conditional headers), which does not justify botocore's size, and
older botocore releases silently drop the conditional-write parameters. Credentials come from the standard
variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, optional ``AWS_SESSION_TOKEN``) and never
appear in a message.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, unquote, urlsplit
from xml.etree import ElementTree

import httpx

from ftops.errors import ConfigError, StateError
from ftops.state.backend import StateConflict, StoredState
from ftops.state.runlock import RunLockInfo, dump_info, is_dead_local_holder, parse_info

ENV_ACCESS_KEY = "AWS_ACCESS_KEY_ID"
ENV_SECRET_KEY = "AWS_SECRET_ACCESS_KEY"
ENV_SESSION_TOKEN = "AWS_SESSION_TOKEN"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    session_token: str | None = None

    def __repr__(self) -> str:  # never print a key, even in a traceback
        return "Credentials(***)"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if environ is None else environ
        access, secret = env.get(ENV_ACCESS_KEY, "").strip(), env.get(ENV_SECRET_KEY, "").strip()
        if not access or not secret:
            raise ConfigError(
                "no credentials for the s3 backend",
                where=f"{ENV_ACCESS_KEY} / {ENV_SECRET_KEY}",
                hint=f"export {ENV_ACCESS_KEY}=... and {ENV_SECRET_KEY}=... (+ {ENV_SESSION_TOKEN} if temporary)",
            )
        return cls(access, secret, env.get(ENV_SESSION_TOKEN, "").strip() or None)


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign_v4(
    method: str, url: str, headers: dict[str, str], body: bytes, creds: Credentials, region: str,
    now: datetime | None = None,
) -> dict[str, str]:
    """``headers`` plus the SigV4 headers (x-amz-date, x-amz-content-sha256, Authorization) for S3."""
    moment = now or datetime.now(timezone.utc)
    amz_date, day = moment.strftime("%Y%m%dT%H%M%SZ"), moment.strftime("%Y%m%d")
    parts = urlsplit(url)
    out = {k.lower(): v.strip() for k, v in headers.items()}
    out["host"] = parts.netloc
    out["x-amz-date"] = amz_date
    out["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest() if body else _EMPTY_SHA256
    if creds.session_token:
        out["x-amz-security-token"] = creds.session_token
    query = sorted(
        (quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~"))
        for k, _, v in (item.partition("=") for item in parts.query.split("&") if item)
    )
    canonical_query = "&".join(f"{k}={v}" for k, v in query)
    names = sorted(out)
    canonical = "\n".join([
        method, parts.path or "/", canonical_query,
        "".join(f"{n}:{out[n]}\n" for n in names), ";".join(names), out["x-amz-content-sha256"],
    ])
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{creds.secret_key}".encode(), day), region), "s3"), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={creds.access_key}/{scope}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature}"
    )
    return out


def _error_code(response: httpx.Response) -> str:
    match = re.search(r"<Code>([^<]+)</Code>", response.text or "")
    return match.group(1) if match else f"HTTP {response.status_code}"


class S3Backend:
    """:class:`~ftops.state.backend.StateBackend` on one bucket/key of an S3-compatible store."""

    def __init__(
        self, *, bucket: str, key: str, credentials: Credentials, region: str = "us-east-1",
        endpoint_url: str | None = None, client: httpx.Client | None = None,
    ) -> None:
        self.bucket = bucket
        self.key = key.lstrip("/")
        self.region = region
        self._creds = credentials
        self.endpoint = (endpoint_url or f"https://s3.{region}.amazonaws.com").rstrip("/")
        # Path-style for custom endpoints (most S3-compatible servers); virtual-hosted on AWS itself.
        self._path_style = endpoint_url is not None
        self._client = client or httpx.Client(timeout=_TIMEOUT)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.key} at {self.endpoint}"

    def close(self) -> None:
        self._client.close()

    # -- HTTP ------------------------------------------------------------------------------------------

    def _url(self, key: str, query: str = "") -> str:
        path = "/" + quote(key, safe="/-_.~")
        if self._path_style:
            base = f"{self.endpoint}/{quote(self.bucket, safe='-_.~')}"
        else:
            parts = urlsplit(self.endpoint)
            base = f"{parts.scheme}://{self.bucket}.{parts.netloc}"
            path = path if key else "/"
        return f"{base}{path if key else '/'}{'?' + query if query else ''}"

    def request(
        self, method: str, key: str, *, body: bytes = b"", headers: dict[str, str] | None = None, query: str = "",
    ) -> httpx.Response:
        url = self._url(key, query)
        signed = sign_v4(method, url, dict(headers or {}), body, self._creds, self.region)
        try:
            response = self._client.request(method, url, content=body or None, headers=signed)
        except httpx.HTTPError as exc:
            raise StateError(
                f"cannot reach the s3 backend: {type(exc).__name__}: {exc}",
                where=self.describe(),
                hint="check endpoint_url in ftops.toml and that the server is up; nothing was changed",
            ) from None
        if response.status_code in (401, 403):
            code = _error_code(response)
            raise StateError(
                f"the s3 backend refused the request ({code}) for bucket {self.bucket}",
                where=self.describe(),
                hint=f"check {ENV_ACCESS_KEY} / {ENV_SECRET_KEY} and that they may read and write this bucket",
            )
        if response.status_code == 404 and _error_code(response) == "NoSuchBucket":
            raise StateError(f"the bucket {self.bucket} does not exist", where=self.describe(),
                             hint="create the bucket (ftops creates objects, not buckets)")
        if response.status_code == 501:
            raise StateError(
                f"this S3 server does not implement {method} with the headers ftops needs ({_error_code(response)})",
                where=self.describe(),
                hint="ftops needs conditional writes (If-Match, If-None-Match): use another server, or postgres",
            )
        return response

    def _unexpected(self, response: httpx.Response, what: str) -> StateError:
        return StateError(f"the s3 backend failed to {what}: {_error_code(response)}", where=self.describe())

    def get(self, key: str) -> tuple[str, str] | None:
        response = self.request("GET", key)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._unexpected(response, f"read {key}")
        return response.text, response.headers.get("etag", "")

    def put(self, key: str, text: str, *, if_match: str | None = None, create_only: bool = False) -> str | None:
        """PUT ``text``; the new ETag, or None when the precondition failed (412, or 409 on a race)."""
        headers = {"content-type": "application/json"}
        if create_only:
            headers["if-none-match"] = "*"
        elif if_match is not None:
            headers["if-match"] = if_match
        response = self.request("PUT", key, body=text.encode("utf-8"), headers=headers)
        if response.status_code in (409, 412):
            return None
        if response.status_code != 200:
            raise self._unexpected(response, f"write {key}")
        return str(response.headers.get("etag", ""))

    def delete(self, key: str, *, if_match: str | None = None) -> bool:
        response = self.request("DELETE", key, headers={"if-match": if_match} if if_match else None)
        if response.status_code in (409, 412):
            return False
        if response.status_code not in (200, 204, 404):
            raise self._unexpected(response, f"delete {key}")
        return True

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        token = ""
        while True:
            query = f"list-type=2&prefix={quote(prefix, safe='')}"
            if token:
                query += f"&continuation-token={quote(token, safe='')}"
            response = self.request("GET", "", query=query)
            if response.status_code != 200:
                raise self._unexpected(response, f"list {prefix}")
            root = ElementTree.fromstring(response.content)
            ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
            keys += [el.text or "" for el in root.iter(f"{ns}Key")]
            nxt = root.find(f"{ns}NextContinuationToken")
            if nxt is None or not nxt.text:
                return sorted(keys)
            token = nxt.text

    # -- the document ----------------------------------------------------------------------------------

    def read(self) -> StoredState | None:
        found = self.get(self.key)
        return None if found is None else StoredState(text=found[0], version=found[1])

    def write(self, text: str, *, expected: str | None) -> str:
        etag = self.put(self.key, text, if_match=expected, create_only=expected is None)
        if etag is None:
            raise StateConflict(
                "the state moved underneath this run: another run wrote it since this one read it",
                where=self.describe(), hint="run ftops plan again (nothing of this write was stored)",
            )
        return etag

    # -- the journal -----------------------------------------------------------------------------------

    @property
    def _journal_prefix(self) -> str:
        return f"{self.key}.journal/"

    def append_journal(self, record: str) -> None:
        # Names sort in append order: only the run-lock holder appends, so one clock orders them.
        name = f"{self._journal_prefix}{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        if self.put(name, record, create_only=True) is None:
            raise StateError("a journal record name collided", where=self.describe(), hint="retry")

    def read_journal(self) -> list[str]:
        records = []
        for key in self.list_keys(self._journal_prefix):
            found = self.get(key)
            if found is not None:
                records.append(found[0])
        return records

    def clear_journal(self) -> None:
        for key in self.list_keys(self._journal_prefix):
            self.delete(key)

    # -- the run lock ----------------------------------------------------------------------------------

    def run_lock_slot(self) -> S3Slot:
        return S3Slot(self)


class S3Slot:
    """The run lock as the object ``<key>.runlock``, created with ``If-None-Match: *``."""

    def __init__(self, backend: S3Backend) -> None:
        self.backend = backend
        self.key = f"{backend.key}.runlock"

    def where(self) -> str:
        return f"s3://{self.backend.bucket}/{self.key} at {self.backend.endpoint}"

    def create(self, info: RunLockInfo) -> bool:
        return self.backend.put(self.key, dump_info(info), create_only=True) is not None

    def _read(self) -> tuple[RunLockInfo, str] | None:
        found = self.backend.get(self.key)
        if found is None:
            return None
        info = parse_info(found[0])
        if info is None:
            raise StateError("the run lock object is unreadable", where=self.where(),
                             hint="if no ftops run is in progress for this project, delete that object and retry")
        return info, found[1]

    def read(self) -> RunLockInfo | None:
        found = self._read()
        return None if found is None else found[0]

    def replace(self, info: RunLockInfo) -> bool:
        found = self._read()
        if found is None or found[0].id != info.id:
            return False
        return self.backend.put(self.key, dump_info(info), if_match=found[1]) is not None

    def remove(self, lock_id: str) -> bool:
        found = self._read()
        if found is None or found[0].id != lock_id:
            return False
        return self.backend.delete(self.key, if_match=found[1])

    def holder_is_dead(self, holder: RunLockInfo) -> bool:
        return is_dead_local_holder(holder)  # S3 cannot tell whether a remote holder still runs

    def released(self) -> None:
        return None
