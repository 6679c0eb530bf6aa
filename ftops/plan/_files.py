"""Planning Files: upload new or changed content, adopt an identical upload, re-upload what was deleted
outside ftops, and forget or delete (only lock-recorded uploads, only when ``on_remove: delete``) the
Files that left the manifests.
"""

from __future__ import annotations

from typing import Any

from ftops.client.models import RemoteFile
from ftops.desired import DesiredFile
from ftops.plan._context import PlanContext
from ftops.plan.model import Action, FieldChange, Reason


def plan_files(ctx: PlanContext) -> None:
    for address in ctx.desired.order:
        if address in ctx.desired.files:
            _plan_file(ctx, ctx.desired.files[address])
    for address, entry in ctx.removed("file"):
        _plan_removed(ctx, address, entry.remote_id, str(entry.attributes.get("on_remove", "forget")))


def file_after(f: DesiredFile) -> dict[str, Any]:
    """What apply uploads, and what it records as the lock attributes afterwards."""
    return {
        "path": f.rel_path,
        "filename": f.upload_name,
        "sha256": f.sha256,
        "bytes": f.bytes,
        "purpose": f.purpose,
        "on_remove": f.on_remove,
    }


def _alive(ctx: PlanContext, remote_id: str) -> RemoteFile | None:
    remote = ctx.live.files.get(remote_id)
    return remote if remote is not None and not remote.deleted else None


def _identical_upload(ctx: PlanContext, f: DesiredFile) -> RemoteFile | None:
    # The content-addressed name embeds sha256[:12]; the size guards against a prefix collision.
    matches = [
        r for r in ctx.live.files.values() if r.filename == f.upload_name and r.bytes == f.bytes and not r.deleted
    ]
    return min(matches, key=lambda r: (r.created_at, r.id)) if matches else None


def _plan_file(ctx: PlanContext, f: DesiredFile) -> None:
    entry = ctx.lock(f.address)
    reasons: list[str] = []
    field_changes: list[FieldChange] = []
    before: dict[str, Any] | None = None
    reason = Reason.NEW
    if entry is not None:
        before = {"remote_id": entry.remote_id, "sha256": entry.fingerprint, **entry.attributes}
        if entry.fingerprint == f.sha256:
            if _alive(ctx, entry.remote_id):
                sync_on_remove(ctx, f.address, entry.remote_id, entry.attributes, f.on_remove, "forget",
                               file_after(f))
                return
            ctx.observe_drift(f.address, entry.remote_id, f"the upload {entry.remote_id} was deleted outside ftops")
            reasons.append(f"the tracked upload {entry.remote_id} no longer exists; {f.rel_path} is uploaded again")
            reason = Reason.GONE
        else:
            reasons.append(f"the content of {f.rel_path} changed (sha256 {entry.fingerprint[:12]} → {f.sha256[:12]})")
            field_changes.append(FieldChange(path="sha256", before=entry.fingerprint, after=f.sha256))
            reason = Reason.CONTENT_CHANGED
    else:
        reasons.append(f"new dataset {f.rel_path}")
    after = file_after(f)
    existing = _identical_upload(ctx, f)
    if existing is not None:
        reasons.append(f"an identical upload exists ({existing.id}, {existing.filename}): adopted, not uploaded")
        ctx.add(f.address, Action.ADOPT, remote_id=existing.id, before=before, after=after,
                field_changes=field_changes, reasons=reasons, reason=Reason.MATCHED_LIVE)
        return
    ctx.add(f.address, Action.UPLOAD, before=before, after=after, field_changes=field_changes, reasons=reasons,
            reason=reason)


def sync_on_remove(ctx: PlanContext, address: str, remote_id: str, recorded: dict[str, Any], wanted: str,
                   default: str, after: dict[str, Any]) -> None:
    """A changed ``on_remove`` must reach the lock now: removal is planned from the lock alone, later."""
    if str(recorded.get("on_remove", default)) != wanted:
        ctx.add(address, Action.ADOPT, remote_id=remote_id, before={"on_remove": recorded.get("on_remove")},
                after=after, field_changes=[FieldChange(path="on_remove", before=recorded.get("on_remove"),
                                                        after=wanted)],
                reason=Reason.ON_REMOVE, reasons=[f"on_remove: {wanted} is recorded in the lock (no API call)"])


def _plan_removed(ctx: PlanContext, address: str, remote_id: str, on_remove: str) -> None:
    before = {"remote_id": remote_id}
    if _alive(ctx, remote_id) is None:
        ctx.add(address, Action.FORGET, remote_id=remote_id, before=before, reason=Reason.REMOVED,
                reasons=["removed from the manifests and the upload no longer exists"])
    elif on_remove == "delete":
        ctx.add(address, Action.DELETE, remote_id=remote_id, before=before, reason=Reason.REMOVED,
                reasons=["removed from the manifests (on_remove: delete): the upload is deleted"])
    else:
        ctx.add(address, Action.FORGET, remote_id=remote_id, before=before, reason=Reason.REMOVED,
                reasons=["removed from the manifests (on_remove: forget): the upload stays, ftops stops tracking it"])
