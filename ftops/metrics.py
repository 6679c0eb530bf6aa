"""Training metrics of jobs: the loss curve per checkpoint, the final values, cost and duration.

Built from what the API returns for a job (a detailed GET carries checkpoints and events), so ``ftops
metrics``, ``ftops show job.X``, the sweep ranking and the charts all read one value. Metrics the API leaves
out (no validation file: no validation loss) stay None, never 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from ftops.client.models import RemoteJob

METRICS = ("valid_loss", "train_loss", "valid_mean_token_accuracy")
# Lower is better for losses; higher for accuracy.
HIGHER_IS_BETTER = frozenset({"valid_mean_token_accuracy"})


@dataclass(frozen=True)
class Point:
    step: int
    train_loss: float | None = None
    valid_loss: float | None = None
    valid_mean_token_accuracy: float | None = None

    def get(self, metric: str) -> float | None:
        value = getattr(self, metric, None)
        return value if isinstance(value, float) and math.isfinite(value) else None


@dataclass(frozen=True)
class JobMetrics:
    job_id: str
    label: str  # the ftops address when known, else the job id
    status: str
    model: str
    fine_tuned_model: str | None
    points: tuple[Point, ...] = ()  # by step, ascending
    cost: float | None = None
    currency: str | None = None
    duration_seconds: float | None = None  # training time: RUNNING → SUCCESS/FAILED/CANCELLED
    events: tuple[tuple[int, str, str], ...] = field(default_factory=tuple)  # (time, name, status or message)

    def last(self, metric: str) -> float | None:
        for point in reversed(self.points):
            value = point.get(metric)
            if value is not None:
                return value
        return None

    def best(self, metric: str) -> float | None:
        values = [v for p in self.points if (v := p.get(metric)) is not None]
        if not values:
            return None
        return max(values) if metric in HIGHER_IS_BETTER else min(values)

    def series(self, metric: str) -> list[tuple[int, float]]:
        return [(p.step, v) for p in self.points if (v := p.get(metric)) is not None]


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def job_metrics(job: RemoteJob, *, label: str | None = None) -> JobMetrics:
    """From a detailed job (GET /v1/fine_tuning/jobs/{id}); a list item has no checkpoints (empty curve)."""
    points = sorted(
        (Point(step=c.step_number, train_loss=_float(c.metrics.get("train_loss")),
               valid_loss=_float(c.metrics.get("valid_loss")),
               valid_mean_token_accuracy=_float(c.metrics.get("valid_mean_token_accuracy")))
         for c in job.checkpoints or []),
        key=lambda p: p.step,
    )
    events = tuple(
        (int(e.created_at), e.name, str((e.data or {}).get("status") or (e.data or {}).get("error") or ""))
        for e in sorted(job.events or [], key=lambda e: e.created_at)
    )
    return JobMetrics(
        job_id=job.id, label=label or job.id, status=job.status, model=job.model,
        fine_tuned_model=job.fine_tuned_model, points=tuple(points),
        cost=job.metadata.cost if job.metadata else None,
        currency=job.metadata.cost_currency if job.metadata else None,
        duration_seconds=_duration(events), events=events,
    )


def _duration(events: Sequence[tuple[int, str, str]]) -> float | None:
    started = next((t for t, _, status in events if status == "RUNNING"), None)
    ended = next((t for t, _, status in reversed(events)
                  if status in {"SUCCESS", "FAILED", "CANCELLED"}), None)
    return float(ended - started) if started is not None and ended is not None and ended >= started else None


def rank(jobs: Sequence[JobMetrics], metric: str) -> list[tuple[JobMetrics, float | None]]:
    """Best first by the metric's final value; jobs without the metric last (in their given order)."""
    scored = [(j, j.last(metric)) for j in jobs]
    sign = -1.0 if metric in HIGHER_IS_BETTER else 1.0
    return sorted(scored, key=lambda item: (item[1] is None, sign * (item[1] or 0.0)))


# A recorded or charted curve keeps at most this many points: a lock entry and a PR comment stay short.
MAX_POINTS = 20
CURVE_METRICS = ("train_loss", "valid_loss")
T = TypeVar("T")


def thin(points: Sequence[T], limit: int = MAX_POINTS) -> list[T]:
    """At most ``limit`` points of a curve (or steps of an axis), evenly spaced, the first and the last kept."""
    if len(points) <= limit:
        return list(points)
    stride = (len(points) - 1) / (limit - 1)
    return [points[round(i * stride)] for i in range(limit)]


def curve_record(metrics: JobMetrics) -> dict[str, list[list[float]]]:
    """The loss curves as the lock records them: ``{metric: [[step, value], ...]}``, thinned, rounded."""
    out: dict[str, list[list[float]]] = {}
    for metric in CURVE_METRICS:
        series = thin(metrics.series(metric))
        if series:
            out[metric] = [[step, round(value, 5)] for step, value in series]
    return out


def curve_from_record(record: object) -> dict[str, list[tuple[int, float]]]:
    """Read back :func:`curve_record` (a hand-edited or damaged value reads as no curve, never an error)."""
    if not isinstance(record, dict):
        return {}
    out: dict[str, list[tuple[int, float]]] = {}
    for metric in CURVE_METRICS:
        rows = record.get(metric)
        if not isinstance(rows, list):
            continue
        points = [(int(r[0]), float(r[1])) for r in rows if isinstance(r, list) and len(r) == 2
                  and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in r)
                  and math.isfinite(r[1])]
        if points:
            out[metric] = sorted(points)
    return out
