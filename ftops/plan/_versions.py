"""Dataset versions: a ``data_version: pinned`` job stays on the data it trained on when a File's data changes.

A File's content hash is its version. A job that follows the latest version (the default) is replaced when
the data of a File it trains on changes: a new paid job on the new upload. A pinned job that already exists
is compared with the File versions it was created on (recorded in the lock as its ``fingerprint_input``), so
new data alone never replaces it; any other spec change still does, and the new job trains on the latest
data. ftops never deletes a File's superseded upload, so the pinned job's data stays on the API. The File's
change in the plan lists which jobs follow the new version and which stay.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ftops.desired import DesiredJob
from ftops.plan._context import PlanContext
from ftops.plan.model import Action, Reason
from ftops.state.model import LockedResource


def pinned_version(job: DesiredJob, entry: LockedResource) -> DesiredJob | None:
    """The job on the File versions it was created on, when it is pinned and only the data changed."""
    recorded: Any = entry.attributes.get("fingerprint_input")
    if job.data_version != "pinned" or not isinstance(recorded, dict):
        return None
    training, validation = recorded.get("training_files"), recorded.get("validation_files")
    spec = job.job_spec
    if not isinstance(training, list) or not isinstance(validation, list) or \
            len(training) != len(spec.training) or len(validation) != len(spec.validation):
        return None
    try:
        pinned = spec.model_copy(update={
            "training": tuple(t.model_copy(update={"sha256": str(r["sha256"])})
                              for t, r in zip(spec.training, training, strict=True)),
            "validation": tuple(v.model_copy(update={"sha256": str(r)})
                                for v, r in zip(spec.validation, validation, strict=True)),
        })
    except (KeyError, TypeError):
        return None
    if pinned.fingerprint != entry.fingerprint:
        return None  # something besides the data changed: replaced (on the latest data)
    return dataclasses.replace(job, job_spec=pinned, fingerprint=pinned.fingerprint)


def annotate_versions(ctx: PlanContext, stays: dict[str, DesiredJob]) -> None:
    """Each changed File's change says which jobs follow its new version and which stay pinned."""
    for i, change in enumerate(ctx.changes):
        if change.kind != "file" or change.reason not in (Reason.CONTENT_CHANGED, Reason.MATCHED_LIVE) \
                or not any(fc.path == "sha256" for fc in change.field_changes):
            continue
        users = [j for j in ctx.desired.jobs.values() if change.address in j.file_addresses]
        follow = [j.address for j in users if j.address not in stays
                  and ctx.actions(j.address) & {Action.REPLACE, Action.CREATE}]
        stay = [f"{j.address}@{_version(stays[j.address], change.address)}" for j in users if j.address in stays]
        lines = []
        if follow:
            lines.append(f"jobs following the latest version (replaced: new paid jobs): {', '.join(follow)}")
        if stay:
            lines.append(f"jobs staying on the version they trained on (data_version: pinned): {', '.join(stay)}")
        if lines:
            ctx.changes[i] = change.model_copy(update={"reasons": [*change.reasons, *lines]})


def _version(job: DesiredJob, file_address: str) -> str:
    shas = [t.sha256 for t in job.job_spec.training if t.file == file_address]
    shas += [v.sha256 for v in job.job_spec.validation if v.file == file_address]
    return shas[0][:12] if shas else "?"
