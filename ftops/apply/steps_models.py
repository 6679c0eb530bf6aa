"""Steps for fine-tuned models: name/describe, archive (promotion), unarchive, adopt, delete.

A model only exists once its job has finished, so every step first resolves the fine-tuned model id (from
the plan, the lock, or a GET of the job) and raises ``Deferred`` while the job is still running; a
superseded model is archived only after the job replacing it has produced its model. All calls here are
idempotent, so they are made and then recorded.
"""

from __future__ import annotations

from typing import Any

from ftops.apply.steps_base import Deferred, StepContext, forget, is_removal, record_job
from ftops.errors import ApplyError
from ftops.plan.model import Change
from ftops.state.model import LockedResource


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
    for key in ("gate", "smoke"):  # the verdicts that let this model in travel with it
        verdict = _job_verdict(ctx, change, model_id, key)
        if verdict is not None:
            attributes[key] = verdict
    curve = _job_curve(ctx, change, model_id)
    if curve:  # and its loss curves: once its job is replaced, the plan charts it as the current model
        attributes["curve"] = curve
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


def _job_curve(ctx: StepContext, change: Change, model_id: str) -> Any:
    job_address = _job_address(change)
    job_lock = ctx.store.lock.resources.get(job_address) if job_address else None
    if job_lock is None or job_lock.fine_tuned_model != model_id:
        return None
    return job_lock.attributes.get("curve")


def _job_verdict(ctx: StepContext, change: Change, model_id: str, key: str) -> dict[str, Any] | None:
    """The job's recorded ``gate`` or ``smoke`` outcome, when it is about ``model_id``."""
    job_address = _job_address(change)
    job_lock = ctx.store.lock.resources.get(job_address) if job_address else None
    record = job_lock.attributes.get(key) if job_lock is not None else None
    about = "candidate" if key == "gate" else "model"
    return record if isinstance(record, dict) and record.get(about) == model_id else None


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
    if is_removal(change):
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


def adopt_model(ctx: StepContext, change: Change) -> str:
    model_id = resolve_model_id(ctx, change)
    _put_model(ctx, change, model_id)
    return f"{change.address}: recorded model {model_id}"
