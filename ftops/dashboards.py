"""Dashboards: the values behind ``ftops models`` and ``ftops jobs``, and their text/JSON rendering.

The rows are plain dataclasses built from what the client returns (``RemoteModel``, ``RemoteJob``) plus an
optional map from remote id to the ftops address recorded in the lock, so a team sees which manifest entry
owns which object. Rendering is a rich table on a terminal and plain aligned columns in CI (``CI=true``, no
TTY, ``--no-color``), so logs stay greppable. JSON output is versioned and stable for scripts.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from ftops.client.models import ACTIVE_JOB_STATUSES, JobStatus, RemoteJob, RemoteModel

DASHBOARD_FORMAT_VERSION = "1.0"
_FAILED = frozenset({"FAILED", "FAILED_VALIDATION"})


@dataclass(frozen=True)
class ModelRow:
    id: str
    state: str  # "active" | "archived"
    name: str | None
    job: str | None
    base_model: str | None
    created: int | None
    address: str | None = None  # ftops address from the lock (model.x), when ftops manages it


@dataclass(frozen=True)
class JobRow:
    id: str
    model: str
    status: str
    created_at: int
    suffix: str | None
    fine_tuned_model: str | None
    cost: float | None
    currency: str | None
    error: str | None
    address: str | None = None
    train_loss: float | None = None  # at the last checkpoint (detailed answers only; None when unknown)
    valid_loss: float | None = None


@dataclass(frozen=True)
class JobsDashboard:
    counts: dict[str, int]  # status → number of jobs, over every job listed (not just the shown ones)
    total: int
    active: int
    spent: float  # sum of spent_on(job): price of succeeded jobs, the trained share of stopped/running ones
    currency: str
    rows: list[JobRow] = field(default_factory=list)


def model_rows(
    models: Iterable[RemoteModel], *, include_archived: bool = False, addresses: Mapping[str, str] | None = None
) -> list[ModelRow]:
    """Fine-tuned models, newest first; archived ones only with ``include_archived``."""
    addresses = addresses or {}
    rows = [
        ModelRow(
            id=m.id,
            state="archived" if m.archived else "active",
            name=m.name,
            job=m.job,
            base_model=m.root,
            created=m.created,
            address=addresses.get(m.id),
        )
        for m in models
        if include_archived or not m.archived
    ]
    return sorted(rows, key=lambda r: (-(r.created or 0), r.id))


def job_error(job: RemoteJob) -> str | None:
    """A one-line reason for a failed job, from its latest event that carries one (detailed responses only)."""
    if job.status not in _FAILED:
        return None
    for event in reversed(job.events or []):
        data = event.data or {}
        for key in ("error", "message", "reason", "detail"):
            value = data.get(key)
            if value:
                return str(value).splitlines()[0][:200]
    return "validation failed" if job.status == "FAILED_VALIDATION" else "training failed"


_NOT_TRAINED = frozenset({JobStatus.QUEUED, JobStatus.VALIDATING, JobStatus.VALIDATED, JobStatus.FAILED_VALIDATION})
_TRAINING_EVENTS = frozenset({"STARTED", "RUNNING"})


def training_progress(job: RemoteJob) -> float | None:
    """Share of the job's steps trained (0..1) by its checkpoints and events; None when the answer lacks them
    (list answers carry neither)."""
    if job.events is not None and not any((e.data or {}).get("status") in _TRAINING_EVENTS for e in job.events):
        return 0.0  # e.g. cancelled while VALIDATED: never trained
    md = job.metadata
    total = md.train_tokens // md.train_tokens_per_step if md and md.train_tokens and md.train_tokens_per_step \
        else job.hyperparameters.get("training_steps")
    if job.checkpoints is None or not isinstance(total, int) or total <= 0:
        return None
    done = max((c.step_number for c in job.checkpoints), default=0)
    return min(1.0, done / total)


def spent_on(job: RemoteJob) -> float:
    """What a job has cost so far: nothing before training, its price once it succeeded, and for a job that
    stopped (cancelled, failed) or is still training the share of steps it trained, when its details say so
    (else its full price, as an upper bound)."""
    md = job.metadata
    if md is None or not md.cost or job.phase in _NOT_TRAINED:
        return 0.0
    if job.phase is JobStatus.SUCCESS:
        return md.cost
    fraction = training_progress(job)
    return md.cost * fraction if fraction is not None else md.cost


def _last(job: RemoteJob, metric: str) -> float | None:
    for checkpoint in sorted(job.checkpoints or [], key=lambda c: -c.step_number):
        value = checkpoint.metrics.get(metric)
        if isinstance(value, float):
            return value
    return None


def jobs_dashboard(
    jobs: Sequence[RemoteJob], *, limit: int = 20, addresses: Mapping[str, str] | None = None
) -> JobsDashboard:
    """Counts by status over every job, and the ``limit`` latest jobs as rows."""
    addresses = addresses or {}
    counts = Counter(j.status for j in jobs)
    latest = sorted(jobs, key=lambda j: (-j.created_at, j.id))[: max(limit, 0)]
    currencies = {j.metadata.cost_currency for j in jobs if j.metadata and j.metadata.cost_currency}
    # A parked job (VALIDATED, not started) has a quoted cost but has spent nothing yet; a cancelled one the
    # share it trained.
    spent = sum(spent_on(j) for j in jobs)
    rows = [
        JobRow(
            id=j.id,
            model=j.model,
            status=j.status,
            created_at=j.created_at,
            suffix=j.suffix,
            fine_tuned_model=j.fine_tuned_model,
            cost=j.metadata.cost if j.metadata else None,
            currency=j.metadata.cost_currency if j.metadata else None,
            error=job_error(j),
            address=addresses.get(j.id),
            train_loss=_last(j, "train_loss"),
            valid_loss=_last(j, "valid_loss"),
        )
        for j in latest
    ]
    return JobsDashboard(
        counts=dict(sorted(counts.items())),
        total=len(jobs),
        active=sum(1 for j in jobs if j.status in ACTIVE_JOB_STATUSES),
        spent=round(spent, 4),
        currency=currencies.pop() if len(currencies) == 1 else "USD",
        rows=rows,
    )


# ---------------------------------------------------------------- rendering


def format_time(ts: int | None) -> str:
    if not ts:
        return "-"
    return _dt.datetime.fromtimestamp(ts, tz=_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def format_cost(cost: float | None, currency: str | None) -> str:
    if cost is None:
        return "-"
    return f"{cost:,.2f} {currency or 'USD'}"


def _table(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[str]], *, plain: bool) -> str:
    """Rich table on a terminal; in CI, plain columns separated by two spaces (one line per row)."""
    if plain:
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
        lines = [title] if title else []
        for cells in [list(headers), *rows]:
            lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
        return "\n".join(lines)
    table = Table(title=title, title_justify="left", header_style="bold")
    for h in headers:
        table.add_column(h, overflow="fold")
    for r in rows:
        table.add_row(*r)
    buffer = io.StringIO()
    Console(file=buffer, force_terminal=True, width=160).print(table)
    return buffer.getvalue().rstrip("\n")


def render_models_text(rows: Sequence[ModelRow], *, plain: bool) -> str:
    if not rows:
        return "No fine-tuned models."
    body = [
        [r.id, r.state, r.name or "-", r.address or "-", r.job or "-", r.base_model or "-", format_time(r.created)]
        for r in rows
    ]
    headers = ["MODEL", "STATE", "NAME", "ADDRESS", "JOB", "BASE MODEL", "CREATED"]
    return _table(None, headers, body, plain=plain)


def render_jobs_text(board: JobsDashboard, *, plain: bool) -> str:
    counts = ", ".join(f"{status} {n}" for status, n in board.counts.items()) or "none"
    head = [
        f"Jobs: {board.total} total, {board.active} active ({counts})",
        f"Spent on training: {format_cost(board.spent, board.currency)}",
    ]
    if not board.rows:
        return "\n".join(head)
    body = [
        [
            r.id,
            r.address or r.suffix or "-",
            r.model,
            r.status,
            format_time(r.created_at),
            r.fine_tuned_model or "-",
            "-" if r.train_loss is None else f"{r.train_loss:.4f}",
            "-" if r.valid_loss is None else f"{r.valid_loss:.4f}",
            format_cost(r.cost, r.currency),
            r.error or "",
        ]
        for r in board.rows
    ]
    headers = ["JOB", "ADDRESS/SUFFIX", "MODEL", "STATUS", "CREATED", "FINE-TUNED MODEL", "TRAIN LOSS", "VALID LOSS",
               "COST", "ERROR"]
    title = f"Latest {len(board.rows)} job{'s' if len(board.rows) != 1 else ''}"
    return "\n".join([*head, "", _table(title, headers, body, plain=plain)])


def models_json(rows: Sequence[ModelRow], *, endpoint: str) -> str:
    payload: dict[str, Any] = {
        "format_version": DASHBOARD_FORMAT_VERSION,
        "endpoint": endpoint,
        "models": [asdict(r) for r in rows],
    }
    return json.dumps(payload, indent=2, sort_keys=True)


def jobs_json(board: JobsDashboard, *, endpoint: str) -> str:
    payload: dict[str, Any] = {"format_version": DASHBOARD_FORMAT_VERSION, "endpoint": endpoint, **asdict(board)}
    return json.dumps(payload, indent=2, sort_keys=True)
