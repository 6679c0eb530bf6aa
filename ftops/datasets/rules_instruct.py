"""Rules for one instruct (chat / function-calling) row, as mistral-finetune 1.4.4-era applies them.

The order follows ``build_instruct_sample`` (``dataset-rules.md`` §1.3): top-level keys, tools, each
message, then mistral-common's ``MistralRequestValidatorV3`` in finetuning mode (§1.4: structure, role
transitions, tool-call bookkeeping, assistant content, weights, ids). Where the reference crashes (an
unknown role, a bad ``tool_call_id``, a wrongly typed field) we report an error instead, and unlike it we
report every problem of the row, not just the first. The ``api`` rules of §4.7 (calls to undefined tools,
results that answer no call) are warnings because the reference accepts them.
"""

from __future__ import annotations

from typing import Any

from ftops.datasets.rules_tools import Issue, check_tool_calls, check_tool_message, check_tools

ROLES = ("system", "user", "assistant", "tool")
# Allowed role after each role (mistral-common 1.4.4: a tool result may not be followed by a user turn).
_NEXT: dict[str, frozenset[str]] = {
    "system": frozenset(("user", "assistant", "system")),
    "user": frozenset(("assistant", "system", "user")),
    "assistant": frozenset(("assistant", "user", "tool")),
    "tool": frozenset(("assistant", "tool")),
}
_CHUNK_KEYS = {"text": "text", "image_url": "image_url", "image": "image"}


def messages_of(row: dict[str, Any]) -> Any:
    return row["messages"] if "messages" in row else row.get("interactions")


def tools_of(row: dict[str, Any]) -> tuple[str, Any] | None:
    """The tool list the reference would use: ``tools`` if non-empty, else ``available_tools``."""
    for key in ("tools", "available_tools"):
        value = row.get(key)
        if value is not None and (not isinstance(value, (list, str, dict)) or len(value) > 0):
            return key, value
    return None


def only_last(row: dict[str, Any]) -> bool:
    """mistral-finetune trains only the last assistant message of tool samples or ``only_last`` rows."""
    return bool(row.get("only_last")) or row.get("available_tools") is not None or tools_of(row) is not None


def _is_weight_ok(weight: Any) -> bool:
    # pydantic coerces "0"/"1"/true/false to floats before the 0-or-1 check.
    if weight is None:
        return True
    if isinstance(weight, (bool, int, float)):
        return weight in (0, 1)
    if isinstance(weight, str):
        try:
            return float(weight) in (0.0, 1.0)
        except ValueError:
            return False
    return False


def _check_chunks(content: list[Any], where: str) -> tuple[list[Issue], bool]:
    issues: list[Issue] = []
    has_image = False
    for k, chunk in enumerate(content):
        ctype = chunk.get("type") if isinstance(chunk, dict) else None
        key = _CHUNK_KEYS.get(ctype) if isinstance(ctype, str) else None
        if key is None or not isinstance(chunk, dict) or key not in chunk:
            issues.append(("E307", f"{where}.content[{k}] must be a text, image_url or image chunk"))
            continue
        value = chunk[key]
        if ctype == "text" and not isinstance(value, str):
            issues.append(("E307", f"{where}.content[{k}].text must be a string"))
        elif ctype == "image_url" and not (isinstance(value, str) or
                                           (isinstance(value, dict) and isinstance(value.get("url"), str))):
            issues.append(("E307", f"{where}.content[{k}].image_url must be a URL string or {{\"url\": ...}}"))
        elif ctype == "image" and not isinstance(value, str):
            issues.append(("E307", f"{where}.content[{k}].image must be a base64 string"))
        has_image = has_image or ctype != "text"
    return issues, has_image


class InstructResult:
    """What checking one row found: problems, plus facts the token counter and stats reuse."""

    __slots__ = ("has_image", "issues")

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.has_image = False


