"""The validator's fast paths give exactly what the general paths give.

``parse_object_fast`` must build the value ``json.loads`` builds (or defer), the tools check cached by a
line's raw text must report what the canonical-JSON route reports, and plain ``{"messages": [...]}`` rows
must get the same problems as rows that go through the full message checks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftops.datasets import validate_path
from ftops.datasets.reader import parse_object_fast
from ftops.datasets.rules_instruct import check_instruct
from ftops.datasets.rules_tools import _check_tools_cached

TOOL = {"type": "function", "function": {"name": "get_time", "description": "now",
                                         "parameters": {"type": "object", "properties": {}}}}
BAD_TOOL = {"type": "function", "function": {"name": "bad name", "description": "d",
                                             "parameters": {"type": "object", "properties": {"a": {"type": 5}}}}}
CALL = {"role": "assistant", "tool_calls": [{"id": "abcDEF123", "function": {"name": "get_time",
                                                                             "arguments": "{}"}}]}
RESULT = {"role": "tool", "tool_call_id": "abcDEF123", "content": "12:00"}
U = {"role": "user", "content": "hi"}
A = {"role": "assistant", "content": "hello"}


@pytest.mark.parametrize("text", [
    '{"messages": []}', '{"a":1,"b":[1,2]}', '{ "tools" : [1] , "tools": [2] }\r\n', '{}', '{ }\n',
    '{"tools": [], "x": "tools\\""}', '{"a": 1} x', '{"a": 1,}', '{"a" 1}', '{"a": NaN}', '{"a": 1}{"b": 2}',
    '{"tools": [{"x": Infinity}]}', '{"a": "\\ud800"}', '{"tools": [1]', '{"tools"}', '{"a": "\x01"}',
    '{"a": 1}\t \n', '{"tools": {"available_tools": 1}, "available_tools": [3]}',
])
def test_fast_parse_matches_json_loads(text: str) -> None:
    parsed = parse_object_fast(text.encode("utf-8", "surrogatepass"))
    try:
        expected = json.loads(text)
    except ValueError:
        assert parsed is None
        return
    if parsed is not None:  # None is always allowed: the general path then decides
        value, spans = parsed
        assert value == expected and list(value) == list(expected)
        for key, raw in (spans or {}).items():
            assert json.loads(raw) == value[key]


json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_any = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["tools", "available_tools", "messages", "a"]), inner, max_size=3), max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(value=st.dictionaries(st.sampled_from(["tools", "available_tools", "messages", "text"]), json_any),
       pad=st.sampled_from(["", " ", "\n", "\t "]), compact=st.booleans())
def test_fast_parse_round_trips(value: dict[str, Any], pad: str, compact: bool) -> None:
    text = json.dumps(value, separators=(",", ":") if compact else None).replace(":", ":" + pad, 1) + pad
    parsed = parse_object_fast(text.encode())
    assert parsed is not None
    assert parsed[0] == json.loads(text)
    for key, raw in (parsed[1] or {}).items():
        assert json.loads(raw) == parsed[0][key]


@pytest.mark.parametrize("tools", [[TOOL], [BAD_TOOL, TOOL], [{"function": {"name": "x"}}], [1]])
def test_tools_verdict_same_with_or_without_raw_text(tools: list[Any]) -> None:
    row = {"messages": [U, CALL, RESULT, A], "tools": tools}
    plain = check_instruct(row).issues
    for raw in (json.dumps(tools), json.dumps(tools, indent=2), json.dumps(tools, sort_keys=True)):
        assert check_instruct(row, {"tools": raw}).issues == plain


def test_tool_lists_differing_only_in_layout_share_the_verdict(write_jsonl: Callable[..., Path]) -> None:
    _check_tools_cached.cache_clear()
    row = {"messages": [U, CALL, RESULT, A], "tools": [BAD_TOOL]}
    spaced = json.dumps(row, indent=None, separators=(", ", ": "))
    compact = json.dumps(row, separators=(",", ":"))
    reordered = json.dumps({"tools": [BAD_TOOL], "messages": row["messages"]})
    report = validate_path(write_jsonl(spaced, compact, reordered, spaced), count_tokens=False)
    by_line: dict[int, list[tuple[str, str]]] = {}
    for err in report.errors:
        by_line.setdefault(err.line, []).append((err.code, err.message))
    assert sorted(by_line) == [1, 2, 3, 4]
    assert by_line[1] == by_line[2] == by_line[3] == by_line[4]
    assert {code for code, _ in by_line[1]} == {"E405", "E406"}
    # One schema check per distinct raw text of the list (compact vs spaced); lines 3 and 4 are hits.
    assert _check_tools_cached.cache_info().misses == 2


@pytest.mark.parametrize("msgs", [
    [U, A], [U], [A], [], [{"role": "system", "content": "s"}], [U, {"role": "assistant", "content": ""}],
    [{"role": "system", "content": "s"}, {"role": "system", "content": "t"}, U, A], [U, A, U], [A, A],
])
def test_plain_rows_get_the_full_checks_verdict(msgs: list[Any], write_jsonl: Callable[..., Path]) -> None:
    # The same messages with a harmless extra key (weight on the user turn is ignored) take the full route.
    full = [dict(m, weight=1) if m["role"] == "user" else m for m in msgs]
    plain_issues = check_instruct({"messages": msgs}).issues
    assert plain_issues == check_instruct({"messages": full}).issues
    assert plain_issues == check_instruct({"messages": msgs, "only_last": False}).issues
