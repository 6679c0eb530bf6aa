"""A saved plan against the plan recomputed at apply time: exactly the same changes, or the differences.

``ftops apply PLANFILE`` recomputes the plan from the same inputs (the manifests and lock the file is bound
to, and the live API) and applies only when the saved changes are exactly the recomputed ones. What may
differ is what the world did by itself in between (*progress*), never what apply would do:

- ``reasons`` (sentences for people; they name observed statuses);
- ``before.status`` (the job's observed status, e.g. VALIDATING → VALIDATED);
- a job's ``cost`` when its source moved from ``estimate`` to ``api`` (the job's own metadata arrived).

Everything else — addresses, actions, remote ids, the desired spec (``after``), field changes, dependencies,
costs from the same source, the order of the changes — is compared as canonical JSON of :class:`Change`, so
the check keeps working whatever fields a Change grows.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from ftops.plan.model import Change, Plan

MAX_SHOWN = 12  # differences listed in the error; the rest are counted


def _canonical(change: Change) -> dict[str, Any]:
    data: dict[str, Any] = change.model_dump(mode="json")
    data.pop("reasons", None)
    before = data.get("before")
    if isinstance(before, dict):
        data["before"] = {k: v for k, v in before.items() if k != "status"}
    return data


def _comparable(saved: Change, fresh: Change) -> tuple[dict[str, Any], dict[str, Any]]:
    a, b = _canonical(saved), _canonical(fresh)
    cost_a, cost_b = a.get("cost"), b.get("cost")
    if isinstance(cost_a, dict) and isinstance(cost_b, dict) and cost_a.get("source") != cost_b.get("source"):
        a.pop("cost")
        b.pop("cost")
    return a, b


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _field_diffs(prefix: str, a: Any, b: Any, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            _field_diffs(f"{prefix}.{key}" if prefix else str(key), a.get(key), b.get(key), out)
    elif a != b:
        out.append(f"{prefix}: the plan file says {_short(a)}, the manifests and state say {_short(b)}")


def _key(change: Change) -> tuple[str, str]:
    return change.address, change.action.value


def differences(saved: Plan, fresh: Plan) -> list[str]:
    """Every way the saved changes differ from ``fresh`` (empty when the saved plan may be applied)."""
    out: list[str] = []
    counts = Counter(_key(c) for c in saved.changes)
    for (address, action), n in sorted(counts.items()):
        if n > 1:
            out.append(f"{address}: {action} is listed {n} times in the plan file")
    saved_by = {_key(c): c for c in saved.changes}
    fresh_by = {_key(c): c for c in fresh.changes}
    for address, action in sorted(set(saved_by) - set(fresh_by)):
        out.append(f"{address}: the plan file would {action} it; the manifests and state do not ask for that")
    for address, action in sorted(set(fresh_by) - set(saved_by)):
        out.append(f"{address}: the manifests and state need {action}; the plan file lacks it")
    for key in sorted(set(saved_by) & set(fresh_by)):
        a, b = _comparable(saved_by[key], fresh_by[key])
        fields: list[str] = []
        _field_diffs("", a, b, fields)
        out.extend(f"{key[0]} ({key[1]}): {line}" for line in fields)
    if not out and [_key(c) for c in saved.changes] != [_key(c) for c in fresh.changes]:
        out.append("the changes are listed in another order than the one their dependencies require")
    return out


def summarize(found: list[str]) -> str:
    """The differences as indented lines, at most :data:`MAX_SHOWN` of them."""
    lines = [f"  - {d}" for d in found[:MAX_SHOWN]]
    if len(found) > MAX_SHOWN:
        lines.append(f"  … and {len(found) - MAX_SHOWN} more")
    return "\n".join(lines)
