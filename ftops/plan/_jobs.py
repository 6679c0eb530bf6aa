"""Planning FineTuningJobs: create (always ``auto_start=false``), start, cancel, replace, forget.

A changed spec fingerprint is a REPLACE: a new paid job, with every changed field listed as forcing it, and
the old job cancelled when still active or kept when finished. ``state`` moves a job between parked
(VALIDATED), training and cancelled. Status moves the job makes by itself are progress, never changes; a
failed or externally cancelled job is reported and never retried on its own (that would pay twice).
"""

from __future__ import annotations

from typing import Any

from ftops.client.models import RemoteJob
from ftops.desired import DesiredJob
from ftops.plan._context import PlanContext
from ftops.plan._files import sync_on_remove
from ftops.plan.cost import estimate_cost, job_cost
from ftops.plan.model import Action, FieldChange
from ftops.state.model import LockedResource

FAILED = frozenset({"FAILED", "FAILED_VALIDATION"})
CANCELLED = frozenset({"CANCELLED", "CANCELLATION_REQUESTED"})
TRAINING_OR_DONE = frozenset({"STARTED", "RUNNING", "SUCCESS"})
STARTABLE = frozenset({"QUEUED", "VALIDATING", "VALIDATED"})
# Fingerprint fields in the order a reader expects them.
SPEC_FIELDS = (
    "model",
    "job_type",
    "training_files",
    "validation_files",
    "hyperparameters",
    "suffix",
    "integrations",
    "classifier_targets",
    "invalid_sample_skip_percentage",
)
ON_REMOVE_DEFAULT = "cancel"


def plan_jobs(ctx: PlanContext) -> None:
    for address in ctx.desired.order:
        if address in ctx.desired.jobs:
            _plan_job(ctx, ctx.desired.jobs[address])
    for address, entry in ctx.removed("job"):
        _plan_removed(ctx, address, entry)


def job_after(job: DesiredJob) -> dict[str, Any]:
    """What apply needs to create the job, and records as the lock attributes afterwards."""
    return {
        "spec": job.spec,
        "auto_start": False,
        "fingerprint": job.fingerprint,
        "fingerprint_input": job.fingerprint_input,
        "suffix": job.suffix,
        "state": job.state,
        "on_remove": job.on_remove,
    }


def _plan_job(ctx: PlanContext, job: DesiredJob) -> None:
    entry = ctx.lock(job.address)
    remote = ctx.live.jobs.get(entry.remote_id) if entry is not None else None
    if entry is not None and remote is None:
        ctx.observe_drift(job.address, entry.remote_id, f"the tracked job {entry.remote_id} no longer exists")
    if entry is None or remote is None:
        _plan_new(ctx, job, entry)
        return
    _observe(ctx, job.address, entry, remote)
    if entry.fingerprint != job.fingerprint and job.state != "cancelled":
        _plan_replace(ctx, job, entry, remote)
        return
    _plan_state(ctx, job, entry, remote)
    if not ctx.actions(job.address):
        sync_on_remove(ctx, job.address, remote.id, entry.attributes, job.on_remove, ON_REMOVE_DEFAULT,
                       job_after(job))


def _file_deps(ctx: PlanContext, job: DesiredJob) -> list[str]:
    return [a for a in job.file_addresses if ctx.actions(a) & {Action.UPLOAD, Action.ADOPT}]


def _plan_new(ctx: PlanContext, job: DesiredJob, entry: LockedResource | None) -> None:
    if job.state == "cancelled":
        return  # nothing to create only to cancel it
    reason = (
        f"the tracked job {entry.remote_id} no longer exists; a new job is created"
        if entry is not None
        else "new job"
    )
    cost = estimate_cost(job)
    ctx.add(job.address, Action.CREATE, after=job_after(job), depends_on=_file_deps(ctx, job), cost=cost,
            reasons=[reason, "created with auto_start=false: it is validated and parks in VALIDATED at no cost"])
    if job.state == "started":
        ctx.add(job.address, Action.START, after={"state": "started"}, depends_on=[job.address], cost=cost,
                reasons=["state: started — training starts once validation has finished"])


