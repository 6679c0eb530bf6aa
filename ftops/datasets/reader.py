"""Streaming JSONL reading that never raises, whatever the bytes.

The file is read in binary, one line at a time, so memory stays bounded by the longest line we accept
(``MAX_LINE_BYTES``); longer lines are skipped in chunks and reported. Each line becomes either a parsed
JSON value or a ``(code, message)`` problem: invalid UTF-8, a BOM, a blank line, invalid JSON, the
``NaN``/``Infinity`` literals Python accepts but JSON (and the API) do not, and nesting deep enough to
overflow the parser's recursion. Well-formed object lines, nearly all of them, take a faster route
(``parse_object_fast``: orjson where it gives json's exact value, else json's C scanner) that builds the
same value and keeps the raw text of the ``tools`` values.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

# A line longer than this is reported, not parsed: no real training row comes near it, and a parse of a
# line this size would need several times its size in memory.
MAX_LINE_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
_BOM = b"\xef\xbb\xbf"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_STRICT = json.JSONDecoder(parse_constant=_reject_constant)
_PLAIN_LOADS = json.loads
# The C scanner behind json.loads, configured like the default decoder (strict strings, no hooks).
# (Both are in the json module, not in its type stubs.)
_SCAN_ONCE: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_WS = re.compile(r"[ \t\n\r]*")
_WS_CHARS = " \t\n\r"
# Top-level keys whose raw value text is kept: the tools check is cached by it (rules_tools.check_tools).
RAW_KEYS = frozenset(("tools", "available_tools"))

# orjson, when installed, decodes plain object lines about twice as fast. It builds the same value as
# json.loads except in corners, each routed to json here: it rejects what json accepts (lone surrogates,
# numbers that overflow to inf, NaN/Infinity, nesting past 1024, BOMs), so any orjson error retries with
# json; and it turns integers beyond 64 bits into floats, so a line with a run of 19+ digits skips it.
# Tool lines keep json's scanner, which also yields the raw tool text the tools cache is keyed by.


def _orjson() -> Callable[[bytes], Any] | None:
    try:
        import orjson
    except ImportError:  # pragma: no cover - a core dependency; json alone gives the same verdicts
        return None
    return orjson.loads


_orjson_loads = _orjson()
# Every digit becomes "0" and every other byte a space: a run of 19 digits is then a plain substring search
# (a regex for it cost five times the orjson decode itself).
_DIGITS_AS_ZERO = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_NINETEEN_DIGITS = b"0" * 19


def _has_long_number(raw: bytes) -> bool:
    return _NINETEEN_DIGITS in raw.translate(_DIGITS_AS_ZERO)


@dataclass
class RawLine:
    number: int  # 1-based
    size: int  # bytes, including the line break
    value: Any = None
    problem: tuple[str, str] | None = None  # (code, message) when the line is not a JSON value


def iter_raw_lines(stream: IO[bytes], max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes | None, int]]:
    """Yield ``(line number, bytes without the line break or None when too long, size in bytes)``."""
    number = 0
    readline = stream.readline
    while True:
        chunk = readline(max_line_bytes + 1)
        if not chunk:
            return
        number += 1
        size = len(chunk)
        if len(chunk) > max_line_bytes and not chunk.endswith(b"\n"):
            # Too long: drain the rest of the line without keeping it.
            while True:
                more = readline(_CHUNK)
                size += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield number, None, size
            continue
        yield number, chunk, size


def parse_object_fast(raw: bytes) -> tuple[dict[str, Any], dict[str, str] | None] | None:
    """A line holding one JSON object, exactly as ``json.loads`` builds it (see ``_parse_object_json``)."""
    if _orjson_loads is not None and raw[:1] == b"{" and b'tools"' not in raw and not _has_long_number(raw):
        try:
            value = _orjson_loads(raw)
        except ValueError:  # orjson.JSONDecodeError; json may still accept it (lone surrogates, 1e400)
            value = None
        if type(value) is dict:
            return value, None
    return _parse_object_json(raw)


def _parse_object_json(raw: bytes) -> tuple[dict[str, Any], dict[str, str] | None] | None:
    """The common case of ``parse_line``: a well-formed line holding one JSON object, or None to defer.

    Returns the object exactly as ``json.loads`` builds it (same C scanner for every value, later duplicate
    keys win at the first key's position) plus the raw text of its ``tools``/``available_tools`` values,
    which makes a cheap cache key. Anything unusual (not an object, invalid UTF-8 or JSON, NaN/Infinity,
    deep nesting) returns None and ``parse_line`` decides, so problems are reported by one code path.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text.startswith("{") or "NaN" in text or "Infinity" in text:
        return None
    if 'tools"' not in text:  # no tool list to keep: one call to the C scanner does it all
        try:
            value, end = _SCAN_ONCE(text, 0)
        except (ValueError, StopIteration, RecursionError):
            return None
        if end != len(text) and text[end:].strip(_WS_CHARS):
            return None  # extra data after the object
        return value, None
    return _parse_top_object(text)


def _parse_top_object(text: str) -> tuple[dict[str, Any], dict[str, str] | None] | None:
    """json's object parsing for the top level only, so the raw text of each tool list is known."""
    obj: dict[str, Any] = {}
    spans: dict[str, str] | None = None
    try:
        end = 1
        if text[end] in _WS_CHARS:
            end = _WS.match(text, end).end()  # type: ignore[union-attr]
        if text[end] == "}":
            end += 1
        else:
            while True:
                if text[end] != '"':
                    return None
                key, end = _scanstring(text, end + 1, True)
                if text[end] != ":":
                    end = _WS.match(text, end).end()  # type: ignore[union-attr]
                    if text[end] != ":":
                        return None
                start = end + 1
                if text[start] in _WS_CHARS:
                    start = _WS.match(text, start).end()  # type: ignore[union-attr]
                obj[key], end = _SCAN_ONCE(text, start)
                if key in RAW_KEYS:
                    spans = spans or {}
                    spans[key] = text[start:end]
                if text[end] in _WS_CHARS:
                    end = _WS.match(text, end).end()  # type: ignore[union-attr]
                sep = text[end]
                end += 1
                if sep == "}":
                    break
                if sep != ",":
                    return None
                if text[end] in _WS_CHARS:
                    end = _WS.match(text, end).end()  # type: ignore[union-attr]
    except (ValueError, StopIteration, IndexError, RecursionError):
        return None
    if end != len(text) and text[end:].strip(_WS_CHARS):
        return None  # extra data after the object
    return obj, spans


def parse_line(number: int, raw: bytes | None, size: int, max_line_bytes: int = MAX_LINE_BYTES) -> RawLine:
    """Turn one raw line into a JSON value or a problem; never raises."""
    line = RawLine(number, size)
    if raw is None:
        limit = f"{max_line_bytes // 2**20} MiB" if max_line_bytes >= 2**20 else f"{max_line_bytes} bytes"
        line.problem = ("E107", f"line is longer than {limit}; not read")
        return line
    if number == 1 and raw.startswith(_BOM):
        line.problem = ("E108", "the file starts with a UTF-8 byte order mark (BOM), which JSON does not allow")
        return line
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line.problem = ("E101", f"invalid UTF-8 at byte {exc.start + 1} of the line")
        return line
    try:
        # The NaN/Infinity scan is cheap and lets the common case use the cached default decoder.
        if "NaN" in text or "Infinity" in text:
            line.value = _STRICT.decode(text)
        else:
            line.value = _PLAIN_LOADS(text)
    except json.JSONDecodeError as exc:
        # Blank lines are rare: only look for them once the parse has failed.
        if not text.strip():
            line.problem = ("E103", "blank line (every line must hold one JSON object)")
        else:
            line.problem = ("E102", f"invalid JSON: {exc.msg} (column {exc.colno})")
    except ValueError as exc:  # from _reject_constant
        line.problem = ("E104", f"invalid JSON: {exc} (NaN and Infinity are not allowed)")
    except RecursionError:
        line.problem = ("E106", "JSON nested too deeply to parse")
    return line
