"""Adoption: find the object a non-idempotent POST may already have created, instead of creating it twice.

Used in two places: on start, for every intent left open by a crashed run (before anything else), and right
after a create/upload whose answer was lost (5xx, timeout, dropped response, 409). Files are found by
their content-addressed name (``search=<sha12>``, same filename and size); jobs by ``suffix`` + ``model``
listed from ``intent.started_at - 120 s`` and then compared on the FULL spec from a detailed GET. Exactly
one match is adopted; none means the POST never happened; several stop the run with a report naming every
candidate and the ``ftops import`` command that settles it. Never a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ftops.apply.protocols import ApiClient, Store
from ftops.apply.specs import mismatches
from ftops.client.models import RemoteFile, RemoteJob
from ftops.errors import ApplyError, NotFoundError
from ftops.state.model import Intent, LockedResource

# Clocks of this machine and the API's may disagree; search that much before the intent was written.
CLOCK_SKEW_SECONDS = 120.0


def find_upload(client: ApiClient, *, filename: str, sha256: str, size: int | None) -> RemoteFile | None:
    """The uploaded file with this content-addressed name (oldest if the server kept several)."""
    found = [
        f
        for f in client.list_files(search=sha256[:12])
        if f.filename == filename and not f.deleted and (size is None or f.bytes == size)
    ]
    # Identical name and bytes means identical content (the name embeds the hash): any one is correct.
    return min(found, key=lambda f: (f.created_at, f.id)) if found else None


def find_job(
    client: ApiClient, want: dict[str, Any], *, started_at: float, exclude: set[str], address: str
) -> RemoteJob | None:
    """The one job that fully matches ``want`` and was created after the intent; ApplyError if several."""
    listed = client.list_jobs(
        suffix=want.get("suffix") or None, model=want["model"], created_after=started_at - CLOCK_SKEW_SECONDS
    )
    candidates = [j for j in listed if j.id not in exclude and not mismatches(j, want, detailed=False)]
    matches: list[RemoteJob] = []
    for job in candidates:
        try:
            detailed = client.get_job(job.id)
        except NotFoundError:
            continue
        if not mismatches(detailed, want, detailed=True):
            matches.append(detailed)
    if len(matches) > 1:
        raise ApplyError(
            "several jobs on the API match the job apply was creating when it was interrupted: "
            + "; ".join(f"{j.id} (created {_when(j.created_at)}, {j.status})" for j in matches),
            where=address,
            hint=f"keep one: `ftops import {address} <JOB_ID>`, cancel the others if they are active, "
            "then run ftops apply again (the lock file is consistent; nothing else was changed)",
        )
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
        want = dict(marker["want"])
        job = find_job(
            client, want, started_at=intent.started_at, exclude=tracked_ids(store, "job"), address=intent.address
        )
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
