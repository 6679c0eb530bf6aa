"""``TogetherClient``: Together's files and fine-tunes API behind the one client surface apply uses.

It subclasses ``MistralClient`` only for the plumbing (one ``HttpSession``: auth, retries on 429 / 5xx,
typed errors, request counting) and overrides every resource call, translating in both directions:

- out: the request body the core builds (``JobSpec.request_body``, files as ids, keys read at the last
  moment) becomes Together's flat ``FinetuneRequest`` (``training_file``, ``n_epochs``, ``training_type``,
  ``training_method``, ``wandb_*``…);
- in: Together's files and jobs become ``RemoteFile`` / ``RemoteJob`` with statuses in the core's vocabulary
  (pending/queued → QUEUED, running/compressing/uploading → RUNNING, completed → SUCCESS, user_error →
  FAILED_VALIDATION, error → FAILED, cancel_requested → CANCELLATION_REQUESTED, cancelled → CANCELLED) and
  hyperparameters echoed under the manifest's names, so the one comparison (``ftops.jobspec``) works as is.

Together trains as soon as a job is created (no parked state): ``start_job`` only re-reads the job. Uploads
follow the SDK's three steps (form POST → PUT to the returned URL → ``/preprocess``); a 409 names the file
that already has this content, which is returned instead (uploads are de-duplicated by content).
Together's list has no filters: ``list_jobs`` filters by suffix, model, status and creation time (the API's
own timestamps) here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from ftops.client import MistralClient
from ftops.client._http import HttpSession
from ftops.client._retry import RetryPolicy
from ftops.client.client import Page, _seg
from ftops.client.models import BaseModelCard, Event, JobMetadata, RemoteFile, RemoteJob, RemoteModel
from ftops.errors import ApiError, ConflictError, NotFoundError

STATUS = {"pending": "QUEUED", "queued": "QUEUED", "running": "RUNNING", "compressing": "RUNNING",
          "uploading": "RUNNING", "completed": "SUCCESS", "user_error": "FAILED_VALIDATION", "error": "FAILED",
          "cancel_requested": "CANCELLATION_REQUESTED", "cancelled": "CANCELLED"}
# Manifest hyperparameters sent as flat request fields under the same name.
FLAT = ("n_epochs", "n_checkpoints", "n_evals", "batch_size", "learning_rate", "warmup_ratio", "max_grad_norm",
        "weight_decay", "max_seq_length", "train_on_inputs", "random_seed")
LORA = ("lora_r", "lora_alpha", "lora_dropout", "lora_trainable_modules")


def _epoch(text: Any) -> int:
    if isinstance(text, int | float):
        return int(text)
    try:
        return int(datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def request_of(body: dict[str, Any]) -> dict[str, Any]:
    """The core's job request (``JobSpec.request_body``) as Together's flat create body."""
    hp = dict(body.get("hyperparameters") or {})
    out: dict[str, Any] = {"model": body["model"], "training_file": body["training_files"][0]["file_id"]}
    if body.get("validation_files"):
        out["validation_file"] = body["validation_files"][0]
    if body.get("suffix"):
        out["suffix"] = body["suffix"]
    out.update({k: hp[k] for k in FLAT if k in hp})
    if hp.get("lora", True):
        out["training_type"] = {"type": "Lora", **{k: hp[k] for k in LORA if k in hp}}
    else:
        out["training_type"] = {"type": "Full"}
    method = str(hp.get("training_method", "sft"))
    out["training_method"] = ({"method": "dpo", **({"dpo_beta": hp["dpo_beta"]} if "dpo_beta" in hp else {})}
                              if method == "dpo" else {"method": "sft", "train_on_inputs": hp.get("train_on_inputs",
                                                                                                   "auto")})
    for integration in body.get("integrations") or []:
        out["wandb_project_name"] = integration.get("project")
        if integration.get("name"):
            out["wandb_name"] = integration["name"]
        if integration.get("api_key"):
            out["wandb_key"] = integration["api_key"]
    return out


class TogetherClient(MistralClient):
    """Together AI at ``base_url`` (host root; its paths carry ``/v1``)."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 30.0,
                 retry: RetryPolicy | None = None) -> None:
        self._http = HttpSession(base_url, api_key, timeout=timeout, retry=retry)
        self.base_url = self._http.base_url
        self._max_batch: dict[tuple[str, str, bool], int] = {}

    def __repr__(self) -> str:
        return f"TogetherClient(base_url={self.base_url!r})"

    __str__ = __repr__

    # -- files ----------------------------------------------------------------------------------------
    def _file(self, data: Any, call: str) -> RemoteFile:
        item = dict(data) if isinstance(data, dict) else {}
        item.setdefault("num_lines", item.get("LineCount"))
        return self._parse(RemoteFile, item, call)

    def list_files(self, *, search: str | None = None, purpose: str | None = None) -> list[RemoteFile]:
        body = self._json("GET", "/v1/files")
        items = (body.get("data") or []) if isinstance(body, dict) else []
        files = [self._file(i, "GET /v1/files") for i in items if isinstance(i, dict)]
        return [f for f in files if (search is None or search in f.filename)
                and (purpose is None or f.purpose == purpose)]

    def file_pages(self, *, search: str | None = None, purpose: str | None = None) -> Iterator[Page[RemoteFile]]:
        """Together's file list is not paginated: one page, nothing left (the bounded refresh reads it whole)."""
        yield Page(items=self.list_files(search=search, purpose=purpose), remaining=0)

    def get_file(self, file_id: str) -> RemoteFile:
        path = f"/v1/files/{_seg(file_id)}"
        return self._file(self._json("GET", path), f"GET {path}")

    def upload_file(self, path: Path | str, *, filename: str, purpose: str = "fine-tune") -> RemoteFile:
        content = Path(path).read_bytes()
        form = {"purpose": purpose, "file_name": filename, "file_type": "jsonl",
                "checksum": hashlib.sha256(content).hexdigest()}
        try:
            # Safe to resend: this call carries no bytes, and a file exists (is listed, is found by its
            # checksum) only once its bytes are PUT, so a repeated first step never makes a second file.
            answer = self._http.call("POST", "/v1/files", idempotent=True, data=form)
        except ConflictError as exc:
            existing = exc.body.get("file_id") if isinstance(exc.body, dict) else None
            if not existing:
                raise
            return self.get_file(str(existing))
        url, file_id = answer.headers.get("location"), answer.headers.get("x-together-file-id")
        if answer.status_code not in (301, 302, 303, 307, 308) or not url or not file_id:
            raise ApiError(f"POST /v1/files answered HTTP {answer.status_code} without an upload URL",
                           where=self.base_url, hint="is the endpoint a Together-compatible API host root?")
        put = self._http._client.put(url, content=content, headers={"Content-Type": "application/octet-stream"})
        if put.status_code != 200:
            raise ApiError(f"uploading {filename} failed with HTTP {put.status_code}", status_code=put.status_code,
                           where=self.base_url, hint="run ftops apply again; the upload is retried")
        done = f"/v1/files/{_seg(file_id)}/preprocess"
        return self._file(self._json("POST", done, idempotent=True), f"POST {done}")

    # -- jobs -----------------------------------------------------------------------------------------
    def _limits_max(self, model: str, method: str, lora: bool) -> int | None:
        key = (model, method, lora)
        if key not in self._max_batch:
            try:
                limits = self._json("GET", "/v1/fine-tunes/models/limits", params={"model_name": model})
            except NotFoundError:
                return None  # a model without limits: its batch size is reported as the API gives it
            # Any other error propagates: a job read with a guessed batch size could fail to match its own
            # spec during adoption, and a search that fails is retried, where a wrong answer is not.
            bounds = limits.get("lora_training" if lora else "full_training") or {}
            value = bounds.get("max_batch_size_dpo" if method == "dpo" else "max_batch_size")
            if not isinstance(value, int):
                return None
            self._max_batch[key] = value
        return self._max_batch[key]

    def _job(self, data: Any, call: str, *, detailed: bool) -> RemoteJob:
        if not isinstance(data, dict):
            raise ApiError(f"{call} returned no job", where=self.base_url)
        ttype = data.get("training_type") or {}
        method = (data.get("training_method") or {}).get("method", "sft")
        lora = ttype.get("type", "Lora") == "Lora"
        hp: dict[str, Any] = {k: data.get(k) for k in FLAT if data.get(k) is not None}
        hp["lora"] = lora
        hp.update({k: ttype[k] for k in LORA if ttype.get(k) is not None})
        hp["training_method"] = method
        if method == "dpo" and (data.get("training_method") or {}).get("dpo_beta") is not None:
            hp["dpo_beta"] = data["training_method"]["dpo_beta"]
        if isinstance(hp.get("batch_size"), int) and hp["batch_size"] == self._limits_max(
                str(data.get("model")), method, lora):
            hp["batch_size"] = "max"  # the service resolves "max"; report it as the manifest says it
        status = str(data.get("status") or "")
        project = data.get("wandb_project_name")
        price = data.get("total_price")
        job = {
            "id": data.get("id"), "model": data.get("model") or "", "status": STATUS.get(status, status.upper()),
            "created_at": _epoch(data.get("created_at")), "modified_at": _epoch(data.get("updated_at")),
            "training_files": [data["training_file"]] if data.get("training_file") else [],
            "validation_files": [data["validation_file"]] if data.get("validation_file") else [],
            "hyperparameters": hp, "suffix": data.get("suffix"),
            "fine_tuned_model": data.get("model_output_name") if status == "completed" else None,
            "trained_tokens": data.get("token_count"),
            "metadata": JobMetadata(cost=price / 100, cost_currency="USD") if isinstance(price, int) and price > 0
            else None,
            "integrations": ([{"type": "wandb", "project": project,
                               **({"name": data["wandb_name"]} if data.get("wandb_name") else {})}]
                             if project else ([] if detailed else None)),
            "events": [Event(name=str(e.get("type")), created_at=_epoch(e.get("created_at")),
                             data={"message": e.get("message")}) for e in data.get("events") or []
                       if isinstance(e, dict)] if detailed else None,
        }
        return self._parse(RemoteJob, job, call)

    def list_jobs(self, *, suffix: str | None = None, model: str | None = None, status: str | None = None,
                  created_after: float | None = None) -> list[RemoteJob]:
        body = self._json("GET", "/v1/fine-tunes")
        items = (body.get("data") or []) if isinstance(body, dict) else []
        jobs = [self._job(i, "GET /v1/fine-tunes", detailed=False) for i in items]
        return [j for j in jobs if (suffix is None or j.suffix == suffix) and (model is None or j.model == model)
                and (status is None or j.status == status)
                and (created_after is None or j.created_at >= created_after)]

    def job_pages(self, *, suffix: str | None = None, model: str | None = None, status: str | None = None,
                  created_after: float | None = None) -> Iterator[Page[RemoteJob]]:
        """Together's job list is not paginated: one page, nothing left."""
        yield Page(items=self.list_jobs(suffix=suffix, model=model, status=status, created_after=created_after),
                   remaining=0)

    def list_base_models(self) -> list[BaseModelCard]:
        """No Mistral-style capability cards here: the provider's own checks and rate table decide models."""
        return []

    def get_job(self, job_id: str) -> RemoteJob:
        path = f"/v1/fine-tunes/{_seg(job_id)}"
        return self._job(self._json("GET", path), f"GET {path}", detailed=True)

    def create_job(self, body: dict[str, Any]) -> RemoteJob:
        request = request_of(body)
        data = self._json("POST", "/v1/fine-tunes", idempotent=False, json=request)
        job = self._job(data, "POST /v1/fine-tunes", detailed=False)
        quote = self._estimate(request)
        return job if quote is None or job.metadata is not None else job.model_copy(update={"metadata": quote})

    def _estimate(self, request: dict[str, Any]) -> JobMetadata | None:
        """The API's own price for a job just created (recorded in the lock); None when it gives none.

        Never raises: the job exists by now, and a failed quote must not make apply search for it again.
        """
        keys = ("training_file", "validation_file", "model", "n_epochs", "n_evals", "training_type",
                "training_method")
        try:
            quote = self._json("POST", "/v1/fine-tunes/estimate-price",
                               json={k: request[k] for k in keys if k in request})
        except ApiError:
            return None
        price = quote.get("estimated_total_price") if isinstance(quote, dict) else None
        if not isinstance(price, int | float) or not quote.get("estimation_available"):
            return None
        tokens = quote.get("estimated_train_token_count")
        return JobMetadata(cost=float(price), cost_currency="USD",
                           train_tokens=int(tokens) if isinstance(tokens, int | float) else None)

    def start_job(self, job_id: str) -> RemoteJob:
        """Together jobs train from creation: nothing to start, the job is re-read."""
        return self.get_job(job_id)

    def cancel_job(self, job_id: str) -> RemoteJob:
        path = f"/v1/fine-tunes/{_seg(job_id)}/cancel"
        self._json("POST", path)
        return self.get_job(job_id)

    # -- models: Together lists output models but has no rename / archive ----------------------------------
    def list_models(self) -> list[RemoteModel]:
        body = self._json("GET", "/v1/models")
        cards = body if isinstance(body, list) else (body.get("data") or []) if isinstance(body, dict) else []
        return [self._parse(RemoteModel, {**c, "type": "fine-tuned"}, "GET /v1/models") for c in cards
                if isinstance(c, dict) and c.get("job")]

    def get_model(self, model_id: str) -> RemoteModel:
        for model in self.list_models():
            if model.id == model_id:
                return model
        raise NotFoundError(f"model {model_id} not found", status_code=404, where=self.base_url)

    def _unsupported(self, what: str) -> ApiError:
        return ApiError(f"Together has no API to {what} a fine-tuned model", where=self.base_url,
                        hint="remove name/description/archived from this Model, or keep it on Mistral")

    def update_model(self, model_id: str, *, name: str | None = None,
                     description: str | None = None) -> RemoteModel:
        raise self._unsupported("rename or describe")

    def archive_model(self, model_id: str) -> None:
        raise self._unsupported("archive")

    def unarchive_model(self, model_id: str) -> None:
        raise self._unsupported("unarchive")

    def delete_model(self, model_id: str) -> None:
        raise self._unsupported("delete")
