"""``ftops import ADDRESS ID``: adopt an existing file, job or model into the lock, by hand.

The object is fetched (and must be of the address's kind), then recorded with the fingerprint of what it
IS, never a placeholder: a file by the sha256 of its content (its content-addressed name when ftops uploaded
it, else its downloaded bytes), a job by the fingerprint of its live spec (:func:`live_job_input`, the same
shape the manifests' jobs are fingerprinted in). So when the manifest matches the object the next plan shows
no changes, and when it differs the plan shows the real field differences. An address already tracked
(with another object), or an object already tracked at another address, is refused unless ``force``; what
was replaced is said. Open intents for that address are closed: importing is how a user settles an
ambiguous adoption that apply refused to guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ftops.addresses import Address
from ftops.apply.adopt import locked_file, locked_job
from ftops.apply.protocols import ApiClient, Store
from ftops.client.models import RemoteFile, RemoteJob, RemoteModel
from ftops.desired import Desired, DesiredFile, DesiredJob, fingerprint_of
from ftops.errors import ApplyError, NotFoundError, ValidationFailed
from ftops.state.model import LockedResource

_INTEGRATION_KEYS = ("type", "project", "name", "run_name")
_TARGET_KEYS = ("name", "labels", "weight", "loss_function")


@dataclass
class ImportResult:
    address: str
    resource: LockedResource
    warnings: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)  # what --force displaced, in words


def _fetch(client: ApiClient, address: Address, remote_id: str) -> RemoteFile | RemoteJob | RemoteModel:
    try:
        if address.kind == "file":
            return client.get_file(remote_id)
        if address.kind == "job":
            return client.get_job(remote_id)
        return client.get_model(remote_id)
    except (NotFoundError, ValidationFailed):
        raise ApplyError(
            f"no {address.kind} with id {remote_id} exists on the API",
            where=str(address),
            hint=f"check the id (a {address.kind} id is expected for {address}); "
            f"`ftops status` lists what is tracked",
        ) from None


def _check_tracking(store: Store, key: str, kind: str, remote_id: str, *, force: bool) -> list[str]:
    """Refuse (unless ``force``) to displace another object or to track one object twice; say what is replaced."""
    resources = store.lock.resources
    replaced: list[str] = []
    current = resources.get(key)
    if current is not None and current.remote_id != remote_id:
        if not force:
            raise ApplyError(
                f"{key} already tracks {kind} {current.remote_id}", where=key,
                hint=f"pass --force to track {remote_id} there instead ({current.remote_id} stays on the API, "
                f"untracked), or `ftops state rm {key}` first",
            )
        replaced.append(f"{key} tracked {current.remote_id} until now; that {kind} stays on the API, untracked")
    elsewhere = sorted(a for a, r in resources.items() if a != key and r.kind == kind and r.remote_id == remote_id)
    if elsewhere and not force:
        raise ApplyError(
            f"{kind} {remote_id} is already tracked as {', '.join(elsewhere)}", where=key,
            hint=f"one object has one address: `ftops state mv {elsewhere[0]} {key}` to rename it, or pass --force "
            f"to stop tracking it as {', '.join(elsewhere)}",
        )
    for other in elsewhere:
        store.remove(other)
        replaced.append(f"{other} no longer tracks {remote_id} (it is tracked as {key} now)")
    return replaced


def _file_sha(client: ApiClient, remote: RemoteFile, want: DesiredFile | None) -> str:
    if want is not None and remote.filename == want.upload_name and remote.bytes == want.bytes:
        return want.sha256  # ftops's content-addressed name: sha256[:12] in the name, the size checked
    return client.file_sha256(remote.id)


def live_job_input(remote: RemoteJob, want: DesiredJob | None, sha_of: dict[str, str]) -> dict[str, Any]:
    """The fingerprint input of a live job, in the shape :mod:`ftops.desired` fingerprints manifests in.

    The API does not echo training-file weights, and hyperparameters the manifest leaves unset are the
    server's business: both are read against the manifest's job (``want``) the way the planner compares.
    """
    template = want.fingerprint_input if want is not None else None
    wanted_hp = template["hyperparameters"] if template else remote.hyperparameters
    weights = [t["weight"] for t in template["training_files"]] if template else []
    train = [sha_of.get(fid, fid) for fid in remote.training_files]
    integrations = [{k: i[k] for k in _INTEGRATION_KEYS if i.get(k) is not None} for i in remote.integrations or []]
    targets = None
    if remote.classifier_targets is not None:
        targets = [{k: t.get(k) for k in _TARGET_KEYS} for t in remote.classifier_targets]
    return {
        "model": remote.model,
        "job_type": remote.job_type or "completion",
        "training_files": [
            {"sha256": sha, "weight": weights[i] if len(weights) == len(train) else 1.0} for i, sha in enumerate(train)
        ],
        "validation_files": [sha_of.get(fid, fid) for fid in remote.validation_files or []],
        "hyperparameters": {k: remote.hyperparameters.get(k) for k in wanted_hp
                            if remote.hyperparameters.get(k) is not None},
        "suffix": remote.suffix,
        "integrations": integrations,
        "classifier_targets": targets,
        "invalid_sample_skip_percentage": remote.invalid_sample_skip_percentage
        if remote.invalid_sample_skip_percentage is not None
        else (template["invalid_sample_skip_percentage"] if template else 0.0),
    }


def _same_spec(live: Any, wanted: Any) -> bool:
    """Equal, with numbers compared the way the API round-trips them (a float may come back re-encoded)."""
    if isinstance(live, dict) and isinstance(wanted, dict):
        return live.keys() == wanted.keys() and all(_same_spec(live[k], wanted[k]) for k in live)
    if isinstance(live, list) and isinstance(wanted, list):
        return len(live) == len(wanted) and all(_same_spec(a, b) for a, b in zip(live, wanted, strict=True))
    if isinstance(live, (int, float)) and isinstance(wanted, (int, float)) and not isinstance(live, bool):
        return abs(float(live) - float(wanted)) <= 1e-9 * max(abs(float(live)), abs(float(wanted)), 1e-12)
    return bool(live == wanted)


def _differences(live: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for key in wanted:
        if key == "hyperparameters":
            names = sorted(set(live[key]) | set(wanted[key]))
            out += [f"hyperparameters.{n}" for n in names
                    if not _same_spec(live[key].get(n), wanted[key].get(n))]
        elif not _same_spec(live.get(key), wanted[key]):
            out.append(key)
    return out


def _sha_by_file_id(client: ApiClient, store: Store, desired: Desired, remote: RemoteJob) -> dict[str, str]:
    """Content hash of each file the job names: from the lock, else by fetching the upload."""
    sha_of = {r.remote_id: r.fingerprint for r in store.lock.resources.values() if r.kind == "file"}
    by_name = {f.upload_name: f for f in desired.files.values()}
    for file_id in [*remote.training_files, *(remote.validation_files or [])]:
        if file_id in sha_of:
            continue
        try:
            upload = client.get_file(file_id)
        except (NotFoundError, ValidationFailed):
            continue  # shown as the id in the field difference
        sha_of[file_id] = _file_sha(client, upload, by_name.get(upload.filename))
    return sha_of


def _import_file(client: ApiClient, desired: Desired, key: str, remote: RemoteFile,
                 warnings: list[str]) -> LockedResource:
    want = desired.files.get(key)
    sha = _file_sha(client, remote, want)
    if want is None:
        return locked_file(remote, sha256=sha, attributes={})
    if sha != want.sha256:
        warnings.append(f"the upload {remote.filename} has other content than {want.rel_path} (sha256 {sha[:12]} "
                        f"≠ {want.sha256[:12]}); the next plan uploads {want.rel_path} again")
    return locked_file(remote, sha256=sha, attributes={"path": want.rel_path, "on_remove": want.on_remove})


def _import_job(client: ApiClient, store: Store, desired: Desired, key: str, remote: RemoteJob,
                warnings: list[str]) -> LockedResource:
    want = desired.jobs.get(key)
    live = live_job_input(remote, want, _sha_by_file_id(client, store, desired, remote))
    if want is None:
        return locked_job(remote, fingerprint=fingerprint_of(live), attributes={"fingerprint_input": live})
    diff = _differences(live, want.fingerprint_input)
    if diff:
        warnings.append(f"job {remote.id} differs from the manifest in: {', '.join(diff)}; the next plan shows "
                        "the differences and replaces it (or fix the manifest to match)")
    else:
        live = want.fingerprint_input  # equal up to float round-trip: record the manifest's exact form
    attributes = {"fingerprint_input": live, "state": want.state, "on_remove": want.on_remove}
    return locked_job(remote, fingerprint=fingerprint_of(live), attributes=attributes)


def _import_model(store: Store, desired: Desired, key: str, remote: RemoteModel, warnings: list[str]) -> LockedResource:
    want = desired.models.get(key)
    job_lock = store.lock.resources.get(want.job) if want else None
    if want is not None and (job_lock is None or remote.job != job_lock.remote_id):
        warnings.append(f"model {remote.id} was not produced by {want.job} "
                        f"({job_lock.remote_id if job_lock else 'not tracked'})")
    attributes = {"name": remote.name, "description": remote.description, "archived": remote.archived,
                  "job": want.job if want else None, "on_remove": want.on_remove if want else None}
    return LockedResource(
        kind="model", remote_id=remote.id, fingerprint=want.job if want else "",
        status="archived" if remote.archived else "active",
        attributes={k: v for k, v in attributes.items() if v is not None},
    )


def import_resource(
    client: ApiClient, store: Store, desired: Desired, address_text: str, remote_id: str, *, force: bool = False
) -> ImportResult:
    address = Address.parse(address_text)
    key = str(address)
    remote = _fetch(client, address, remote_id)
    replaced = _check_tracking(store, key, address.kind, remote.id, force=force)
    warnings: list[str] = []
    if key not in desired.files and key not in desired.jobs and key not in desired.models:
        warnings.append(f"{key} is not declared in the manifests; the next plan will forget it")
    if isinstance(remote, RemoteFile):
        resource = _import_file(client, desired, key, remote, warnings)
    elif isinstance(remote, RemoteJob):
        resource = _import_job(client, store, desired, key, remote, warnings)
    else:
        resource = _import_model(store, desired, key, remote, warnings)
    for intent in store.open_intents():
        if intent.address == key:
            store.abandon_intent(intent.id)
    store.put(key, resource)
    return ImportResult(key, resource, warnings, replaced)
