"""Planning Models: the fine-tuned model a job produces gets the name, description and archived flag the
manifest asks for.

A Model's remote id is its job's ``fine_tuned_model``, unknown until the job succeeds: changes that need it
carry ``depends_on=[job]`` and ``remote_id=None`` and apply resolves the id at run time. When a job is
replaced, the Model is *promoted*: the new fine-tuned model takes the name/description and the old one is
archived. Every new fine-tuned model is smoke-tested first (``_smoke``), and gated when the Model has a
``gate`` (``_gates``). A model renamed or (un)archived in the console is drift, and the manifest's value is
restored.
"""

from __future__ import annotations

from typing import Any

from ftops.client.models import JobStatus, RemoteModel
from ftops.desired import DesiredModel
from ftops.plan._context import PlanContext
from ftops.plan._files import sync_on_remove
from ftops.plan._gates import annotate_ranking, choose_best, gate_verdict, plan_gate
from ftops.plan._smoke import plan_smoke
from ftops.plan.model import Action, FieldChange, Reason
from ftops.state.model import LockedResource

ON_REMOVE_DEFAULT = "archive"


def _no_model(status: str | None) -> bool:
    """A job in this state will never produce a fine-tuned model."""
    phase = JobStatus.parse(status)
    return status is not None and (phase.failed or phase.cancelled)


def plan_models(ctx: PlanContext) -> None:
    for address in ctx.desired.order:
        if address not in ctx.desired.models:
            continue
        m = ctx.desired.models[address]
        if m.best_of is None:
            _plan_model(ctx, m)
            continue
        chosen = choose_best(ctx, m)
        if chosen is not None:
            start = len(ctx.changes)
            _plan_model(ctx, chosen[0])
            annotate_ranking(ctx, start, *chosen)
    for address, entry in ctx.removed("model"):
        _plan_removed(ctx, address, entry)


def model_after(m: DesiredModel) -> dict[str, Any]:
    return {"job": m.job, "name": m.name, "description": m.description, "archived": m.archived,
            "on_remove": m.on_remove}


def _job_output(ctx: PlanContext, job_address: str) -> tuple[str | None, str | None, str | None]:
    """(job id, fine-tuned model id, job status) as they will be before this plan's job changes run."""
    if ctx.actions(job_address) & {Action.CREATE, Action.REPLACE}:
        return None, None, None
    adopted = ctx.adopted_jobs.get(job_address)
    if adopted is not None:
        return adopted.id, adopted.fine_tuned_model, adopted.status
    entry = ctx.lock(job_address)
    if entry is None:
        return None, None, None
    remote = ctx.live.jobs.get(entry.remote_id)
    if remote is None:
        return entry.remote_id, entry.fine_tuned_model, entry.status
    return remote.id, remote.fine_tuned_model, remote.status


def _plan_model(ctx: PlanContext, m: DesiredModel) -> None:
    entry = ctx.lock(m.address)
    job_id, target, status = _job_output(ctx, m.job)
    old = ctx.live.models.get(entry.remote_id) if entry is not None else None
    # The tracked model came from an earlier job: supersede it once the current job is a different one.
    superseded = target is not None or old is None or old.job is None or old.job != job_id
    promoting = entry is not None and old is not None and target != entry.remote_id and superseded
    job = ctx.desired.jobs.get(m.job)
    never = target is None and (_no_model(status) or (job is not None and job.state != "started"))
    new_model = target is None or entry is None or entry.remote_id != target
    fresh = new_model and not never
    verdict = gate_verdict(ctx, m, target) if m.gate is not None and fresh else None
    if verdict == "blocked":  # the problem says why and how to unblock; the current model stays managed
        current = ctx.live.models.get(entry.remote_id) if entry is not None else None
        if current is not None:
            _plan_fields(ctx, m, current, entry)
        return
    if fresh and (target is None or target in ctx.live.models):
        plan_smoke(ctx, m, target)  # before the gate: a model that cannot answer is not worth evaluating
    if verdict == "run":
        plan_gate(ctx, m, target, entry.remote_id if entry is not None else None)
    if target is None:
        _plan_pending(ctx, m, status, promoting=entry is not None)
    elif (live := ctx.live.models.get(target)) is not None:
        tracked = entry is not None and entry.remote_id == target
        _plan_fields(ctx, m, live, entry if tracked else None)
    elif entry is not None and entry.remote_id == target:
        ctx.observe_drift(m.address, target, "the fine-tuned model was deleted outside ftops; it cannot be "
                          "recreated without training again (remove the Model, or change its job's spec)")
    # After the new model took the name, so the name never disappears from the account in between.
    parked = target is None and m.job in ctx.desired.jobs and ctx.desired.jobs[m.job].state != "started"
    if promoting and entry is not None and old is not None and not _no_model(status) and not parked:
        _supersede(ctx, m, entry.remote_id, old, waiting=target is None)


def _supersede(ctx: PlanContext, m: DesiredModel, old_id: str, old: RemoteModel, *, waiting: bool) -> None:
    if old.archived:
        return
    reason = f"superseded: {m.job} has a new fine-tuned model, so the previous one is archived"
    ctx.add(m.address, Action.ARCHIVE, remote_id=old_id, before={"archived": False},
            after={"job": m.job, "archived": True}, reason=Reason.PROMOTED,
            depends_on=[m.job] if waiting else [], reasons=[reason] + (
                [f"waits until {m.job} has produced its new model"] if waiting else []))