def _plan_replace(ctx: PlanContext, job: DesiredJob, entry: LockedResource, remote: RemoteJob) -> None:
    field_changes = spec_field_changes(ctx, _before_input(ctx, job, entry, remote), job.fingerprint_input) or [
        # Same visible fields but another fingerprint (e.g. recorded by an older ftops): say so honestly.
        FieldChange(path="fingerprint", before=entry.fingerprint[:12], after=job.fingerprint[:12],
                    forces_replacement=True)
    ]
    keep = not remote.active
    fate = (
        f"the old job {remote.id} is {remote.status} and is kept"
        if keep
        else f"the old job {remote.id} is still {remote.status} and is cancelled"
    )
    cost = estimate_cost(job)
    changed = ", ".join(fc.path for fc in field_changes)
    ctx.add(job.address, Action.REPLACE, after=job_after(job), depends_on=_file_deps(ctx, job), cost=cost,
            before={"remote_id": remote.id, "status": remote.status, "fingerprint": entry.fingerprint},
            field_changes=field_changes, replaced_remote_id=remote.id,
            old_job_disposition="keep" if keep else "cancel",
            reasons=[f"the job spec changed ({changed}): a job cannot be edited, so a new job is created", fate])
    if job.state == "started":
        ctx.add(job.address, Action.START, after={"state": "started"}, depends_on=[job.address], cost=cost,
                reasons=["state: started — the new job starts training once validated"])


def _plan_state(ctx: PlanContext, job: DesiredJob, entry: LockedResource, remote: RemoteJob) -> None:
    status = remote.status
    if status in FAILED:
        return  # reported as progress by _observe; never retried on its own
    if job.state == "cancelled":
        if remote.active and status != "CANCELLATION_REQUESTED":
            ctx.add(job.address, Action.CANCEL, remote_id=remote.id, before={"status": status},
                    after={"state": "cancelled"}, reasons=[f"state: cancelled — the job is {status}"])
        return
    if status in CANCELLED:
        if entry.status not in CANCELLED:
            ctx.observe_drift(job.address, remote.id,
                              f"the job was cancelled outside ftops ({entry.status or 'unknown'} → {status}); "
                              "it is not restarted on its own (that would pay twice): change the spec to train "
                              "a new job, or set state: cancelled")
        elif job.state == "started":
            ctx.observe_drift(job.address, remote.id,
                              "state: started, but the job was cancelled and a cancelled job cannot be restarted: "
                              "change the spec (e.g. the suffix) to train a new job")
        return
    if job.state == "started" and status in STARTABLE:
        note = "" if status == "VALIDATED" else f" (the job is {status}; apply starts it once validated)"
        ctx.add(job.address, Action.START, remote_id=remote.id, before={"status": status},
                after={"state": "started"}, cost=job_cost(job, remote), reasons=[f"state: started{note}"])
    elif job.state == "created" and status in TRAINING_OR_DONE and entry.status not in TRAINING_OR_DONE:
        ctx.observe_drift(job.address, remote.id,
                          f"the job was started outside ftops (now {status}) although the manifest says "
                          "state: created; set state: started to keep it, or state: cancelled to stop it")


def _observe(ctx: PlanContext, address: str, entry: LockedResource, remote: RemoteJob) -> None:
    """Progress since the lock was written: status moves, a fine-tuned model, new checkpoints."""
    if remote.status != entry.status:
        was = entry.status or "unknown"
        if remote.status in FAILED:
            ctx.observe_progress(address, remote.id, f"{was} → {remote.status}: {_failure_reason(remote)}. "
                                 "ftops does not retry a failed job (it would pay twice): fix the data or the "
                                 "spec in the manifest to create a new job, or remove the job")
        elif not (remote.status in CANCELLED and entry.status not in CANCELLED):
            ctx.observe_progress(address, remote.id, f"{was} → {remote.status}")
    if remote.fine_tuned_model and remote.fine_tuned_model != entry.fine_tuned_model:
        ctx.observe_progress(address, remote.id, f"fine-tuned model {remote.fine_tuned_model} is ready")
    seen = int(entry.attributes.get("checkpoints", 0) or 0)
    if remote.checkpoints and len(remote.checkpoints) > seen:
        last = max(remote.checkpoints, key=lambda c: c.step_number)
        loss = last.metrics.get("train_loss")
        detail = f", train_loss {loss:.4g}" if isinstance(loss, float) else ""
        ctx.observe_progress(address, remote.id, f"{len(remote.checkpoints) - seen} new checkpoint(s), "
                             f"latest at step {last.step_number}{detail}")


