"""``LockStore``: the only writer of ``ftops.lock`` during apply, one atomic write per mutation.

Apply runs steps in parallel, so every mutation happens under one ``threading.Lock``: copy the current lock,
change the copy, bump ``serial``, write it atomically, and only then make it current. The file on disk is
therefore always the last complete state, and an exception while writing leaves both the file and the
in-memory view at the previous state. Intents are the crash-recovery protocol: :meth:`begin_intent` is
written and fsynced *before* the caller's non-idempotent POST, and :meth:`complete_intent` records the
outcome and drops the intent in the same write, so no moment exists where a created object is unrecorded
and unannounced. A mutation that changes nothing writes nothing (no spurious serial bumps that would make
saved plans look stale).
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ftops.addresses import Address
from ftops.errors import StateError
from ftops.state.atomic import remove_dead_temp_files
from ftops.state.lockfile import backup_path_for, check_endpoint, new_lock, read_lock, write_lock
from ftops.state.model import Intent, LockedResource, LockFile
from ftops.state.moves import relocate

# A saved plan is single-use; after this many newer applies its serial alone already makes it stale.
MAX_APPLIED_PLANS = 100


class LockStore:
    """Holds the current :class:`LockFile` for ``path`` and persists every change at once."""

    def __init__(self, path: Path, lock: LockFile | None, *, endpoint: str | None) -> None:
        self.path = Path(path)
        self._endpoint = endpoint
        self._lock = lock
        self._mutex = threading.Lock()

    @classmethod
    def open(cls, path: Path, *, endpoint: str | None, backup: bool = True) -> LockStore:
        """Read ``path`` (absent is fine), check it belongs to ``endpoint``, keep a pre-apply backup."""
        path = Path(path)
        lock = read_lock(path)
        if endpoint is not None:
            check_endpoint(lock, endpoint, where=str(path))
        remove_dead_temp_files(path)
        if backup and lock is not None:
            target = backup_path_for(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        return cls(path, lock, endpoint=endpoint)

    # -- read side -------------------------------------------------------------------------------------

    @property
    def lock(self) -> LockFile:
        """A copy of the current state (a fresh, unsaved lock when the project has none yet)."""
        with self._mutex:
            current = self._lock if self._lock is not None else new_lock(self._endpoint)
            if self._lock is None:
                self._lock = current  # keep the lineage stable across reads before the first write
            return current.model_copy(deep=True)

    @property
    def exists(self) -> bool:
        """Whether a lock file has been read or written (False until the first write of a new project)."""
        return self.path.exists()

    def open_intents(self) -> list[Intent]:
        return [i.model_copy(deep=True) for i in self.lock.intents]

    def get(self, address: Address | str) -> LockedResource | None:
        return self.lock.resources.get(str(address))

    # -- mutations (each one = one atomic write) -------------------------------------------------------

    def _mutate(self, change: Callable[[LockFile], bool]) -> LockFile:
        """Apply ``change`` to a copy; write it with serial+1 when it reports a change. Returns the new state."""
        with self._mutex:
            base = self._lock if self._lock is not None else new_lock(self._endpoint)
            draft = base.model_copy(deep=True)
            if not change(draft):
                return base
            if draft.endpoint is None:
                draft.endpoint = self._endpoint
            draft.serial = base.serial + 1
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_lock(self.path, draft)
            self._lock = draft
            return draft

    def begin_intent(
        self, address: Address | str, action: str, fingerprint: str, marker: dict[str, Any] | None = None
    ) -> Intent:
        """Record (and fsync) that a non-idempotent call is about to be made. Call BEFORE the POST."""
        intent = Intent(
            id=str(uuid.uuid4()),
            address=str(address),
            action=action,
            fingerprint=fingerprint,
            marker=dict(marker or {}),
            started_at=round(time.time(), 3),
        )

        def change(lock: LockFile) -> bool:
            lock.intents.append(intent)
            return True

        self._mutate(change)
        return intent.model_copy(deep=True)

    def _find_intent(self, lock: LockFile, intent_id: str) -> Intent:
        for intent in lock.intents:
            if intent.id == intent_id:
                return intent
        raise StateError(
            f"no open intent with id {intent_id} in the lock file",
            where=str(self.path),
            hint="the lock file changed under this run (another apply, or a git checkout); run ftops plan again",
        )

    def complete_intent(self, intent_id: str, resource: LockedResource | None) -> None:
        """Record the outcome (``resource`` at the intent's address, if any) and close the intent, in ONE write."""

        def change(lock: LockFile) -> bool:
            intent = self._find_intent(lock, intent_id)
            lock.intents.remove(intent)
            if resource is not None:
                _check_kind(intent.address, resource)
                lock.resources[intent.address] = resource.model_copy(deep=True)
            return True

        self._mutate(change)

    def abandon_intent(self, intent_id: str) -> None:
        """Close an intent whose call certainly created nothing (e.g. the API rejected it with 4xx)."""

        def change(lock: LockFile) -> bool:
            lock.intents.remove(self._find_intent(lock, intent_id))
            return True

        self._mutate(change)

    def put(self, address: Address | str, resource: LockedResource) -> None:
        """Record or update one resource (no write when it is already recorded exactly so)."""
        key = str(address)
        _check_kind(key, resource)

        def change(lock: LockFile) -> bool:
            if lock.resources.get(key) == resource:
                return False
            lock.resources[key] = resource.model_copy(deep=True)
            return True

        self._mutate(change)

    def remove(self, address: Address | str) -> None:
        """Forget one resource (no write when it is not recorded)."""
        key = str(address)

        def change(lock: LockFile) -> bool:
            return lock.resources.pop(key, None) is not None

        self._mutate(change)

    def move(self, old: Address | str, new: Address | str) -> None:
        """Track at ``new`` what ``old`` tracks, in ONE write (``state mv``, ``Moved`` declarations).

        Same kind only; refused when ``new`` is already tracked. See :func:`ftops.state.moves.relocate`.
        """

        def change(lock: LockFile) -> bool:
            relocate(lock, str(old), str(new))
            return True

        self._mutate(change)

    def close(self) -> None:
        """Nothing to release: every change is already written (kept for callers of a batching store)."""

    def mark_plan_applied(self, plan_id: str) -> None:
        """Make a saved plan single-use: its id is refused from now on."""

        def change(lock: LockFile) -> bool:
            if plan_id in lock.applied_plans:
                return False
            lock.applied_plans.append(plan_id)
            del lock.applied_plans[:-MAX_APPLIED_PLANS]
            return True

        self._mutate(change)


def _check_kind(address: str, resource: LockedResource) -> None:
    kind = Address.parse(address).kind
    if kind != resource.kind:
        raise StateError(f"cannot record a {resource.kind} at address {address}", where=address)