def check_instruct(row: dict[str, Any], raw: dict[str, str] | None = None) -> InstructResult:
    """Every problem of one instruct row; ``raw`` maps top-level keys to their raw JSON text when known."""
    res = InstructResult()
    issues = res.issues
    plain_tried = False
    if len(row) == 1:  # {"messages": [...]} and nothing else: no tools, no system_prompt, no clash
        msgs = row.get("messages")
        if type(msgs) is list:
            if _plain_row(msgs, issues):
                return res
            plain_tried = True
    if "messages" not in row and "interactions" not in row:
        keys = ", ".join(repr(k) for k in list(row)[:5]) or "none"
        issues.append(("E201", f"row has no 'messages' (or 'interactions') key; keys: {keys}"))
        return res
    if "messages" in row and "interactions" in row:
        issues.append(("E202", "row has both 'messages' and 'interactions'"))
    msgs = messages_of(row)
    if not isinstance(msgs, list):
        issues.append(("E203", f"'messages' must be a list, got {type(msgs).__name__}"))
        return res
    if "tools" in row and "available_tools" in row:
        issues.append(("E204", "row has both 'tools' and 'available_tools'"))
    tool_names: list[str] | None = None
    chosen = tools_of(row)
    if chosen is not None:
        tool_issues, tool_names = check_tools(chosen[1], chosen[0], raw.get(chosen[0]) if raw else None)
        issues.extend(tool_issues)
    system_prompt = row.get("system_prompt")
    if chosen is None and system_prompt is None and not plain_tried and _plain_row(msgs, issues):
        return res
    if system_prompt is not None and not isinstance(system_prompt, str):
        issues.append(("E211", "'system_prompt' must be a string"))
    _check_messages(msgs, system_prompt is not None, tool_names, res)
    if not any(code[0] == "E" for code, _ in issues):
        _warn_untrained(msgs, only_last(row), issues)
    return res


def _plain_row(msgs: list[Any], issues: list[Issue]) -> bool:
    """Fast path for rows of plain ``{"role", "content": str}`` turns (most real data); False if not plain.

    With only user/assistant turns every role order is allowed and no tool bookkeeping applies, so the
    structure rules reduce to: something besides the system message, a lone message must be a user
    message, the last one is an assistant, no empty assistant turn.
    """
    roles: list[str] = []
    systems = 0
    has_empty = False
    for m in msgs:
        if type(m) is not dict or len(m) != 2:
            return False
        content = m.get("content")
        if type(content) is not str:
            return False
        role = m.get("role")
        if role == "assistant":
            has_empty = has_empty or not content
        elif role == "system":
            systems += 1
            continue
        elif role != "user":
            return False
        roles.append(role)
    if systems > 1:
        return False
    if not roles:
        issues.append(("E205", "the conversation has no message besides the system message"))
        return True
    if len(roles) == 1 and roles[0] != "user":
        issues.append(("E206", f"a single-message conversation must be a user message, got {roles[0]}"))
    if roles[-1] != "assistant":
        issues.append(("E207", f"the last message must be an assistant message, got {roles[-1]}"))
    if has_empty:
        for i, m in enumerate(msgs):
            if not m["content"] and m["role"] == "assistant":
                issues.append(("E308", f"messages[{i}] (assistant) has empty content and no tool_calls"))
    return True


def _check_messages(msgs: list[Any], has_system: bool, tool_names: list[str] | None,
                    res: InstructResult) -> None:
    issues = res.issues
    roles: list[str] = []  # non-system roles, in order, for the structure checks
    last_index = len(msgs) - 1  # index (in msgs) of the last non-system message
    while last_index > 0 and isinstance(msgs[last_index], dict) and msgs[last_index].get("role") == "system":
        last_index -= 1
    message_ok = True
    call_ids: set[str] = set()
    call_counts: list[int] = []  # per non-system message: number of tool calls (assistant) or -1 (tool)
    for i, msg in enumerate(msgs):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            issues.append(("E301", f"{where} must be an object, got {type(msg).__name__}"))
            message_ok = False
            continue
        role = msg.get("role")
        # Fast path: the overwhelming majority of rows are plain {"role", "content": str} turns.
        if len(msg) == 2 and (role == "user" or role == "assistant"):
            content = msg.get("content")
            if isinstance(content, str):
                if role == "assistant" and not content:
                    issues.append(("E308", f"{where} (assistant) has empty content and no tool_calls"))
                roles.append(role)
                call_counts.append(0)
                continue
        if "role" not in msg:
            issues.append(("E302", f"{where} has no 'role'"))
            message_ok = False
            continue
        if "content" in msg and "text" in msg:
            issues.append(("E304", f"{where} has both 'text' and 'content'"))
        content = msg.get("content")
        if content is None:
            content = msg.get("text")
        calls = msg.get("tool_calls")
        if content is None and calls is None:
            issues.append(("E305", f"{where} ({role}) has no content"))
            message_ok = False
            continue
        if role not in ROLES:
            issues.append(("E303", f"{where} has unknown role {role!r}; expected one of {', '.join(ROLES)}"))
            message_ok = False
            continue
        if role == "system":
            if has_system:
                issues.append(("E210", f"{where} is a second system message (only one is allowed)"))
            has_system = True
            if not isinstance(content, str):
                issues.append(("E306", f"{where} (system) content must be a string"))
            continue
        roles.append(role)
        if role == "user":
            call_counts.append(0)
            if isinstance(content, list):
                chunk_issues, has_image = _check_chunks(content, where)
                issues.extend(chunk_issues)
                res.has_image = res.has_image or has_image
            elif not isinstance(content, str):
                issues.append(("E306", f"{where} (user) content must be a string or a list of chunks"))
        elif role == "tool":
            call_counts.append(-1)
            if not isinstance(content, str):
                issues.append(("E306", f"{where} (tool) content must be a string"))
            issues.extend(check_tool_message(msg, where))
            tcid = msg.get("tool_call_id")
            if isinstance(tcid, str) and tcid not in call_ids:
                issues.append(("W402", f"{where}.tool_call_id {tcid!r} answers no earlier tool call"))
        else:
            ncalls = _check_assistant(msg, content, calls, where, i == last_index, tool_names, call_ids,
                                      issues)
            call_counts.append(ncalls)
    if message_ok:
        _check_structure(roles, call_counts, issues)


