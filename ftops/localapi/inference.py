"""Calling models on the local API: ``/v1/chat/completions``, ``/v1/classifications``, ``/v1/chat/classifications``.

Request and response shapes follow Mistral's API (the official SDK's ``chat.complete`` and ``classifiers``
calls parse them). Answers come from :mod:`ftops.localapi.simulated`: a fine-tuned model answers from the data
its job trained on; a base model generically. A model is built once per id and cached (its training data
cannot change: uploads are immutable). Fine-tuned models are usable once their job succeeded and while they are
not deleted, as on the real service.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
import weakref
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ftops.localapi import models
from ftops.localapi.config import Context, Problem
from ftops.localapi.simulated import ChatModel, ClassifierModel, base_reply, message_text, prompt_of, words
from ftops.pricing import CLASSIFIER_MODELS, FINE_TUNABLE_MODELS

# Chat models a user may call that are not fine-tunable bases (the usual aliases of the real API).
CHAT_ALIASES = ("mistral-small-latest", "mistral-medium-latest", "mistral-large-latest", "open-mistral-nemo")
_CACHE_LIMIT = 32


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    temperature: float | None = Field(None, ge=0, le=1.5)
    top_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=0)
    stream: bool = False
    random_seed: int | None = Field(None, ge=0)
    n: int | None = Field(None, ge=1)


class ClassificationIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1)
    input: str | list[str]


class InstructRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    messages: list[Message] = Field(min_length=1)


class ChatClassificationIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1)
    input: InstructRequest | list[InstructRequest]


class ModelCache:
    """Built simulated models by id (small LRU: an evaluation calls the same one or two models)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, ChatModel | ClassifierModel] = {}

    def get(self, key: str, build: Any) -> Any:
        with self._lock:
            found = self._models.get(key)
        if found is not None:
            return found
        built = build()
        with self._lock:
            self._models[key] = built
            while len(self._models) > _CACHE_LIMIT:
                self._models.pop(next(iter(self._models)))
        return built


_CACHES: weakref.WeakKeyDictionary[Context, ModelCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache(ctx: Context) -> ModelCache:
    with _CACHES_LOCK:
        return _CACHES.setdefault(ctx, ModelCache())


def _job_of(ctx: Context, model_id: str) -> tuple[str, dict[str, Any]]:
    """(job_type, stored request) of the job behind a usable fine-tuned model; 404 otherwise."""
    row = models.ft_row(ctx, ctx.store.conn(), model_id)
    job = ctx.store.conn().execute("SELECT job_type, request FROM jobs WHERE id = ?", (row["job"],)).fetchone()
    return str(job["job_type"]), json.loads(job["request"])


def _training_paths(ctx: Context, request: dict[str, Any]) -> list[Any]:
    ids = [f["file_id"] for f in request.get("training_files") or []]
    paths = []
    for file_id in ids:
        row = ctx.store.conn().execute("SELECT sha256 FROM files WHERE id = ?", (file_id,)).fetchone()
        if row is not None:
            paths.append(ctx.store.blob_path(row["sha256"]))
    return paths


def _not_found(model: str) -> Problem:
    return Problem(400, {"object": "error", "message": f"Invalid model: {model}", "type": "invalid_model",
                         "param": None, "code": "1500"})


def _tokens(text: str) -> int:
    return max(1, round(len(words(text)) * 1.3)) if text else 0


def chat(ctx: Context, body: ChatIn) -> dict[str, Any]:
    if body.stream:
        raise Problem(422, "Streaming is not supported by the ftops local API; send stream=false.")
    messages = [m.model_dump() for m in body.messages]
    if messages[-1]["role"] not in ("user", "tool") and not messages[-1].get("prefix"):
        raise Problem(400, {"object": "error", "message": "Expected last role User or Tool (or Assistant with "
                            "prefix True) for serving but got assistant", "type": "invalid_request_message_order",
                            "param": None, "code": "3230"})
    reply = _chat_reply(ctx, body.model, messages)
    finish = "stop"
    if body.max_tokens is not None:
        kept = reply.split()
        limit = max(0, int(body.max_tokens / 1.3))
        if len(kept) > limit:
            reply, finish = " ".join(kept[:limit]), "length"
    prompt_tokens = sum(_tokens(message_text(m.get("content"))) for m in messages)
    completion_tokens = _tokens(reply)
    return {
        "id": uuid.uuid4().hex, "object": "chat.completion", "model": body.model, "created": int(time.time()),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply, "tool_calls": None,
                                             "prefix": False}, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


def _chat_reply(ctx: Context, model: str, messages: list[dict[str, Any]]) -> str:
    if model in FINE_TUNABLE_MODELS or model in CHAT_ALIASES:
        if model in CLASSIFIER_MODELS and model not in FINE_TUNABLE_MODELS:
            raise _not_found(model)
        return base_reply(model, prompt_of(messages))
    if not model.startswith("ft:"):
        raise _not_found(model)
    try:
        job_type, request = _job_of(ctx, model)
    except Problem:
        raise _not_found(model) from None
    if job_type == "classifier":
        raise Problem(400, {"object": "error", "message": f"Model {model} is a classifier: call /v1/classifications",
                            "type": "invalid_request_error", "param": None, "code": "3051"})
    built: ChatModel = _cache(ctx).get(model, lambda: ChatModel(model, _training_paths(ctx, request)))
    return built.reply(messages)


def _classifier(ctx: Context, model: str) -> ClassifierModel:
    if not model.startswith("ft:"):
        raise Problem(400, {"object": "error", "message": f"Model {model} does not support classification: "
                            "fine-tune a classifier (job_type: classifier) first", "type": "invalid_model",
                            "param": None, "code": "1500"})
    try:
        job_type, request = _job_of(ctx, model)
    except Problem:
        raise _not_found(model) from None
    if job_type != "classifier":
        raise Problem(400, {"object": "error", "message": f"Model {model} is not a classifier: call "
                            "/v1/chat/completions", "type": "invalid_request_error", "param": None, "code": "3051"})
    targets = request.get("classifier_targets") or []
    built: ClassifierModel = _cache(ctx).get(model, lambda: ClassifierModel(model, _training_paths(ctx, request),
                                                                              targets))
    return built


def _classification(model: str, texts: list[str], classifier: ClassifierModel) -> dict[str, Any]:
    results = [{name: {"scores": scores} for name, scores in classifier.scores(text).items()} for text in texts]
    return {"id": uuid.uuid4().hex, "model": model, "results": results}


def classify(ctx: Context, body: ClassificationIn) -> dict[str, Any]:
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    return _classification(body.model, texts, _classifier(ctx, body.model))


def classify_chat(ctx: Context, body: ChatClassificationIn) -> dict[str, Any]:
    requests = [body.input] if isinstance(body.input, InstructRequest) else list(body.input)
    texts = [prompt_of(m.model_dump() for m in r.messages) for r in requests]
    return _classification(body.model, texts, _classifier(ctx, body.model))
