"""The values of ``ftops status``: every tracked resource with its live state, from ONE snapshot.

Each row joins a lock entry with what the list calls returned (never one GET per resource): remote id,
live status (or ``missing`` when the API no longer has it), the fine-tuned model, the job's cost as the
API quoted it, and when the object last changed. Rendering (table or JSON) is the CLI's business.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from ftops.client.models import RemoteJob
from ftops.live import LiveSnapshot
from ftops.metrics import job_metrics
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
    train_loss: float | None = None  # jobs: at the last checkpoint (None when unknown, never 0)
    valid_loss: float | None = None

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
            train, valid = _losses(job, entry.attributes)
            rows.append(StatusRow(
                address, "job", job.id, job.status, job.fine_tuned_model,
                meta.cost if meta else None, meta.cost_currency if meta else None, job.modified_at, train, valid,
            ))
        else:
            model = live.models.get(entry.remote_id)
            if model is None:
                rows.append(StatusRow(address, "model", entry.remote_id, "missing"))
                continue
            rows.append(StatusRow(address, "model", model.id, "archived" if model.archived else "active",
                                  model.id, last_change=model.created))
    return rows


def _losses(job: RemoteJob, recorded: dict[str, Any]) -> tuple[float | None, float | None]:
    """Final train/valid loss: from the job's checkpoints when the snapshot has them, else as the lock recorded."""
    if job.checkpoints:
        metrics = job_metrics(job)
        return metrics.last("train_loss"), metrics.last("valid_loss")
    train, valid = recorded.get("train_loss"), recorded.get("valid_loss")
    return (train if isinstance(train, float) else None), (valid if isinstance(valid, float) else None)


def needs_details(lock: LockFile | None, live: LiveSnapshot, *, limit: int = 20) -> list[str]:
    """Finished tracked jobs whose final losses the lock has not recorded yet (one GET each, at most ``limit``)."""
    if lock is None:
        return []
    ids = [e.remote_id for e in lock.resources.values() if e.kind == "job" and "train_loss" not in e.attributes
           and (job := live.jobs.get(e.remote_id)) is not None and job.status == "SUCCESS"]
    return sorted(ids)[:limit]


def _loss(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def text_table(rows: list[StatusRow]) -> list[list[str]]:
    """Rows as strings, header first (the CLI prints them with rich or as aligned plain text)."""
    out = [["ADDRESS", "KIND", "REMOTE ID", "STATUS", "FINE-TUNED MODEL", "TRAIN LOSS", "VALID LOSS", "COST",
            "LAST CHANGE"]]
    for r in rows:
        cost = "-" if r.cost is None else f"{r.cost:,.2f} {r.currency or ''}".strip()
        losses = [_loss(r.train_loss), _loss(r.valid_loss)] if r.kind == "job" else ["", ""]
        out.append([r.address, r.kind, r.remote_id, r.status, r.fine_tuned_model or "-", *losses, cost,
                    _ts(r.last_change)])
    return out


def aligned(table: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