def _failure_reason(remote: RemoteJob) -> str:
    for event in reversed(remote.events or []):
        data = event.data or {}
        message = data.get("error") or data.get("message") or data.get("reason")
        if message:
            return str(message)
    if remote.status == "FAILED_VALIDATION":
        return "the training data did not pass validation (run `ftops validate` for the lines)"
    return "training failed (see `ftops status` for the job's events)"


def _plan_removed(ctx: PlanContext, address: str, entry: LockedResource) -> None:
    remote = ctx.live.jobs.get(entry.remote_id)
    on_remove = str(entry.attributes.get("on_remove", ON_REMOVE_DEFAULT))
    before = {"remote_id": entry.remote_id, "status": remote.status if remote else None}
    if remote is not None and remote.active and on_remove == "cancel" and remote.status != "CANCELLATION_REQUESTED":
        ctx.add(address, Action.CANCEL, remote_id=remote.id, before=before, cost=None,
                reasons=[f"removed from the manifests (on_remove: cancel): the job is still {remote.status}; "
                         "it is cancelled and forgotten"])
        return
    if remote is None:
        reason = "removed from the manifests and the job no longer exists"
    elif remote.terminal:
        reason = f"removed from the manifests; the job is {remote.status} (its fine-tuned model is not touched)"
    else:
        reason = f"removed from the manifests (on_remove: {on_remove}): the job stays {remote.status}"
    ctx.add(address, Action.FORGET, remote_id=entry.remote_id, before=before, reasons=[reason])


def _before_input(ctx: PlanContext, job: DesiredJob, entry: LockedResource, remote: RemoteJob) -> dict[str, Any]:
    """The old job's fingerprint input: as recorded in the lock, else rebuilt from what the API shows."""
    recorded = entry.attributes.get("fingerprint_input")
    if isinstance(recorded, dict):
        return recorded
    sha_of = {e.remote_id: e.fingerprint for e in ctx.locked.values() if e.kind == "file"}
    wanted_hp = job.fingerprint_input["hyperparameters"]
    weights = [t["weight"] for t in job.fingerprint_input["training_files"]]
    train = [sha_of.get(fid, fid) for fid in remote.training_files]
    return {
        "model": remote.model,
        "job_type": remote.job_type,
        # Weights are not echoed by the API: assume unchanged when the count matches.
        "training_files": [
            {"sha256": sha, "weight": weights[i] if len(weights) == len(train) else 1.0} for i, sha in enumerate(train)
        ],
        "validation_files": [sha_of.get(fid, fid) for fid in remote.validation_files or []],
        "hyperparameters": {k: remote.hyperparameters.get(k) for k in wanted_hp},
        "suffix": remote.suffix,
        "integrations": job.fingerprint_input["integrations"],
        "classifier_targets": job.fingerprint_input["classifier_targets"],
        "invalid_sample_skip_percentage": remote.invalid_sample_skip_percentage
        if remote.invalid_sample_skip_percentage is not None
        else job.fingerprint_input["invalid_sample_skip_percentage"],
    }


def spec_field_changes(ctx: PlanContext, before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Every fingerprint field that differs, each marked as forcing a replacement."""
    names = {f.sha256: f.address for f in ctx.desired.files.values()}
    names.update({e.fingerprint: a for a, e in ctx.locked.items() if e.kind == "file" and e.fingerprint not in names})
    out: list[FieldChange] = []
    for key in SPEC_FIELDS:
        old, new = before.get(key), after.get(key)
        if key == "hyperparameters":
            old_hp, new_hp = old or {}, new or {}
            for name in sorted(set(old_hp) | set(new_hp)):
                if old_hp.get(name) != new_hp.get(name):
                    out.append(FieldChange(path=f"hyperparameters.{name}", before=old_hp.get(name),
                                           after=new_hp.get(name), forces_replacement=True))
        elif old != new:
            out.append(FieldChange(path=key, before=_show(key, old, names), after=_show(key, new, names),
                                   forces_replacement=True))
    return out


def _show(key: str, value: Any, names: dict[str, str]) -> Any:
    """Files by address and short content hash, so a reader sees *which* data changed."""
    if key == "training_files" and isinstance(value, list):
        return [f"{names.get(t['sha256'], 'file')}@{t['sha256'][:12]} ×{t['weight']:g}" for t in value]
    if key == "validation_files" and isinstance(value, list):
        return [f"{names.get(sha, 'file')}@{sha[:12]}" for sha in value]
    return value
