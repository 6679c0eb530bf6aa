"""Adoption: find the object a non-idempotent POST may already have created, instead of creating it twice.

Used on start, for every intent left open by an interrupted run (before anything else), right before a
create (another clone may have created the identical job a moment ago), and after a create/upload whose
answer was lost (timeout, dropped response, 5xx, 409). Files are found by their content-addressed name
(``search=<sha12>``, same filename and size); jobs by ``suffix`` + ``model`` and then the FULL spec
(``ftops.jobspec``, files by content) from a detailed GET, excluding every job the lock tracks and every
identical job that already existed before the POST (recorded in the intent). No clock is read: neither this
machine's nor the API's time decides what counts as "ours". Exactly one match is adopted; none means the
POST never happened; several stop the run with a report naming every candidate and the ``ftops import``
command that settles it. Never a guess.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from ftops.apply.protocols import ApiClient, Store
from ftops.apply.specs import content_by_file_id
from ftops.client.models import RemoteFile, RemoteJob
from ftops.errors import ApplyError, NotFoundError
from ftops.jobspec import JobSpec, SpecView, differences, view_of_remote
from ftops.state.model import Intent, LockedResource, LockFile


def find_upload(client: ApiClient, *, filename: str, sha256: str, size: int | None) -> RemoteFile | None:
    """The uploaded file with this content-addressed name (oldest if the server kept several)."""
    found = [
        f
        for f in client.list_files(search=sha256[:12])
        if f.filename == filename and not f.deleted and (size is None or f.bytes == size)
    ]
    # Identical name and bytes means identical content (the name embeds the hash): any one is correct.
    return min(found, key=lambda f: (f.created_at, f.id)) if found else None


def find_jobs(client: ApiClient, target: SpecView, lock: LockFile, *, exclude: Iterable[str]) -> list[RemoteJob]:
    """Every job on the API that matches ``target`` in full (detailed GET), except the ``exclude`` ids."""
    skip = set(exclude)
    content = content_by_file_id(lock)
    listed = client.list_jobs(suffix=target.suffix or None, model=target.model)

    def full_match(job: RemoteJob, *, detailed: bool) -> bool:
        return not differences(view_of_remote(job, content.get, detailed=detailed), target)

    matches: list[RemoteJob] = []
    for job in listed:
        if job.id in skip or not full_match(job, detailed=False):
            continue
        try:
            detailed = client.get_job(job.id)
        except NotFoundError:
            continue
        if full_match(detailed, detailed=True):
            matches.append(detailed)
    return sorted(matches, key=lambda j: (j.created_at, j.id))


def usable(job: RemoteJob) -> bool:
    """A match that can stand for the desired job (a failed or cancelled one never does)."""
    return not (job.phase.failed or job.phase.cancelled)


def ambiguous(address: str, jobs: list[RemoteJob], what: str) -> ApplyError:
    return ApplyError(
        f"several jobs on the API match {what}: "
        + "; ".join(f"{j.id} (created {_when(j.created_at)}, {j.status})" for j in jobs),
        where=address,
        hint=f"keep one: `ftops import {address} <JOB_ID>`, cancel the others if they are active, "
        "then run ftops apply again (the lock file is consistent; nothing else was changed)",
    )


def find_job(client: ApiClient, target: SpecView, lock: LockFile, *, exclude: Iterable[str],
             address: str) -> RemoteJob | None:
    """The one job that fully matches ``target`` (not excluded); ApplyError if several."""
    matches = find_jobs(client, target, lock, exclude=exclude)
    if len(matches) > 1:
        raise ambiguous(address, matches, "the job apply was creating when it was interrupted")
    return matches[0] if matches else None


def _when(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def locked_file(remote: RemoteFile, *, sha256: str, attributes: dict[str, Any] | None = None) -> LockedResource:
    """The lock entry of an upload: the plan's file attributes (path, on_remove, ...) plus the remote facts."""
    attributes = {k: v for k, v in (attributes or {}).items() if k != "sha256" and v is not None}
    attributes.update(filename=remote.filename, bytes=remote.bytes)
    return LockedResource(
        kind="file", remote_id=remote.id, fingerprint=sha256, created_at=remote.created_at, attributes=attributes
    )