def _check_assistant(msg: dict[str, Any], content: Any, calls: Any, where: str, is_last: bool,
                     tool_names: list[str] | None, call_ids: set[str], issues: list[Issue]) -> int:
    if content is not None and not isinstance(content, str):
        issues.append(("E306", f"{where} (assistant) content must be a string"))
    ncalls = 0
    has_calls = False
    if calls is not None:
        call_issues, ids, names = check_tool_calls(calls, where, is_last)
        issues.extend(call_issues)
        if isinstance(calls, list):
            ncalls = len(calls)
            has_calls = ncalls > 0
        call_ids.update(ids)
        for name in names:
            if tool_names is None or name not in tool_names:
                issues.append(("W401", f"{where} calls {name!r}, which 'tools' does not define"))
    if bool(content) == has_calls:
        what = "both content and tool_calls" if has_calls else "empty content and no tool_calls"
        issues.append(("E308", f"{where} (assistant) has {what}"))
    if not _is_weight_ok(msg.get("weight")):
        issues.append(("E309", f"{where}.weight is {msg.get('weight')!r}; it must be 0 or 1"))
    return ncalls


def _check_structure(roles: list[str], call_counts: list[int], issues: list[Issue]) -> None:
    """mistral-common V3 finetuning structure rules on the messages left after the system message."""
    if not roles:
        issues.append(("E205", "the conversation has no message besides the system message"))
        return
    if len(roles) == 1 and roles[0] != "user":
        issues.append(("E206", f"a single-message conversation must be a user message, got {roles[0]}"))
    if roles[-1] != "assistant":
        issues.append(("E207", f"the last message must be an assistant message, got {roles[-1]}"))
    for k in range(1, len(roles)):
        if roles[k] not in _NEXT[roles[k - 1]]:
            issues.append(("E208", f"message role {roles[k]!r} may not follow {roles[k - 1]!r} "
                                   f"(non-system message {k + 1})"))
            break
    # Bookkeeping exactly like the V3 validator: the first message is skipped, each tool result answers one
    # pending call, an assistant may only speak once every call was answered.
    pending = 0
    for k in range(1, len(roles)):
        if roles[k] == "tool":
            pending -= 1
        elif roles[k] == "assistant":
            if pending != 0:
                issues.append(("E209", f"not the same number of tool calls and tool results before "
                                       f"non-system message {k + 1}"))
                return
            pending = call_counts[k]
    if pending not in (0, 1):
        word = "more tool results than tool calls" if pending < 0 else "unanswered tool calls"
        issues.append(("E209", f"the conversation ends with {word}"))


def _warn_untrained(msgs: list[Any], last_only: bool, issues: list[Issue]) -> None:
    """W301 when the last assistant message has weight 0 (§4.6): it carries no loss."""
    assistants = [m for m in msgs if m.get("role") == "assistant"]
    if not assistants or not _weight_is_zero(assistants[-1].get("weight")):
        return
    nothing = last_only or all(_weight_is_zero(m.get("weight")) for m in assistants)
    tail = "so this row trains nothing" if nothing else "so only earlier assistant turns are trained"
    issues.append(("W301", f"the last assistant message has weight 0, {tail}"))


def _weight_is_zero(weight: Any) -> bool:
    if weight is None or isinstance(weight, (dict, list)):
        return False
    try:
        return float(weight) == 0.0
    except (TypeError, ValueError):
        return False
