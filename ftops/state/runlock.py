"""The run lock ``.ftops/apply.lock``: one mutating ftops run per project at a time, with an owner and a lease.

Acquisition is an ``O_CREAT|O_EXCL`` create, so two processes racing for it get exactly one winner. The file
names its owner (user, host, pid, CI run) and a lease that the holder renews while it works
(:meth:`RunLock.hold` runs a small heartbeat thread). A held lock is reported with everything needed to decide
what to do, and ``ftops force-unlock ID`` removes it only when given the exact id. The one automatic takeover
is safe by construction: the holder ran on *this* host and its pid is gone, so it cannot be renewing or
writing. A lock from another host is never broken automatically, even with an expired lease: ftops cannot
see whether that process still runs, so the message says the lease expired and leaves the decision to a human.
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

from pydantic import BaseModel, ConfigDict, ValidationError

from ftops.errors import RunLockHeld, StateError
from ftops.state.atomic import atomic_write_text, fsync_dir, pid_alive

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
    """What ``.ftops/apply.lock`` holds."""

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


def _ts(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_ts(text: str) -> float:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return 0.0  # an unreadable lease counts as expired; takeover still needs a dead local pid


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


def lock_path(state_dir: Path) -> Path:
    return Path(state_dir) / RUN_LOCK_NAME


def read_run_lock(state_dir: Path) -> RunLockInfo | None:
    """The current holder, or None when nobody holds the lock."""
    path = lock_path(state_dir)
    for attempt in range(_READ_RETRIES):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            return RunLockInfo.model_validate(json.loads(text))
        except (json.JSONDecodeError, ValidationError):
            if attempt + 1 < _READ_RETRIES:
                time.sleep(0.05)
    raise StateError(
        "the run lock file is unreadable",
        where=str(path),
        hint="if no ftops run is in progress for this project, delete this file and retry",
    )


class RunLock:
    """A held run lock. Renew it while working; release it when done (or use :meth:`hold`)."""

    def __init__(
        self,
        path: Path,
        info: RunLockInfo,
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        took_over: RunLockInfo | None = None,
    ) -> None:
        self.path = path
        self.info = info
        self.took_over = took_over  # the dead holder this lock replaced, for the caller to report
        self.lease_seconds = lease_seconds
        self._lost: StateError | None = None
        self._mutex = threading.Lock()

    @property
    def id(self) -> str:
        return self.info.id

    def renew(self, lease_seconds: float | None = None) -> None:
        """Extend the lease from now; fails if the lock was force-unlocked or taken over meanwhile."""
        with self._mutex:
            if lease_seconds is not None:
                self.lease_seconds = lease_seconds
            current = read_run_lock(self.path.parent)
            if current is None or current.id != self.info.id:
                holder = f"it is now held by {current.describe()}" if current else "the lock file is gone"
                self._lost = StateError(
                    f"this run lost the run lock {self.info.id}: {holder}",
                    where=str(self.path),
                    hint="someone ran `ftops force-unlock` (or took the lock over); stop, and run ftops plan again",
                )
                raise self._lost
            info = self.info.model_copy(update={"lease_expires_at": _ts(time.time() + self.lease_seconds)})
            atomic_write_text(self.path, _dump(info))
            self.info = info

    def check(self) -> None:
        """Raise if the heartbeat found the lock taken away (apply calls this between steps)."""
        if self._lost is not None:
            raise self._lost

    def release(self) -> bool:
        """Remove the lock file if it is still ours; True when removed (never raises: runs in cleanup)."""
        with self._mutex:
            try:
                current = read_run_lock(self.path.parent)
            except StateError:
                return False  # not ours to judge: someone replaced it with something unreadable
            if current is None or current.id != self.info.id:
                return False
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            fsync_dir(self.path.parent)
            return True

    @classmethod
    @contextlib.contextmanager
    def hold(
        cls,
        state_dir: Path,
        operation: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        *,
        renew_every: float | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> Iterator[RunLock]:
        """Acquire, renew every ``lease_seconds / 3`` in a background thread, release on exit."""
        held = acquire(state_dir, operation, lease_seconds, notify=notify)
        stop = threading.Event()
        interval = renew_every if renew_every is not None else lease_seconds / 3

        def heartbeat() -> None:
            while not stop.wait(interval):
                try:
                    held.renew()
                except Exception:  # recorded in held._lost (or a transient IO error: try again next beat)
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


def _dump(info: RunLockInfo) -> str:
    return json.dumps(info.model_dump(mode="json"), sort_keys=True, indent=2) + "\n"


def _new_info(operation: str, lease_seconds: float) -> RunLockInfo:
    now = time.time()
    return RunLockInfo(
        id=str(uuid.uuid4()),
        operation=operation,
        owner=current_owner(),
        created_at=_ts(now),
        lease_expires_at=_ts(now + lease_seconds),
    )


def _try_create(path: Path, info: RunLockInfo) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(_dump(info))
        fh.flush()
        os.fsync(fh.fileno())
    fsync_dir(path.parent)
    return True


def _is_dead_local_holder(info: RunLockInfo) -> bool:
    return info.owner.host == socket.gethostname() and not pid_alive(info.owner.pid)


def _remove_if_still(path: Path, stale: RunLockInfo) -> bool:
    """Delete the stale lock only if it is still that exact lock, under a short-lived guard file.

    Without the guard two processes that both saw the same dead holder could race: the first deletes it and
    creates its own lock, the second then deletes the *new* lock. The guard serialises check-and-delete.
    Returns False when another process holds the guard (it is taking over right now).
    """
    guard = path.with_name(path.name + ".takeover")
    try:
        fd = os.open(guard, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        with contextlib.suppress(OSError):
            if time.time() - guard.stat().st_mtime > _TAKEOVER_GUARD_MAX_AGE:
                guard.unlink()
        return False
    os.close(fd)
    try:
        current = read_run_lock(path.parent)
        if current is not None and current.id == stale.id:
            path.unlink()
    finally:
        with contextlib.suppress(OSError):
            guard.unlink()
    return True


def _held_error(path: Path, holder: RunLockInfo) -> RunLockHeld:
    expired = holder.lease_expired()
    message = f"another ftops run holds the run lock: {holder.describe()}"
    if expired:
        message += " (the lease has expired: that run may have died without releasing it)"
    hint = f"wait for that run to finish; if you are sure it is no longer running, run `ftops force-unlock {holder.id}`"
    return RunLockHeld(message, where=str(path), hint=hint)


def _to_stderr(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def takeover_note(dead: RunLockInfo) -> str:
    return (
        f"Note: took over the run lock {dead.id} left by {dead.owner.describe()} (`{dead.operation}` since "
        f"{dead.created_at}): that process is no longer running on this host."
    )


def acquire(
    state_dir: Path,
    operation: str,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    *,
    notify: Callable[[str], None] | None = None,
) -> RunLock:
    """Take the run lock or raise :class:`RunLockHeld` naming the holder.

    A lock left by a dead process on this host is taken over; ``notify`` (default: stderr) is told so.
    """
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    path = lock_path(state_dir)
    took_over: RunLockInfo | None = None
    deadline = time.monotonic() + _CONTENTION_SECONDS
    while time.monotonic() < deadline:  # create; or remove a dead holder and create again
        info = _new_info(operation, lease_seconds)
        if _try_create(path, info):
            if took_over is not None:
                (notify or _to_stderr)(takeover_note(took_over))
            return RunLock(path, info, lease_seconds=lease_seconds, took_over=took_over)
        holder = read_run_lock(state_dir)
        if holder is None:
            continue  # released between our attempt and the read
        if not _is_dead_local_holder(holder):
            raise _held_error(path, holder)
        if _remove_if_still(path, holder):
            took_over = holder
        else:
            time.sleep(0.01)  # another process is taking over: let it finish, then look again
    holder = read_run_lock(state_dir)
    if holder is None:
        raise StateError("could not take the run lock (too much contention)", where=str(path), hint="retry")
    raise _held_error(path, holder)


def force_unlock(state_dir: Path, lock_id: str) -> RunLockInfo:
    """Remove the run lock, but only when ``lock_id`` is its exact id; returns what was removed."""
    path = lock_path(state_dir)
    holder = read_run_lock(state_dir)
    if holder is None:
        raise StateError("no run lock is held; nothing to unlock", where=str(path))
    if holder.id != lock_id.strip():
        raise StateError(
            f"the run lock id is {holder.id}, not {lock_id} (held by {holder.owner.describe()})",
            where=str(path),
            hint=f"check that this is the lock you mean, then run `ftops force-unlock {holder.id}`",
        )
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fsync_dir(path.parent)
    return holder
