"""Reading lock text strictly: every way it can be wrong becomes one StateError with ``file:line`` and a hint.

The lock is validated against its schema in pydantic's strict mode (``"5"`` is not a serial, ``true`` is
not a number), with ranges (serial 0 … 2^53−1), the exact supported ``format_version``, a UUID
``lineage``, every top-level key present (a lock without ``resources`` is refused, never read as empty),
intents whose marker holds what recovery needs, and a bounded nesting depth (50,000 nested ``[`` is a
clear error, not a RecursionError). A problem is located on its line by following its path through the
text, so a hand edit gone wrong points at the line to fix. The file itself is never modified.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ftops.addresses import Address
from ftops.errors import FtopsError, Location, StateError
from ftops.fieldsets import share_fields_sets
from ftops.state.attributes import attributes_problem
from ftops.state.model import LOCK_FORMAT_VERSION, MAX_SERIAL, MAX_TIMESTAMP, LockFile, intent_problems, is_uuid

BACKUP_SUFFIX = ".backup"
REQUIRED_KEYS = ("applied_plans", "endpoint", "format_version", "intents", "lineage", "resources", "serial")
MAX_DEPTH = 64  # the format nests 5 deep; attributes and markers add a few levels, never dozens
_CONFLICT_MARKER = re.compile(r"^(<{7}|={7}|>{7}|\|{7})(\s|$)")


def backup_path_for(path: Path) -> Path:
    """The backup of the lock at ``path``: the lock as it was before the last run that changed it from a clean
    state (see docs/lock-file.md, "Backups")."""
    path = Path(path)
    return path.parent / ".ftops" / f"{path.name}{BACKUP_SUFFIX}"


def restore_hint(path: Path) -> str:
    backup = backup_path_for(path)
    options = []
    if backup.is_file():
        options.append(f"copy the backup {backup} (the lock before the last apply) over it")
    options.append(f"restore the committed version with `git checkout -- {path.name}`")
    return " or ".join(options) + "; ftops left the file untouched"


def _conflict_line(text: str) -> int | None:
    if "<<<<<<<" not in text and ">>>>>>>" not in text and "=======" not in text and "|||||||" not in text:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if _CONFLICT_MARKER.match(line):
            return number
    return None


def field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def json_problem(text: str, exc: json.JSONDecodeError) -> str:
    """Say "truncated" when the JSON stops on its last line (a cut-off write or copy), else the parser's words."""
    body = text.rstrip()
    on_last_line = "\n" not in body[exc.pos :]
    if exc.pos > 0 and (exc.pos >= len(body) or (on_last_line and not body.endswith("}"))):
        return "is truncated (it ends in the middle of the JSON)"
    return f"is not valid JSON: {exc.msg}"


def locate(text: str, loc: tuple[int | str, ...]) -> int | None:
    """The line of the value at ``loc`` (keys followed in order through the text; list indexes counted)."""
    pos = 0
    found = False
    for part in loc:
        if isinstance(part, int):
            continue  # items are found through the keys inside them; good enough for a line number
        match = re.compile(re.escape(json.dumps(part, ensure_ascii=False)) + r"\s*:").search(text, pos)
        if match is None:
            match = re.compile(re.escape(json.dumps(part)) + r"\s*:").search(text, pos)
        if match is None:
            break
        pos, found = match.end(), True
    return text.count("\n", 0, pos) + 1 if found else None


