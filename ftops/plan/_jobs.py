"""Planning FineTuningJobs: create (always ``auto_start=false``), adopt, start, cancel, replace, forget.

The live API is the source of truth. Before a create is planned, the live snapshot is searched for an
untracked job that matches the desired spec in full (``ftops.jobspec.matches``: files by content); one match
is *adopted* (recorded, nothing paid), several stop the plan with a report. So a lost, stale, reverted or
merged lock never creates a second paid job. A changed spec fingerprint is a REPLACE: a new paid job, with
every changed field listed as forcing it, the old job cancelled when still active or kept when finished.
``state`` moves a job between parked (VALIDATED), training and cancelled. Status moves the job makes by
itself are progress, never changes; a failed or externally cancelled job under ``state: started`` is a
*problem* (the plan is not in sync) and is retried only by ``--replace job.X`` or a changed spec.
"""

from __future__ import annotations

from typing import Any

from ftops.client.models import JobStatus, RemoteJob
from ftops.desired import DesiredJob
from ftops.jobspec import Difference, differences, matches, view_of_record, view_of_remote
from ftops.plan._context import PlanContext
from ftops.plan._files import sync_on_remove
from ftops.plan._versions import annotate_versions, pinned_version
from ftops.plan.cost import estimate_cost, job_cost
from ftops.plan.model import Action, FieldChange, Reason
from ftops.state.model import LockedResource

ON_REMOVE_DEFAULT = "cancel"


def plan_jobs(ctx: PlanContext) -> None:
    stays: dict[str, DesiredJob] = {}
    for address in ctx.desired.order:
        if address in ctx.desired.jobs:
            _plan_job(ctx, ctx.desired.jobs[address], stays)
    for address, entry in ctx.removed("job"):
        _plan_removed(ctx, address, entry)
    annotate_versions(ctx, stays)


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


def _plan_job(ctx: PlanContext, job: DesiredJob, stays: dict[str, DesiredJob]) -> None:
    entry = ctx.lock(job.address)
    remote = ctx.live.jobs.get(entry.remote_id) if entry is not None else None
    if entry is not None and remote is None and not _moved_from(entry, job):
        ctx.observe_drift(job.address, entry.remote_id, f"the tracked job {entry.remote_id} no longer exists")
    if entry is None or remote is None:
        _plan_new(ctx, job, entry)
        return
    _observe(ctx, job.address, entry, remote)
    pinned = pinned_version(job, entry) if entry.fingerprint != job.fingerprint else None
    if pinned is not None and job.address not in ctx.replace:
        job = stays[job.address] = pinned  # only the data changed: the job stays on its version
    if job.address in ctx.replace or (entry.fingerprint != job.fingerprint and job.state != "cancelled"):
        _plan_replace(ctx, job, entry, remote)
        return
    _plan_state(ctx, job, entry, remote)
    if not ctx.actions(job.address):
        sync_on_remove(ctx, job.address, remote.id, entry.attributes, job.on_remove, ON_REMOVE_DEFAULT,
                       job_after(job))


def _file_deps(ctx: PlanContext, job: DesiredJob) -> list[str]:
    return [a for a in job.file_addresses if ctx.actions(a) & {Action.UPLOAD, Action.ADOPT}]


def _plan_new(ctx: PlanContext, job: DesiredJob, entry: LockedResource | None) -> None:
    if job.address not in ctx.replace:
        found = _adoptable(ctx, job)
        if found is not None:
            _plan_adopt(ctx, job, found)
            return
        if ctx.errors and ctx.errors[-1].startswith(job.address):
            return  # several live jobs match: reported, nothing planned for this job
    if job.state == "cancelled":
        return  # nothing to create only to cancel it
    if job.address in ctx.replace:
        reason, why = Reason.REPLACE_REQUESTED, f"--replace {job.address}: a new job is created"
    elif entry is not None and (old := _moved_from(entry, job)):
        reason, why = Reason.GONE, (f"moved from {old} to {job.job_spec.provider}: a new job is created there "
                                    f"(the job {entry.remote_id} stays on {old}, no longer tracked)")
    elif entry is not None:
        reason, why = Reason.GONE, f"the tracked job {entry.remote_id} no longer exists; a new job is created"
    else:
        reason, why = Reason.NEW, "new job: no job on the API matches the manifest"
    cost = estimate_cost(job)
    ctx.add(job.address, Action.CREATE, after=job_after(job), depends_on=_file_deps(ctx, job), cost=cost,
            reason=reason, job_spec=job.job_spec,
            reasons=[why, _create_note(job)])
    if job.state == "started":
        ctx.add(job.address, Action.START, after={"state": "started"}, depends_on=[job.address], cost=cost,
                reason=Reason.STATE, reasons=["state: started — training starts once validation has finished"])


def _moved_from(entry: LockedResource, job: DesiredJob) -> str | None:
    """The provider a tracked job ran on, when the manifest now puts it on another one."""
    recorded = entry.attributes.get("fingerprint_input")
    old = str(recorded.get("provider", "mistral")) if isinstance(recorded, dict) else "mistral"
    return old if old != job.job_spec.provider else None


