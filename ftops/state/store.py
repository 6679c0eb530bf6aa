"""``LockStore``: the only writer of the state during a run; each change costs a small journal record.

The state lives in memory. A change is made durable by appending one record (what changed, the serial it
produces) to the backend's journal, fsynced, BEFORE the change is visible to anyone: so
:meth:`begin_intent` returns only once the intent would survive ``kill -9`` or a power cut, and the caller's
non-idempotent POST comes after; :meth:`complete_intent` records the outcome and closes the intent in one
record. The canonical lock document is rewritten atomically in batches (at most every ``interval``
seconds, and never more than a tenth of the time, so a large state does not slow each change down), on
:meth:`flush` and on :meth:`close`. Whoever opens the state next (the next run, ``ftops plan``) reads the
last canonical lock and replays the journal over it (``ftops.state.journal``), so nothing recorded before a
crash is lost and nothing can be created twice. Every change is checked before its record is written (a
change that cannot apply raises and records nothing; one that changes nothing records nothing and bumps no
serial), and only the record, not the whole document, is scanned for secrets.

Reads hand out cheap views: resources and intents are immutable and shared, only the containers are copied.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from ftops.addresses import Address
from ftops.errors import StateError
from ftops.state.atomic import atomic_write_text, remove_dead_temp_files, state_write_error
from ftops.state.backend import StateBackend
from ftops.state.backends.file import FileBackend
from ftops.state.journal import (
    MAX_APPLIED_PLANS,
    AbandonIntent,
    BeginIntent,
    Change,
    CompleteIntent,
    MarkPlanApplied,
    MoveResource,
    PutResources,
    Record,
    RecordTokenCounts,
    RemoveResource,
    apply_change,
    changes_anything,
)
from ftops.state.lockfile import CanonicalText, backup_path_for, check_endpoint, dump_lock, load_state, new_lock
from ftops.state.model import Intent, LockedResource, LockFile, intent_problems
from ftops.state.secrets import secret_paths

__all__ = ["MAX_APPLIED_PLANS", "LockStore", "load_state"]

DEFAULT_FLUSH_INTERVAL = 0.5  # seconds between two canonical writes at most, while changes come in
FLUSH_DUTY = 10  # ... and at least this many times the last write's cost, so writes take ≤ 1/10 of the time


def _where(backend: StateBackend) -> str:
    """Where to point messages about the stored document."""
    return str(backend.path) if isinstance(backend, FileBackend) else backend.describe()


class LockStore:
    """Holds the current :class:`LockFile` in memory; journals every change and writes the lock in batches."""

    def __init__(
        self,
        path: Path,
        lock: LockFile | None,
        *,
        endpoint: str | None,
        backend: StateBackend | None = None,
        version: str | None = None,
        backup_from: str | None = None,
        flush_interval: float | None = None,
    ) -> None:
        self.path = Path(path)
        self._endpoint = endpoint
        self._lock = lock
        self._backend: StateBackend = backend if backend is not None else FileBackend(self.path)
        self._where = _where(self._backend)
        self._version = version  # of the stored document this store last read or wrote (CAS)
        self._backup_from = backup_from  # text to save as the backup before the first change, if any
        self._mutex = threading.Lock()  # the in-memory state and the journal
        self._flush_mutex = threading.Lock()  # one canonical write at a time
        self._flushed_serial = lock.serial if lock is not None else 0
        self._interval = DEFAULT_FLUSH_INTERVAL if flush_interval is None else flush_interval
        self._last_flush = time.monotonic()
        self._last_cost = 0.0
        self._closed = False
        self._text = CanonicalText()  # used under the flush mutex only

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        endpoint: str | None,
        backup: bool = True,
        backend: StateBackend | None = None,
        flush_interval: float | None = None,
    ) -> LockStore:
        """Read the state (lock + journal), check it belongs to ``endpoint``, and settle the journal.

        A journal left by an interrupted run is folded into the lock at once (one atomic write, then the
        journal is cleared). The backup (``backup_path_for``) is taken later, just before this run's first
        change, and only when the state read was clean: never over a good backup with a state that still has
        an interrupted run to recover.
        """
        path = Path(path)
        backend = backend if backend is not None else FileBackend(path)
        lock, stored, applied, present = load_state(backend)
        if endpoint is not None:
            check_endpoint(lock, endpoint, where=str(path))
        if isinstance(backend, FileBackend):
            remove_dead_temp_files(path)
        version = stored.version if stored is not None else None
        if applied and lock is not None:
            version = backend.write(dump_lock(lock), expected=version)
        if present:
            backend.clear_journal()
        clean = stored is not None and not present and lock is not None and not lock.intents
        backup_from = stored.text if backup and clean and stored is not None else None
        return cls(path, lock, endpoint=endpoint, backend=backend, version=version, backup_from=backup_from,
                   flush_interval=flush_interval)

    def __enter__(self) -> LockStore:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    # -- read side -------------------------------------------------------------------------------------

    def _current(self) -> LockFile:
        if self._lock is None:  # keep the lineage stable across reads before the first write
            self._lock = new_lock(self._endpoint)
        return self._lock

    @property
    def lock(self) -> LockFile:
        """A view of the current state (a fresh, unsaved lock when the project has none yet).

        Changing the view's containers does not change the store; resources and intents are immutable.
        """
        with self._mutex:
            return _view(self._current())

    @property
    def exists(self) -> bool:
        """Whether there is a stored state or this run changed it (False for a new project until then)."""
        with self._mutex:
            return self._version is not None or (self._lock is not None and self._lock.serial > 0)

    def open_intents(self) -> list[Intent]:
        with self._mutex:
            return list(self._current().intents)

    def get(self, address: Address | str) -> LockedResource | None:
        with self._mutex:
            return self._current().resources.get(str(address))

    # -- changes (each one = one journal record) -------------------------------------------------------

    def _commit(self, change: Change) -> bool:
        """Check ``change``, journal it durably, then apply it in memory. False when it changes nothing."""
        with self._mutex:
            if self._closed:
                raise StateError("the state store is closed", where=self._where,
                                 hint="this is a bug in ftops; please report it")
            lock = self._current()
            if not changes_anything(lock, change, where=self._where):
                return False
            self._take_backup()
            record = Record(lineage=lock.lineage, endpoint=lock.endpoint or self._endpoint, serial=lock.serial + 1,
                            change=change)
            payload = record.model_dump(mode="json")
            found = secret_paths(payload["change"])
            if found:
                raise StateError(
                    f"refusing to write a secret-looking value into the state at {', '.join(found)}",
                    where=self._where,
                    hint="this is a bug in ftops (secrets must stay in environment variables); please report it",
                )
            if isinstance(self._backend, FileBackend):
                # Written in order here, fsynced below outside the mutex (group commit). Applying before the
                # sync is safe: whatever another thread does with this change goes through its own record,
                # whose sync covers this one (same file, earlier bytes) before any call it makes.
                ticket: int | None = self._backend.write_journal(record.text())
            else:
                self._backend.append_journal(record.text())
                ticket = None
            apply_change(lock, change)
            lock.serial = record.serial
            if lock.endpoint is None:
                lock.endpoint = self._endpoint
        if ticket is not None and isinstance(self._backend, FileBackend):
            self._backend.sync_journal(ticket)
        self._maybe_flush()
        return True

    def _take_backup(self) -> None:
        """Save the state as it was before this run's first change (called under the mutex)."""
        if self._backup_from is None:
            return
        target = backup_path_for(self.path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(target, self._backup_from)
        except OSError as exc:
            raise state_write_error(exc, action="save the backup of the lock file", path=target) from None
        self._backup_from = None

    def begin_intent(
        self, address: Address | str, action: str, fingerprint: str, marker: dict[str, Any] | None = None
    ) -> Intent:
        """Record (durably) that a non-idempotent call is about to be made. Call BEFORE the POST."""
        marker = dict(marker or {})
        problem = intent_problems(action, marker)
        if problem is not None:
            raise StateError(f"refusing to record an intent recovery could not resolve: it {problem}",
                             where=str(address), hint="this is a bug in ftops; please report it")
        intent = Intent(id=str(uuid.uuid4()), address=str(address), action=action, fingerprint=fingerprint,
                        marker=marker, started_at=round(time.time(), 3))
        self._commit(BeginIntent(intent=intent))
        return intent

    def complete_intent(self, intent_id: str, resource: LockedResource | None) -> None:
        """Record the outcome (``resource`` at the intent's address, if any) and close the intent, in ONE record."""
        self._commit(CompleteIntent(id=intent_id, resource=resource))

    def abandon_intent(self, intent_id: str) -> None:
        """Close an intent whose call certainly created nothing (e.g. the API rejected it with 4xx)."""
        self._commit(AbandonIntent(id=intent_id))

    def put(self, address: Address | str, resource: LockedResource) -> None:
        """Record or update one resource (nothing recorded when it is already recorded exactly so)."""
        self._commit(PutResources(resources={str(address): resource}))

    def set_attribute(self, address: Address | str, key: str, value: Any) -> None:
        """Record ``attributes[key] = value`` on a tracked resource (nothing when it is not tracked)."""
        locked = self.get(address)
        if locked is not None:
            self.put(address, locked.model_copy(update={"attributes": {**locked.attributes, key: value}}))

    def put_many(self, resources: Mapping[str, LockedResource]) -> None:
        """Record or update several resources in one record (e.g. the statuses a refresh observed)."""
        with self._mutex:
            current = self._current().resources
            changed = {str(a): r for a, r in resources.items() if current.get(str(a)) != r}
        if changed:
            self._commit(PutResources(resources=changed))

    def remove(self, address: Address | str) -> None:
        """Forget one resource (nothing recorded when it is not tracked)."""
        self._commit(RemoveResource(address=str(address)))

    def move(self, old: Address | str, new: Address | str) -> None:
        """Track the resource at ``old`` under ``new`` (same kind; ``new`` must be free). Same object, new name."""
        self._commit(MoveResource(old=str(old), new=str(new)))

    def mark_plan_applied(self, plan_id: str) -> None:
        """Make a saved plan single-use: its id is refused from now on."""
        self._commit(MarkPlanApplied(id=plan_id))

    def record_token_counts(self, counts: Mapping[str, int]) -> None:
        """Keep exactly these token counts by "<sha256>/<tokenizer>": those the applied plan used (committed with
        the lock, so CI never recounts an unchanged dataset); no write when they are already recorded."""
        if counts:
            self._commit(RecordTokenCounts(counts=dict(counts)))

    # -- the canonical document ------------------------------------------------------------------------

    def _maybe_flush(self) -> None:
        due = self._last_flush + max(self._interval, FLUSH_DUTY * self._last_cost)
        if time.monotonic() >= due and self._flush_mutex.acquire(blocking=False):
            try:
                self._flush_locked()
            except StateError:
                # The change itself is durable in the journal; a failed batch write is retried at the next
                # batch and surfaces from flush()/close() if it persists (the run then exits 1, state intact).
                self._last_flush = time.monotonic()
            finally:
                self._flush_mutex.release()

    def flush(self) -> None:
        """Write the canonical document now if it lags the journal; then the journal is cleared."""
        with self._flush_mutex:
            self._flush_locked()

    def _flush_locked(self) -> None:
        with self._mutex:
            if self._lock is None or self._lock.serial == self._flushed_serial:
                return
            snapshot = _view(self._lock)
        started = time.monotonic()
        text = self._text.render(snapshot)  # outside the mutex: changes go on being journaled meanwhile
        version = self._backend.write(text, expected=self._version)
        with self._mutex:
            self._version = version
            self._flushed_serial = snapshot.serial
            if self._lock.serial == snapshot.serial:  # nothing newer in the journal: it can go
                self._backend.clear_journal()
        self._last_flush = time.monotonic()
        self._last_cost = self._last_flush - started

    def close(self) -> None:
        """Flush and release the backend; later changes are refused. Safe to call twice."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            with self._mutex:
                self._closed = True
            closer = getattr(self._backend, "close", None)
            if callable(closer):
                closer()


def _view(lock: LockFile) -> LockFile:
    """A copy of the containers, sharing the immutable resources and intents (O(n) pointers, no deep copy)."""
    return LockFile.model_construct(
        format_version=lock.format_version,
        lineage=lock.lineage,
        serial=lock.serial,
        endpoint=lock.endpoint,
        resources=dict(lock.resources),
        intents=list(lock.intents),
        applied_plans=list(lock.applied_plans),
        token_counts=dict(lock.token_counts),
    )
