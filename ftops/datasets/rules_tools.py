"""Checks for function-calling rows: the ``tools`` list, assistant ``tool_calls`` and tool messages.

They follow mistral-finetune's parsing (``_parse_available_tools``, ``_parse_tool_calls``,
``_parse_tool_message``) and mistral-common's V3 finetuning validator (names, 9-character ids, Draft-7
schemas), as documented in ``dataset-rules.md`` §1.3-§1.4. Schema checks are the expensive part, so the
verdict for a whole ``tools`` list is cached by its JSON text: the line's raw text of the value when the
reader kept it (free), else its canonical JSON. Either way the verdict is computed on the canonical form,
so it does not depend on which text was the key; a file that repeats one tool list pays for it once.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

Issue = tuple[str, str]

NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
CALL_ID_RE = re.compile(r"^[a-zA-Z0-9]{9}$")


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Cached texts are at most this long, so the cache stays small whatever the file holds.
_MAX_KEY_CHARS = 64 * 1024


def check_tools(tools: Any, key: str, raw: str | None = None) -> tuple[list[Issue], list[str]]:
    """Problems of a ``tools``/``available_tools`` value and the tool names it defines.

    ``raw``, when given, must be the JSON text ``tools`` was parsed from; it saves serialising the list
    to look it up in the cache.
    """
    if not isinstance(tools, list):
        return [("E401", f"{key!r} must be a list, got {type(tools).__name__}")], []
    if raw is not None and len(raw) <= _MAX_KEY_CHARS:
        try:
            issues, names = _check_tools_cached(raw, key)
        except (TypeError, ValueError, RecursionError):
            pass  # the canonical route below decides, as it always did
        else:
            return list(issues), list(names)
    try:
        canonical = json.dumps(tools, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return _check_tools_uncached(tools, key)
    if len(canonical) > _MAX_KEY_CHARS:
        return _check_tools_uncached(json.loads(canonical), key)
    issues, names = _check_tools_cached(canonical, key)
    return list(issues), list(names)


@lru_cache(maxsize=512)
def _check_tools_cached(text: str, key: str) -> tuple[tuple[Issue, ...], tuple[str, ...]]:
    # ``text`` is raw or canonical JSON of the list; re-canonicalise so both give the same verdict
    # (schema error messages can depend on key order).
    canonical = json.dumps(json.loads(text), sort_keys=True, ensure_ascii=False)
    issues, names = _check_tools_uncached(json.loads(canonical), key)
    return tuple(issues), tuple(names)


def _check_tools_uncached(tools: list[Any], key: str) -> tuple[list[Issue], list[str]]:
    issues: list[Issue] = []
    names: list[str] = []
    # One E403 per missing key for the whole list: OpenAI-style files miss "description" on every tool.
    missing_by_key: dict[str, list[str]] = {}
    for i, tool in enumerate(tools):
        where = f"{key}[{i}]"
        func = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(func, dict):
            issues.append(("E402", f"{where} has no 'function' object"))
            continue
        if isinstance(func.get("name"), str):
            names.append(func["name"])
        missing = [k for k in ("name", "description", "parameters") if k not in func]
        for k in missing:
            missing_by_key.setdefault(k, []).append(where)
        if missing:
            continue
        name, description, params = func["name"], func["description"], func["parameters"]
        if not isinstance(params, dict):
            issues.append(("E404", f"{where}.function.parameters must be an object, got {type(params).__name__}"))
            continue
        if not isinstance(name, str) or not isinstance(description, str):
            issues.append(("E407", f"{where}.function name and description must be strings"))
            continue
        schema_error = _schema_error(params)
        if schema_error:
            issues.append(("E405", f"{where}.function.parameters is not a valid JSON Schema: {schema_error}"))
        if not NAME_RE.match(name):
            issues.append(("E406", f"{where}.function.name {_short(name)} must match ^[a-zA-Z0-9_-]{{1,64}}$"))
    for k, wheres in missing_by_key.items():
        listed = ", ".join(wheres[:3]) + (f" and {len(wheres) - 3} more" if len(wheres) > 3 else "")
        issues.append(("E403", f"{listed}: function has no {k!r} key"))
    return issues, names


def _schema_error(schema: dict[str, Any]) -> str | None:
    # Imported lazily: jsonschema costs ~50 ms to import and plain chat files never need it.
    from jsonschema import Draft7Validator, SchemaError

    try:
        Draft7Validator.check_schema(schema)
    except SchemaError as exc:
        return str(exc.message)
    except RecursionError:
        return "nested too deeply"
    return None


def check_tool_calls(calls: Any, where: str, is_last: bool) -> tuple[list[Issue], list[str], list[str]]:
    """Problems of one assistant ``tool_calls`` value; also returns the call ids and function names."""
    if not isinstance(calls, list) or not all(isinstance(c, dict) for c in calls):
        return [("E410", f"{where}.tool_calls must be a list of objects")], [], []
    issues: list[Issue] = []
    ids: list[str] = []
    names: list[str] = []
    for j, call in enumerate(calls):
        cw = f"{where}.tool_calls[{j}]"
        if "id" not in call or "function" not in call:
            missing = "id" if "id" not in call else "function"
            issues.append(("E411", f"{cw} has no {missing!r} key"))
            continue
        func = call["function"]
        if not isinstance(func, dict) or "name" not in func or "arguments" not in func:
            issues.append(("E412", f"{cw}.function must be an object with 'name' and 'arguments'"))
            continue
        if not isinstance(func["arguments"], str):
            issues.append(("E413", f"{cw}.function.arguments must be a JSON string, got "
                                   f"{type(func['arguments']).__name__}"))
        call_id, name = call["id"], func["name"]
        if not isinstance(call_id, str) or (call_id != "null" and not CALL_ID_RE.match(call_id)):
            issues.append(("E414", f"{cw}.id {_short(call_id)} must be exactly 9 letters or digits"))
        elif call_id == "null" and not is_last:
            issues.append(("E415", f"{cw}.id is \"null\", allowed only on the last message"))
        else:
            ids.append(call_id)
        if not isinstance(name, str) or not NAME_RE.match(name):
            issues.append(("E406", f"{cw}.function.name {_short(name)} must match ^[a-zA-Z0-9_-]{{1,64}}$"))
        else:
            names.append(name)
    return issues, ids, names


def check_tool_message(msg: dict[str, Any], where: str) -> list[Issue]:
    """A tool message needs a 9-character ``tool_call_id``; its optional ``name`` must be a valid name."""
    if "tool_call_id" not in msg:
        return [("E311", f"{where} (tool) has no 'tool_call_id'")]
    issues: list[Issue] = []
    call_id = msg["tool_call_id"]
    if not isinstance(call_id, str) or not CALL_ID_RE.match(call_id):
        issues.append(("E417", f"{where}.tool_call_id {_short(call_id)} must be exactly 9 letters or digits"))
    name = msg.get("name")
    if name is not None and (not isinstance(name, str) or not NAME_RE.match(name)):
        issues.append(("E418", f"{where}.name {_short(name)} must match ^[a-zA-Z0-9_-]{{1,64}}$"))
    return issues
