"""Reading and writing ``ftops.lock``: deterministic JSON, atomic replacement, and errors that say how to recover.

The lock file is committed to git, so its text must only change when its meaning does: keys sorted, two-space
indent, a trailing newline, intents in a stable order, no "written at" timestamps. Writes go through
:func:`ftops.state.atomic.atomic_write_text` so a crash leaves either the previous or the next complete file.
Every way the file can be unusable (truncated, garbage, a git merge conflict, a newer format, wrong field
types, a different API) becomes a :class:`~ftops.errors.StateError` with where and a hint, and the bad file is
never overwritten: the user's copy stays byte-identical so ``git`` or a backup can restore it.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ftops.addresses import Address
from ftops.errors import FtopsError, Location, StateError
from ftops.redact import redact_url
from ftops.state.atomic import atomic_write_text
from ftops.state.model import LOCK_FORMAT_VERSION, LockFile
from ftops.state.secrets import secret_paths

LOCK_FILE_NAME = "ftops.lock"
BACKUP_SUFFIX = ".backup"
_CONFLICT_MARKER = re.compile(r"^(<{7}|={7}|>{7}|\|{7})(\s|$)")


def new_lock(endpoint: str | None) -> LockFile:
    """A fresh lock for a project that has none yet: a new lineage, serial 0."""
    return LockFile(lineage=str(uuid.uuid4()), serial=0, endpoint=endpoint)


def backup_path_for(path: Path) -> Path:
    """Where :class:`~ftops.state.store.LockStore` keeps the lock as it was before the current apply."""
    path = Path(path)
    return path.parent / ".ftops" / f"{path.name}{BACKUP_SUFFIX}"


def _restore_hint(path: Path) -> str:
    backup = backup_path_for(path)
    options = []
    if backup.is_file():
        options.append(f"copy the backup {backup} (the lock before the last apply) over it")
    options.append(f"restore the committed version with `git checkout -- {path.name}`")
    return " or ".join(options) + "; ftops left the file untouched"


def _lock_payload(lock: LockFile) -> dict[str, Any]:
    data = lock.model_dump(mode="json")
    # Intents are appended from parallel apply steps; order them by time so two runs doing the same work
    # write the same text.
    data["intents"] = sorted(data["intents"], key=lambda i: (i["started_at"], i["id"]))
    if not data["token_counts"]:
        del data["token_counts"]  # a project that never counted tokens keeps the lock it had
    return data


def dump_lock(lock: LockFile) -> str:
    """The canonical text of a lock file (the same lock always gives byte-identical text)."""
    return json.dumps(_lock_payload(lock), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def scrub(lock: LockFile, *, where: str = LOCK_FILE_NAME) -> None:
    """Refuse to persist a lock that contains anything shaped like a credential (a bug upstream, never data)."""
    found = secret_paths(_lock_payload(lock))
    if found:
        raise StateError(
            f"refusing to write a secret-looking value into the lock file at {', '.join(found)}",
            where=where,
            hint="this is a bug in ftops (secrets must stay in environment variables); please report it",
        )


def write_lock(path: Path, lock: LockFile) -> None:
    """Atomically replace ``path`` with ``lock`` (temp file, fsync, rename, fsync of the directory)."""
    path = Path(path)
    scrub(lock, where=str(path))
    atomic_write_text(path, dump_lock(lock))


def _conflict_line(text: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if _CONFLICT_MARKER.match(line):
            return number
    return None


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def json_problem(text: str, exc: json.JSONDecodeError) -> str:
    """Say "truncated" when the JSON stops on its last line (a cut-off write or copy), else the parser's words."""
    body = text.rstrip()
    on_last_line = "\n" not in body[exc.pos :]
    if exc.pos > 0 and on_last_line and not body.endswith("}"):
        return "is truncated (it ends in the middle of the JSON)"
    return f"is not valid JSON: {exc.msg}"


def parse_lock(text: str, *, where: str) -> LockFile:
    """Parse lock file text; every problem becomes a StateError naming the place and the way back."""
    path = Path(where)
    conflict = _conflict_line(text)
    if conflict is not None:
        raise StateError(
            "the lock file contains a git merge-conflict marker",
            where=str(Location(where, conflict)),
            hint=(
                "resolve the conflict by keeping ONE side whole (e.g. `git checkout --theirs -- "
                f"{path.name}` or `--ours`), never a mix of both; then run `ftops plan` again, which "
                "re-reads the API and shows anything the other side created. See docs/lock-file.md"
            ),
        )
    if not text.strip():
        raise StateError("the lock file is empty (truncated)", where=where, hint=_restore_hint(path))
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(
            f"the lock file {json_problem(text, exc)}",
            where=str(Location(where, exc.lineno, exc.colno)),
            hint=_restore_hint(path),
        ) from None
    if not isinstance(raw, dict):
        raise StateError(
            f"the lock file must hold a JSON object, found {type(raw).__name__}",
            where=where,
            hint=_restore_hint(path),
        )
    version = raw.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > LOCK_FORMAT_VERSION:
        raise StateError(
            f"the lock file has format_version {version}, newer than this ftops understands ({LOCK_FORMAT_VERSION})",
            where=where,
            hint="upgrade ftops (pip install -U ftops) to the version your team uses; this one left it untouched",
        )
    try:
        lock = LockFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{_field_path(e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        raise StateError(
            f"the lock file does not match its format: {problems}{more}", where=where, hint=_restore_hint(path)
        ) from None
    _check_addresses(lock, where=where, path=path)
    return lock


def _check_addresses(lock: LockFile, *, where: str, path: Path) -> None:
    for key, resource in lock.resources.items():
        try:
            address = Address.parse(key)
        except FtopsError:
            raise StateError(
                f"the lock file has an invalid resource address {key!r}", where=where, hint=_restore_hint(path)
            ) from None
        if address.kind != resource.kind:
            raise StateError(
                f"resources.{key}.kind is {resource.kind!r} but the address says {address.kind!r}",
                where=where,
                hint=_restore_hint(path),
            )


def read_lock(path: Path) -> LockFile | None:
    """The lock at ``path``, or None when the project has none yet."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise StateError("the lock file path is a directory", where=str(path), hint="remove or rename it") from None
    except OSError as exc:
        raise StateError(f"cannot read the lock file: {exc.strerror}", where=str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateError(
            f"the lock file is not UTF-8 text (byte {exc.start})", where=str(path), hint=_restore_hint(path)
        ) from None
    return parse_lock(text, where=str(path))


def check_endpoint(lock: LockFile | None, identity: str, *, where: str = LOCK_FILE_NAME) -> None:
    """Refuse to use a lock written against another API (ids in it mean nothing there)."""
    if lock is None or lock.endpoint is None or lock.endpoint == identity:
        return
    shown = redact_url(lock.endpoint)  # the lock is user-editable: never echo a secret put in its URL
    recorded = "the embedded local API" if lock.endpoint == "local" else shown
    current = "the embedded local API" if identity == "local" else identity
    env_value = "local" if lock.endpoint == "local" else shown
    raise StateError(
        f"the lock file belongs to {recorded}, but this run targets {current}",
        where=where,
        hint=(
            f"use the matching endpoint (FTOPS_ENDPOINT={env_value}), or keep one lock per API with a separate "
            "project directory (ftops -C DIR) or `lock` in ftops.toml"
        ),
    )
