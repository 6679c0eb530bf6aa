"""The ``postgres`` backend: the lock document, its journal and the run lock in a PostgreSQL database.

One database can hold many projects: every row is keyed by the project's ``name`` from ``ftops.toml``.
Schema: ``ftops_schema_version`` (one row, the layout version), ``ftops_state`` (the document with its
lineage, serial and a write counter ``version``), ``ftops_journal`` (intent records as rows) and
``ftops_run_lock`` (one row per held lock: id, owner, lease). Tables are created on first use under a
transaction-scoped advisory lock, so two first runs do not race.

Writes are compare-and-swap: ``UPDATE … WHERE version = <read>`` (``INSERT … ON CONFLICT DO NOTHING`` for the
first one), each statement its own committed (WAL-fsynced) transaction. The run lock is a row *and* a
session-scoped ``pg_try_advisory_lock`` whose key is derived from the schema and project name (not a
constant: Terraform's pg backend collided across schemas, hashicorp/terraform#33217). The advisory lock
belongs to this process's database session, so when a runner dies (kill -9, lost VM) the server ends the
session and frees it: the next run gets the advisory lock, which proves the row's holder is gone, and takes
over. The connection URL comes from an environment variable and never appears in a message: errors name
``host:port/dbname`` and the variable only.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ftops.errors import ConfigError, StateError
from ftops.state.backend import StateConflict, StoredState
from ftops.state.runlock import RunLockInfo, dump_info, parse_info

SCHEMA_VERSION = 1
_CONNECT_TIMEOUT_S = 10
_ADVISORY_TRIES = 6  # ~0.5 s for the session of a just-killed holder to end

_DDL_V1 = (
    "CREATE TABLE IF NOT EXISTS {s}.ftops_schema_version (version integer PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS {s}.ftops_state (name text PRIMARY KEY, version bigint NOT NULL, "
    "lineage text, serial bigint, document text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS {s}.ftops_journal (id bigserial PRIMARY KEY, name text NOT NULL, "
    "record text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ftops_journal_by_name ON {s}.ftops_journal (name, id)",
    "CREATE TABLE IF NOT EXISTS {s}.ftops_run_lock (name text PRIMARY KEY, lock_id text NOT NULL, "
    "info text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())",
)


def advisory_key(schema: str, name: str) -> int:
    """A signed 64-bit advisory-lock key unique to this project (schema + name), stable across machines."""
    digest = hashlib.sha256(f"ftops-run-lock:{schema}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _import_psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "the postgres backend needs the psycopg package",
            hint="pip install 'ftops[postgres]'",
        ) from None
    return psycopg


class PostgresBackend:
    """:class:`~ftops.state.backend.StateBackend` on PostgreSQL (one connection, one session, per process)."""

    def __init__(self, url: str, *, name: str, schema: str = "public", url_env: str = "the URL variable") -> None:
        self._url = url
        self.name = name
        self.schema = schema
        self.url_env = url_env
        self._conn: Any = None
        self._mutex = threading.RLock()
        self._target = _describe_url(url)

    # -- connection ------------------------------------------------------------------------------------

    def describe(self) -> str:
        return f"postgres {self._target} schema {self.schema} project {self.name!r}"

    def redact(self, text: str) -> str:
        """``text`` with the URL and its password removed (server messages may echo parts of the DSN)."""
        out = text.replace(self._url, f"${self.url_env}")
        password = _password_of(self._url)
        return out.replace(password, "***") if password else out

    def _connect(self) -> Any:
        psycopg = _import_psycopg()
        try:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=_CONNECT_TIMEOUT_S)
        except psycopg.OperationalError as exc:
            reason = self.redact(" ".join(str(exc).split()) or type(exc).__name__)
            if "password" in reason or "authentication" in reason or "role" in reason:
                raise StateError(
                    f"the postgres backend refused the credentials: {reason}",
                    where=f"{self._target} (from ${self.url_env})",
                    hint=f"check the user and password in ${self.url_env}",
                ) from None
            raise StateError(
                f"cannot reach the postgres backend: {reason}",
                where=f"{self._target} (from ${self.url_env})",
                hint=f"check that the server is running and that ${self.url_env} names it; nothing was changed",
            ) from None
        except psycopg.Error as exc:
            raise StateError(f"cannot connect to the postgres backend: {self.redact(str(exc))}",
                             where=self._target, hint=f"check ${self.url_env}") from None
        self._ensure_schema(conn)
        return conn

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """A cursor on this process's session; database errors become StateError (redacted)."""
        psycopg = _import_psycopg()
        with self._mutex:
            if self._conn is None:
                self._conn = self._connect()
            try:
                with self._conn.cursor() as cur:
                    yield cur
            except psycopg.OperationalError as exc:
                self._conn = None  # the session is gone (and with it any advisory lock it held)
                raise StateError(f"lost the connection to the postgres backend: {self.redact(str(exc))}",
                                 where=self.describe(), hint="check the server, then run ftops plan again") from None
            except psycopg.Error as exc:
                raise StateError(f"the postgres backend failed: {self.redact(str(exc))}",
                                 where=self.describe()) from None

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _ensure_schema(self, conn: Any) -> None:
        from psycopg import sql

        schema = sql.Identifier(self.schema)
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (advisory_key(self.schema, "\x00schema"),))
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema))
            for ddl in _DDL_V1:
                cur.execute(sql.SQL(ddl).format(s=schema))
            cur.execute(sql.SQL("SELECT max(version) FROM {}.ftops_schema_version").format(schema))
            row = cur.fetchone()
            found = row[0] if row else None
            if found is None:
                cur.execute(sql.SQL("INSERT INTO {}.ftops_schema_version VALUES (%s)").format(schema),
                            (SCHEMA_VERSION,))
            elif found > SCHEMA_VERSION:
                raise StateError(
                    f"the state tables in schema {self.schema} are version {found}; this ftops knows {SCHEMA_VERSION}",
                    where=self._target, hint="upgrade ftops (a newer version wrote this state)",
                )

    def _sql(self, text: str) -> Any:
        from psycopg import sql

        return sql.SQL(text).format(s=sql.Identifier(self.schema))

    # -- the document ----------------------------------------------------------------------------------

    def read(self) -> StoredState | None:
        with self.cursor() as cur:
            cur.execute(self._sql("SELECT document, version FROM {s}.ftops_state WHERE name = %s"), (self.name,))
            row = cur.fetchone()
        return None if row is None else StoredState(text=row[0], version=str(row[1]))

    def write(self, text: str, *, expected: str | None) -> str:
        lineage, serial = _identity_of(text)
        if expected is not None and not expected.isdigit():
            raise StateConflict("the version to replace is not one this backend wrote", where=self.describe(),
                                hint="run ftops plan again")
        with self.cursor() as cur:
            if expected is None:
                cur.execute(self._sql(
                    "INSERT INTO {s}.ftops_state (name, version, lineage, serial, document) VALUES (%s, 1, %s, %s, %s) "
                    "ON CONFLICT (name) DO NOTHING RETURNING version"), (self.name, lineage, serial, text))
            else:
                cur.execute(self._sql(
                    "UPDATE {s}.ftops_state SET version = version + 1, lineage = %s, serial = %s, document = %s, "
                    "updated_at = now() WHERE name = %s AND version = %s RETURNING version"),
                    (lineage, serial, text, self.name, int(expected)))
            row = cur.fetchone()
        if row is None:
            raise StateConflict(
                "the state moved underneath this run: another run wrote it since this one read it",
                where=self.describe(), hint="run ftops plan again (nothing of this write was stored)",
            )
        return str(row[0])

    # -- the journal -----------------------------------------------------------------------------------

    def append_journal(self, record: str) -> None:
        with self.cursor() as cur:
            cur.execute(self._sql("INSERT INTO {s}.ftops_journal (name, record) VALUES (%s, %s)"), (self.name, record))

    def read_journal(self) -> list[str]:
        with self.cursor() as cur:
            cur.execute(self._sql("SELECT record FROM {s}.ftops_journal WHERE name = %s ORDER BY id"), (self.name,))
            return [r[0] for r in cur.fetchall()]

    def clear_journal(self) -> None:
        with self.cursor() as cur:
            cur.execute(self._sql("DELETE FROM {s}.ftops_journal WHERE name = %s"), (self.name,))

    # -- the run lock ----------------------------------------------------------------------------------

    def run_lock_slot(self) -> PostgresSlot:
        # A session of its own: advisory locks are re-entrant within one session, so two slots sharing a
        # connection would both "win".
        return PostgresSlot(PostgresBackend(self._url, name=self.name, schema=self.schema, url_env=self.url_env))


