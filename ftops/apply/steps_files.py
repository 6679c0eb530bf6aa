"""Steps for dataset files: a content-addressed upload bracketed by an intent, deletion, adoption.

The upload re-hashes the file first (it must be the content the plan was made for), records an intent with
the search marker (filename embeds sha256[:12], plus size), and when the answer is lost searches for the
upload instead of sending it again; a second POST only follows a search that found nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ftops.apply.adopt import find_upload, locked_file
from ftops.apply.specs import FileUpload
from ftops.apply.steps_base import MAX_CREATE_ATTEMPTS, Interrupted, StepContext, failed
from ftops.client.models import RemoteFile
from ftops.errors import ApplyError, FtopsError, ServerError, TransportError
from ftops.plan.model import Change

# 504: a gateway gave up waiting while the backend may still be storing the file: no answer at all.
UNANSWERED_STATUS = frozenset({504})


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


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
    # Right before the POST: another clone may have uploaded the identical content a moment ago.
    existing = find_upload(ctx.client, filename=up.filename, sha256=up.sha256, size=size)
    if existing is not None:
        ctx.store.put(change.address, locked_file(existing, sha256=up.sha256, attributes=attributes))
        return f"{change.address}: adopted the identical upload {existing.id} (made since the plan)"
    for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
        intent = ctx.store.begin_intent(change.address, "upload", up.sha256, marker)
        try:
            remote = ctx.client.upload_file(up.path, filename=up.filename, purpose=up.purpose)
        except (ServerError, TransportError) as exc:
            unanswered = isinstance(exc, TransportError) or exc.status_code in UNANSWERED_STATUS
            found = _settle(ctx, up, size, patient=unanswered)
            if found is None and unanswered:
                raise ApplyError(
                    f"the upload got no answer ({exc.message}) and the file has not appeared after "
                    f"{ctx.settle.total:.0f} s of searching",
                    where=change.address,
                    hint="nothing was sent twice; the interrupted upload stays recorded in the lock and the next "
                    "ftops apply searches for it again before uploading",
                ) from None
            if found is None:
                ctx.store.abandon_intent(intent.id)
                if attempt == MAX_CREATE_ATTEMPTS:
                    raise failed(change, "upload", exc) from None
                continue
            ctx.store.complete_intent(intent.id, locked_file(found, sha256=up.sha256, attributes=attributes))
            return f"{change.address}: uploaded {found.id} (adopted after a lost answer)"
        except FtopsError:
            ctx.store.abandon_intent(intent.id)
            raise
        ctx.store.complete_intent(intent.id, locked_file(remote, sha256=up.sha256, attributes=attributes))
        return f"{change.address}: uploaded {remote.id} ({up.filename})"
    raise AssertionError("unreachable")


def _settle(ctx: StepContext, up: FileUpload, size: int, *, patient: bool) -> RemoteFile | None:
    """Search for an upload whose answer was lost; ``patient``: it may still be arriving, search with backoff."""
    for delay in ctx.settle.delays() if patient else iter([0.0]):
        if delay and ctx.stop.wait(delay):
            raise Interrupted()
        try:
            found = find_upload(ctx.client, filename=up.filename, sha256=up.sha256, size=size)
        except (ServerError, TransportError):
            continue
        if found is not None:
            return found
    return None


def adopt_file(ctx: StepContext, change: Change) -> str:
    after = change.after or {}
    if not change.remote_id:
        raise ApplyError("the plan names no file to adopt", where=change.address, hint="run ftops plan again")
    remote = ctx.client.get_file(change.remote_id)
    sha = str(after.get("sha256") or after.get("content_hash") or "")
    ctx.store.put(change.address, locked_file(remote, sha256=sha, attributes=after))
    return f"{change.address}: adopted the identical upload {remote.id}"
