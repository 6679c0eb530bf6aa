"""The FastAPI application: the Mistral fine-tuning routes (files, jobs, models) and the admin routes.

Handlers are thin: they parse the request the way the real API's OpenAPI document declares it and call
``files``/``jobs``/``models``. Errors are FastAPI-style ``{"detail": ...}``; request validation errors
never echo the submitted values (they may hold integration secrets). ``/_ftops/*`` is the admin surface
(health, faults, clock) and is left out of the OpenAPI document. This module imports FastAPI; import it
lazily (``ftops.localapi`` does). Reads are ``async def``: they are short SQLite reads (WAL readers never wait
for a writer), and a sync handler would cost two thread-pool hops per request (handler, then response
validation), which was a large share of each request's CPU. Anything that writes, waits for a lock, fsyncs
or validates data stays sync and runs in the thread pool.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Body, FastAPI, File, Form, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse

from ftops import __version__
from ftops.localapi import files, inference, jobs, models, together_routes
from ftops.localapi import responses as out
from ftops.localapi.config import Context, Problem, ServerConfig
from ftops.localapi.gate import FaultInjector, Gate
from ftops.localapi.schemas import ClockAdvance, FaultSettings, JobFailure, JobIn, ModelUpdate

MAX_PAGE_SIZE = 1000


def _returns(model: Any) -> dict[str, Any]:
    """Route options that document the 200 body as ``model`` without validating each answer against it
    (the handlers build the dicts; validating every response would cost CPU on the hot list routes)."""
    return {"response_model": None, "responses": {200: {"model": model, "description": "Successful Response"}}}


class LocalApp(Gate):
    """The whole server as one ASGI app; ``context`` gives tests and benchmarks the store and clock."""

    context: Context


def _clean_errors(errors: Any) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        item = {k: err[k] for k in ("type", "loc", "msg") if k in err}
        if err.get("ctx"):
            item["ctx"] = {k: v if isinstance(v, int | float | str | bool) else str(v) for k, v in err["ctx"].items()}
        out.append(item)
    return out


def create_app(config: ServerConfig) -> LocalApp:
    ctx = Context(config)
    injector = FaultInjector(config.faults)
    api = FastAPI(title="ftops local Mistral fine-tuning API", version=__version__,
                  description="A local stand-in for the Mistral files, fine-tuning jobs and models endpoints.")

    @api.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _clean_errors(exc.errors())}, status_code=422)

    # -- files ---------------------------------------------------------------------------------------
    @api.post("/v1/files", operation_id="files_api_routes_upload_file", tags=["files"], **_returns(out.FileSchema))
    def upload_file(
        file: Annotated[UploadFile, File()],
        purpose: Annotated[out.FilePurpose, Form()] = "fine-tune",
        visibility: Annotated[Literal["workspace", "user"], Form()] = "workspace",
        expiry: Annotated[int | None, Form(ge=1)] = None,
    ) -> dict[str, Any]:
        return files.upload(ctx, filename=file.filename or "upload.jsonl", stream=file.file, purpose=purpose,
                            visibility=visibility, expiry=expiry)

    @api.get("/v1/files", operation_id="files_api_routes_list_files", tags=["files"], **_returns(out.ListFilesOut))
    async def list_files(
        page: Annotated[int, Query(ge=0)] = 0,
        page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
        include_total: bool = True,
        sample_type: Annotated[list[out.SampleType] | None, Query()] = None,
        source: Annotated[list[out.Source] | None, Query()] = None,
        search: str | None = None,
        purpose: out.FilePurpose | None = None,
        mimetypes: Annotated[list[str] | None, Query()] = None,
    ) -> dict[str, Any]:
        return files.list_files(ctx, page=page, page_size=page_size, search=search, purpose=purpose,
                                sample_type=list(sample_type or []), source=list(source or []), mimetypes=mimetypes,
                                include_total=include_total)

    @api.get("/v1/files/{file_id}", operation_id="files_api_routes_retrieve_file", tags=["files"],
             **_returns(out.RetrieveFileOut))
    async def retrieve_file(file_id: UUID) -> dict[str, Any]:
        return files.retrieve(ctx, str(file_id))

    @api.delete("/v1/files/{file_id}", operation_id="files_api_routes_delete_file", tags=["files"],
                **_returns(out.DeleteFileOut))
    def delete_file(file_id: UUID) -> dict[str, Any]:
        return files.delete(ctx, str(file_id))

    @api.get("/v1/files/{file_id}/content", operation_id="files_api_routes_download_file", tags=["files"],
             response_class=FileResponse)
    def download_file(file_id: UUID) -> FileResponse:
        path, _name = files.content_path(ctx, str(file_id))
        return FileResponse(path, media_type="application/octet-stream")

    @api.get("/v1/files/{file_id}/url", operation_id="files_api_routes_get_signed_url", tags=["files"],
             **_returns(out.FileSignedURL))
    async def signed_url(request: Request, file_id: UUID, expiry: Annotated[int, Query(ge=1)] = 24) -> dict[str, Any]:
        files.get_row(ctx, str(file_id))
        # expiry is in hours (spec default 24); the URL carries its end, as a signed URL's query would.
        until = int(ctx.now() + expiry * files.EXPIRY_UNIT_SECONDS)
        return {"url": f"{request.url_for('download_file', file_id=str(file_id))}?expires={until}"}

    # -- jobs ----------------------------------------------------------------------------------------
    @api.get("/v1/fine_tuning/jobs", operation_id="jobs_api_routes_fine_tuning_get_fine_tuning_jobs",
             tags=["fine-tuning"], **_returns(out.JobsOut))
    async def list_jobs(
        page: Annotated[int, Query(ge=0)] = 0,
        page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 100,
        model: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        created_by_me: bool = False,
        status: out.JobStatusName | None = None,
        wandb_project: str | None = None,
        wandb_name: str | None = None,
        suffix: str | None = None,
    ) -> dict[str, Any]:
        # Every job here was created with this server's one key, so created_by_me filters nothing.
        return jobs.list_jobs(ctx, page=page, page_size=page_size, model=model, created_after=created_after,
                              created_before=created_before, status=status, wandb_project=wandb_project,
                              wandb_name=wandb_name, suffix=suffix)

    @api.post("/v1/fine_tuning/jobs", operation_id="jobs_api_routes_fine_tuning_create_fine_tuning_job",
              tags=["fine-tuning"], **_returns(out.JobOut | out.LegacyJobMetadataOut))
    def create_job(body: Annotated[JobIn, Body()], dry_run: bool | None = None) -> dict[str, Any]:
        return jobs.dry_run(ctx, body) if dry_run else jobs.create(ctx, body)

    @api.get("/v1/fine_tuning/jobs/{job_id}", operation_id="jobs_api_routes_fine_tuning_get_fine_tuning_job",
             tags=["fine-tuning"], **_returns(out.DetailedJobOut))
    async def get_job(job_id: UUID) -> dict[str, Any]:
        return jobs.get(ctx, str(job_id))

    @api.post("/v1/fine_tuning/jobs/{job_id}/start",
              operation_id="jobs_api_routes_fine_tuning_start_fine_tuning_job", tags=["fine-tuning"],
              **_returns(out.DetailedJobOut))
    def start_job(job_id: UUID) -> dict[str, Any]:
        return jobs.start(ctx, str(job_id))

    @api.post("/v1/fine_tuning/jobs/{job_id}/cancel",
              operation_id="jobs_api_routes_fine_tuning_cancel_fine_tuning_job", tags=["fine-tuning"],
              **_returns(out.DetailedJobOut))
    def cancel_job(job_id: UUID) -> dict[str, Any]:
        return jobs.cancel(ctx, str(job_id))

    # -- models --------------------------------------------------------------------------------------
    @api.get("/v1/models", operation_id="list_models_v1_models_get", tags=["models"], **_returns(out.ModelList))
    async def list_models(provider: str | None = None, model: str | None = None) -> dict[str, Any]:
        return models.list_models(ctx)

    @api.get("/v1/models/{model_id}", operation_id="retrieve_model_v1_models__model_id__get", tags=["models"],
             **_returns(out.BaseModelCard | out.FTModelCard))
    async def retrieve_model(model_id: str) -> dict[str, Any]:
        return models.retrieve(ctx, model_id)

    @api.delete("/v1/models/{model_id}", operation_id="delete_model_v1_models__model_id__delete", tags=["models"],
                **_returns(out.DeleteModelOut))
    def delete_model(model_id: str) -> dict[str, Any]:
        return models.delete(ctx, model_id)

    @api.patch("/v1/fine_tuning/models/{model_id}",
               operation_id="jobs_api_routes_fine_tuning_update_fine_tuned_model", tags=["models"],
               **_returns(out.FTModelOut))
    def update_model(model_id: str, body: Annotated[ModelUpdate, Body()]) -> dict[str, Any]:
        return models.update(ctx, model_id, body.model_dump(exclude_unset=True))

    @api.post("/v1/fine_tuning/models/{model_id}/archive",
              operation_id="jobs_api_routes_fine_tuning_archive_fine_tuned_model", tags=["models"],
              **_returns(out.ArchiveFTModelOut))
    def archive_model(model_id: str) -> dict[str, Any]:
        return models.set_archived(ctx, model_id, True)

    @api.delete("/v1/fine_tuning/models/{model_id}/archive",
                operation_id="jobs_api_routes_fine_tuning_unarchive_fine_tuned_model", tags=["models"],
                **_returns(out.UnarchiveFTModelOut))
    def unarchive_model(model_id: str) -> dict[str, Any]:
        return models.set_archived(ctx, model_id, False)

    # -- calling models (answers are simulated: ftops.localapi.simulated) ----------------------------
    @api.post("/v1/chat/completions", operation_id="chat_completion_v1_chat_completions_post", tags=["chat"])
    def chat_completion(body: Annotated[inference.ChatIn, Body()]) -> dict[str, Any]:
        return inference.chat(ctx, body)

    @api.post("/v1/classifications", operation_id="classifications_v1_classifications_post",
              tags=["classifiers"])
    def classifications(body: Annotated[inference.ClassificationIn, Body()]) -> dict[str, Any]:
        return inference.classify(ctx, body)

    @api.post("/v1/chat/classifications", operation_id="chat_classifications_v1_chat_classifications_post",
              tags=["classifiers"])
    def chat_classifications(body: Annotated[inference.ChatClassificationIn, Body()]) -> dict[str, Any]:
        return inference.classify_chat(ctx, body)

    together_routes.register(api, ctx)  # Together's files and fine-tunes under /together

    # -- admin (not in the OpenAPI document) -----------------------------------------------------------
    @api.get("/_ftops/health", include_in_schema=False)
    async def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "now": ctx.now(), "speed": ctx.speed}

    @api.get("/_ftops/faults", include_in_schema=False)
    async def get_faults() -> dict[str, Any]:
        return injector.settings.model_dump()

    @api.put("/_ftops/faults", include_in_schema=False)
    def put_faults(body: Annotated[FaultSettings, Body()]) -> dict[str, Any]:
        injector.update(body)
        ctx.faults = body  # the training-failure rate is read when a job starts
        return injector.settings.model_dump()

    @api.post("/_ftops/jobs/{job_id}/fail", include_in_schema=False)
    def fail_job(job_id: UUID, body: Annotated[JobFailure | None, Body()] = None) -> dict[str, Any]:
        failure = body or JobFailure()
        return jobs.fail(ctx, str(job_id), at_fraction=failure.at_fraction, reason=failure.reason)

    @api.get("/_ftops/clock", include_in_schema=False)
    async def get_clock() -> dict[str, Any]:
        return {"now": ctx.now(), "offset": ctx.store.clock_offset(), "speed": ctx.speed}

    @api.post("/_ftops/clock/advance", include_in_schema=False)
    def advance_clock(body: Annotated[ClockAdvance, Body()]) -> dict[str, Any]:
        offset = ctx.store.advance_clock(body.seconds)
        return {"now": ctx.now(), "offset": offset, "speed": ctx.speed}

    app = LocalApp(api, api_key=config.api_key, max_upload_bytes=config.max_upload_bytes, faults=injector)
    app.context = ctx
    return app
