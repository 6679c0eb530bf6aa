"""``ftops import ADDRESS ID``: adopt an existing file, job or model into the lock, by hand.

It checks that the object exists and is of the address's kind (a job id for ``job.x``: refused otherwise),
compares it with what the manifests declare and warns on each difference (the next plan will then show the
replacement or update), and records it. Open intents for that address are closed: importing is how a user
settles an ambiguous adoption that apply refused to guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ftops.addresses import Address
from ftops.apply.adopt import locked_file, locked_job
from ftops.apply.protocols import ApiClient, Store
from ftops.apply.specs import job_differences
from ftops.desired import Desired
from ftops.errors import ApplyError, NotFoundError, ValidationFailed
from ftops.state.model import LockedResource


@dataclass
class ImportResult:
    address: str
    resource: LockedResource
    warnings: list[str] = field(default_factory=list)


def _fetch(client: ApiClient, address: Address, remote_id: str) -> Any:
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


def import_resource(
    client: ApiClient, store: Store, desired: Desired, address_text: str, remote_id: str
) -> ImportResult:
    address = Address.parse(address_text)
    key = str(address)
    remote = _fetch(client, address, remote_id)
    warnings: list[str] = []
    if address.kind == "file":
        want_file = desired.files.get(key)
        if want_file is None:
            warnings.append(f"{key} is not declared in the manifests; the next plan will forget it")
            sha = remote.filename.rsplit(".", 2)[-2] if remote.filename.count(".") >= 2 else ""
            resource = locked_file(remote, sha256=sha, attributes={})
        else:
            if remote.filename != want_file.upload_name or remote.bytes != want_file.bytes:
                warnings.append(f"the upload {remote.filename} ({remote.bytes} bytes) is not {want_file.rel_path} "
                                f"({want_file.upload_name}, {want_file.bytes} bytes); the next plan uploads it again")
            resource = locked_file(remote, sha256=want_file.sha256 if not warnings else "imported",
                                   attributes={"path": want_file.rel_path, "on_remove": want_file.on_remove})
    elif address.kind == "job":
        want_job = desired.jobs.get(key)
        if want_job is None:
            warnings.append(f"{key} is not declared in the manifests; the next plan will forget it")
            resource = locked_job(remote, fingerprint="imported", attributes={})
        else:
            extra = {"fingerprint_input": want_job.fingerprint_input, "suffix": want_job.suffix,
                     "state": want_job.state, "on_remove": want_job.on_remove}
            diff = job_differences(want_job.job_spec, remote, store.lock, detailed=True)
            if diff:
                warnings.append(f"job {remote.id} differs from the manifest in: {', '.join(diff)}; the next plan "
                                "will replace it")
            resource = locked_job(remote, fingerprint=want_job.fingerprint if not diff else "imported",
                                  attributes=extra if not diff else {"state": want_job.state,
                                                                             "on_remove": want_job.on_remove})
    else:
        want_model = desired.models.get(key)
        job_lock = store.lock.resources.get(want_model.job) if want_model else None
        if want_model is None:
            warnings.append(f"{key} is not declared in the manifests; the next plan will forget it")
        elif job_lock is None or remote.job != job_lock.remote_id:
            warnings.append(f"model {remote.id} was not produced by {want_model.job} "
                            f"({job_lock.remote_id if job_lock else 'not tracked'})")
        attributes = {"name": remote.name, "description": remote.description, "archived": remote.archived,
                      "job": want_model.job if want_model else None,
                      "on_remove": want_model.on_remove if want_model else None}
        resource = LockedResource(
            kind="model", remote_id=remote.id, fingerprint=want_model.job if want_model else "",
            status="archived" if remote.archived else "active",
            attributes={k: v for k, v in attributes.items() if v is not None},
        )
    for intent in store.open_intents():
        if intent.address == key:
            store.abandon_intent(intent.id)
    store.put(key, resource)
    return ImportResult(key, resource, warnings)



