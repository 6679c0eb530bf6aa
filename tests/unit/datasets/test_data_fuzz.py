"""Whatever the bytes, validation, stats and fix never raise and account for every line."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftops.datasets import validate_path
from ftops.datasets.fix import fix_file
from ftops.datasets.stats import compute_stats

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["messages", "role", "content", "text", "tool_calls", "tools", "id", "function",
                         "name", "arguments", "tool_call_id", "weight", "labels", "parameters", "type"]),
        inner, max_size=5),
    max_leaves=25,
)
roles = st.sampled_from(["user", "assistant", "system", "tool", "function", "bot"])
messages = st.lists(st.fixed_dictionaries({"role": roles}, optional={
    "content": st.one_of(st.text(max_size=10), st.none()),
    "tool_calls": st.lists(st.fixed_dictionaries({"id": st.text(max_size=12), "function": st.fixed_dictionaries(
        {"name": st.text(max_size=5), "arguments": st.text(max_size=5)})}), max_size=2),
    "tool_call_id": st.text(max_size=12), "weight": st.sampled_from([0, 1, 0.5, "1", None])}), max_size=6)
rows = st.one_of(json_values.map(json.dumps).map(str.encode),
                 messages.map(lambda m: json.dumps({"messages": m}).encode()),
                 st.binary(max_size=60))

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(lines=st.lists(rows, max_size=8))
def test_validate_never_raises(tmp_path: Path, lines: list[bytes]) -> None:
    path = tmp_path / "fuzz.jsonl"
    data = b"\n".join(lines)
    path.write_bytes(data)
    report = validate_path(path, count_tokens=True)
    assert report.valid_lines + report.invalid_lines == report.total_lines
    assert report.bytes == len(data)
    compute_stats(path)
    out = tmp_path / "fixed.jsonl"
    fix_file(path, out)
    assert validate_path(out, count_tokens=False).ok


@SETTINGS
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bytes.jsonl"
    path.write_bytes(data)
    report = validate_path(path)
    assert report.bytes == len(data)
