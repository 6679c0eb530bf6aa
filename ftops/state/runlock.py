"""The run lock: one mutating ftops run per project at a time, with an owner and a lease, on any backend.

Where the lock lives is a :class:`RunLockSlot`: ``.ftops/apply.lock`` for the file backend (:class:`FileSlot`,
below), a row plus a session advisory lock on PostgreSQL, an object created with ``If-None-Match: *`` on S3
(``ftops.state.backends``). Every slot offers the same four atomic operations (create if absent, read,
replace if still ours, remove if still the given id), so the rules live here once: two racing processes get
exactly one winner; the lock names its owner (user, host, pid, CI run) and a lease that the holder renews
while it works (:meth:`RunLock.hold` runs a small heartbeat thread); a held lock is reported with everything
needed to decide what to do, and ``ftops force-unlock ID`` removes it only when given the exact id.

The one automatic takeover is safe by construction: the slot proves that the holder cannot be running (on
the file backend, it ran on *this* host and its pid is gone; on PostgreSQL, its database session, which held
the advisory lock, has ended). A lock whose holder ftops cannot see is never broken automatically, even with
an expired lease: the message says the lease expired and leaves the decision to a human.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from ftops.errors import RunLockHeld, StateError
from ftops.state.atomic import atomic_write_text, fsync_dir, pid_alive, remove_dead_temp_files, write_temp

RUN_LOCK_NAME = "apply.lock"
DEFAULT_LEASE_SECONDS = 600
_TAKEOVER_GUARD_MAX_AGE = 30.0  # seconds; the guard is held for microseconds, older means its holder died
_CONTENTION_SECONDS = 5.0  # bound on racing other processes for a lock whose holder died
_READ_RETRIES = 20  # a lock just created with O_EXCL may be empty for a moment while its owner writes it


class Owner(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user: str
    host: str
    pid: int
    ci_run: str | None = None

    def describe(self) -> str:
        text = f"{self.user}@{self.host} pid {self.pid}"
        return f"{text} ({self.ci_run})" if self.ci_run else text


class RunLockInfo(BaseModel):
    """What the run lock holds (the same JSON on every backend)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    operation: str
    owner: Owner
    created_at: str  # ISO 8601 UTC
    lease_expires_at: str  # ISO 8601 UTC

    def lease_expired(self, now: float | None = None) -> bool:
        return _parse_ts(self.lease_expires_at) < (time.time() if now is None else now)

    def describe(self) -> str:
        return (
            f"{self.owner.describe()}, running `{self.operation}` since {self.created_at}, "
            f"lease until {self.lease_expires_at}, ID {self.id}"
        )


class RunLockSlot(Protocol):
    """Where one project's run lock is stored. Each method is atomic on its own."""

    def where(self) -> str:
        """For messages: the lock file path, ``postgres db@host …``; never a secret."""
        ...

    def create(self, info: RunLockInfo) -> bool:
        """Store ``info`` if no lock exists; False when one does."""
        ...

    def read(self) -> RunLockInfo | None:
        """The current holder, or None. Raises StateError when the stored lock is unreadable."""
        ...

    def replace(self, info: RunLockInfo) -> bool:
        """Store ``info`` over the lock with the same id; False when the lock is gone or someone else's."""
        ...

    def remove(self, lock_id: str) -> bool:
        """Delete the lock if it has this id; False otherwise."""
        ...

    def holder_is_dead(self, holder: RunLockInfo) -> bool:
        """True only when the holder provably cannot be running any more (safe to take over)."""
        ...

    def released(self) -> None:
        """Called once after this process released its lock (PostgreSQL drops its advisory lock)."""
        ...


def dump_info(info: RunLockInfo) -> str:
    return json.dumps(info.model_dump(mode="json"), sort_keys=True, indent=2) + "\n"


