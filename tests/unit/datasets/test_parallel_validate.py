"""Validating a large file on several cores gives the report the serial pass gives, line numbers included."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from ftops.datasets import parallel, validate, validate_path
from ftops.datasets.tokens import mistral_common_available

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets"
TOY = SHARED / "openai_cookbook_toy_chat_fine_tuning.jsonl"
DRONE = SHARED / "openai_cookbook_drone_training.jsonl"


def _row(i: int) -> bytes:
    return json.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                    {"role": "assistant", "content": f"a{i}"}]}).encode() + b"\n"


BROKEN = [
    b"not json at all\n",
    b"\n",
    b'{"messages": [{"role": "user", "content": "no answer"}]}\n',
    b'{"text": "a pretrain row in an instruct file"}\n',
    b'{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": ""}]}\n',
    b'{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "weight": 2}]}\n',
    b"[1, 2]\n",
    b'{"messages": [{"role": "user", "content": "NaN"}, {"role": "assistant", "content": 1e400}]}\n',
]


def _mixed(path: Path, rows: int = 3000) -> Path:
    """Invalid rows before the first valid one, then valid rows with every kind of problem sprinkled in."""
    with path.open("wb") as out:
        out.write(b"{oops\n" + b'{"messages": []}\n')
        for i in range(rows):
            out.write(BROKEN[i % len(BROKEN)] if i % 7 == 3 else _row(i))
        if DRONE.exists():
            shutil.copyfileobj(DRONE.open("rb"), out)  # tool rows (the reader keeps their raw text)
        out.write(b'{"messages": [{"role": "user", "content": "last"}]}')  # no final line break
    return path


@pytest.fixture
def split_small(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every file is big enough to split, in chunks of 20 kB; records how many chunks each run made."""
    monkeypatch.setattr(validate, "parallel_min_bytes", lambda count_tokens: 0)
    monkeypatch.setattr(parallel, "CHUNK_BYTES", 20_000)
    chunks: list[int] = []
    cut = parallel.line_ranges

    def recording(*args: object) -> list[tuple[int, int]]:
        ranges = cut(*args)  # type: ignore[arg-type]
        chunks.append(len(ranges))
        return ranges

    monkeypatch.setattr(parallel, "line_ranges", recording)
    return chunks


@pytest.mark.parametrize("max_errors", [1000, 5])
def test_same_report_as_the_serial_pass(tmp_path: Path, split_small: list[int], max_errors: int) -> None:
    path = _mixed(tmp_path / "mixed.jsonl")
    serial = validate_path(path, count_tokens=False, max_errors=max_errors)
    spread = validate_path(path, count_tokens=False, max_errors=max_errors, workers=2)
    assert split_small and split_small[0] > 3
    assert spread.to_dict() == serial.to_dict()
    assert serial.error_total > 100 and len(serial.errors) == min(max_errors, serial.error_total)
    if max_errors > serial.error_total:
        assert serial.errors[-1].line > 3000  # the comparison covers the last chunks' line numbers


@pytest.mark.skipif(not mistral_common_available(), reason="needs mistral-common")
def test_same_token_counts(tmp_path: Path, split_small: list[int]) -> None:
    path = _mixed(tmp_path / "mixed.jsonl", rows=800)
    serial = validate_path(path, model="open-mistral-7b")
    spread = validate_path(path, model="open-mistral-7b", workers=2)
    assert split_small[0] > 1
    assert (spread.data_tokens, spread.trained_tokens, spread.tokens_exact) == (
        serial.data_tokens, serial.trained_tokens, serial.tokens_exact) and serial.data_tokens > 0


def test_classifier_files_and_files_without_a_valid_row(tmp_path: Path, split_small: list[int]) -> None:
    classifier = tmp_path / "labels.jsonl"
    rows = [{"text": f"t{i}", "labels": {"topic": "a" if i % 3 else ["a", "b"]}} for i in range(3000)]
    classifier.write_text("".join(json.dumps(r) + "\n" for r in rows))
    hopeless = tmp_path / "bad.jsonl"
    hopeless.write_bytes(b"not json\n" * 5000)
    for path, kind in ((classifier, "classifier"), (hopeless, None)):
        serial = validate_path(path, kind=kind, count_tokens=False)  # type: ignore[arg-type]
        spread = validate_path(path, kind=kind, count_tokens=False, workers=2)  # type: ignore[arg-type]
        assert spread.to_dict() == serial.to_dict()
    assert any(w.code == "W601" for w in validate_path(classifier, kind="classifier", count_tokens=False).warnings)
    assert split_small == []  # neither was split: label shapes are file-wide, and nothing valid is left


@pytest.mark.skipif(not TOY.exists(), reason="needs ../shared/datasets")
def test_with_other_threads_running_workers_start_clean(tmp_path: Path, split_small: list[int]) -> None:
    path = tmp_path / "toy.jsonl"
    path.write_bytes(TOY.read_bytes() * 60)
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait)  # as when the embedded local API runs in this process
    busy.start()
    try:
        assert parallel._context().get_start_method() == "spawn"
        spread = validate_path(path, count_tokens=False, workers=2)
    finally:
        stop.set()
        busy.join()
    assert spread.to_dict() == validate_path(path, count_tokens=False).to_dict()
