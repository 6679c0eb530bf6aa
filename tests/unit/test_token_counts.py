"""Token counts: the lock's committed counts are used before anything is read, apply records the exact
counts its plan used, and the parallel count of a large file is the same number as the serial one."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ftops.datasets import parallel as parallel_module
from ftops.datasets import validate, validate_path
from ftops.datasets.tokens import mistral_common_available
from ftops.hashing import HashCache
from ftops.state.store import LockStore
from ftops.tokencount import count_tokens, lock_key, token_lookup

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"
HH = SHARED / "hh_rlhf_harmless_base_test_messages.jsonl"
needs_tokenizers = pytest.mark.skipif(not mistral_common_available(), reason="needs mistral-common")


def _dataset(tmp_path: Path) -> Path:
    path = tmp_path / "train.jsonl"
    rows = [{"messages": [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"a{i}"}]}
            for i in range(50)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_a_count_recorded_in_the_lock_is_used_without_reading_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "not-checked-out.jsonl"  # a fresh clone: the count must not need the file
    sha = "a" * 64
    counter = token_lookup(HashCache(None), {lock_key(sha, "open-mistral-7b"): 12345})
    count = counter.count(missing, sha, "open-mistral-7b")
    assert count is not None and (count.tokens, count.exact) == (12345, True)
    assert counter.counted == 0
    assert counter.exact_counts == {f"{sha}/v3-spm": 12345}
    # Same tokenizer, same count: open-mistral-7b and codestral share v3 SentencePiece.
    assert counter.count(missing, sha, "codestral-latest") == count


@needs_tokenizers
def test_a_new_exact_count_is_reported_for_the_lock(tmp_path: Path) -> None:
    path = _dataset(tmp_path)
    counter = token_lookup(HashCache(None), {})
    count = counter.count(path, "b" * 64, "open-mistral-7b")
    assert count is not None and count.exact and counter.counted == 1
    assert counter.exact_counts == {f"{'b' * 64}/v3-spm": validate_path(path, model="open-mistral-7b").data_tokens}


def test_store_records_exactly_the_counts_used_and_skips_unchanged_writes(tmp_path: Path) -> None:
    store = LockStore.open(tmp_path / "ftops.lock", endpoint="http://127.0.0.1:1")
    store.record_token_counts({"c" * 64 + "/tekken": 7, "d" * 64 + "/v3-spm": 9})
    store.flush()
    serial = store.lock.serial
    assert json.loads((tmp_path / "ftops.lock").read_text())["token_counts"] == {
        "c" * 64 + "/tekken": 7, "d" * 64 + "/v3-spm": 9}
    store.record_token_counts({"d" * 64 + "/v3-spm": 9, "c" * 64 + "/tekken": 7})
    assert store.lock.serial == serial  # nothing new: no write
    store.record_token_counts({"d" * 64 + "/v3-spm": 9})  # a dataset no manifest uses any more drops out
    assert store.lock.token_counts == {"d" * 64 + "/v3-spm": 9}


@needs_tokenizers
@pytest.mark.skipif(not HH.exists(), reason="needs ../shared/datasets")
def test_parallel_count_equals_the_serial_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mixed.jsonl"
    with path.open("wb") as out:
        out.write(b"not json\n{\"messages\": []}\n")  # invalid rows before the first valid one
        shutil.copyfileobj(HH.open("rb"), out)
        out.write(b"{\"text\": \"a pretrain row in an instruct file\"}\n")
        shutil.copyfileobj(HH.open("rb"), out)
    serial = validate_path(path, model="open-mistral-7b").data_tokens
    monkeypatch.setattr(validate, "parallel_min_bytes", lambda count_tokens: 0)
    monkeypatch.setattr(parallel_module, "CHUNK_BYTES", 200_000)
    ranges: list[list[tuple[int, int]]] = []
    split = parallel_module.line_ranges
    monkeypatch.setattr(parallel_module, "line_ranges", lambda *a: ranges.append(split(*a)) or ranges[-1])
    parallel, exact = count_tokens(path, "open-mistral-7b", workers=2)
    assert len(ranges[0]) > 1  # it was split
    assert exact and parallel == serial