def _plan_pending(ctx: PlanContext, m: DesiredModel, status: str | None, *, promoting: bool) -> None:
    """The job has no fine-tuned model yet (new, replaced or still training): plan what apply does once it has."""
    if _no_model(status):
        return  # this job will never produce a model; the job's own report says why
    job = ctx.desired.jobs.get(m.job)
    if job is not None and job.state != "started":
        return  # a parked job trains nothing: the model's changes are planned once the job is started
    when = f"once {m.job} has produced its fine-tuned model"
    lead = f"promote: {m.job}'s new fine-tuned model takes over" if promoting else "the model of a new job"
    after = model_after(m)
    if m.name is not None or m.description is not None:
        ctx.add(m.address, Action.UPDATE, after=after, depends_on=[m.job],
                field_changes=_fields({}, m), reasons=[f"{lead}: set name/description {when}"])
    if m.archived:
        ctx.add(m.address, Action.ARCHIVE, after=after, depends_on=[m.job],
                reasons=[f"archived: true — archive it {when}"])
    if m.name is None and m.description is None and not m.archived:
        ctx.add(m.address, Action.ADOPT, after=after, depends_on=[m.job], reasons=[f"{lead}: recorded {when}"])


def _fields(current: dict[str, Any], m: DesiredModel) -> list[FieldChange]:
    out = []
    for key in ("name", "description"):
        wanted = getattr(m, key)
        if wanted is not None and current.get(key) != wanted:
            out.append(FieldChange(path=key, before=current.get(key), after=wanted))
    return out


def _plan_fields(ctx: PlanContext, m: DesiredModel, live: RemoteModel, entry: LockedResource | None) -> None:
    after = model_after(m)
    recorded = entry.attributes if entry is not None else {}
    current = {"name": live.name, "description": live.description}
    field_changes = _fields(current, m)
    planned = False
    if field_changes:
        outside = [fc for fc in field_changes if entry is not None and recorded.get(fc.path) == fc.after]
        for fc in outside:
            ctx.observe_drift(m.address, live.id, f"{fc.path} changed outside ftops: {fc.after!r} → {fc.before!r}",
                              field_changes=[FieldChange(path=fc.path, before=fc.after, after=fc.before)])
        reason = "restore what the manifest says" if outside else "the manifest sets a new name/description"
        ctx.add(m.address, Action.UPDATE, remote_id=live.id, before=current, after=after,
                field_changes=field_changes, reasons=[reason], reason=Reason.FIELDS)
        planned = True
    if m.archived != live.archived:
        by_hand = entry is not None and bool(recorded.get("archived", entry.status == "archived")) == m.archived
        if by_hand:
            ctx.observe_drift(m.address, live.id, f"{'archived' if live.archived else 'unarchived'} outside ftops",
                              field_changes=[FieldChange(path="archived", before=m.archived, after=live.archived)])
        action = Action.ARCHIVE if m.archived else Action.UNARCHIVE
        ctx.add(m.address, action, remote_id=live.id, before={"archived": live.archived}, after=after,
                field_changes=[FieldChange(path="archived", before=live.archived, after=m.archived)],
                reasons=["restore what the manifest says" if by_hand else f"archived: {str(m.archived).lower()}"])
        planned = True
    if not planned and entry is None:
        ctx.add(m.address, Action.ADOPT, remote_id=live.id, after=after, reason=Reason.MATCHED_LIVE,
                reasons=[f"{m.job}'s fine-tuned model {live.id} is ready: recorded in the lock"])
    elif not planned and entry is not None:
        sync_on_remove(ctx, m.address, live.id, entry.attributes, m.on_remove, ON_REMOVE_DEFAULT, after)


def _plan_removed(ctx: PlanContext, address: str, entry: LockedResource) -> None:
    remote = ctx.live.models.get(entry.remote_id)
    on_remove = str(entry.attributes.get("on_remove", ON_REMOVE_DEFAULT))
    before = {"remote_id": entry.remote_id, "archived": remote.archived if remote else None}
    if remote is None:
        ctx.add(address, Action.FORGET, remote_id=entry.remote_id, before=before, reason=Reason.REMOVED,
                reasons=["removed from the manifests and the model no longer exists"])
    elif on_remove == "delete":
        ctx.add(address, Action.DELETE, remote_id=remote.id, before=before, reason=Reason.REMOVED,
                reasons=["removed from the manifests (on_remove: delete): the fine-tuned model is deleted"])
    elif on_remove == "archive" and not remote.archived:
        ctx.add(address, Action.ARCHIVE, remote_id=remote.id, before=before, reason=Reason.REMOVED,
                reasons=["removed from the manifests (on_remove: archive): archived and forgotten"])
    else:
        ctx.add(address, Action.FORGET, remote_id=remote.id, before=before, reason=Reason.REMOVED,
                reasons=[f"removed from the manifests (on_remove: {on_remove}): the model stays as it is"])
