"""The values of ``ftops status``: every tracked resource with its live state, from ONE snapshot.

Each row joins a lock entry with what the list calls returned (never one GET per resource): remote id,
live status (or ``missing`` when the API no longer has it), the fine-tuned model, the job's cost as the
API quoted it, and when the object last changed. Rendering (table or JSON) is the CLI's business.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from ftops.live import LiveSnapshot
from ftops.state.model import LockFile


@dataclass(frozen=True)
class StatusRow:
    address: str
    kind: str
    remote_id: str
    status: str
    fine_tuned_model: str | None = None
    cost: float | None = None
    currency: str | None = None
    last_change: int | None = None  # unix seconds

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _ts(value: int | None) -> str:
    if value is None:
        return "-"
    return datetime.fromtimestamp(value, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def status_rows(lock: LockFile | None, live: LiveSnapshot) -> list[StatusRow]:
    if lock is None:
        return []
    rows: list[StatusRow] = []
    for address in sorted(lock.resources, key=lambda a: (("file", "job", "model").index(a.split(".")[0]), a)):
        entry = lock.resources[address]
        if entry.kind == "file":
            f = live.files.get(entry.remote_id)
            status = "missing" if f is None or f.deleted else "uploaded"
            rows.append(StatusRow(address, "file", entry.remote_id, status,
                                  last_change=f.created_at if f else entry.created_at))
        elif entry.kind == "job":
            job = live.jobs.get(entry.remote_id)
            if job is None:
                rows.append(StatusRow(address, "job", entry.remote_id, "missing", entry.fine_tuned_model,
                                      entry.attributes.get("cost"), entry.attributes.get("cost_currency")))
                continue
            meta = job.metadata
            rows.append(StatusRow(
                address, "job", job.id, job.status, job.fine_tuned_model,
                meta.cost if meta else None, meta.cost_currency if meta else None, job.modified_at,
            ))
        else:
            model = live.models.get(entry.remote_id)
            if model is None:
                rows.append(StatusRow(address, "model", entry.remote_id, "missing"))
                continue
            rows.append(StatusRow(address, "model", model.id, "archived" if model.archived else "active",
                                  model.id, last_change=model.created))
    return rows


def text_table(rows: list[StatusRow]) -> list[list[str]]:
    """Rows as strings, header first (the CLI prints them with rich or as aligned plain text)."""
    out = [["ADDRESS", "KIND", "REMOTE ID", "STATUS", "FINE-TUNED MODEL", "COST", "LAST CHANGE"]]
    for r in rows:
        cost = "-" if r.cost is None else f"{r.cost:,.2f} {r.currency or ''}".strip()
        out.append([r.address, r.kind, r.remote_id, r.status, r.fine_tuned_model or "-", cost, _ts(r.last_change)])
    return out


def aligned(table: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
