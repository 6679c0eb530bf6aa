"""The state journal: one small record per change, appended durably before the change counts as made.

``LockStore`` keeps the state in memory and writes the canonical lock only now and then; what makes a
change durable is its journal record (one line of JSON, fsynced). Each record names the lineage and the
serial the change produces, so replaying the journal over the last canonical lock is exact: records the
lock already contains (serial ≤ the lock's) are skipped, the next ones are applied in order, and a gap
(a record that does not continue this lock) is refused rather than guessed around. A record holds only
what changed, which is also what the secret check scans.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ftops.addresses import Address
from ftops.errors import FtopsError, StateError
from ftops.state.model import MAX_SERIAL, Intent, LockedResource, LockFile
from ftops.state.moves import relocate

JOURNAL_VERSION = 1
# A saved plan is single-use; after this many newer applies its serial alone already makes it stale.
MAX_APPLIED_PLANS = 100


class _Op(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BeginIntent(_Op):
    op: Literal["begin"] = "begin"
    intent: Intent


class CompleteIntent(_Op):
    op: Literal["complete"] = "complete"
    id: str
    resource: LockedResource | None


class AbandonIntent(_Op):
    op: Literal["abandon"] = "abandon"
    id: str


class PutResources(_Op):
    op: Literal["put"] = "put"
    resources: dict[str, LockedResource]


class RemoveResource(_Op):
    op: Literal["remove"] = "remove"
    address: str


class MoveResource(_Op):
    op: Literal["move"] = "move"
    old: str
    new: str


class MarkPlanApplied(_Op):
    op: Literal["plan"] = "plan"
    id: str


class RecordTokenCounts(_Op):
    op: Literal["tokens"] = "tokens"
    counts: dict[str, int]


Change = Annotated[
    BeginIntent | CompleteIntent | AbandonIntent | PutResources | RemoveResource | MoveResource | MarkPlanApplied
    | RecordTokenCounts,
    Field(discriminator="op"),
]


class Record(BaseModel):
    """One journal line: the change and the state it leads to (lineage, serial)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1  # JOURNAL_VERSION
    lineage: str
    endpoint: str | None
    serial: int = Field(ge=1, le=MAX_SERIAL)
    change: Change

    def text(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


_RECORD = TypeAdapter(Record)


def parse_record(line: str, *, where: str, number: int) -> Record:
    try:
        return _RECORD.validate_json(line)
    except ValidationError:
        raise StateError(
            f"journal record {number} is damaged",
            where=where,
            hint="the journal is written by ftops only; if you edited it, restore it, or delete it to fall back to "
            "the last complete lock file (anything recorded only in the journal is then found again by "
            "adoption on the next apply)",
        ) from None


def _intent_index(lock: LockFile, intent_id: str) -> int | None:
    for index, intent in enumerate(lock.intents):
        if intent.id == intent_id:
            return index
    return None


def _no_intent(intent_id: str, where: str) -> StateError:
    return StateError(
        f"no open intent with id {intent_id} in the lock file",
        where=where,
        hint="the lock file changed under this run (another apply, or a git checkout); run ftops plan again",
    )


def check_kind(address: str, resource: LockedResource) -> None:
    try:
        kind = Address.parse(address).kind
    except FtopsError:
        raise StateError(f"cannot record a resource at the invalid address {address!r}", where=address) from None
    if kind != resource.kind:
        raise StateError(f"cannot record a {resource.kind} at address {address}", where=address)


def changes_anything(lock: LockFile, change: Change, *, where: str) -> bool:
    """Whether ``change`` alters ``lock``; raises StateError when it cannot apply. Never mutates."""
    if isinstance(change, BeginIntent):
        return True
    if isinstance(change, CompleteIntent):
        index = _intent_index(lock, change.id)
        if index is None:
            raise _no_intent(change.id, where)
        if change.resource is not None:
            check_kind(lock.intents[index].address, change.resource)
        return True
    if isinstance(change, AbandonIntent):
        if _intent_index(lock, change.id) is None:
            raise _no_intent(change.id, where)
        return True
    if isinstance(change, PutResources):
        for address, resource in change.resources.items():
            check_kind(address, resource)
        return any(lock.resources.get(a) != r for a, r in change.resources.items())
    if isinstance(change, RemoveResource):
        return change.address in lock.resources
    if isinstance(change, MoveResource):
        return _check_move(lock, change, where)
    if isinstance(change, MarkPlanApplied):
        return change.id not in lock.applied_plans
    return lock.token_counts != change.counts


def _check_move(lock: LockFile, change: MoveResource, where: str) -> bool:
    if change.old == change.new:
        return False
    # The same rules and the same result as the planner's view of a move: relocate on a shallow copy.
    relocate(lock.model_copy(update={"resources": dict(lock.resources), "intents": list(lock.intents)}),
             change.old, change.new)
    return True


def apply_change(lock: LockFile, change: Change) -> None:
    """Apply a change that :func:`changes_anything` accepted (in place; resources are replaced, not edited)."""
    if isinstance(change, BeginIntent):
        lock.intents.append(change.intent)
    elif isinstance(change, CompleteIntent):
        intent = lock.intents.pop(_intent_index(lock, change.id))  # type: ignore[arg-type]
        if change.resource is not None:
            lock.resources[intent.address] = change.resource
    elif isinstance(change, AbandonIntent):
        lock.intents.pop(_intent_index(lock, change.id))  # type: ignore[arg-type]
    elif isinstance(change, PutResources):
        lock.resources.update(change.resources)
    elif isinstance(change, RemoveResource):
        lock.resources.pop(change.address, None)
    elif isinstance(change, MoveResource):
        relocate(lock, change.old, change.new)  # models naming a moved job, and open intents, follow it
    elif isinstance(change, MarkPlanApplied):
        lock.applied_plans.append(change.id)
        del lock.applied_plans[:-MAX_APPLIED_PLANS]
    else:
        # Exactly the counts the applied plan used: a dataset no manifest uses any more drops out.
        lock.token_counts = dict(sorted(change.counts.items()))


def replay(lock: LockFile | None, lines: Iterable[str], *, where: str) -> tuple[LockFile | None, int]:
    """``lock`` with every journal record it does not contain yet applied; and how many were applied."""
    applied = 0
    for number, line in enumerate(lines, start=1):
        record = parse_record(line, where=where, number=number)
        if lock is None:
            lock = LockFile(lineage=record.lineage, serial=0, endpoint=record.endpoint)
        if record.lineage != lock.lineage:
            raise StateError(
                "the state journal belongs to another lock file (its lineage differs)",
                where=where,
                hint="the lock file was replaced while a run was interrupted; if the lock file is the one you "
                "want, delete the journal (what it recorded is found again by adoption on the next apply)",
            )
        if record.serial <= lock.serial:
            continue  # already in the lock file (a run died between writing the lock and clearing the journal)
        if record.serial != lock.serial + 1:
            raise StateError(
                f"the state journal continues serial {record.serial - 1}, but the lock file is at serial "
                f"{lock.serial}",
                where=where,
                hint="an older lock file was restored while a run was interrupted; restore the newer one, or "
                "delete the journal (what it recorded is found again by adoption on the next apply)",
            )
        try:
            if changes_anything(lock, record.change, where=where):
                apply_change(lock, record.change)
        except StateError:
            raise StateError(
                f"journal record {number} does not apply to the lock file", where=where,
                hint="delete the journal to fall back to the last complete lock file (anything recorded only "
                "in the journal is found again by adoption on the next apply)",
            ) from None
        lock.serial = record.serial
        if lock.endpoint is None:
            lock.endpoint = record.endpoint
        applied += 1
    return lock, applied
