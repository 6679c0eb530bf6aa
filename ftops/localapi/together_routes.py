"""Together's files and fine-tunes routes, served under ``/together`` (the Together SDK's ``base_url``).

A separate root keeps the two providers' identical paths apart (both have ``/v1/files`` and ``/v1/models``),
as two hosts would: ``Together(base_url=f"{server.url}/together", api_key=...)``. Same store, same clock,
same auth and fault injection as the Mistral routes. Errors use Together's ``{"error": {...}}`` shape.
"""

from __future__ import annotations

import io
from enum import Enum
from typing import Annotated, Any

from fastapi import Body, FastAPI, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, Response

from ftops.localapi import together_files as tfiles
from ftops.localapi import together_jobs as tjobs
from ftops.localapi.config import Context
from ftops.localapi.together_schemas import EstimateIn, TogetherJobIn
from ftops.pricing import TOGETHER_MODELS

ROOT = "/together"


def register(api: FastAPI, ctx: Context) -> None:
    """Add the Together routes and their error handler to the local API app."""
    tfiles.ensure_schema(ctx)

    @api.exception_handler(tfiles.TogetherError)
    async def _error(_: Request, exc: tfiles.TogetherError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    # Kept out of the OpenAPI document, which describes the Mistral surface; the SDK conformance suite is
    # what pins these routes.
    tags: list[str | Enum] = ["together"]

    # -- files ---------------------------------------------------------------------------------------
    @api.post(f"{ROOT}/v1/files", tags=tags, include_in_schema=False, status_code=302)
    def together_upload(
        request: Request,
        purpose: Annotated[str, Form()],
        file_name: Annotated[str, Form()],
        checksum: Annotated[str, Form()],
        file_type: Annotated[str, Form()] = "jsonl",
    ) -> Response:
        file_id, url = tfiles.begin_upload(ctx, base_url=str(request.base_url).rstrip("/"), purpose=purpose,
                                           file_name=file_name, file_type=file_type, checksum=checksum)
        return Response(status_code=302, headers={"Location": url, "X-Together-File-Id": file_id})

    @api.put(f"{tfiles.UPLOAD_PREFIX}{{file_id}}", include_in_schema=False)
    async def together_put(request: Request, file_id: str, signature: str = "") -> Response:
        data = await request.body()
        await run_in_threadpool(tfiles.put_bytes, ctx, file_id, signature, io.BytesIO(data))
        return Response(status_code=200)

    @api.post(f"{ROOT}/v1/files/{{file_id}}/preprocess", tags=tags, include_in_schema=False)
    def together_preprocess(file_id: str) -> dict[str, Any]:
        return tfiles.preprocess(ctx, file_id)

    @api.get(f"{ROOT}/v1/files", tags=tags, include_in_schema=False)
    async def together_list_files() -> dict[str, Any]:
        return tfiles.list_files(ctx)

    @api.get(f"{ROOT}/v1/files/{{file_id}}", tags=tags, include_in_schema=False)
    async def together_get_file(file_id: str) -> dict[str, Any]:
        return tfiles.retrieve(ctx, file_id)

    @api.delete(f"{ROOT}/v1/files/{{file_id}}", tags=tags, include_in_schema=False)
    def together_delete_file(file_id: str) -> dict[str, Any]:
        return tfiles.delete(ctx, file_id)

    @api.get(f"{ROOT}/v1/files/{{file_id}}/content", tags=tags, include_in_schema=False, response_class=FileResponse)
    def together_file_content(file_id: str) -> FileResponse:
        return FileResponse(tfiles.content_path(ctx, file_id), media_type="application/octet-stream")

    # -- fine-tunes ----------------------------------------------------------------------------------
    @api.get(f"{ROOT}/v1/fine-tunes/models/limits", tags=tags, include_in_schema=False)
    async def together_limits(model_name: Annotated[str, Query()]) -> dict[str, Any]:
        return tjobs.model_limits(model_name)

    @api.post(f"{ROOT}/v1/fine-tunes/estimate-price", tags=tags, include_in_schema=False)
    def together_estimate(body: Annotated[EstimateIn, Body()]) -> dict[str, Any]:
        return tjobs.estimate_price(ctx, body)

    @api.post(f"{ROOT}/v1/fine-tunes", tags=tags, include_in_schema=False)
    def together_create(body: Annotated[TogetherJobIn, Body()]) -> dict[str, Any]:
        return tjobs.create(ctx, body)

    @api.get(f"{ROOT}/v1/fine-tunes", tags=tags, include_in_schema=False)
    async def together_list() -> dict[str, Any]:
        return tjobs.list_jobs(ctx)

    @api.get(f"{ROOT}/v1/fine-tunes/{{job_id}}", tags=tags, include_in_schema=False)
    async def together_get(job_id: str) -> dict[str, Any]:
        return tjobs.get(ctx, job_id)

    @api.delete(f"{ROOT}/v1/fine-tunes/{{job_id}}", tags=tags, include_in_schema=False)
    def together_delete(job_id: str) -> dict[str, Any]:
        return tjobs.delete(ctx, job_id)

    @api.post(f"{ROOT}/v1/fine-tunes/{{job_id}}/cancel", tags=tags, include_in_schema=False)
    def together_cancel(job_id: str) -> dict[str, Any]:
        return tjobs.cancel(ctx, job_id)

    @api.get(f"{ROOT}/v1/fine-tunes/{{job_id}}/events", tags=tags, include_in_schema=False)
    async def together_events(job_id: str) -> dict[str, Any]:
        return tjobs.events(ctx, job_id)

    @api.get(f"{ROOT}/v1/fine-tunes/{{job_id}}/checkpoints", tags=tags, include_in_schema=False)
    async def together_checkpoints(job_id: str) -> dict[str, Any]:
        return tjobs.checkpoints(ctx, job_id)

    # -- models (base models, then the fine-tuned outputs) ----------------------------------------------
    @api.get(f"{ROOT}/v1/models", tags=tags, include_in_schema=False)
    async def together_models() -> list[dict[str, Any]]:
        base = [{"id": m, "object": "model", "created": 0, "type": "chat", "display_name": m,
                 "organization": m.split("/")[0]} for m in TOGETHER_MODELS]
        return tjobs.fine_tuned_models(ctx) + base
