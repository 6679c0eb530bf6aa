"""Rules for pretrain rows (``{"text": str}``, mistral-finetune's ``get_pretrain_sample``) and classifier
rows (``{"text" | "messages": ..., "labels": {target: label | [labels]}}``, mistral-api.md §5), plus the
per-row kind detection used to pick a file's kind from its first valid row.
"""

from __future__ import annotations

from typing import Any

from ftops.datasets.report import DataKind
from ftops.datasets.rules_tools import Issue

_CHAT_ROLES = ("system", "user", "assistant", "tool")


def row_kind(row: dict[str, Any]) -> DataKind | None:
    """The kind a row's keys suggest: labels → classifier, messages → instruct, text → pretrain."""
    if "labels" in row and ("text" in row or "messages" in row):
        return "classifier"
    if "messages" in row or "interactions" in row:
        return "instruct"
    if "text" in row or "content" in row:
        return "pretrain"
    return None


def check_pretrain(row: dict[str, Any]) -> list[Issue]:
    if "text" in row and "content" in row:
        return [("E502", "pretrain row has both 'text' and 'content'")]
    value = row.get("text", row.get("content"))
    if value is None:
        return [("E501", "pretrain row has no 'text' (or 'content') string")]
    if not isinstance(value, str):
        return [("E503", f"pretrain 'text' must be a string, got {type(value).__name__}")]
    return []


def label_shape(value: Any) -> str | None:
    """'single' or 'multi' for a valid label value, None when invalid."""
    if isinstance(value, str):
        return "single" if value else None
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return "multi"
    return None


def check_classifier(row: dict[str, Any]) -> list[Issue]:
    issues: list[Issue] = []
    has_text, has_msgs = "text" in row, "messages" in row
    if has_text and has_msgs:
        issues.append(("E605", "classifier row has both 'text' and 'messages'"))
    elif not has_text and not has_msgs:
        issues.append(("E604", "classifier row has no 'text' or 'messages'"))
    elif has_text:
        if not isinstance(row["text"], str) or not row["text"]:
            issues.append(("E606", "classifier 'text' must be a non-empty string"))
    else:
        issues.extend(_check_chat(row["messages"]))
    if "labels" not in row:
        issues.append(("E601", "classifier row has no 'labels'"))
        return issues
    labels = row["labels"]
    if not isinstance(labels, dict) or not labels:
        issues.append(("E602", "'labels' must be a non-empty object mapping target name to label"))
        return issues
    for target, value in labels.items():
        if not target:
            issues.append(("E602", "a label target name is empty"))
        elif label_shape(value) is None:
            issues.append(("E603", f"labels[{target!r}] must be a non-empty string or list of strings"))
    return issues


def _check_chat(msgs: Any) -> list[Issue]:
    if not isinstance(msgs, list) or not msgs:
        return [("E607", "'messages' must be a non-empty list")]
    for i, msg in enumerate(msgs):
        if not isinstance(msg, dict) or msg.get("role") not in _CHAT_ROLES:
            return [("E607", f"messages[{i}] needs a role among {', '.join(_CHAT_ROLES)}")]
        if not isinstance(msg.get("content"), str):
            return [("E607", f"messages[{i}].content must be a string")]
    return []