def _create_note(job: DesiredJob) -> str:
    if job.job_spec.provider == "mistral":
        return "created with auto_start=false: it is validated and parks in VALIDATED at no cost"
    return f"on {job.job_spec.provider} a created job trains at once: creating it is the billed step"


def _adoptable(ctx: PlanContext, job: DesiredJob) -> RemoteJob | None:
    """The one untracked live job that matches the spec in full, preferring a healthy one.

    Several healthy matches are ambiguous: the plan reports them (an error) and apply refuses to run. Only
    failed/cancelled matches: the newest (by the API's ``created_at``) is adopted and reported as a problem,
    so a failure is shown and never silently paid for again.
    """
    tracked = {e.remote_id for e in ctx.locked.values() if e.kind == "job"}
    tracked |= {j.id for j in ctx.adopted_jobs.values()}
    candidates = [
        j for j in ctx.live.jobs.values()
        if j.suffix == job.suffix and j.model == job.job_spec.model and j.id not in tracked
        and matches(job.job_spec, j, ctx.content_of, detailed=False)
    ]
    if not candidates:
        return None
    healthy = [j for j in candidates if not (j.phase.failed or j.phase.cancelled)]
    if len(healthy) > 1:
        listed = "; ".join(f"{j.id} ({j.status})" for j in sorted(healthy, key=lambda j: (j.created_at, j.id)))
        ctx.errors.append(
            f"{job.address}: {len(healthy)} jobs on the API match the manifest in full: {listed}. Keep one with "
            f"`ftops import {job.address} <JOB_ID>` (cancel the others if they are active), then plan again"
        )
        return None
    if healthy:
        return healthy[0]
    return max(candidates, key=lambda j: (j.created_at, j.id))


def _plan_adopt(ctx: PlanContext, job: DesiredJob, remote: RemoteJob) -> None:
    ctx.adopted_jobs[job.address] = remote
    ctx.add(job.address, Action.ADOPT, remote_id=remote.id, before={"status": remote.status},
            after=job_after(job), depends_on=_file_deps(ctx, job), reason=Reason.MATCHED_LIVE,
            job_spec=job.job_spec,
            reasons=[f"job {remote.id} ({remote.status}) on the API matches the manifest in full (files by "
                     "content): recorded in the lock, nothing is created or paid"])
    phase = remote.phase
    if job.state == "cancelled":
        if phase.active and phase is not JobStatus.CANCELLATION_REQUESTED:
            ctx.add(job.address, Action.CANCEL, remote_id=remote.id, before={"status": remote.status},
                    after={"state": "cancelled"}, depends_on=[job.address], reason=Reason.STATE,
                    reasons=[f"state: cancelled — the job is {remote.status}"])
        return
    if phase.failed or phase.cancelled:
        _report_unusable(ctx, job, remote)
    elif job.state == "started" and phase.startable:
        ctx.add(job.address, Action.START, remote_id=remote.id, before={"status": remote.status},
                after={"state": "started"}, depends_on=[job.address], cost=job_cost(job, remote),
                reason=Reason.STATE, reasons=["state: started — the adopted job is started once validated"])


def _report_unusable(ctx: PlanContext, job: DesiredJob, remote: RemoteJob) -> None:
    """A failed or cancelled job the manifest wants trained: not in sync, and never retried on its own."""
    if job.state == "cancelled":
        return
    if remote.phase.failed:
        what = f"job {remote.id} {remote.status}: {_failure_reason(remote)}"
    else:
        what = f"job {remote.id} was {remote.status} and a cancelled job cannot be restarted"
    ctx.problem(job.address, remote.id,
                f"{what}. The manifest asks for a {'trained' if job.state == 'started' else 'validated'} job; "
                f"retrying costs money, so it needs `--replace {job.address}` (plan/apply) or a changed spec")


def _plan_replace(ctx: PlanContext, job: DesiredJob, entry: LockedResource, remote: RemoteJob) -> None:
    forced = job.address in ctx.replace and entry.fingerprint == job.fingerprint
    field_changes = [] if forced else spec_field_changes(ctx, _before_view_differences(ctx, job, entry, remote))
    if not field_changes and not forced:
        # Same visible fields but another fingerprint (e.g. recorded by an older ftops): say so honestly.
        field_changes = [FieldChange(path="fingerprint", before=entry.fingerprint[:12], after=job.fingerprint[:12],
                                     forces_replacement=True)]
    keep = not remote.active
    fate = (
        f"the old job {remote.id} is {remote.status} and is kept"
        if keep
        else f"the old job {remote.id} is still {remote.status} and is cancelled"
    )
    cost = estimate_cost(job)
    changed = ", ".join(fc.path for fc in field_changes)
    why = (f"--replace {job.address}: a new job is created with the same spec" if forced
           else f"the job spec changed ({changed}): a job cannot be edited, so a new job is created")
    ctx.add(job.address, Action.REPLACE, after=job_after(job), depends_on=_file_deps(ctx, job), cost=cost,
            before={"remote_id": remote.id, "status": remote.status, "fingerprint": entry.fingerprint},
            field_changes=field_changes, replaced_remote_id=remote.id,
            old_job_disposition="keep" if keep else "cancel",
            reason=Reason.REPLACE_REQUESTED if job.address in ctx.replace else Reason.SPEC_CHANGED,
            job_spec=job.job_spec, reasons=[why, fate])
    if job.state == "started":
        ctx.add(job.address, Action.START, after={"state": "started"}, depends_on=[job.address], cost=cost,
                reason=Reason.STATE, reasons=["state: started — the new job starts training once validated"])


