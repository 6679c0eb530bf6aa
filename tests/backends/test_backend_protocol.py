"""Every remote backend keeps the StateBackend promises on a real server: CAS writes, a durable journal, a run lock."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from ftops.errors import RunLockHeld, StateError
from ftops.state.backend import StateConflict
from ftops.state.backends.postgres import PostgresBackend
from ftops.state.backends.s3 import S3Backend
from ftops.state.runlock import RunLock, RunLockSlot, acquire, force_unlock

Backend = PostgresBackend | S3Backend


@pytest.fixture(params=["postgres", "s3"])
def backend(request: pytest.FixtureRequest) -> Backend:
    fixture = {"postgres": "pg_backend", "s3": "s3_backend"}[request.param]
    value = request.getfixturevalue(fixture)
    assert isinstance(value, (PostgresBackend, S3Backend))
    return value


def doc(serial: int) -> str:
    return json.dumps({"lineage": "L-1", "serial": serial, "resources": {}}, sort_keys=True) + "\n"


def test_document_is_written_with_compare_and_swap(backend: Backend) -> None:
    assert backend.read() is None
    v1 = backend.write(doc(1), expected=None)
    with pytest.raises(StateConflict, match="moved underneath"):
        backend.write(doc(1), expected=None)  # a second "first write" loses
    v2 = backend.write(doc(2), expected=v1)
    with pytest.raises(StateConflict) as err:
        backend.write(doc(3), expected=v1)  # a writer that read v1 is refused: re-plan
    assert "plan again" in err.value.render()
    stored = backend.read()
    assert stored is not None and stored.text == doc(2) and stored.version == v2


def test_concurrent_writers_from_one_version_exactly_one_wins(backend: Backend) -> None:
    base = backend.write(doc(1), expected=None)
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def writer(n: int) -> None:
        barrier.wait()
        try:
            backend.write(doc(10 + n), expected=base)
            outcomes.append(f"won {n}")
        except StateConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(winners) == 1 and outcomes.count("conflict") == 5
    stored = backend.read()
    assert stored is not None and json.loads(stored.text)["serial"] == 10 + int(winners[0].split()[1])


def test_journal_keeps_records_in_order_until_cleared(backend: Backend) -> None:
    assert backend.read_journal() == []
    records = [json.dumps({"intent": i}) for i in range(5)]
    for record in records:
        backend.append_journal(record)
    assert backend.read_journal() == records
    backend.clear_journal()
    assert backend.read_journal() == []


def _slot(backend: Backend) -> RunLockSlot:
    return backend.run_lock_slot()


def test_run_lock_names_its_holder_and_needs_the_exact_id_to_break(backend: Backend) -> None:
    held = acquire(_slot(backend), "apply", lease_seconds=60)
    with pytest.raises(RunLockHeld) as err:
        acquire(_slot(backend), "plan")
    text = err.value.render()
    assert held.id in text and "running `apply` since" in text and "lease until" in text
    assert f"ftops force-unlock {held.id}" in text
    with pytest.raises(StateError, match="not nope"):
        force_unlock(_slot(backend), "nope")
    held.renew()
    assert held.release() is True and _slot(backend).read() is None
    again = acquire(_slot(backend), "apply")
    assert again.id != held.id
    again.release()


def test_force_unlock_makes_the_holder_lose_its_lock(backend: Backend) -> None:
    held = acquire(_slot(backend), "apply")
    removed = force_unlock(_slot(backend), held.id)
    assert removed.id == held.id
    with pytest.raises(StateError, match="lost the run lock"):
        held.renew()
    nxt = acquire(_slot(backend), "apply")  # the project is usable again at once
    nxt.release()


def test_hold_heartbeat_renews_the_lease(backend: Backend) -> None:
    with RunLock.hold(_slot(backend), "apply", lease_seconds=30, renew_every=0.05) as held:
        first = held.info.lease_expires_at
        threading.Event().wait(1.2)
        current = _slot(backend).read()
        assert current is not None and current.id == held.id and current.lease_expires_at >= first
    assert _slot(backend).read() is None


def test_s3_server_really_honours_conditional_writes(s3_backend: S3Backend) -> None:
    """Not every S3-compatible store implements If-None-Match / If-Match: check the one we run, at the HTTP level."""
    key = s3_backend.key + ".probe"
    first = s3_backend.request("PUT", key, body=b"a", headers={"if-none-match": "*"})
    assert first.status_code == 200
    again = s3_backend.request("PUT", key, body=b"b", headers={"if-none-match": "*"})
    assert again.status_code == 412, f"If-None-Match ignored: {again.status_code}"
    stale = s3_backend.request("PUT", key, body=b"c", headers={"if-match": '"00000000000000000000000000000000"'})
    assert stale.status_code == 412, f"If-Match ignored: {stale.status_code}"
    ok = s3_backend.request("PUT", key, body=b"d", headers={"if-match": first.headers["etag"]})
    assert ok.status_code == 200
    assert s3_backend.request("GET", key).content == b"d"


def test_s3_wrong_credentials_and_unreachable_are_clear(s3_backend: S3Backend) -> None:
    from ftops.state.backends.s3 import Credentials

    secret = "wrong-secret-value-123"
    bad = S3Backend(bucket=s3_backend.bucket, key=s3_backend.key, credentials=Credentials("nobody", secret),
                    endpoint_url=s3_backend.endpoint)
    with pytest.raises(StateError) as err:
        bad.read()
    assert "refused" in err.value.render() and "AWS_SECRET_ACCESS_KEY" in err.value.render()
    assert secret not in err.value.render()
    gone = S3Backend(bucket="b", key="k", credentials=Credentials("a", secret), endpoint_url="http://127.0.0.1:9",
                     client=httpx.Client(timeout=2.0))
    with pytest.raises(StateError, match="cannot reach the s3 backend"):
        gone.read()
