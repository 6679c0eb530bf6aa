"""Moving one tracked address to another in a :class:`LockFile` (``state mv`` and ``Moved`` declarations).

One pure function used by both the planner (on its view of the lock) and the store (in the write), so a
planned move and an applied move can never disagree about what follows the resource: a model's reference to
a moved job (its fingerprint and ``attributes.job``) and any open intent at the old address.
"""

from __future__ import annotations

from ftops.addresses import Address
from ftops.errors import StateError
from ftops.state.model import LockedResource, LockFile


def relocate(lock: LockFile, old: str, new: str) -> LockedResource:
    """Track at ``new`` what ``lock`` tracks at ``old`` (in place); returns the moved record."""
    if Address.parse(old).kind != Address.parse(new).kind:
        raise StateError(f"cannot move {old} to {new}: an address keeps its kind", where=old,
                         hint=f"move it to {Address.parse(old).kind}.NAME")
    resource = lock.resources.get(old)
    if resource is None:
        raise StateError(f"{old} is not tracked in the lock file", where=old,
                         hint="`ftops state list` shows what the lock tracks")
    if new in lock.resources:
        raise StateError(f"{new} is already tracked ({lock.resources[new].remote_id})", where=new,
                         hint=f"forget it first with `ftops state rm {new}` if that is really meant")
    # Rebuild the mapping so the moved entry keeps its place; records are replaced, never edited in place
    # (they may be shared, frozen values).
    lock.resources = {(new if key == old else key): value for key, value in lock.resources.items()}
    if old.startswith("job."):
        for address, other in list(lock.resources.items()):
            if other.kind == "model" and (other.fingerprint == old or other.attributes.get("job") == old):
                attributes = dict(other.attributes)
                if attributes.get("job") == old:
                    attributes["job"] = new
                fingerprint = new if other.fingerprint == old else other.fingerprint
                lock.resources[address] = other.model_copy(update={"fingerprint": fingerprint,
                                                                   "attributes": attributes})
    lock.intents = [i.model_copy(update={"address": new}) if i.address == old else i for i in lock.intents]
    return resource


def followers(lock: LockFile, old: str, new: str) -> dict[str, LockedResource]:
    """The model records that name job ``old``, as they must read once it is ``new`` (for a store whose move
    only renames the entry: writing these afterwards makes any store agree with :func:`relocate`)."""
    view = lock.model_copy(deep=True)
    relocate(view, old, new)
    return {address: record for address, record in view.resources.items()
            if record.kind == "model" and address != new and lock.resources.get(address) != record}
