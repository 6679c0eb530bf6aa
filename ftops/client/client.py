"""``MistralClient``: the flat list of fine-tuning calls ftops makes, typed in and out.

Lists are paginated to completion (``page``/``page_size=100`` until ``total`` items are read, stopping
safely when a server misreports ``total`` or repeats items). ``create_job`` always sends
``auto_start: false`` unless the caller explicitly passes it, because starting is a separate, planned spend.
Creates (``upload_file``, ``create_job``) are retried only on 429; see ``_http``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from ftops.client._http import HttpSession
from ftops.client._retry import RetryPolicy
from ftops.client.models import BaseModelCard, RemoteFile, RemoteJob, RemoteModel
from ftops.errors import ApiError

if TYPE_CHECKING:  # loaded on the first model call: plans and applies never need them
    from ftops.client.inference_models import ChatCompletion, Classification

PAGE_SIZE = 100
_UNSET: Any = object()
T = TypeVar("T", bound=BaseModel)
Item = TypeVar("Item")


@dataclass(frozen=True)
class Page(Generic[Item]):
    """One page of a list: its new items, and how many more the server says follow (None: it did not say)."""

    items: list[Item]
    remaining: int | None

    @property
    def pages_left(self) -> int | None:
        return None if self.remaining is None else -(-self.remaining // PAGE_SIZE)


def _seg(value: str) -> str:
    """A path segment: ids keep their colons (``ft:...``, as the SDK sends them) but can't inject a ``/``."""
    return quote(value, safe=":")


def iso_utc(ts: float) -> str:
    """Unix seconds as the ISO-8601 UTC form the SDK sends (``2025-01-02T03:04:05Z``)."""
    text = datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds")
    return text.replace("+00:00", "Z")