class PostgresSlot:
    """The run lock as a row plus this session's advisory lock (see the module docstring)."""

    def __init__(self, backend: PostgresBackend) -> None:
        self.backend = backend
        self.key = advisory_key(backend.schema, backend.name)
        self._have_advisory = False

    def where(self) -> str:
        return self.backend.describe()

    def create(self, info: RunLockInfo) -> bool:
        with self.backend.cursor() as cur:
            for attempt in range(_ADVISORY_TRIES):
                if self._have_advisory:
                    break
                if attempt:
                    # A runner killed a moment ago: its session ends as soon as the server reads the closed
                    # socket. A short wait turns that race into a takeover instead of a "lock held" error.
                    time.sleep(0.1)
                cur.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
                row = cur.fetchone()
                self._have_advisory = bool(row and row[0])
            if not self._have_advisory:
                return False  # a live session holds the project's lock
            cur.execute(self.backend._sql(
                "INSERT INTO {s}.ftops_run_lock (name, lock_id, info) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO NOTHING"),
                (self.backend.name, info.id, dump_info(info)))
            return bool(cur.rowcount == 1)

    def read(self) -> RunLockInfo | None:
        with self.backend.cursor() as cur:
            cur.execute(self.backend._sql("SELECT info FROM {s}.ftops_run_lock WHERE name = %s"), (self.backend.name,))
            row = cur.fetchone()
        if row is None:
            return None
        info = parse_info(row[0])
        if info is None:
            raise StateError("the run lock row is unreadable", where=self.where(),
                             hint=f"if no ftops run is in progress, delete the row named {self.backend.name!r} "
                                  "from ftops_run_lock")
        return info

    def replace(self, info: RunLockInfo) -> bool:
        try:
            with self.backend.cursor() as cur:
                cur.execute(self.backend._sql(
                    "UPDATE {s}.ftops_run_lock SET info = %s WHERE name = %s AND lock_id = %s"),
                    (dump_info(info), self.backend.name, info.id))
                return bool(cur.rowcount == 1)
        except StateError:
            if self.backend.connected:
                raise
            # The session ended (force-unlock terminated it, or the server restarted): the advisory lock
            # went with it, so this run no longer holds the run lock whatever the row says.
            self._have_advisory = False
            return False

    def remove(self, lock_id: str) -> bool:
        with self.backend.cursor() as cur:
            if not self._have_advisory:
                # force-unlock of a live (stuck) session: end that session so its advisory lock goes too.
                self._terminate_holders(cur)
            cur.execute(self.backend._sql("DELETE FROM {s}.ftops_run_lock WHERE name = %s AND lock_id = %s"),
                        (self.backend.name, lock_id))
            return bool(cur.rowcount == 1)

    def _terminate_holders(self, cur: Any) -> None:
        unsigned = self.key & 0xFFFFFFFFFFFFFFFF
        cur.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s::bigint::oid "
            "AND objid = %s::bigint::oid AND objsubid = 1 AND granted AND pid <> pg_backend_pid()",
            (unsigned >> 32, unsigned & 0xFFFFFFFF))
        for (pid,) in cur.fetchall():
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))

    def holder_is_dead(self, holder: RunLockInfo) -> bool:
        # We hold the project's advisory lock, so the session that wrote this row has ended.
        return self._have_advisory

    def released(self) -> None:
        if self._have_advisory:
            self._have_advisory = False
            with self.backend.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", (self.key,))


def _identity_of(text: str) -> tuple[str | None, int | None]:
    """Lineage and serial of a lock document, for people querying the table (the CAS uses ``version``)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    lineage = data.get("lineage")
    serial = data.get("serial")
    return (lineage if isinstance(lineage, str) else None, serial if isinstance(serial, int) else None)


def _conninfo(url: str) -> dict[str, str]:
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        return {}
    try:
        return {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except Exception:  # a malformed URL is reported by connect, redacted
        return {}


def _describe_url(url: str) -> str:
    info = _conninfo(url)
    host = info.get("host", "localhost")
    port = info.get("port", "5432")
    user = info.get("user")
    db = info.get("dbname", user or "postgres")
    return f"{user + '@' if user else ''}{host}:{port}/{db}"


def _password_of(url: str) -> str | None:
    return _conninfo(url).get("password") or None

