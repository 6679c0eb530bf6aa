"""One case per rule of dataset-rules.md §4: the row that breaks it (code and line asserted) and the
nearest row that passes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ftops.datasets import validate_path

U = {"role": "user", "content": "hi"}
A = {"role": "assistant", "content": "hello"}
S = {"role": "system", "content": "be nice"}
TOOL = {"type": "function", "function": {"name": "get_time", "description": "now",
                                         "parameters": {"type": "object", "properties": {}}}}


def call(cid: str = "abcDEF123", name: str = "get_time", args: Any = "{}") -> dict[str, Any]:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


def calls(*c: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "tool_calls": list(c)}


def result(cid: str = "abcDEF123", content: str = "12:00") -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": cid, "content": content}


def conv(*msgs: Any, **top: Any) -> dict[str, Any]:
    return {"messages": list(msgs), **top}


def codes_of(path: Path, **kw: Any) -> list[tuple[int, str]]:
    report = validate_path(path, count_tokens=False, **kw)
    return [(e.line, e.code) for e in report.errors] + [(w.line, w.code) for w in report.warnings]


# (row, expected code or None for "valid, no problem at all")
CASES: list[tuple[str, Any, str | None]] = [
    ("plain", conv(U, A), None),
    ("system anywhere", conv(U, S, A), None),
    ("interactions alias", {"interactions": [U, A]}, None),
    ("text alias", conv({"role": "user", "text": "hi"}, A), None),
    ("empty user content", conv({"role": "user", "content": ""}, A), None),
    ("user user assistant assistant", conv(U, U, A, A), None),
    ("first role not checked", conv(A, U, A), None),
    ("weight 0 earlier", conv(U, {**A, "weight": 0}, U, A), None),
    ("weight coerced", conv(U, {**A, "weight": "1"}), None),
    ("chunks", conv({"role": "user", "content": [{"type": "text", "text": "hi"}]}, A), None),
    ("tools", conv(U, calls(call()), result(), A, tools=[TOOL]), None),
    ("null id last", conv(U, calls(call("null")), tools=[TOOL]), None),
    ("extra keys ignored", {"messages": [{**U, "name": "x"}, A], "parallel_tool_calls": False}, None),
    ("no messages", {"prompt": "x", "completion": "y", "foo": 1, "bar": 2}, "E201"),
    ("messages and interactions", {"messages": [U, A], "interactions": [U, A]}, "E202"),
    ("messages not list", {"messages": "hi"}, "E203"),
    ("tools and available_tools", conv(U, A, tools=[TOOL], available_tools=[TOOL]), "E204"),
    ("only system", conv(S), "E205"),
    ("single assistant", conv(S, A), "E206"),
    ("ends with user", conv(U, A, U), "E207"),
    ("tool then user", conv(U, calls(call()), result(), U, A, tools=[TOOL]), "E208"),
    ("unanswered call", conv(U, calls(call()), A, tools=[TOOL]), "E209"),
    ("extra result", conv(U, calls(call()), result(), result(), A, tools=[TOOL]), "E209"),
    ("two system", conv(S, U, S, A), "E210"),
    ("system_prompt and system", conv(S, U, A, system_prompt="x"), "E210"),
    ("system_prompt not str", conv(U, A, system_prompt=3), "E211"),
    ("message not object", conv("hi", A), "E301"),
    ("no role", conv({"content": "hi"}, A), "E302"),
    ("unknown role", conv({"role": "human", "content": "hi"}, A), "E303"),
    ("text and content", conv({"role": "user", "content": "a", "text": "b"}, A), "E304"),
    ("no content", conv({"role": "user"}, A), "E305"),
    ("assistant list content", conv(U, {"role": "assistant", "content": ["x"]}), "E306"),
    ("user int content", conv({"role": "user", "content": 3}, A), "E306"),
    ("bad chunk", conv({"role": "user", "content": [{"type": "video"}]}, A), "E307"),
    ("empty assistant", conv(U, {"role": "assistant", "content": ""}), "E308"),
    ("content and calls", conv(U, {**calls(call()), "content": "x"}, tools=[TOOL]), "E308"),
    ("weight 0.5", conv(U, {**A, "weight": 0.5}), "E309"),
    ("tool no tool_call_id", conv(U, calls(call()), {"role": "tool", "content": "x"}, A, tools=[TOOL]), "E311"),
    ("tools not list", conv(U, A, tools={"a": 1}), "E401"),
    ("tool no function", conv(U, A, tools=[{"type": "function"}]), "E402"),
    ("no description", conv(U, A, tools=[{"function": {"name": "f", "parameters": {}}}]), "E403"),
    ("parameters not dict", conv(U, A, tools=[{"function": {"name": "f", "description": "", "parameters": []}}]),
     "E404"),
    ("bad schema", conv(U, A, tools=[{"function": {"name": "f", "description": "",
                                                   "parameters": {"type": "objectt"}}}]), "E405"),
    ("bad tool name", conv(U, A, tools=[{"function": {"name": "a b", "description": "", "parameters": {}}}]),
     "E406"),
    ("description not str", conv(U, A, tools=[{"function": {"name": "f", "description": 1, "parameters": {}}}]),
     "E407"),
    ("tool_calls not list", conv(U, {"role": "assistant", "tool_calls": "x"}, tools=[TOOL]), "E410"),
    ("call without id", conv(U, calls({"function": {"name": "get_time", "arguments": "{}"}}), tools=[TOOL]),
     "E411"),
    ("call without arguments", conv(U, calls({"id": "abcDEF123", "function": {"name": "get_time"}}),
                                    tools=[TOOL]), "E412"),
    ("dict arguments", conv(U, calls(call(args={})), tools=[TOOL]), "E413"),
    ("openai id", conv(U, calls(call("call_abc123")), tools=[TOOL]), "E414"),
    ("null id early", conv(U, calls(call("null")), result(), A, tools=[TOOL]), "E415"),
    ("bad tool_call_id", conv(U, calls(call()), result("call_1"), A, tools=[TOOL]), "E417"),
    ("bad tool message name", conv(U, calls(call()), {**result(), "name": "a b"}, A, tools=[TOOL]), "E418"),
    ("last weight 0", conv(U, {**A, "weight": 0}), "W301"),
    ("undefined tool", conv(U, calls(call(name="other")), tools=[TOOL]), "W401"),
    ("result answers no call", conv(U, calls(call()), result("zzzzzzzzz"), A, tools=[TOOL]), "W402"),
]


@pytest.mark.parametrize(("row", "expected"), [(r, e) for _, r, e in CASES], ids=[n for n, _, _ in CASES])
def test_instruct_rule(write_jsonl: Callable[..., Path], row: Any, expected: str | None) -> None:
    # A valid row first pins the file kind to instruct, so every case is judged as chat data.
    found = codes_of(write_jsonl(conv(U, A), row))
    if expected is None:
        assert found == []
    else:
        assert (2, expected) in found, found


LINE_CASES: list[tuple[str, bytes, str]] = [
    ("invalid utf-8", b'{"messages": "\xff"}', "E101"),
    ("invalid json", b'{"messages": [', "E102"),
    ("blank", b"   ", "E103"),
    ("nan", b'{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", '
            b'"weight": NaN}]}', "E104"),
    ("infinity", b'{"x": -Infinity}', "E104"),
    ("array", b"[1, 2]", "E105"),
    ("deep", b"[" * 100_000 + b"]" * 100_000, "E106"),
]


@pytest.mark.parametrize(("raw", "expected"), [(r, e) for _, r, e in LINE_CASES], ids=[n for n, _, _ in LINE_CASES])
def test_line_rule(write_jsonl: Callable[..., Path], raw: bytes, expected: str) -> None:
    assert codes_of(write_jsonl(conv(U, A), raw, conv(U, A))) == [(2, expected)]


def test_nan_inside_a_string_is_fine(write_jsonl: Callable[..., Path]) -> None:
    assert codes_of(write_jsonl(conv({"role": "user", "content": "NaN Infinity"}, A))) == []


def test_bom_and_crlf(tmp_path: Path) -> None:
    line = json.dumps(conv(U, A)).encode()
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + line + b"\r\n" + line + b"\r\n")
    assert codes_of(path) == [(1, "E108")]


def test_oversized_line_is_skipped_not_read(tmp_path: Path) -> None:
    from ftops.datasets.reader import iter_raw_lines, parse_line

    path = tmp_path / "big.jsonl"
    path.write_bytes(b'{"a": "' + b"x" * 5000 + b'"}\n{"b": 1}\n')
    with path.open("rb") as fh:
        lines = [parse_line(n, raw, size, 1000) for n, raw, size in iter_raw_lines(fh, 1000)]
    assert [(x.number, x.problem[0] if x.problem else None) for x in lines] == [(1, "E107"), (2, None)]
    assert lines[0].size == 5010


def test_every_invalid_line_is_reported_and_records_are_capped(write_jsonl: Callable[..., Path]) -> None:
    rows = [conv(U, A)] + [conv(U)] * 30
    report = validate_path(write_jsonl(*rows), count_tokens=False, max_errors=10)
    assert report.error_counts == {"E207": 30}
    assert report.invalid_lines == 30 and report.valid_lines == 1
    assert [e.line for e in report.errors] == list(range(2, 12))
    assert report.errors_truncated


def test_kind_detection_and_mixed_rows(write_jsonl: Callable[..., Path]) -> None:
    report = validate_path(write_jsonl({"text": "a"}, {"text": "b"}, conv(U, A)), count_tokens=False)
    assert report.kind == "pretrain"
    assert [(e.line, e.code) for e in report.errors] == [(3, "E110")]
    report = validate_path(write_jsonl(conv(U, A), {"text": "b"}), count_tokens=False)
    assert report.kind == "instruct" and [(e.line, e.code) for e in report.errors] == [(2, "E110")]


@pytest.mark.parametrize(("row", "expected"), [
    ({"text": "a"}, None), ({"content": ""}, None), ({"text": "a", "content": "b"}, "E502"),
    ({"text": None}, "E501"), ({"text": 3}, "E503")])
def test_pretrain_rules(write_jsonl: Callable[..., Path], row: Any, expected: str | None) -> None:
    found = codes_of(write_jsonl({"text": "ok"}, row))
    assert found == ([] if expected is None else [(2, expected)])


@pytest.mark.parametrize(("row", "expected"), [
    ({"text": "a", "labels": {"t": "x"}}, None),
    ({"messages": [U], "labels": {"t": "y", "u": ["x", "z"]}}, None),
    ({"text": "a"}, "E601"),
    ({"text": "a", "labels": {}}, "E602"),
    ({"text": "a", "labels": {"t": 3}}, "E603"),
    ({"text": "a", "labels": {"t": []}}, "E603"),
    ({"labels": {"t": "x"}}, "E604"),
    ({"text": "a", "messages": [U], "labels": {"t": "x"}}, "E605"),
    ({"text": "", "labels": {"t": "x"}}, "E606"),
    ({"messages": [{"role": "bot", "content": "a"}], "labels": {"t": "x"}}, "E607"),
    ({"text": "a", "labels": {"t": ["x"]}}, "W601"),
])
def test_classifier_rules(write_jsonl: Callable[..., Path], row: Any, expected: str | None) -> None:
    found = codes_of(write_jsonl({"text": "ok", "labels": {"t": "x"}}, row), kind="classifier")
    assert found == ([] if expected is None else [(2, expected)])


def test_classifier_autodetected(write_jsonl: Callable[..., Path]) -> None:
    report = validate_path(write_jsonl({"text": "ok", "labels": {"t": "x"}}), count_tokens=False)
    assert report.kind == "classifier" and report.ok and report.sample_type == "instruct"


def test_schema_checks_are_cached(write_jsonl: Callable[..., Path]) -> None:
    from ftops.datasets.rules_tools import _check_tools_cached

    _check_tools_cached.cache_clear()
    rows = [conv(U, calls(call()), result(), A, tools=[TOOL])] * 50
    assert validate_path(write_jsonl(*rows), count_tokens=False).ok
    assert _check_tools_cached.cache_info().misses == 1


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    from ftops.errors import DatasetError

    with pytest.raises(DatasetError, match="file not found"):
        validate_path(tmp_path / "nope.jsonl")
    with pytest.raises(DatasetError, match="directory"):
        validate_path(tmp_path)


def test_every_code_is_documented() -> None:
    import re

    from ftops.datasets.codes import CODES

    doc = (Path(__file__).resolve().parents[3] / "docs" / "dataset-errors.md").read_text()
    documented = set(re.findall(r"^\| ([EW]\d{3}) \|", doc, flags=re.M))
    assert documented == set(CODES)
    emitted = {code for _, _, code in CASES if code} | {code for _, _, code in LINE_CASES}
    assert emitted <= set(CODES)