class MistralClient:
    """The Mistral fine-tuning API (files, jobs, fine-tuned models) at ``base_url`` (host root, no ``/v1``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._http = HttpSession(base_url, api_key, transport=transport, timeout=timeout, retry=retry)
        self.base_url = self._http.base_url

    # -- plumbing -------------------------------------------------------------------------------------

    def __repr__(self) -> str:  # the key is never part of the repr
        return f"MistralClient(base_url={self.base_url!r})"

    __str__ = __repr__

    @property
    def request_count(self) -> int:
        return self._http.request_count

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MistralClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _json(self, method: str, path: str, *, idempotent: bool = True, **kw: Any) -> Any:
        response = self._http.call(method, path, idempotent=idempotent, **kw)
        if not response.content:  # e.g. a 204 to a DELETE from a proxy or a future API version
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(f"{method} {path} returned a non-JSON answer (HTTP {response.status_code})",
                           status_code=response.status_code, where=self.base_url,
                           hint="is the endpoint a Mistral-compatible API host root (no /v1)?") from exc

    def _parse(self, model: type[T], data: Any, call: str) -> T:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ApiError(f"{call} returned an unexpected {model.__name__}: "
                           f"{'.'.join(map(str, first['loc']))}: {first['msg']}", where=self.base_url,
                           hint="the endpoint does not look like a Mistral-compatible API") from exc

    def _batches(self, path: str, params: dict[str, Any]) -> Iterator[tuple[list[dict[str, Any]], int | None]]:
        """Each page's new items (each id once, in server order) and how many the server says remain."""
        seen: set[str] = set()
        page = 0
        max_pages: int | None = None
        while max_pages is None or page < max_pages:
            body = self._json("GET", path, params={**params, "page": page, "page_size": PAGE_SIZE})
            data = (body.get("data") or []) if isinstance(body, dict) else []
            total = body.get("total") if isinstance(body, dict) else None
            if isinstance(total, int) and max_pages is None:
                # One spare page tolerates items inserted while paging (lists are newest first).
                max_pages = total // PAGE_SIZE + 2
            fresh = [item for item in data if isinstance(item, dict) and item.get("id") not in seen]
            seen.update(str(item.get("id")) for item in fresh)
            last = not fresh or len(data) < PAGE_SIZE or (isinstance(total, int) and len(seen) >= total)
            yield fresh, (0 if last else max(total - len(seen), 0) if isinstance(total, int) else None)
            if last:
                return
            page += 1
            if max_pages is None and page >= 10_000:  # no total and never a short page: a broken server
                return

    def _typed_pages(self, model: type[T], path: str, params: dict[str, Any]) -> Iterator[Page[T]]:
        for batch, remaining in self._batches(path, params):
            yield Page([self._parse(model, item, f"GET {path}") for item in batch], remaining)

    def file_pages(self, *, search: str | None = None, purpose: str | None = None) -> Iterator[Page[RemoteFile]]:
        """The file list page by page (newest first), so a caller can stop once it has what it needs."""
        params = {k: v for k, v in (("search", search), ("purpose", purpose)) if v is not None}
        return self._typed_pages(RemoteFile, "/v1/files", params)

    # -- files ----------------------------------------------------------------------------------------

    def list_files(self, *, search: str | None = None, purpose: str | None = None) -> list[RemoteFile]:
        return [f for page in self.file_pages(search=search, purpose=purpose) for f in page.items]

    def get_file(self, file_id: str) -> RemoteFile:
        path = f"/v1/files/{_seg(file_id)}"
        return self._parse(RemoteFile, self._json("GET", path), f"GET {path}")

    def file_sha256(self, file_id: str) -> str:
        """sha256 of an upload's content (``GET /v1/files/{id}/content``), the hash ftops identifies Files by."""
        path = f"/v1/files/{_seg(file_id)}/content"
        return hashlib.sha256(self._http.call("GET", path, idempotent=True).content).hexdigest()

    def upload_file(self, path: Path | str, *, filename: str, purpose: str = "fine-tune") -> RemoteFile:
        with open(path, "rb") as fh:
            body = self._json("POST", "/v1/files", idempotent=False, data={"purpose": purpose},
                              files={"file": (filename, fh, "application/octet-stream")},
                              before_attempt=lambda: fh.seek(0))
        return self._parse(RemoteFile, body, "POST /v1/files")

    def delete_file(self, file_id: str) -> None:
        self._json("DELETE", f"/v1/files/{_seg(file_id)}")

    # -- jobs -----------------------------------------------------------------------------------------

    def list_jobs(self, *, suffix: str | None = None, model: str | None = None, status: str | None = None,
                  created_after: float | None = None) -> list[RemoteJob]:
        pages = self.job_pages(suffix=suffix, model=model, status=status, created_after=created_after)
        return [job for page in pages for job in page.items]

    def job_pages(self, *, suffix: str | None = None, model: str | None = None, status: str | None = None,
                  created_after: float | None = None) -> Iterator[Page[RemoteJob]]:
        """The job list page by page (newest first), filtered by the API's own query parameters."""
        params: dict[str, Any] = {"created_by_me": "false"}
        for key, value in (("suffix", suffix), ("model", model), ("status", status)):
            if value is not None:
                params[key] = value
        if created_after is not None:
            params["created_after"] = iso_utc(created_after)
        return self._typed_pages(RemoteJob, "/v1/fine_tuning/jobs", params)

    def get_job(self, job_id: str) -> RemoteJob:
        return self._job_call("GET", f"/v1/fine_tuning/jobs/{_seg(job_id)}")

    def create_job(self, body: dict[str, Any]) -> RemoteJob:
        payload = {"auto_start": False, **body}
        data = self._json("POST", "/v1/fine_tuning/jobs", idempotent=False, json=payload)
        return self._parse(RemoteJob, data, "POST /v1/fine_tuning/jobs")

    def start_job(self, job_id: str) -> RemoteJob:
        return self._job_call("POST", f"/v1/fine_tuning/jobs/{_seg(job_id)}/start")

    def cancel_job(self, job_id: str) -> RemoteJob:
        return self._job_call("POST", f"/v1/fine_tuning/jobs/{_seg(job_id)}/cancel")

    def _job_call(self, method: str, path: str) -> RemoteJob:
        return self._parse(RemoteJob, self._json(method, path), f"{method} {path}")

    # -- fine-tuned models ----------------------------------------------------------------------------

    def list_models(self) -> list[RemoteModel]:
        """Fine-tuned model cards only (base models are never tracked)."""
        body = self._json("GET", "/v1/models")
        cards = (body.get("data") or []) if isinstance(body, dict) else []
        return [self._parse(RemoteModel, card, "GET /v1/models") for card in cards
                if isinstance(card, dict) and card.get("type", "fine-tuned") == "fine-tuned"]

    def list_base_models(self) -> list[BaseModelCard]:
        """Base model cards, with their capabilities (``capabilities.fine_tuning``: can be fine-tuned)."""
        body = self._json("GET", "/v1/models")
        cards = (body.get("data") or []) if isinstance(body, dict) else []
        return [self._parse(BaseModelCard, card, "GET /v1/models") for card in cards
                if isinstance(card, dict) and card.get("type") == "base"]

    def get_model(self, model_id: str) -> RemoteModel:
        path = f"/v1/models/{_seg(model_id)}"
        return self._parse(RemoteModel, self._json("GET", path), f"GET {path}")

    def update_model(self, model_id: str, *, name: str | None = _UNSET,
                     description: str | None = _UNSET) -> RemoteModel:
        """PATCH only the fields given (an explicit None clears the field)."""
        body = {k: v for k, v in (("name", name), ("description", description)) if v is not _UNSET}
        path = f"/v1/fine_tuning/models/{_seg(model_id)}"
        return self._parse(RemoteModel, self._json("PATCH", path, json=body), f"PATCH {path}")

    def archive_model(self, model_id: str) -> None:
        self._json("POST", f"/v1/fine_tuning/models/{_seg(model_id)}/archive")

    def unarchive_model(self, model_id: str) -> None:
        self._json("DELETE", f"/v1/fine_tuning/models/{_seg(model_id)}/archive")

    def delete_model(self, model_id: str) -> None:
        self._json("DELETE", f"/v1/models/{_seg(model_id)}")


    # -- calling models -------------------------------------------------------------------------------
    # Not idempotent in the API's sense, but free of side effects: a retried call costs tokens, never state.

    def chat(self, model: str, messages: list[dict[str, Any]], *, max_tokens: int | None = None,
             temperature: float | None = None) -> ChatCompletion:
        body: dict[str, Any] = {"model": model, "messages": messages, "stream": False}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        if temperature is not None:
            body["temperature"] = temperature
        data = self._json("POST", "/v1/chat/completions", json=body)
        from ftops.client.inference_models import ChatCompletion

        return self._parse(ChatCompletion, data, "POST /v1/chat/completions")

    def classify(self, model: str, texts: list[str]) -> Classification:
        data = self._json("POST", "/v1/classifications", json={"model": model, "input": texts})
        from ftops.client.inference_models import Classification

        return self._parse(Classification, data, "POST /v1/classifications")

    def classify_chat(self, model: str, conversations: list[list[dict[str, Any]]]) -> Classification:
        body = {"model": model, "input": [{"messages": messages} for messages in conversations]}
        data = self._json("POST", "/v1/chat/classifications", json=body)
        from ftops.client.inference_models import Classification

        return self._parse(Classification, data, "POST /v1/chat/classifications")
