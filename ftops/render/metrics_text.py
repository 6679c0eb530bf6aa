"""Metrics as people read them: a ranking of several jobs, one job in depth, and their JSON form."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from ftops.metrics import HIGHER_IS_BETTER, METRICS, JobMetrics, rank

METRICS_FORMAT_VERSION = "1.0"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _cost(m: JobMetrics) -> str:
    return "-" if m.cost is None else f"{m.cost:,.2f} {m.currency or ''}".strip()


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def render_ranking(jobs: Sequence[JobMetrics], *, metric: str) -> str:
    order = "higher" if metric in HIGHER_IS_BETTER else "lower"
    rows = [["RANK", "JOB", "STATUS", "LAST STEP", "TRAIN_LOSS", "VALID_LOSS", "ACCURACY", "COST", "DURATION"]]
    for i, (m, value) in enumerate(rank(jobs, metric), 1):
        last_step = str(m.points[-1].step) if m.points else "-"
        rows.append([str(i) if value is not None else "-", m.label, m.status, last_step,
                     _num(m.last("train_loss")), _num(m.last("valid_loss")),
                     _num(m.last("valid_mean_token_accuracy")), _cost(m), _duration(m.duration_seconds)])
    head = f"{len(jobs)} job(s) ranked by final {metric} ({order} is better):"
    return "\n".join([head, *_table(rows)])


def _when(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def render_job(m: JobMetrics) -> str:
    lines = [f"{m.label}: job {m.job_id} on {m.model}, {m.status}",
             f"  fine-tuned model: {m.fine_tuned_model or '-'}",
             f"  cost: {_cost(m)}   training time: {_duration(m.duration_seconds)}",
             f"  final: train_loss {_num(m.last('train_loss'))}, valid_loss {_num(m.last('valid_loss'))}, "
             f"valid_mean_token_accuracy {_num(m.last('valid_mean_token_accuracy'))}"]
    if m.points:
        rows = [["STEP", "TRAIN_LOSS", "VALID_LOSS", "ACCURACY"]]
        rows += [[str(p.step), _num(p.get("train_loss")), _num(p.get("valid_loss")),
                  _num(p.get("valid_mean_token_accuracy"))] for p in m.points]
        lines += ["Checkpoints:", *_table(rows)]
    else:
        lines.append("Checkpoints: none yet")
    if m.events:
        lines.append("Events:")
        lines += [f"  {_when(t)}  {name}  {detail}".rstrip() for t, name, detail in m.events]
    return "\n".join(lines)


def _dict(m: JobMetrics) -> dict[str, Any]:
    return {
        "address": m.label if m.label != m.job_id else None, "job_id": m.job_id, "status": m.status,
        "model": m.model, "fine_tuned_model": m.fine_tuned_model, "cost": m.cost, "currency": m.currency,
        "duration_seconds": m.duration_seconds,
        "final": {k: m.last(k) for k in METRICS},
        "checkpoints": [{"step": p.step, **{k: p.get(k) for k in METRICS}} for p in m.points],
        "events": [{"created_at": t, "name": n, "detail": d} for t, n, d in m.events],
    }


def metrics_json(jobs: Sequence[JobMetrics], *, metric: str, endpoint: str) -> str:
    ranked = [{"rank": i if v is not None else None, **_dict(m)} for i, (m, v) in enumerate(rank(jobs, metric), 1)]
    return json.dumps({"format_version": METRICS_FORMAT_VERSION, "endpoint": endpoint, "ranked_by": metric,
                       "jobs": ranked}, indent=2)
