"""Issue 15: the lock is read strictly, only from a regular file, within bounds; each case refused with its
place and a hint, the file untouched, and never an internal error (RecursionError, MemoryError, a hang)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from ftops.errors import StateError
from ftops.state.lockfile import dump_lock, new_lock, read_lock
from ftops.state.model import Intent, LockedResource

LINEAGE = "6f1d2c3b-0000-4000-8000-000000000001"


def _valid() -> dict[str, object]:
    lock = new_lock("local")
    lock.lineage = LINEAGE
    lock.serial = 5
    lock.resources["file.train"] = LockedResource(kind="file", remote_id="f-1", fingerprint="cd" * 32)
    lock.intents = [Intent(id="i1", address="job.a", action="create", fingerprint="x", started_at=10.0,
                           marker={"want": {"model": "open-mistral-7b", "suffix": "a"}, "attributes": {}})]
    data: dict[str, object] = json.loads(dump_lock(lock))
    return data


def _refused(tmp_path: Path, text: str) -> StateError:
    path = tmp_path / "ftops.lock"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StateError) as err:
        read_lock(path)
    assert path.read_text(encoding="utf-8") == text  # never modified
    rendered = err.value.render()
    assert str(path) in rendered and "hint:" in rendered
    return err.value


def _line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def _edit(**changes: object) -> str:
    data = _valid()
    for key, value in changes.items():
        if value is KeyError:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("serial", -1, "serial must be between 0"),
        ("serial", "5", "serial: Input should be a valid integer"),
        ("serial", 10**30, "serial must be between 0"),
        ("serial", True, "serial: Input should be a valid integer"),
        ("format_version", 0, "format_version is 0"),
        ("format_version", "1", "format_version: Input should be a valid integer"),
        ("lineage", "", "lineage must be a UUID"),
        ("lineage", "not-a-uuid", "lineage must be a UUID"),
        ("endpoint", 5, "endpoint"),
    ],
)
def test_out_of_range_or_wrongly_typed_fields_are_refused_at_their_line(
    tmp_path: Path, field: str, value: object, message: str
) -> None:
    text = _edit(**{field: value})
    err = _refused(tmp_path, text)
    assert message in err.message
    line = _line_of(text, json.dumps(field) + ":")
    assert err.where == f"{tmp_path / 'ftops.lock'}:{line}"


@pytest.mark.parametrize("missing", ["resources", "intents", "applied_plans", "endpoint", "serial", "lineage",
                                     "format_version"])
def test_a_lock_missing_a_required_key_is_refused_not_read_as_empty(tmp_path: Path, missing: str) -> None:
    err = _refused(tmp_path, _edit(**{missing: KeyError}))
    assert f"lacks {missing}" in err.message


def test_malformed_resource_entry_is_refused_with_its_line(tmp_path: Path) -> None:
    data = _valid()
    data["resources"] = {"file.train": {"kind": "file", "fingerprint": "x"}}  # no remote_id
    text = json.dumps(data, indent=2, sort_keys=True)
    err = _refused(tmp_path, text)
    assert "resources.file.train.remote_id" in err.message
    line = _line_of(text, '"file.train"')
    assert err.where == f"{tmp_path / 'ftops.lock'}:{line}"
    data["resources"] = {"file.train": "f-1"}
    assert "resources.file.train" in _refused(tmp_path, json.dumps(data)).message


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ({}, "marker lacks spec"),
        ({"want": {}}, "no want.model"),
        ({"want": "open-mistral-7b"}, "want of type str"),
    ],
)
def test_an_intent_marker_recovery_cannot_use_is_refused_at_read_time(
    tmp_path: Path, marker: dict[str, object], message: str
) -> None:
    data = _valid()
    data["intents"][0]["marker"] = marker  # type: ignore[index]
    text = json.dumps(data, indent=2, sort_keys=True)
    err = _refused(tmp_path, text)
    assert message in err.message and "intents[0] (job.a)" in err.message
    line = _line_of(text, '"marker"')
    assert err.where == f"{tmp_path / 'ftops.lock'}:{line}"


def test_partial_upload_marker_and_unknown_action_are_refused(tmp_path: Path) -> None:
    data = _valid()
    data["intents"][0].update(action="upload", address="file.a", marker={"filename": "a.jsonl"})  # type: ignore[index]
    assert "marker lacks sha256" in _refused(tmp_path, json.dumps(data)).message
    data["intents"][0].update(action="delete")  # type: ignore[index]
    assert "action 'delete'" in _refused(tmp_path, json.dumps(data)).message


def test_deep_nesting_is_a_clear_error_not_a_recursion_error(tmp_path: Path) -> None:
    err = _refused(tmp_path, "[" * 50_000)
    assert "nests" in err.message and "too deeply" in err.message
    data = _valid()
    deep: object = 1
    for _ in range(200):
        deep = [deep]
    data["resources"]["file.train"]["attributes"] = {"x": deep}  # type: ignore[index]
    assert "more than 64 deep" in _refused(tmp_path, json.dumps(data)).message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_at_the_lock_path_is_refused_without_hanging(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    os.mkfifo(path)
    outcome: list[BaseException] = []
    reader = threading.Thread(target=lambda: _capture(outcome, path), daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a FIFO as the lock hung"
    assert isinstance(outcome[0], StateError) and "FIFO" in outcome[0].message


def _capture(outcome: list[BaseException], path: Path) -> None:
    try:
        read_lock(path)
    except BaseException as exc:
        outcome.append(exc)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_as_the_lock_is_refused_without_memory_error(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    path.symlink_to("/dev/zero")
    with pytest.raises(StateError, match="device"):
        read_lock(path)


def test_a_directory_at_the_lock_path_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ftops.lock").mkdir()
    with pytest.raises(StateError, match="is a directory, not a regular file"):
        read_lock(tmp_path / "ftops.lock")


def test_a_lock_over_the_size_bound_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ftops.state.backends.file as file_backend

    monkeypatch.setattr(file_backend, "MAX_LOCK_BYTES", 1024)
    path = tmp_path / "ftops.lock"
    path.write_text(json.dumps(_valid()) + " " * 2048, encoding="utf-8")
    with pytest.raises(StateError, match="larger than"):
        read_lock(path)


def test_todays_locks_still_read(tmp_path: Path) -> None:
    """The shape every released ftops wrote (no token_counts key, empty applied_plans) stays readable."""
    path = tmp_path / "ftops.lock"
    text = dump_lock(new_lock("local"))
    assert "token_counts" not in text
    path.write_text(text, encoding="utf-8")
    assert read_lock(path) is not None
    path.write_text(json.dumps(_valid(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    lock = read_lock(path)
    assert lock is not None and lock.serial == 5 and lock.intents[0].marker["want"]["model"] == "open-mistral-7b"


def _with_job(attributes: dict[str, object]) -> dict[str, object]:
    data = _valid()
    resources = data["resources"]
    assert isinstance(resources, dict)
    resources["job.a"] = {"kind": "job", "remote_id": "j-1", "fingerprint": "fp", "attributes": attributes}
    return data


@pytest.mark.parametrize(("attributes", "field"), [
    ({"cost": "4.00"}, "attributes.cost"),
    ({"checkpoints": "3"}, "attributes.checkpoints"),
    ({"fingerprint_input": ["model"]}, "attributes.fingerprint_input"),
    ({"fingerprint_input": {"model": "m", "training_files": [{"sha256": "a", "weight": "2"}]}},
     "attributes.fingerprint_input.training_files.0.weight"),
    ({"fingerprint_input": {"model": "m", "hyperparameters": ["lr"]}}, "attributes.fingerprint_input.hyperparameters"),
])
def test_attributes_the_planner_reads_have_their_type(tmp_path: Path, attributes: dict[str, object],
                                                      field: str) -> None:
    # Found by the lock fuzzer: these used to fail deep inside planning as an internal error.
    err = _refused(tmp_path, json.dumps(_with_job(attributes), indent=2))
    assert f"resources.job.a.{field}" in err.message


def test_unknown_attributes_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "ftops.lock"
    path.write_text(json.dumps(_with_job({"added_by_a_newer_ftops": [1, 2]}), indent=2))
    lock = read_lock(path)
    assert lock is not None and lock.resources["job.a"].attributes["added_by_a_newer_ftops"] == [1, 2]


def test_an_escaped_lone_surrogate_is_refused_at_its_line(tmp_path: Path) -> None:
    text = json.dumps(_with_job({"name": "ok"}), indent=2).replace('"ok"', '"\\ud800"')
    err = _refused(tmp_path, text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "\\ud800" in t)
    assert "lone surrogate" in err.message and f"ftops.lock:{line}" in err.render()
    paired = json.dumps(_with_job({"name": "\U0001f600"}), indent=2)  # escaped as a valid pair
    (tmp_path / "ftops.lock").write_text(paired)
    assert read_lock(tmp_path / "ftops.lock") is not None
