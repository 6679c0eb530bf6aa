"""One function per plan Action: intent → call → outcome → lock write.

Non-idempotent calls (upload, create) are bracketed by an intent that is fsynced before the POST; when the
answer is lost (5xx, timeout, dropped response) or the API says 409, the step searches and adopts instead
of retrying blindly, and only re-issues the POST after a search has shown that the first one never landed.
Idempotent calls (start, cancel, update, archive, unarchive, delete) are simply made and recorded. A step
returns a one-line summary, raises ``Deferred`` when it needs a fine-tuned model that does not exist yet,
and raises an FtopsError when its branch must stop.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftops.apply.adopt import find_job, find_upload, locked_file, locked_job, tracked_ids
from ftops.apply.protocols import ApiClient, Store
from ftops.apply.specs import FileUpload, JobRequest, request_body
from ftops.client.models import RemoteJob
from ftops.errors import ApplyError, ConflictError, FtopsError, NotFoundError, ServerError, TransportError
from ftops.plan.model import Action, Change
from ftops.state.model import LockedResource

# An ambiguous POST followed by a search that finds nothing may be re-issued; this many times in all.
MAX_CREATE_ATTEMPTS = 3
PAST_VALIDATED = frozenset({"STARTED", "RUNNING", "SUCCESS", "FAILED"})


class Deferred(Exception):
    """The step needs something that does not exist yet (a job's fine-tuned model)."""

    def __init__(self, reason: str, *, job_address: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.job_address = job_address


class Interrupted(Exception):
    """The user asked to stop while this step was waiting."""


@dataclass
class PollPolicy:
    first: float = 0.25
    factor: float = 1.6
    cap: float = 3.0
    timeout: float = 900.0

    def delays(self) -> list[float]:
        out: list[float] = []
        delay, total = self.first, 0.0
        while total < self.timeout:
            out.append(delay)
            total += delay
            delay = min(delay * self.factor, self.cap)
        return out


@dataclass
class StepContext:
    client: ApiClient
    store: Store
    root: Path
    echo: Callable[[str], None]
    stop: threading.Event = field(default_factory=threading.Event)
    poll: PollPolicy = field(default_factory=PollPolicy)
    env: dict[str, str] | None = None  # None: os.environ, read at call time only


def run_step(ctx: StepContext, change: Change) -> str:
    handler = _HANDLERS.get(change.action)
    if handler is None:
        return f"{change.address}: nothing to do for {change.action.value}"
    return handler(ctx, change)


# -- files --------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def upload(ctx: StepContext, change: Change) -> str:
    up = FileUpload.from_change(change, ctx.root)
    if not up.path.is_file():
        raise ApplyError(
            f"dataset file {up.path} does not exist", where=change.address, hint="restore it or fix spec.path"
        )
    if _sha256(up.path) != up.sha256:
        raise ApplyError(
            f"{up.path} changed since the plan was made", where=change.address, hint="run ftops plan again"
        )
    size = up.path.stat().st_size
    attributes = {**(change.after or {}), "path": _rel(up.path, ctx.root)}
    marker = {"filename": up.filename, "sha256": up.sha256, "bytes": size, "attributes": attributes}
    for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
        intent = ctx.store.begin_intent(change.address, "upload", up.sha256, marker)
        try:
            remote = ctx.client.upload_file(up.path, filename=up.filename, purpose=up.purpose)
        except (ServerError, TransportError) as exc:
            found = find_upload(ctx.client, filename=up.filename, sha256=up.sha256, size=size)
            if found is None:
                ctx.store.abandon_intent(intent.id)
                if attempt == MAX_CREATE_ATTEMPTS:
                    raise _failed(change, "upload", exc) from None
                continue
            ctx.store.complete_intent(intent.id, locked_file(found, sha256=up.sha256, attributes=attributes))
            return f"{change.address}: uploaded {found.id} (adopted after a lost answer)"
        except FtopsError:
            ctx.store.abandon_intent(intent.id)
            raise
        ctx.store.complete_intent(intent.id, locked_file(remote, sha256=up.sha256, attributes=attributes))
        return f"{change.address}: uploaded {remote.id} ({up.filename})"
    raise AssertionError("unreachable")


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _failed(change: Change, what: str, exc: FtopsError) -> ApplyError:
    return ApplyError(
        f"{what} failed: {exc.message}",
        where=change.address,
        hint="the API did not accept it and nothing was created; run ftops apply again later",
    )


# -- jobs ---------------------------------------------------------------------------------------------


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
                raise _failed(change, "job creation", exc) from None
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


def _job_id(ctx: StepContext, change: Change) -> str:
    locked = ctx.store.lock.resources.get(change.address)
    if locked is not None and locked.kind == "job":
        return locked.remote_id
    if change.remote_id:
        return change.remote_id
    raise ApplyError(
        "no job id is recorded for this job", where=change.address,
        hint="jobs are only started once their creation is recorded in the lock; run ftops apply again",
    )


def record_job(store: Store, address: str, job: RemoteJob) -> None:
    """Record a job's observed status and fine-tuned model id, if the lock still tracks that job."""
    locked = store.lock.resources.get(address)
    if locked is None or locked.remote_id != job.id:
        return
    changes: dict[str, Any] = {
        "status": job.status,
        "fine_tuned_model": job.fine_tuned_model or locked.fine_tuned_model,
    }
    if locked.status == changes["status"] and locked.fine_tuned_model == changes["fine_tuned_model"]:
        return
    store.put(address, locked.model_copy(update=changes))


def wait_until_validated(ctx: StepContext, address: str, job_id: str) -> RemoteJob:
    for delay in [0.0, *ctx.poll.delays()]:
        if ctx.stop.wait(delay):
            raise Interrupted()
        job = ctx.client.get_job(job_id)
        if job.status == "FAILED_VALIDATION":
            record_job(ctx.store, address, job)
            raise ApplyError(
                f"job {job_id} failed validation: {_last_message(job)}",
                where=address,
                hint="fix the training data (ftops data validate FILE), then run ftops plan / apply; "
                "the failed job is not retried automatically",
            )
        if job.status not in ("QUEUED", "VALIDATING"):
            return job
    raise ApplyError(
        f"job {job_id} was still validating after {ctx.poll.timeout:.0f} s",
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
    job_id = _job_id(ctx, change)
    job = wait_until_validated(ctx, change.address, job_id)
    if job.status in PAST_VALIDATED:
        record_job(ctx.store, change.address, job)
        return f"{change.address}: job {job_id} was already started ({job.status})"
    if job.status != "VALIDATED":
        record_job(ctx.store, change.address, job)
        raise ApplyError(
            f"job {job_id} cannot be started: it is {job.status}", where=change.address,
            hint="it was changed outside ftops; run ftops plan to see what to do",
        )
    try:
        job = ctx.client.start_job(job_id)
    except ConflictError:
        # A start retried after a dropped answer: the first one went through if the job moved on.
        job = ctx.client.get_job(job_id)
        if job.status not in PAST_VALIDATED:
            raise
    record_job(ctx.store, change.address, job)
    return f"{change.address}: started job {job_id} ({job.status})"


def _cancel_remote(ctx: StepContext, address: str, job_id: str) -> RemoteJob:
    try:
        job = ctx.client.cancel_job(job_id)
    except ConflictError:
        job = ctx.client.get_job(job_id)
        if job.active and job.status != "CANCELLATION_REQUESTED":
            raise
    record_job(ctx.store, address, job)
    return job


def cancel(ctx: StepContext, change: Change) -> str:
    job_id = change.remote_id or _job_id(ctx, change)
    job = _cancel_remote(ctx, change.address, job_id)
    if _removal(change):
        forget(ctx, change)
        return f"{change.address}: cancelled job {job_id} and stopped tracking it"
    return f"{change.address}: cancelled job {job_id} ({job.status})"


# -- models -------------------------------------------------------------------------------------------


def _job_address(change: Change) -> str | None:
    after = change.after or {}
    ref = after.get("job") or next((d for d in change.depends_on if d.startswith("job.")), None)
    if ref is None:
        locked_before = change.before or {}
        ref = locked_before.get("job")
    if ref is None:
        return None
    text = str(ref)
    return text if text.startswith("job.") else f"job.{text}"


def resolve_model_id(ctx: StepContext, change: Change) -> str:
    """The fine-tuned model id: from the plan, the lock, or the job (which may not have finished yet)."""
    if change.remote_id:
        return change.remote_id
    job_address = _job_address(change)
    locked_model = ctx.store.lock.resources.get(change.address)
    job_lock = ctx.store.lock.resources.get(job_address) if job_address else None
    if job_lock is not None and job_lock.fine_tuned_model:
        return job_lock.fine_tuned_model
    if job_lock is None:
        if locked_model is not None:
            return locked_model.remote_id
        raise ApplyError(
            "the model's job is not recorded", where=change.address, hint="apply the job first (ftops apply)"
        )
    job = ctx.client.get_job(job_lock.remote_id)
    record_job(ctx.store, str(job_address), job)
    if job.fine_tuned_model:
        return job.fine_tuned_model
    raise Deferred(f"waits for {job_address} to finish ({job.status})", job_address=str(job_address))


def _require_new_model(ctx: StepContext, change: Change) -> None:
    """A superseded model is archived only once its job has produced the model that replaces it."""
    job_address = next((d for d in change.depends_on if d.startswith("job.")), None)
    job_lock = ctx.store.lock.resources.get(job_address) if job_address else None
    if job_address is None or job_lock is None or job_lock.fine_tuned_model:
        return
    job = ctx.client.get_job(job_lock.remote_id)
    record_job(ctx.store, job_address, job)
    if not job.fine_tuned_model:
        raise Deferred(f"waits for {job_address} to finish ({job.status})", job_address=job_address)


def _put_model(ctx: StepContext, change: Change, model_id: str, *, archived: bool | None = None,
               fields: dict[str, Any] | None = None) -> None:
    locked = ctx.store.lock.resources.get(change.address)
    same = locked is not None and locked.remote_id == model_id
    attributes = dict(locked.attributes) if same and locked is not None else {}
    after = change.after or {}
    attributes.update({k: after[k] for k in ("job", "on_remove") if after.get(k) is not None})
    attributes.update(fields or {})
    if archived is None:
        archived = bool(attributes.get("archived", False))
    attributes["archived"] = archived
    job_address = _job_address(change) or (locked.fingerprint if locked is not None else "")
    ctx.store.put(
        change.address,
        LockedResource(
            kind="model",
            remote_id=model_id,
            fingerprint=job_address,
            status="archived" if archived else "active",
            attributes={k: v for k, v in attributes.items() if v is not None},
        ),
    )


def _removal(change: Change) -> bool:
    """A change the plan made because the resource left the manifests: forget it once done."""
    return change.after is None


def update(ctx: StepContext, change: Change) -> str:
    model_id = resolve_model_id(ctx, change)
    after = change.after or {}
    fields = {k: after[k] for k in ("name", "description") if after.get(k) is not None}
    ctx.client.update_model(model_id, **fields)
    _put_model(ctx, change, model_id, fields=fields)
    return f"{change.address}: updated {model_id} ({', '.join(fields) or 'nothing'})"


def archive(ctx: StepContext, change: Change) -> str:
    _require_new_model(ctx, change)
    model_id = resolve_model_id(ctx, change)
    ctx.client.archive_model(model_id)
    if _removal(change):
        forget(ctx, change)
        return f"{change.address}: archived {model_id} and stopped tracking it"
    locked = ctx.store.lock.resources.get(change.address)
    if locked is None or locked.remote_id == model_id or _is_current(ctx, change):
        _put_model(ctx, change, model_id, archived=True)
    return f"{change.address}: archived {model_id}"


def _is_current(ctx: StepContext, change: Change) -> bool:
    """Whether ``change.remote_id`` is the model the address should track (not a superseded one)."""
    job_address = _job_address(change)
    job_lock = ctx.store.lock.resources.get(job_address) if job_address else None
    return job_lock is not None and job_lock.fine_tuned_model == change.remote_id


def unarchive(ctx: StepContext, change: Change) -> str:
    model_id = resolve_model_id(ctx, change)
    ctx.client.unarchive_model(model_id)
    _put_model(ctx, change, model_id, archived=False)
    return f"{change.address}: unarchived {model_id}"


def delete(ctx: StepContext, change: Change) -> str:
    locked = ctx.store.lock.resources.get(change.address)
    remote_id = change.remote_id or (locked.remote_id if locked else None)
    if remote_id is None:
        raise ApplyError("nothing recorded to delete", where=change.address, hint="run ftops plan again")
    try:
        if change.kind == "file":
            ctx.client.delete_file(remote_id)
        elif change.kind == "model":
            ctx.client.delete_model(remote_id)
        else:
            raise ApplyError("jobs cannot be deleted", where=change.address, hint="cancel or forget it instead")
    except NotFoundError:
        pass  # already gone: the goal is reached
    if locked is not None and locked.remote_id == remote_id:
        ctx.store.remove(change.address)
    return f"{change.address}: deleted {remote_id}"


def forget(ctx: StepContext, change: Change) -> str:
    if change.address in ctx.store.lock.resources:
        ctx.store.remove(change.address)
    return f"{change.address}: forgotten (the remote object is left alone)"


def adopt(ctx: StepContext, change: Change) -> str:
    after = change.after or {}
    if change.kind == "file":
        if not change.remote_id:
            raise ApplyError("the plan names no file to adopt", where=change.address, hint="run ftops plan again")
        remote = ctx.client.get_file(change.remote_id)
        sha = str(after.get("sha256") or after.get("content_hash") or "")
        ctx.store.put(change.address, locked_file(remote, sha256=sha, attributes=after))
        return f"{change.address}: adopted the identical upload {remote.id}"
    if change.kind == "job":
        request = JobRequest.from_change(change)
        job = ctx.client.get_job(_job_id(ctx, change))
        ctx.store.put(change.address, locked_job(job, fingerprint=request.fingerprint, attributes=request.extra))
        return f"{change.address}: adopted job {job.id}"
    model_id = resolve_model_id(ctx, change)
    _put_model(ctx, change, model_id)
    return f"{change.address}: recorded model {model_id}"


_HANDLERS: dict[Action, Callable[[StepContext, Change], str]] = {
    Action.UPLOAD: upload,
    Action.CREATE: create,
    Action.REPLACE: replace,
    Action.START: start,
    Action.CANCEL: cancel,
    Action.UPDATE: update,
    Action.ARCHIVE: archive,
    Action.UNARCHIVE: unarchive,
    Action.DELETE: delete,
    Action.FORGET: forget,
    Action.ADOPT: adopt,
}

# Steps that need their job's fine-tuned model id (they may be deferred until the job finishes).
MODEL_ACTIONS = frozenset({Action.UPDATE, Action.ARCHIVE, Action.UNARCHIVE, Action.ADOPT})
