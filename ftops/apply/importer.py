"""``ftops import ADDRESS ID``: adopt an existing file, job or model into the lock, by hand.

The object is fetched (and must be of the address's kind), then recorded with the fingerprint of what it
IS, never a placeholder: a file by the sha256 of its content (its content-addressed name when ftops uploaded
it, else its downloaded bytes), a job by the fingerprint of its live spec (:func:`live_job_spec`, the typed
:class:`~ftops.jobspec.JobSpec` the manifests' jobs are fingerprinted by, compared with
``jobspec.differences``). So when the manifest matches the object the next plan shows no changes, and when
it differs the plan shows the real field differences. An address already tracked
(with another object), or an object already tracked at another address, is refused unless ``force``; what
was replaced is said. Open intents for that address are closed: importing is how a user settles an
ambiguous adoption that apply refused to guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ftops.addresses import Address
from ftops.apply.adopt import locked_file, locked_job
from ftops.apply.protocols import ApiClient, Store
from ftops.client.models import RemoteFile, RemoteJob, RemoteModel
from ftops.desired import Desired, DesiredFile, DesiredJob
from ftops.errors import ApplyError, NotFoundError, ValidationFailed
from ftops.jobspec import (
    ClassifierTarget,
    Integration,
    JobSpec,
    TrainingFile,
    ValidationFile,
    differences,
    view_of_remote,
)
from ftops.state.model import LockedResource

_INTEGRATION_KEYS = ("type", "project", "name", "run_name")


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


def live_job_spec(remote: RemoteJob, want: DesiredJob | None, sha_of: Mapping[str, str]) -> JobSpec:
    """The typed spec of a live job, so that its fingerprint is the one the manifest would have if it matched.

    The API does not echo training-file weights, and hyperparameters the manifest leaves unset are the
    server's defaults: both are read against the manifest's job (``want``), the way the comparison reads them.
    """
    template = want.job_spec if want is not None else None
    by_sha = {t.sha256: t.file for t in template.training} if template else {}
    weights = [t.weight for t in template.training] if template else []
    training = tuple(
        TrainingFile(file=by_sha.get(sha_of.get(fid, ""), f"id:{fid}"), sha256=sha_of.get(fid, f"id:{fid}"),
                     weight=weights[i] if len(weights) == len(remote.training_files) else 1.0)
        for i, fid in enumerate(remote.training_files)
    )
    validation = tuple(ValidationFile(file=f"id:{fid}", sha256=sha_of.get(fid, f"id:{fid}"))
                       for fid in remote.validation_files or [])
    wanted_hp = template.hyperparameters if template else remote.hyperparameters
    hyperparameters = {k: v for k in wanted_hp if (v := remote.hyperparameters.get(k)) is not None}
    integrations = tuple(Integration(**{k: i[k] for k in _INTEGRATION_KEYS if i.get(k) is not None})
                         for i in remote.integrations or [])
    targets = None if remote.classifier_targets is None else tuple(
        ClassifierTarget(name=str(t.get("name")), labels=tuple(t.get("labels") or ()),
                         weight=float(t.get("weight", 1.0)), loss_function=t.get("loss_function"))
        for t in remote.classifier_targets)
    isp = remote.invalid_sample_skip_percentage
    return JobSpec(
        model=remote.model, job_type=remote.job_type or "completion", training=training, validation=validation,
        hyperparameters=hyperparameters, suffix=remote.suffix or "", integrations=integrations,
        classifier_targets=targets,
        invalid_sample_skip_percentage=isp if isp is not None else (template.invalid_sample_skip_percentage
                                                                    if template else 0.0),
    )


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
    sha_of = _sha_by_file_id(client, store, desired, remote)
    if want is not None:
        diff = differences(view_of_remote(remote, sha_of.get, detailed=True), want.job_spec.view())
        attributes: dict[str, Any] = {"state": want.state, "on_remove": want.on_remove}
        if not diff:  # a full match (numbers as the API round-trips them): the manifest's exact fingerprint
            return locked_job(remote, fingerprint=want.fingerprint,
                              attributes={**attributes, "fingerprint_input": want.fingerprint_input})
        warnings.append(f"job {remote.id} differs from the manifest in: {', '.join(d.path for d in diff)}; the "
                        "next plan shows the differences and replaces it (or fix the manifest to match)")
    else:
        attributes = {}
    live = live_job_spec(remote, want, sha_of)
    return locked_job(remote, fingerprint=live.fingerprint,
                      attributes={**attributes, "fingerprint_input": live.fingerprint_input()})


def _import_model(store: Store, desired: Desired, key: str, remote: RemoteModel, warnings: list[str]) -> LockedResource:
    want = desired.models.get(key)
    job = want.job if want else None
    if want is not None and want.best_of is not None:  # best_of: whichever sweep job produced it
        job = next((a for a in want.best_of.candidates if (r := store.lock.resources.get(a)) is not None
                    and r.remote_id == remote.job), None)
        if job is None:
            warnings.append(f"model {remote.id} was not produced by a tracked job of sweep {want.best_of.sweep}")
    job_lock = store.lock.resources.get(job) if job else None
    if want is not None and want.best_of is None and (job_lock is None or remote.job != job_lock.remote_id):
        warnings.append(f"model {remote.id} was not produced by {want.job} "
                        f"({job_lock.remote_id if job_lock else 'not tracked'})")
    attributes = {"name": remote.name, "description": remote.description, "archived": remote.archived,
                  "job": job, "on_remove": want.on_remove if want else None}
    return LockedResource(
        kind="model", remote_id=remote.id, fingerprint=job or "",
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
