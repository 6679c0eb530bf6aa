"""orjson decodes dataset lines only where it builds json's exact value; every verdict stays the same.

Differential: each line of the real datasets and of fuzzed lines (big integers, lone surrogates, huge
floats, NaN, duplicate keys, deep nesting, truncations) is decoded with orjson enabled and with json alone,
and the values (types, key order, float bits) and the validation reports must be identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftops.datasets import reader, validate_path

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "datasets"


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return repr(a) == repr(b)  # -0.0, inf, nan
    return bool(a == b)


def _decode(raw: bytes) -> Any:
    """What the reader makes of a line: the fast path's value, else ``parse_line``'s value or problem."""
    fast = reader.parse_object_fast(raw)
    if fast is not None:
        return fast[0]
    line = reader.parse_line(2, raw.rstrip(b"\n"), len(raw))
    return line.problem if line.problem is not None else line.value


def _both(raw: bytes) -> tuple[Any, Any]:
    """The line decoded with orjson enabled, and with json alone."""
    with_orjson = _decode(raw)
    saved, reader._orjson_loads = reader._orjson_loads, None
    try:
        return with_orjson, _decode(raw)
    finally:
        reader._orjson_loads = saved


def test_orjson_is_in_use() -> None:
    assert reader._orjson_loads is not None


@pytest.mark.parametrize("name", sorted(p.name for p in SHARED.glob("*.jsonl")) or ["missing"])
def test_real_datasets_decode_and_validate_identically(name: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"real datasets not found at {SHARED}")
    for raw in path.read_bytes().splitlines(keepends=True):
        fast, plain = _both(raw)
        assert _same(fast, plain), raw[:200]
    with_orjson = validate_path(path, count_tokens=False).to_dict()
    monkeypatch.setattr(reader, "_orjson_loads", None)
    assert validate_path(path, count_tokens=False).to_dict() == with_orjson


CORNERS = [
    b'{"a": 123456789012345678901234567890}\n',  # orjson would make this a float
    b'{"a": -9223372036854775809}\n',
    b'{"a": 18446744073709551616}\n',
    b'{"a": 1e400, "b": -1e400}\n',  # json: inf; orjson: error
    b'{"a": "\\ud800"}\n',  # lone surrogate: json accepts, orjson rejects
    b'{"a": "\\ud83d\\ude00"}\n',
    b'{"a": NaN}\n', b'{"a": -Infinity}\n',
    b'{"a": 1, "b": 2, "a": 3}\n',  # duplicates: last value at the first position
    b'{"a": -0.0, "b": -0, "c": 5e-324, "d": 1.7976931348623157e308}\n',
    b'{"a": 1} trailing\n', b'{"a": 1}\r\n', b'{"a": 1}  \t\n', b' {"a": 1}\n',
    b'\xef\xbb\xbf{"a": 1}\n', b'{"a": "\xff"}\n', b'{"a": "tab\there"}\n',
    b'{"a": ' + b"[" * 2000 + b"]" * 2000 + b"}\n",
    b'{"messages": [{"role": "user", "content": "x"}], "tools": []}\n',
    b"{}\n", b"[]\n", b'"str"\n', b"\n",
]


@pytest.mark.parametrize("raw", CORNERS, ids=range(len(CORNERS)))
def test_corner_lines_decode_as_json_does(raw: bytes) -> None:
    fast, plain = _both(raw)
    assert _same(fast, plain)


_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(st.characters(codec=None), max_size=20))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=20)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obj=st.dictionaries(st.text(max_size=6), _values, max_size=5), cut=st.integers(min_value=0, max_value=400),
       ascii_only=st.booleans(), duplicate=st.booleans())
def test_fuzzed_lines_decode_as_json_does(obj: dict[str, Any], cut: int, ascii_only: bool, duplicate: bool) -> None:
    text = json.dumps(obj, ensure_ascii=ascii_only, allow_nan=False)
    if duplicate and obj:
        first = json.dumps(next(iter(obj)))
        text = text[:-1] + (", " if len(text) > 2 else "") + f"{first}: 1}}"
    raw = text.encode("utf-8", "surrogatepass") + b"\n"
    for line in (raw, raw[:cut] + b"\n"):
        fast, plain = _both(line)
        assert _same(fast, plain), line[:200]