def parse_info(text: str) -> RunLockInfo | None:
    """The lock in ``text``, or None when it is not (yet) a complete lock document."""
    try:
        return RunLockInfo.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError):
        return None


def _ts(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_ts(text: str) -> float:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return 0.0  # an unreadable lease counts as expired; takeover still needs a provably dead holder


def ci_run_id(environ: dict[str, str] | None = None) -> str | None:
    """A human reference to the CI run this process belongs to, if any (a link on GitHub Actions)."""
    env = dict(os.environ) if environ is None else environ
    if env.get("GITHUB_RUN_ID"):
        attempt = env.get("GITHUB_RUN_ATTEMPT", "1")
        if env.get("GITHUB_SERVER_URL") and env.get("GITHUB_REPOSITORY"):
            return (
                f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/actions/runs/"
                f"{env['GITHUB_RUN_ID']}/attempts/{attempt}"
            )
        return f"GitHub Actions run {env['GITHUB_RUN_ID']} attempt {attempt}"
    for var, name in (
        ("CI_JOB_URL", "GitLab job"),
        ("CI_JOB_ID", "GitLab job"),
        ("BUILDKITE_BUILD_URL", "Buildkite build"),
        ("CIRCLE_BUILD_URL", "CircleCI build"),
        ("BUILD_URL", "Jenkins build"),
    ):
        if env.get(var):
            return env[var] if env[var].startswith("http") else f"{name} {env[var]}"
    return None


def current_owner() -> Owner:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry (containers with arbitrary uids)
        user = f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return Owner(user=user, host=socket.gethostname(), pid=os.getpid(), ci_run=ci_run_id())


def is_dead_local_holder(info: RunLockInfo) -> bool:
    """The holder ran on this host and its pid is gone: it cannot be renewing or writing."""
    return info.owner.host == socket.gethostname() and not pid_alive(info.owner.pid)


# -- the file slot: ``.ftops/apply.lock`` ---------------------------------------------------------------


def lock_path(state_dir: Path) -> Path:
    return Path(state_dir) / RUN_LOCK_NAME


def _create_whole(path: Path, text: str) -> bool:
    """Create ``path`` holding ``text``, whole or not at all; False when it exists already.

    Written to a temp file, then hard-linked into place: ``link`` fails when the target exists (the exclusive
    create), and nobody ever sees it empty or half written, even when this process is killed mid-write (an
    O_EXCL create followed by a write left an empty run lock behind that kind of kill, which blocked every
    later run as "unreadable").
    """
    tmp = write_temp(path, text)
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: exclusive create, then write
            return _create_in_place(path, text)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    fsync_dir(path.parent)
    return True


def _create_in_place(path: Path, text: str) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    fsync_dir(path.parent)
    return True


class FileSlot:
    """The run lock as ``.ftops/apply.lock``: created with ``O_CREAT|O_EXCL``, replaced atomically."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.path = lock_path(self.state_dir)

    def where(self) -> str:
        return str(self.path)

    def create(self, info: RunLockInfo) -> bool:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        remove_dead_temp_files(self.path)
        return _create_whole(self.path, dump_info(info))

    def read(self) -> RunLockInfo | None:
        for attempt in range(_READ_RETRIES):
            try:
                text = self.path.read_text(encoding="utf-8")
            except FileNotFoundError:
                return None
            info = parse_info(text)
            if info is not None:
                return info
            if attempt + 1 < _READ_RETRIES:
                time.sleep(0.05)
        raise StateError(
            "the run lock file is unreadable",
            where=str(self.path),
            hint="if no ftops run is in progress for this project, delete this file and retry",
        )

    def replace(self, info: RunLockInfo) -> bool:
        current = self.read()
        if current is None or current.id != info.id:
            return False
        atomic_write_text(self.path, dump_info(info))
        return True

    def remove(self, lock_id: str) -> bool:
        """Delete the lock only if it is still ``lock_id``, under a short-lived guard file.

        Without the guard two processes that both saw the same dead holder could race: the first deletes it
        and creates its own lock, the second then deletes the *new* lock. The guard serialises check-and-delete.
        Returns False when the lock is another one, or another process holds the guard (taking over now).
        """
        guard = self.path.with_name(self.path.name + ".takeover")
        me = f"{socket.gethostname()} {os.getpid()}"
        if not _create_whole(guard, me):
            with contextlib.suppress(OSError):
                # Its holder was killed while taking over or releasing (the guard names its host and pid):
                # nobody else would ever remove it. A guard from another host is only trusted for a while.
                host, _, pid = guard.read_text(encoding="utf-8").strip().partition(" ")
                dead = host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))
                if dead or time.time() - guard.stat().st_mtime > _TAKEOVER_GUARD_MAX_AGE:
                    guard.unlink()
            return False
        try:
            try:
                current = self.read()
            except StateError:
                return False  # not ours to judge: someone replaced it with something unreadable
            if current is None or current.id != lock_id:
                return False
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            fsync_dir(self.path.parent)
            return True
        finally:
            with contextlib.suppress(OSError):
                guard.unlink()

    def holder_is_dead(self, holder: RunLockInfo) -> bool:
        return is_dead_local_holder(holder)

    def released(self) -> None:
        return None


LockTarget = Path | RunLockSlot


def as_slot(target: LockTarget) -> RunLockSlot:
    """A state directory means the file slot in it (what every caller passed before backends existed)."""
    return FileSlot(target) if isinstance(target, (Path, str)) else target


def read_run_lock(target: LockTarget) -> RunLockInfo | None:
    """The current holder, or None when nobody holds the lock."""
    return as_slot(target).read()


# -- holding the lock -------------------------------------------------------------------------------------


class RunLock:
    """A held run lock. Renew it while working; release it when done (or use :meth:`hold`)."""

    def __init__(
        self,
        slot: RunLockSlot,
        info: RunLockInfo,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        took_over: RunLockInfo | None = None,
    ) -> None:
        self.slot = slot
        self.info = info
        self.took_over = took_over  # the dead holder this lock replaced, for the caller to report
        self.lease_seconds = lease_seconds
        self._lost: StateError | None = None
        self._mutex = threading.Lock()

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def path(self) -> Path:
        """The lock file (file backend only; kept for callers written before remote backends)."""
        if isinstance(self.slot, FileSlot):
            return self.slot.path
        raise AttributeError("this run lock is not a file")

    def renew(self, lease_seconds: float | None = None) -> None:
        """Extend the lease from now; fails if the lock was force-unlocked or taken over meanwhile."""
        with self._mutex:
            if lease_seconds is not None:
                self.lease_seconds = lease_seconds
            info = self.info.model_copy(update={"lease_expires_at": _ts(time.time() + self.lease_seconds)})
            if not self.slot.replace(info):
                current = self.slot.read()
                holder = f"it is now held by {current.describe()}" if current else "the lock is gone"
                self._lost = StateError(
                    f"this run lost the run lock {self.info.id}: {holder}",
                    where=self.slot.where(),
                    hint="someone ran `ftops force-unlock` (or took the lock over); stop, and run ftops plan again",
                )
                raise self._lost
            self.info = info

    def check(self) -> None:
        """Raise if the heartbeat found the lock taken away (apply calls this between steps)."""
        if self._lost is not None:
            raise self._lost

    def release(self) -> bool:
        """Remove the lock if it is still ours; True when removed (never raises: runs in cleanup)."""
        with self._mutex:
            try:
                return self.slot.remove(self.info.id)
            except Exception:
                return False  # an unreachable backend: the lease (or the ended session) frees it
            finally:
                with contextlib.suppress(Exception):
                    self.slot.released()

    @classmethod
    @contextlib.contextmanager
    def hold(
        cls,
        target: LockTarget,
        operation: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        *,
        renew_every: float | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> Iterator[RunLock]:
        """Acquire, renew every ``lease_seconds / 3`` in a background thread, release on exit."""
        held = acquire(target, operation, lease_seconds, notify=notify)
        stop = threading.Event()
        interval = renew_every if renew_every is not None else lease_seconds / 3

        def heartbeat() -> None:
            while not stop.wait(interval):
                try:
                    held.renew()
                except Exception:  # recorded in held._lost (or a transient error: try again next beat)
                    if held._lost is not None:
                        return

        thread = threading.Thread(target=heartbeat, name="ftops-runlock-heartbeat", daemon=True)
        thread.start()
        try:
            yield held
        finally:
            stop.set()
            thread.join(timeout=5.0)
            held.release()


def _new_info(operation: str, lease_seconds: float) -> RunLockInfo:
    now = time.time()
    return RunLockInfo(
        id=str(uuid.uuid4()),
        operation=operation,
        owner=current_owner(),
        created_at=_ts(now),
        lease_expires_at=_ts(now + lease_seconds),
    )


def held_error(where: str, holder: RunLockInfo) -> RunLockHeld:
    expired = holder.lease_expired()
    message = f"another ftops run holds the run lock: {holder.describe()}"
    if expired:
        message += " (the lease has expired: that run may have died without releasing it)"
    hint = f"wait for that run to finish; if you are sure it is no longer running, run `ftops force-unlock {holder.id}`"
    return RunLockHeld(message, where=where, hint=hint)


def _to_stderr(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def takeover_note(dead: RunLockInfo) -> str:
    return (
        f"Note: took over the run lock {dead.id} left by {dead.owner.describe()} (`{dead.operation}` since "
        f"{dead.created_at}): that process is no longer running."
    )


def acquire(
    target: LockTarget,
    operation: str,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    *,
    notify: Callable[[str], None] | None = None,
) -> RunLock:
    """Take the run lock or raise :class:`RunLockHeld` naming the holder.

    A lock left by a provably dead holder is taken over; ``notify`` (default: stderr) is told so.
    """
    slot = as_slot(target)
    took_over: RunLockInfo | None = None
    deadline = time.monotonic() + _CONTENTION_SECONDS
    while time.monotonic() < deadline:  # create; or remove a dead holder and create again
        info = _new_info(operation, lease_seconds)
        if slot.create(info):
            if took_over is not None:
                (notify or _to_stderr)(takeover_note(took_over))
            return RunLock(slot, info, lease_seconds=lease_seconds, took_over=took_over)
        holder = slot.read()
        if holder is None:
            time.sleep(0.01)
            continue  # released between our attempt and the read (or its holder is writing it right now)
        if not slot.holder_is_dead(holder):
            slot.released()
            raise held_error(slot.where(), holder)
        if slot.remove(holder.id):
            took_over = holder
        else:
            time.sleep(0.01)  # another process is taking over: let it finish, then look again
    holder = slot.read()
    slot.released()
    if holder is None:
        raise StateError("could not take the run lock (too much contention)", where=slot.where(), hint="retry")
    raise held_error(slot.where(), holder)


def force_unlock(target: LockTarget, lock_id: str) -> RunLockInfo:
    """Remove the run lock, but only when ``lock_id`` is its exact id; returns what was removed."""
    slot = as_slot(target)
    holder = slot.read()
    if holder is None:
        raise StateError("no run lock is held; nothing to unlock", where=slot.where())
    if holder.id != lock_id.strip():
        raise StateError(
            f"the run lock id is {holder.id}, not {lock_id} (held by {holder.owner.describe()})",
            where=slot.where(),
            hint=f"check that this is the lock you mean, then run `ftops force-unlock {holder.id}`",
        )
    if not slot.remove(holder.id):
        raise StateError("the run lock changed while unlocking it", where=slot.where(), hint="look again and retry")
    return holder
