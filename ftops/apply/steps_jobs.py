"""Steps for fine-tuning jobs: create (parked, intent-bracketed), replace, start after validation, cancel.

Creating is the one call that can cost money twice, so it is bracketed by an intent and, when the answer is
lost or the API says 409, resolved by a full-spec search before anything is re-sent. Starting is a separate
step for a job id already recorded in the lock, issued only once the job reached ``VALIDATED``; start and
cancel are idempotent, and a 409 on either is settled by a GET of the job.
"""

from __future__ import annotations

import os

from ftops.apply.adopt import ambiguous, find_job, find_jobs, locked_job, tracked_ids, usable
from ftops.apply.specs import file_ids, fingerprint_of_change, job_differences, job_spec_of, lock_attributes
from ftops.apply.steps_base import (
    MAX_CREATE_ATTEMPTS,
    Interrupted,
    StepContext,
    failed,
    forget,
    is_removal,
    record_job,
)
from ftops.client.models import JobStatus, RemoteJob
from ftops.errors import ApplyError, ConflictError, FtopsError, ServerError, TransportError
from ftops.jobspec import JobSpec
from ftops.plan.model import Change

# 504: a gateway gave up waiting, the backend may still be creating; treated like no answer at all.
UNANSWERED_STATUS = frozenset({504})


def create(ctx: StepContext, change: Change) -> str:
    spec = job_spec_of(change)
    fingerprint, attributes = fingerprint_of_change(change), lock_attributes(change)
    ids = file_ids(spec, ctx.store.lock, change.address)
    # Right before the POST: another clone (or a lost lock) may have created the identical job already.
    tracked = tracked_ids(ctx.store, "job")
    existing = find_jobs(ctx.client, spec.view(), ctx.store.lock, exclude=tracked)
    healthy = [j for j in existing if usable(j)]
    if len(healthy) > 1:
        raise ambiguous(change.address, healthy, "this job's spec")
    if healthy:
        ctx.store.put(change.address, locked_job(healthy[0], fingerprint=fingerprint, attributes=attributes))
        return f"{change.address}: adopted job {healthy[0].id} ({healthy[0].status}): it matches the spec in full"
    # Identical jobs that failed or were cancelled before this POST are not its answer.
    marker: dict[str, object] = {"suffix": spec.suffix, "model": spec.model, "spec": spec.model_dump(mode="json"),
              "exclude": sorted(j.id for j in existing), "attributes": attributes}
    for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
        if ctx.stop.is_set():
            raise Interrupted()
        body = spec.request_body(ids, os.environ if ctx.env is None else ctx.env)
        intent = ctx.store.begin_intent(change.address, "create", fingerprint, marker)
        try:
            job = ctx.client.create_job(body)
        except (ServerError, TransportError, ConflictError) as exc:
            unanswered = isinstance(exc, TransportError) or exc.status_code in UNANSWERED_STATUS
            found = _settle(ctx, change, spec, marker, patient=unanswered)
            if found is not None:
                ctx.store.complete_intent(intent.id, locked_job(found, fingerprint=fingerprint, attributes=attributes))
                return f"{change.address}: created job {found.id} (adopted after: {exc.message})"
            if unanswered:
                raise ApplyError(
                    f"the job creation got no answer ({exc.message}) and the job has not appeared after "
                    f"{ctx.settle.total:.0f} s of searching",
                    where=change.address,
                    hint="nothing was sent twice; the interrupted creation stays recorded in the lock and the "
                    "next ftops apply searches for it again before creating anything",
                ) from None
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
        ctx.store.complete_intent(intent.id, locked_job(job, fingerprint=fingerprint, attributes=attributes))
        parked = "parked until started; no training cost yet" if spec.provider == "mistral" else \
            f"on {spec.provider} it trains from creation"
        return f"{change.address}: created job {job.id} ({parked})"
    raise AssertionError("unreachable")


def _settle(ctx: StepContext, change: Change, spec: JobSpec, marker: dict[str, object], *,
            patient: bool) -> RemoteJob | None:
    """Search for the job an unanswered POST may have created; ``patient``: keep searching with backoff.

    The API answered (5xx, 409): one search settles it. No answer: the request may still be running, so
    search again and again (``ctx.settle``) and never re-send while it might land.
    """
    excluded = marker.get("exclude")
    exclude = tracked_ids(ctx.store, "job") | ({str(i) for i in excluded} if isinstance(excluded, list) else set())
    delays = ctx.settle.delays() if patient else iter([0.0])
    for delay in delays:
        if delay and ctx.stop.wait(delay):
            raise Interrupted()
        try:
            found = find_job(ctx.client, spec.view(), ctx.store.lock, exclude=exclude, address=change.address)
        except (ServerError, TransportError):
            continue  # the search itself went unanswered: try again after the next wait
        if found is not None:
            return found
    return None


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
        if job.phase is JobStatus.FAILED_VALIDATION:
            record_job(ctx.store, address, job)
            raise ApplyError(
                f"job {remote_id} failed validation: {_last_message(job)}",
                where=address,
                hint="fix the training data (ftops data validate FILE), then run ftops plan / apply; "
                "the failed job is not retried automatically",
            )
        if job.phase not in (JobStatus.QUEUED, JobStatus.VALIDATING):
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
    if past_validated(job):
        record_job(ctx.store, change.address, job)
        return f"{change.address}: job {remote_id} was already started ({job.status})"
    if not job.phase.parked:
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
        if not past_validated(job):
            raise
    record_job(ctx.store, change.address, job)
    return f"{change.address}: started job {remote_id} ({job.status})"


def _cancel_remote(ctx: StepContext, address: str, remote_id: str) -> RemoteJob:
    try:
        job = ctx.client.cancel_job(remote_id)
    except ConflictError:
        job = ctx.client.get_job(remote_id)
        if job.active and job.phase is not JobStatus.CANCELLATION_REQUESTED:
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


def past_validated(job: RemoteJob) -> bool:
    """Started by someone already (or it ended FAILED during training): a start is not needed again."""
    return job.phase.training_or_done or job.phase is JobStatus.FAILED


def adopt_job(ctx: StepContext, change: Change) -> str:
    """Record the job the plan matched (or re-record attributes): checked again in full before it is written."""
    spec = job_spec_of(change)
    remote_id = change.remote_id or job_id(ctx, change)
    job = ctx.client.get_job(remote_id)
    locked = ctx.store.lock.resources.get(change.address)
    if locked is None or locked.remote_id != remote_id:
        diff = job_differences(spec, job, ctx.store.lock, detailed=True)
        if diff:
            raise ApplyError(
                f"job {remote_id} no longer matches the manifest ({', '.join(diff)}); it is not adopted",
                where=change.address, hint="run ftops plan again",
            )
    ctx.store.put(change.address, locked_job(job, fingerprint=fingerprint_of_change(change),
                                             attributes=lock_attributes(change)))
    return f"{change.address}: adopted job {job.id} ({job.status}), no API write"