def _too_deep(tree: object) -> bool:
    stack: list[tuple[object, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return False


def _refuse(message: str, where: str, path: Path, line: int | None = None) -> StateError:
    return StateError(message, where=str(Location(where, line)), hint=restore_hint(path))


def _load_json(text: str, where: str, path: Path) -> dict[str, Any]:
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
        raise StateError("the lock file is empty (truncated)", where=where, hint=restore_hint(path))
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StateError(
            f"the lock file {json_problem(text, exc)}",
            where=str(Location(where, exc.lineno, exc.colno)),
            hint=restore_hint(path),
        ) from None
    except RecursionError:
        raise _refuse("the lock file nests lists or objects too deeply to be a lock file", where, path) from None
    if not isinstance(raw, dict):
        raise _refuse(f"the lock file must hold a JSON object, found {type(raw).__name__}", where, path)
    surrogate = _lone_surrogate_line(text, raw)
    if surrogate is not None:
        raise _refuse("the lock file holds an escaped lone surrogate (e.g. \\ud800): not text ftops can write back",
                      where, path, surrogate)
    if _too_deep(raw):
        raise _refuse(f"the lock file nests lists or objects more than {MAX_DEPTH} deep", where, path)
    return raw


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _lone_surrogate_line(text: str, raw: dict[str, Any]) -> int | None:
    """The line of a ``\\udXXX`` escape that decodes to half a character (JSON allows it; UTF-8 cannot hold it).

    Only a text with such an escape is checked further (a valid pair is fine), so reading stays cheap."""
    first = _SURROGATE_ESCAPE.search(text)
    if first is None:
        return None
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return text.count("\n", 0, first.start()) + 1
    return None


def _check_version(raw: dict[str, Any], text: str, where: str, path: Path) -> None:
    version = raw.get("format_version")
    line = locate(text, ("format_version",))
    if isinstance(version, int) and not isinstance(version, bool) and version > LOCK_FORMAT_VERSION:
        raise StateError(
            f"the lock file has format_version {version}, newer than this ftops understands ({LOCK_FORMAT_VERSION})",
            where=str(Location(where, line)),
            hint="upgrade ftops (pip install -U ftops) to the version your team uses; this one left it untouched",
        )
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise _refuse(f"the lock file lacks {', '.join(missing)} (every lock file ftops writes has them)", where,
                      path, 1)


def parse_lock(text: str, *, where: str) -> LockFile:
    """Parse lock file text strictly; every problem becomes a StateError naming the place and the way back."""
    path = Path(where)
    raw = _load_json(text, where, path)
    _check_version(raw, text, where, path)
    try:
        lock = LockFile.model_validate(raw, strict=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        problems = "; ".join(f"{field_path(e['loc'])}: {e['msg']}" for e in errors[:5])
        more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
        raise _refuse(f"the lock file does not match its format: {problems}{more}", where, path,
                      locate(text, errors[0]["loc"])) from None
    problem = value_problem(lock)
    if problem is not None:
        message, loc = problem
        raise _refuse(f"the lock file does not match its format: {message}", where, path, locate(text, loc))
    _check_addresses(lock, text, where=where, path=path)
    share_fields_sets(lock)  # its resources: a lock of 10,000 held their own field sets (~7 MB)
    return lock


def value_problem(lock: LockFile) -> tuple[str, tuple[int | str, ...]] | None:
    """The first value out of its range (message, path), beyond what the types say; None when all are fine."""
    if lock.format_version != LOCK_FORMAT_VERSION:
        return f"format_version is {lock.format_version}, this ftops reads {LOCK_FORMAT_VERSION}", ("format_version",)
    if not 0 <= lock.serial <= MAX_SERIAL:
        return f"serial must be between 0 and {MAX_SERIAL}", ("serial",)
    if not is_uuid(lock.lineage):
        return "lineage must be a UUID (the id ftops gave this lock's history when it first wrote it)", ("lineage",)
    for key, resource in lock.resources.items():
        if not resource.remote_id:
            return f"resources.{key}.remote_id is empty", ("resources", key, "remote_id")
        wrong = attributes_problem(dict(resource.attributes))
        if wrong is not None:
            return f"resources.{key}.{wrong[0]}", ("resources", key, "attributes", *wrong[1])
        if resource.created_at is not None and not 0 <= resource.created_at <= MAX_TIMESTAMP:
            return f"resources.{key}.created_at is out of range", ("resources", key, "created_at")
    for index, intent in enumerate(lock.intents):
        if not intent.id:
            return f"intents[{index}].id is empty", ("intents", index, "id")
        if not 0 <= intent.started_at <= MAX_TIMESTAMP:
            return f"intents[{index}].started_at is out of range", ("intents", index, "started_at")
        problem = intent_problems(intent.action, intent.marker)
        if problem is not None:
            return f"intents[{index}] ({intent.address}) {problem}", ("intents", index, "marker")
    for key, count in lock.token_counts.items():
        if not 0 <= count <= MAX_SERIAL:
            return f"token_counts.{key} is out of range", ("token_counts", key)
    return None


def _check_addresses(lock: LockFile, text: str, *, where: str, path: Path) -> None:
    for key, resource in lock.resources.items():
        try:
            address = Address.parse(key)
        except FtopsError:
            raise _refuse(f"the lock file has an invalid resource address {key!r}", where, path,
                          locate(text, ("resources", key))) from None
        if address.kind != resource.kind:
            raise _refuse(f"resources.{key}.kind is {resource.kind!r} but the address says {address.kind!r}",
                          where, path, locate(text, ("resources", key)))
    for index, intent in enumerate(lock.intents):
        try:
            Address.parse(intent.address)
        except FtopsError:
            raise _refuse(f"intents[{index}] has an invalid address {intent.address!r}", where, path,
                          locate(text, ("intents",))) from None