def locked_job(remote: RemoteJob, *, fingerprint: str, attributes: dict[str, Any]) -> LockedResource:
    attrs = {"model": remote.model, "suffix": remote.suffix, **attributes}
    if remote.metadata and remote.metadata.cost is not None:
        attrs["cost"] = remote.metadata.cost
        attrs["cost_currency"] = remote.metadata.cost_currency
    return LockedResource(
        kind="job",
        remote_id=remote.id,
        fingerprint=fingerprint,
        status=remote.status,
        fine_tuned_model=remote.fine_tuned_model,
        created_at=remote.created_at,
        attributes={k: v for k, v in attrs.items() if v is not None},
    )


def tracked_ids(store: Store, kind: str) -> set[str]:
    return {r.remote_id for r in store.lock.resources.values() if r.kind == kind}


def resolve_intent(client: ApiClient, store: Store, intent: Intent) -> str:
    """Settle one open intent: adopt the object it created, or drop it when the POST never happened."""
    marker = intent.marker
    if intent.action == "upload":
        found = find_upload(
            client, filename=str(marker["filename"]), sha256=str(marker["sha256"]), size=marker.get("bytes")
        )
        if found is None:
            store.abandon_intent(intent.id)
            return f"{intent.address}: the interrupted upload never reached the API; it will be uploaded as planned"
        store.complete_intent(
            intent.id, locked_file(found, sha256=str(marker["sha256"]), attributes=marker.get("attributes"))
        )
        return f"{intent.address}: adopted the upload {found.id} made before the interruption"
    if intent.action == "create":
        exclude = tracked_ids(store, "job") | {str(i) for i in marker.get("exclude") or []}
        job = find_job(client, _intent_target(marker, store.lock), store.lock, exclude=exclude,
                       address=intent.address)
        if job is None:
            store.abandon_intent(intent.id)
            return f"{intent.address}: the interrupted job creation never reached the API; it is created as planned"
        attributes = dict(marker.get("attributes") or {})
        store.complete_intent(intent.id, locked_job(job, fingerprint=intent.fingerprint, attributes=attributes))
        return f"{intent.address}: adopted job {job.id} ({job.status}) created before the interruption"
    store.abandon_intent(intent.id)
    return f"{intent.address}: dropped an unknown intent {intent.action!r}"


def resolve_open_intents(client: ApiClient, store: Store, *, echo: Callable[[str], None]) -> list[str]:
    """Resolve every open intent (files first: a job's full-spec match needs its files' ids)."""
    messages: list[str] = []
    intents = sorted(store.open_intents(), key=lambda i: (i.action != "upload", i.started_at))
    if intents:
        echo(f"Resolving {len(intents)} interrupted operation(s) from a previous run...")
    for intent in intents:
        message = resolve_intent(client, store, intent)
        echo(f"  {message}")
        messages.append(message)
    return messages


def _intent_target(marker: dict[str, Any], lock: LockFile) -> SpecView:
    """The spec an intent was creating: the typed spec, or an older ftops's request with file ids."""
    if "spec" in marker:
        return JobSpec.model_validate(marker["spec"]).view()
    want = dict(marker["want"])
    content = content_by_file_id(lock)
    training = list(want.get("training_files") or [])
    integrations = want.get("integrations")
    targets = want.get("classifier_targets")
    isp = want.get("invalid_sample_skip_percentage")
    return SpecView(
        model=str(want["model"]), job_type=str(want.get("job_type") or "completion"),
        training=tuple(content.get(str(t["file_id"])) or f"id:{t['file_id']}" for t in training),
        weights=tuple(float(t.get("weight", 1.0)) for t in training),
        validation=tuple(content.get(str(v)) or f"id:{v}" for v in want.get("validation_files") or []),
        hyperparameters=dict(want.get("hyperparameters") or {}), suffix=want.get("suffix"),
        integrations=None if integrations is None else tuple(dict(i) for i in integrations),
        classifier_targets=None if targets is None else tuple(dict(t) for t in targets),
        invalid_sample_skip_percentage=float(isp) if isp is not None else None,
    )
