"""ftops.lock reading/writing: deterministic text, atomic replacement, and every corrupt-lock error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftops.errors import StateError
from ftops.state.lockfile import check_endpoint, dump_lock, new_lock, read_lock, write_lock
from ftops.state.model import Intent, LockedResource, LockFile

UPLOAD_MARKER = {"filename": "a.cdcdcdcdcdcd.jsonl", "sha256": "cd" * 32, "bytes": 10}
CREATE_MARKER = {"want": {"model": "open-mistral-7b", "suffix": "b"}, "attributes": {}}


def _sample() -> LockFile:
    lock = new_lock("local")
    lock.lineage = "6f1d2c3b-0000-4000-8000-000000000001"
    lock.serial = 7
    lock.resources["job.support"] = LockedResource(
        kind="job", remote_id="5f1c", fingerprint="ab" * 32, status="RUNNING", attributes={"z": 1, "a": "é"}
    )
    lock.resources["file.train"] = LockedResource(kind="file", remote_id="f-1", fingerprint="cd" * 32)
    lock.intents = [
        Intent(id="i2", address="job.b", action="create", fingerprint="x", started_at=20.0, marker=CREATE_MARKER),
        Intent(id="i1", address="file.a", action="upload", fingerprint="y", started_at=10.0, marker=UPLOAD_MARKER),
    ]
    return lock


def test_missing_lock_reads_as_none(tmp_path: Path) -> None:
    assert read_lock(tmp_path / "ftops.lock") is None


def test_new_lock_has_fresh_lineage_and_serial_zero() -> None:
    a, b = new_lock("local"), new_lock("local")
    assert a.serial == 0 and a.endpoint == "local"
    assert a.lineage != b.lineage and len(a.lineage) == 36


def test_dump_is_deterministic_sorted_and_ends_with_newline(tmp_path: Path) -> None:
    lock = _sample()
    text = dump_lock(lock)
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert '"a": "é"' in text  # readable, not \u00e9
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert list(data["resources"]) == ["file.train", "job.support"]
    assert [i["id"] for i in data["intents"]] == ["i1", "i2"]  # by start time, whatever the insertion order
    assert '\n  "format_version"' in text  # two-space indent
    reordered = _sample()
    reordered.intents.reverse()
    reordered.resources = dict(reversed(list(reordered.resources.items())))
    assert dump_lock(reordered) == text

    path = tmp_path / "ftops.lock"
    write_lock(path, lock)
    first = path.read_bytes()
    write_lock(path, read_lock(path))  # type: ignore[arg-type]
    assert path.read_bytes() == first  # round trip is byte-identical


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    write_lock(path, _sample())
    write_lock(path, _sample())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ftops.lock"]
    assert dump_lock(read_lock(path)) == dump_lock(_sample())  # type: ignore[arg-type]


def test_write_refuses_secrets_and_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "ftops.lock"
    write_lock(path, _sample())
    before = path.read_bytes()
    monkeypatch.setenv("WANDB_API_KEY", "0123456789abcdef0123456789abcdef01234567")
    lock = _sample()
    lock.resources["job.support"].attributes["wandb"] = "0123456789abcdef0123456789abcdef01234567"
    with pytest.raises(StateError) as err:
        write_lock(path, lock)
    assert "resources.job.support.attributes.wandb" in err.value.message
    assert "0123456789abcdef" not in err.value.render()
    assert path.read_bytes() == before


VALID = dump_lock(_sample())
CORRUPT_CASES = {
    "truncated": (VALID[: len(VALID) // 2], "truncated", "git checkout -- ftops.lock"),
    "empty": ("", "empty", "git checkout -- ftops.lock"),
    "garbage": ("hello, I am not JSON\n", "not valid JSON", "git checkout"),
    "merge conflict": (
        VALID.replace('  "serial": 7\n', '<<<<<<< HEAD\n  "serial": 7\n=======\n  "serial": 9\n>>>>>>> feature\n'),
        "merge-conflict marker",
        "keeping ONE side",
    ),
    "newer version": (VALID.replace('"format_version": 1', '"format_version": 99'), "format_version 99", "upgrade"),
    "wrong type": (VALID.replace('"serial": 7', '"serial": "seven"'), "serial", "git checkout"),
    "bad field": (VALID.replace('"remote_id": "f-1"', '"remote_id": 5'), "resources.file.train.remote_id", "git"),
    "array": ("[1, 2]\n", "JSON object", "git checkout"),
    "bad address": (VALID.replace('"file.train"', '"bucket.train"'), "invalid resource address", "git"),
    "kind mismatch": (VALID.replace('"kind": "file"', '"kind": "model"'), "address says", "git checkout"),
}


@pytest.mark.parametrize("case", sorted(CORRUPT_CASES))
def test_corrupt_lock_gives_location_and_hint_and_is_untouched(tmp_path: Path, case: str) -> None:
    text, message, hint = CORRUPT_CASES[case]
    assert text != VALID  # the case really corrupts something
    path = tmp_path / "ftops.lock"
    path.write_text(text, encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(StateError) as err:
        read_lock(path)
    rendered = err.value.render()
    assert message in rendered
    assert hint in rendered
    assert str(path) in rendered
    assert "Traceback" not in rendered
    assert path.read_bytes() == before


def test_merge_conflict_points_at_the_marker_line(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    text = CORRUPT_CASES["merge conflict"][0]
    path.write_text(text, encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("<<<<<<<"))
    with pytest.raises(StateError) as err:
        read_lock(path)
    assert err.value.where == f"{path}:{line}"


def test_invalid_json_reports_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    path.write_text('{\n  "serial": 1,\n  oops\n}\n', encoding="utf-8")
    with pytest.raises(StateError) as err:
        read_lock(path)
    assert err.value.where == f"{path}:3:3"


def test_hint_mentions_backup_when_one_exists(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    path.write_text("{", encoding="utf-8")
    (tmp_path / ".ftops").mkdir()
    (tmp_path / ".ftops" / "ftops.lock.backup").write_text(VALID, encoding="utf-8")
    with pytest.raises(StateError) as err:
        read_lock(path)
    assert "ftops.lock.backup" in (err.value.hint or "")


def test_non_utf8_lock(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(StateError, match="not UTF-8"):
        read_lock(path)


def test_check_endpoint() -> None:
    lock = new_lock("local")
    check_endpoint(lock, "local")
    check_endpoint(None, "https://api.mistral.ai")
    check_endpoint(new_lock(None), "https://api.mistral.ai")
    with pytest.raises(StateError) as err:
        check_endpoint(lock, "https://api.mistral.ai")
    assert "embedded local API" in err.value.message and "https://api.mistral.ai" in err.value.message
    assert "FTOPS_ENDPOINT=local" in (err.value.hint or "")


def test_canonical_text_is_dump_lock_byte_for_byte_across_changes() -> None:
    from ftops.state.lockfile import CanonicalText

    renderer = CanonicalText()
    lock = _sample()
    assert renderer.render(lock) == dump_lock(lock)
    lock.resources["model.m"] = LockedResource(kind="model", remote_id="ft:x", fingerprint="job.support",
                                               attributes={"resources": {}, "nested": {"a": [1, {"b": "é\n"}]}})
    lock.resources["file.train"] = LockedResource(kind="file", remote_id="f-2", fingerprint="cd" * 32)
    lock.token_counts["ab" * 32 + "/t"] = 12
    assert renderer.render(lock) == dump_lock(lock)
    lock.resources.clear()
    assert renderer.render(lock) == dump_lock(lock)