def _plan_state(ctx: PlanContext, job: DesiredJob, entry: LockedResource, remote: RemoteJob) -> None:
    status, phase, was = remote.status, remote.phase, JobStatus.parse(entry.status)
    if phase.failed:
        _report_unusable(ctx, job, remote)  # the move itself is reported once as progress by _observe
        return
    if job.state == "cancelled":
        if phase.active and phase is not JobStatus.CANCELLATION_REQUESTED:
            ctx.add(job.address, Action.CANCEL, remote_id=remote.id, before={"status": status},
                    after={"state": "cancelled"}, reason=Reason.STATE,
                    reasons=[f"state: cancelled — the job is {status}"])
        return
    if phase.cancelled:
        if not was.cancelled:
            ctx.observe_drift(job.address, remote.id,
                              f"the job was cancelled outside ftops ({entry.status or 'unknown'} → {status}); "
                              "it is not restarted on its own (that would pay twice)")
        _report_unusable(ctx, job, remote)
        return
    if job.state == "started" and phase.startable:
        note = "" if phase.parked else f" (the job is {status}; apply starts it once validated)"
        ctx.add(job.address, Action.START, remote_id=remote.id, before={"status": status},
                after={"state": "started"}, cost=job_cost(job, remote), reason=Reason.STATE,
                reasons=[f"state: started{note}"])
    elif job.state == "created" and phase.training_or_done and not was.training_or_done:
        ctx.observe_drift(job.address, remote.id,
                          f"the job was started outside ftops (now {status}) although the manifest says "
                          "state: created; set state: started to keep it, or state: cancelled to stop it")


def _observe(ctx: PlanContext, address: str, entry: LockedResource, remote: RemoteJob) -> None:
    """Progress since the lock was written: status moves, a fine-tuned model, new checkpoints."""
    if remote.status != entry.status:
        was = entry.status or "unknown"
        if remote.phase.failed:
            ctx.observe_progress(address, remote.id, f"{was} → {remote.status}: {_failure_reason(remote)}. "
                                 "ftops does not retry a failed job (it would pay twice): fix the data or the "
                                 "spec, or retry with --replace")
        elif not (remote.phase.cancelled and not JobStatus.parse(entry.status).cancelled):
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
    if remote is not None and remote.active and on_remove == "cancel" and \
            remote.phase is not JobStatus.CANCELLATION_REQUESTED:
        ctx.add(address, Action.CANCEL, remote_id=remote.id, before=before, cost=None, reason=Reason.REMOVED,
                reasons=[f"removed from the manifests (on_remove: cancel): the job is still {remote.status}; "
                         "it is cancelled and forgotten"])
        return
    if remote is None:
        reason = "removed from the manifests and the job no longer exists"
    elif remote.terminal:
        reason = f"removed from the manifests; the job is {remote.status} (its fine-tuned model is not touched)"
    else:
        reason = f"removed from the manifests (on_remove: {on_remove}): the job stays {remote.status}"
    ctx.add(address, Action.FORGET, remote_id=entry.remote_id, before=before, reason=Reason.REMOVED,
            reasons=[reason])


def _before_view_differences(ctx: PlanContext, job: DesiredJob, entry: LockedResource,
                             remote: RemoteJob) -> list[Difference]:
    """The old job against the desired spec: as the lock recorded it, else as the API shows it."""
    recorded = entry.attributes.get("fingerprint_input")
    if isinstance(recorded, dict):
        before = view_of_record(recorded)
    else:
        before = view_of_remote(remote, ctx.content_of, detailed=False)
    return differences(before, job.job_spec.view())


def spec_field_changes(ctx: PlanContext, diffs: list[Difference]) -> list[FieldChange]:
    """Every spec field that differs, each marked as forcing a replacement (files shown by name + hash)."""
    names = {f.sha256: f.address for f in ctx.desired.files.values()}
    names.update({e.fingerprint: a for a, e in ctx.locked.items() if e.kind == "file" and e.fingerprint not in names})
    return [FieldChange(path=d.path, before=_show(d.path, d.before, names), after=_show(d.path, d.after, names),
                        forces_replacement=True) for d in diffs]


def _show(key: str, value: Any, names: dict[str, str]) -> Any:
    """Files by address and short content hash, so a reader sees *which* data changed."""
    if key == "training_files" and isinstance(value, list):
        return [f"{names.get(t['sha256'], 'file')}@{t['sha256'][:12]}"
                + (f" ×{t['weight']:g}" if t.get("weight") is not None else "") for t in value]
    if key == "validation_files" and isinstance(value, list):
        return [f"{names.get(sha, 'file')}@{sha[:12]}" for sha in value]
    return value
