"""``ftops data fix``: repair the common problems of OpenAI-style chat files, as Mistral's
``reformat_data.py`` intends (``dataset-rules.md`` §1.8) but without its bug of dropping every
function-calling sample.

Per row: legacy ``functions``/``function_call`` become ``tools``/``tool_calls``; role ``function`` becomes
``tool``; dict ``arguments`` are JSON-encoded; empty ``content`` next to ``tool_calls`` is removed; tools
missing ``description`` get ``""`` (the rules only require the key) and missing ``parameters`` get ``{}``;
tool-call ids that are not 9 alphanumerics (OpenAI's ``call_…``) are replaced by deterministic 9-character
ids, and each ``tool_call_id`` follows its call; trailing non-assistant turns are dropped. Rows that are
still invalid afterwards are dropped, each with the reason. The input is never overwritten and the output
is written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ftops.datasets.report import DataKind
from ftops.datasets.rules_tools import CALL_ID_RE
from ftops.datasets.validate import Row, _KindTracker, iter_rows, open_dataset
from ftops.errors import DatasetError

_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def mint_id(*parts: object) -> str:
    """A deterministic 9-character alphanumeric id (same inputs, same id, on any machine)."""
    number = int.from_bytes(hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()[:8], "big")
    out = []
    for _ in range(9):
        number, rem = divmod(number, 62)
        out.append(_ALNUM[rem])
    return "".join(out)


@dataclass
class FixChange:
    line: int
    action: str  # "changed" or "dropped"
    reasons: list[str]


@dataclass
class FixResult:
    input: str
    output: str
    lines_in: int = 0
    lines_out: int = 0
    changes: list[FixChange] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(1 for c in self.changes if c.action == "changed")

    @property
    def dropped(self) -> int:
        return sum(1 for c in self.changes if c.action == "dropped")


class _RowFixer:
    def __init__(self, line: int) -> None:
        self.line = line
        self.reasons: list[str] = []
        self._ids: dict[str, str] = {}

    def note(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)

    def _new_id(self, old: Any, hint: str) -> str:
        key = str(old) if old not in (None, "") else hint
        if key not in self._ids:
            self._ids[key] = mint_id(self.line, key)
        return self._ids[key]

    def fix(self, row: dict[str, Any]) -> dict[str, Any] | None:
        if "functions" in row and not row.get("tools"):
            funcs = row.pop("functions")
            if isinstance(funcs, list):
                row["tools"] = [{"type": "function", "function": f} for f in funcs]
                self.note("legacy 'functions' → 'tools'")
        for key in ("tools", "available_tools"):
            if isinstance(row.get(key), list):
                self._fix_tools(row[key])
        msgs = row.get("messages", row.get("interactions"))
        if not isinstance(msgs, list):
            return row
        pending: list[str] = []  # ids of the last assistant's calls, answered in order by tool messages
        for i, msg in enumerate(msgs):
            if isinstance(msg, dict):
                pending = self._fix_message(msg, i, pending)
        while msgs and not (isinstance(msgs[-1], dict) and msgs[-1].get("role") == "assistant"):
            msgs.pop()
            self.note("dropped trailing non-assistant message(s)")
        if not any(isinstance(m, dict) and m.get("role") != "system" for m in msgs):
            self.note("no assistant message left")
            return None
        return row

    def _fix_tools(self, tools: list[Any]) -> None:
        for tool in tools:
            func = tool.get("function") if isinstance(tool, dict) else None
            if not isinstance(func, dict):
                continue
            if "description" not in func:
                func["description"] = ""
                self.note("added empty tool description(s)")
            if "parameters" not in func:
                func["parameters"] = {}
                self.note("added empty tool parameters")

    def _fix_message(self, msg: dict[str, Any], index: int, pending: list[str]) -> list[str]:
        if msg.get("role") == "function":
            msg["role"] = "tool"
            self.note("role 'function' → 'tool'")
        role = msg.get("role")
        if role == "assistant" and isinstance(msg.get("function_call"), dict):
            call = msg.pop("function_call")
            msg["tool_calls"] = [{"id": None, "type": "function", "function": call}]
            self.note("legacy 'function_call' → 'tool_calls'")
        if role == "assistant" and isinstance(msg.get("tool_calls"), list) and msg["tool_calls"]:
            for key in ("content", "text"):
                if key in msg and msg[key] in ("", None):
                    del msg[key]
                    self.note("removed empty content next to tool_calls")
            return self._fix_calls(msg["tool_calls"], index)
        if role == "tool":
            old = msg.get("tool_call_id")
            if old is None or not (isinstance(old, str) and CALL_ID_RE.match(old)):
                if old is None and pending:
                    msg["tool_call_id"] = pending[0]
                    self.note("added missing tool_call_id from the call it answers")
                else:
                    msg["tool_call_id"] = self._new_id(old, f"tool:{index}")
                    self.note("rewrote tool_call_id(s) to 9-character ids")
            if msg.get("tool_call_id") in pending:
                pending = [p for p in pending if p != msg["tool_call_id"]]
            elif pending:
                pending = pending[1:]
            return pending
        return pending if role != "assistant" else []

    def _fix_calls(self, calls: list[Any], index: int) -> list[str]:
        ids: list[str] = []
        for j, call in enumerate(calls):
            if not isinstance(call, dict):
                continue
            func = call.get("function")
            if isinstance(func, dict) and isinstance(func.get("arguments"), (dict, list)):
                func["arguments"] = json.dumps(func["arguments"], ensure_ascii=False)
                self.note("JSON-encoded tool call arguments")
            old = call.get("id")
            if not (isinstance(old, str) and (CALL_ID_RE.match(old) or old == "null")):
                call["id"] = self._new_id(old, f"call:{index}:{j}")
                self.note("rewrote tool call id(s) to 9-character ids" if old else "added missing tool call id(s)")
            ids.append(call["id"])
        return ids


def fix_file(src: str | Path, dst: str | Path, *, kind: DataKind | None = None) -> FixResult:
    """Write a repaired copy of ``src`` to ``dst`` (atomically) and say what changed per line."""
    src_p, dst_p = Path(src), Path(dst)
    if dst_p.exists() and src_p.exists() and dst_p.resolve() == src_p.resolve():
        raise DatasetError("refusing to overwrite the input file", where=str(dst_p),
                           hint="write the fixed data to another path with -o")
    result = FixResult(input=str(src_p), output=str(dst_p))
    with open_dataset(src_p) as stream, AtomicWriter(dst_p) as out:
        if stream.read(3) == b"\xef\xbb\xbf":
            result.changes.append(FixChange(1, "changed", ["removed the UTF-8 byte order mark"]))
        else:
            stream.seek(0)
        recheck = _KindTracker(kind)
        for row in iter_rows(stream, kind=kind):
            result.lines_in += 1
            line = _fix_row(row, recheck, result)
            if line is not None:
                out.write(line)
                result.lines_out += 1
    return result


def _fix_row(row: Row, recheck: _KindTracker, result: FixResult) -> bytes | None:
    if row.value is None or not isinstance(row.value, dict):
        code, message = row.issues[0]
        result.changes.append(FixChange(row.number, "dropped", [f"{code} {message}"]))
        return None
    fixer = _RowFixer(row.number)
    fixed = fixer.fix(row.value) if row.kind == "instruct" else row.value
    if fixed is None:
        result.changes.append(FixChange(row.number, "dropped", fixer.reasons))
        return None
    checked = recheck.check(row.number, row.size, fixed)
    errors = [f"{code} {msg}" for code, msg in checked.issues if code.startswith("E")]
    if errors:
        result.changes.append(FixChange(row.number, "dropped", fixer.reasons + errors))
        return None
    try:
        line = json.dumps(fixed, ensure_ascii=False).encode("utf-8") + b"\n"
    except UnicodeEncodeError:  # a lone surrogate (e.g. "\\ud800"): valid JSON escape, not valid UTF-8 text
        why = "E120 the text holds a lone UTF-16 surrogate escape (e.g. \\ud800), which is not a character"
        result.changes.append(FixChange(row.number, "dropped", [*fixer.reasons, why]))
        return None
    if fixer.reasons:
        result.changes.append(FixChange(row.number, "changed", fixer.reasons))
    return line


class AtomicWriter:
    """Streams into a temp file next to ``path``; on success fsyncs and renames it over ``path``, so readers
    see the old file or the whole new one. On error the temp file is removed and ``path`` is untouched."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] | None = None
        self._tmp = ""

    def __enter__(self) -> IO[bytes]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        self._fh = os.fdopen(fd, "wb")
        return self._fh

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        assert self._fh is not None
        try:
            if exc_type is None:
                self._fh.flush()
                os.fsync(self._fh.fileno())
            self._fh.close()
            if exc_type is None:
                os.replace(self._tmp, self.path)
        finally:
            if exc_type is not None or os.path.exists(self._tmp):
                Path(self._tmp).unlink(missing_ok=True)
