"""Steps for fine-tuning jobs: create (parked, intent-bracketed), replace, start after validation, cancel.

Creating is the one call that can cost money twice, so it is bracketed by an intent and, when the answer is
lost or the API says 409, resolved by a full-spec search before anything is re-sent. Starting is a separate
step for a job id already recorded in the lock, issued only once the job reached ``VALIDATED``; start and
cancel are idempotent, and a 409 on either is settled by a GET of the job.
"""

from __future__ import annotations

from ftops.apply.adopt import find_job, locked_job, tracked_ids
from ftops.apply.specs import JobRequest, request_body
from ftops.apply.steps_base import (
    MAX_CREATE_ATTEMPTS,
    Interrupted,
    StepContext,
    failed,
    forget,
    is_removal,
    record_job,
)
from ftops.client.models import RemoteJob
from ftops.errors import ApplyError, ConflictError, FtopsError, ServerError, TransportError
from ftops.plan.model import Change

PAST_VALIDATED = frozenset({"STARTED", "RUNNING", "SUCCESS", "FAILED"})


def create(ctx: StepContext, change: Change) -> str:
    request = JobRequest.from_change(change)
    want = request.comparable(ctx.store.lock)
    marker = {"suffix": request.suffix, "model": request.model, "want": want, "attributes": dict(request.extra)}
    for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
        if ctx.stop.is_set():
            raise Interrupted()
        body = request_body(want, request, ctx.env)
        intent = ctx.store.begin_intent(change.address, "create", request.fingerprint, marker)
        try:
            job = ctx.client.create_job(body)
        except (ServerError, TransportError, ConflictError) as exc:
            found = find_job(
                ctx.client, want, started_at=intent.started_at, exclude=tracked_ids(ctx.store, "job"),
                address=change.address,
            )
            if found is not None:
                ctx.store.complete_intent(
                    intent.id, locked_job(found, fingerprint=request.fingerprint, attributes=request.extra)
                )
                return f"{change.address}: created job {found.id} (adopted after: {exc.message})"
            ctx.store.abandon_intent(intent.id)
            if isinstance(exc, ConflictError):
                raise ApplyError(
                    f"the API refused the job as a duplicate of an active job: {exc.message}",
                    where=change.address,
                    hint="an identical job is running outside ftops; adopt it with `ftops import "
                    f"{change.address} <JOB_ID>` or cancel it, then run ftops apply again",
                ) from None
            if attempt == MAX_CREATE_ATTEMPTS:
                raise failed(change, "job creation", exc) from None
            continue
        except FtopsError:
            ctx.store.abandon_intent(intent.id)
            raise
        ctx.store.complete_intent(intent.id, locked_job(job, fingerprint=request.fingerprint, attributes=request.extra))
        return f"{change.address}: created job {job.id} (parked until started; no training cost yet)"
    raise AssertionError("unreachable")


def replace(ctx: StepContext, change: Change) -> str:
    old = change.replaced_remote_id or change.remote_id
    notes: list[str] = []
    # Cancel first: a crash after it leaves the lock on the (cancelled) old job and the next plan simply
    # creates the replacement, whereas create-then-cancel could leave an untracked active job behind.
    if old and change.old_job_disposition == "cancel":
        _cancel_remote(ctx, change.address, old)
        notes.append(f"cancelled the old job {old}")
    created = create(ctx, change)
    return created + (f"; {notes[0]}" if notes else f"; kept the old job {old}" if old else "")


def job_id(ctx: StepContext, change: Change) -> str:
    locked = ctx.store.lock.resources.get(change.address)
    if locked is not None and locked.kind == "job":
        return locked.remote_id
    if change.remote_id:
        return change.remote_id
    raise ApplyError(
        "no job id is recorded for this job", where=change.address,
        hint="jobs are only started once their creation is recorded in the lock; run ftops apply again",
    )


def wait_until_validated(ctx: StepContext, address: str, remote_id: str) -> RemoteJob:
    for delay in [0.0, *ctx.poll.delays()]:
        if ctx.stop.wait(delay):
            raise Interrupted()
        job = ctx.client.get_job(remote_id)
        if job.status == "FAILED_VALIDATION":
            record_job(ctx.store, address, job)
            raise ApplyError(
                f"job {remote_id} failed validation: {_last_message(job)}",
                where=address,
                hint="fix the training data (ftops data validate FILE), then run ftops plan / apply; "
                "the failed job is not retried automatically",
            )
        if job.status not in ("QUEUED", "VALIDATING"):
            return job
    raise ApplyError(
        f"job {remote_id} was still validating after {ctx.poll.timeout:.0f} s",
        where=address,
        hint="run ftops apply again later; the job is recorded and will be started then",
    )


def _last_message(job: RemoteJob) -> str:
    for event in reversed(job.events or []):
        data = event.data or {}
        for key in ("error", "message", "detail", "reason"):
            if data.get(key):
                return str(data[key])
    return "the API gave no reason"


def start(ctx: StepContext, change: Change) -> str:
    remote_id = job_id(ctx, change)
    job = wait_until_validated(ctx, change.address, remote_id)
    if job.status in PAST_VALIDATED:
        record_job(ctx.store, change.address, job)
        return f"{change.address}: job {remote_id} was already started ({job.status})"
    if job.status != "VALIDATED":
        record_job(ctx.store, change.address, job)
        raise ApplyError(
            f"job {remote_id} cannot be started: it is {job.status}", where=change.address,
            hint="it was changed outside ftops; run ftops plan to see what to do",
        )
    try:
        job = ctx.client.start_job(remote_id)
    except ConflictError:
        # A start retried after a dropped answer: the first one went through if the job moved on.
        job = ctx.client.get_job(remote_id)
        if job.status not in PAST_VALIDATED:
            raise
    record_job(ctx.store, change.address, job)
    return f"{change.address}: started job {remote_id} ({job.status})"


def _cancel_remote(ctx: StepContext, address: str, remote_id: str) -> RemoteJob:
    try:
        job = ctx.client.cancel_job(remote_id)
    except ConflictError:
        job = ctx.client.get_job(remote_id)
        if job.active and job.status != "CANCELLATION_REQUESTED":
            raise
    record_job(ctx.store, address, job)
    return job


def cancel(ctx: StepContext, change: Change) -> str:
    remote_id = change.remote_id or job_id(ctx, change)
    job = _cancel_remote(ctx, change.address, remote_id)
    if is_removal(change):
        forget(ctx, change)
        return f"{change.address}: cancelled job {remote_id} and stopped tracking it"
    return f"{change.address}: cancelled job {remote_id} ({job.status})"


def adopt_job(ctx: StepContext, change: Change) -> str:
    request = JobRequest.from_change(change)
    job = ctx.client.get_job(job_id(ctx, change))
    ctx.store.put(change.address, locked_job(job, fingerprint=request.fingerprint, attributes=request.extra))
    return f"{change.address}: adopted job {job.id}"
