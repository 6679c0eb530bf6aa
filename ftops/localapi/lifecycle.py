"""Job lifecycle as a pure function of stored timestamps and "now".

A job row stores when each phase begins (computed once, at creation or at ``start``/``cancel``); the status,
the events, the checkpoints and whether a fine-tuned model exists are all derived from those timestamps and
the current time. So a job advances whether or not a server is running, and tests fast-forward it by moving
the clock. ``STATUS_SQL`` mirrors :func:`status_at` for filtering in SQLite; a unit test keeps them equal.

    QUEUED ─► VALIDATING ─► VALIDATED ─(start / auto_start)─► STARTED ─► RUNNING ─► SUCCESS
                  └──► FAILED_VALIDATION                                         └──► FAILED
    non-terminal ──cancel──► CANCELLATION_REQUESTED ─► CANCELLED

A job fails during training when ``failed_at`` is set (decided at start: a per-job request through the
admin endpoint, or the server's training-failure rate); it then never reaches SUCCESS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Nominal phase lengths in simulated seconds; divided by the server speed when a job is scheduled.
QUEUED_SECONDS = 2.0
VALIDATING_SECONDS = 3.0
CANCELLING_SECONDS = 2.0
STARTING_SECONDS = 1.0  # STARTED: the short state between /start and RUNNING

TERMINAL = frozenset({"SUCCESS", "FAILED", "FAILED_VALIDATION", "CANCELLED"})
ACTIVE = ("QUEUED", "VALIDATING", "VALIDATED", "STARTED", "RUNNING")


@dataclass(frozen=True)
class JobTimes:
    created_at: float
    validating_at: float
    validated_at: float
    validation_ok: bool
    started_at: float | None = None
    success_at: float | None = None
    cancel_requested_at: float | None = None
    cancelled_at: float | None = None
    running_at: float | None = None  # None on rows written before STARTED existed: RUNNING at started_at
    failed_at: float | None = None

    @property
    def running_from(self) -> float | None:
        return self.running_at if self.running_at is not None else self.started_at


def schedule(created_at: float, *, validation_ok: bool, speed: float) -> JobTimes:
    """The timestamps of a new job (not started yet)."""
    validating_at = created_at + QUEUED_SECONDS / speed
    return JobTimes(
        created_at=created_at,
        validating_at=validating_at,
        validated_at=validating_at + VALIDATING_SECONDS / speed,
        validation_ok=validation_ok,
    )


def status_at(t: JobTimes, now: float) -> str:
    if t.cancel_requested_at is not None and now >= t.cancel_requested_at:
        assert t.cancelled_at is not None
        return "CANCELLED" if now >= t.cancelled_at else "CANCELLATION_REQUESTED"
    if now < t.validating_at:
        return "QUEUED"
    if now < t.validated_at:
        return "VALIDATING"
    if not t.validation_ok:
        return "FAILED_VALIDATION"
    if t.started_at is None or now < t.started_at:
        return "VALIDATED"
    if t.failed_at is not None and now >= t.failed_at:
        return "FAILED"
    if t.running_at is not None and now < t.running_at:
        return "STARTED"
    if t.success_at is None or now < t.success_at or t.failed_at is not None:
        return "RUNNING"
    return "SUCCESS"


# The same decision in SQL over the ``jobs`` table columns; ``:now`` is bound by the caller.
STATUS_SQL = """CASE
  WHEN cancel_requested_at IS NOT NULL AND :now >= cancel_requested_at THEN
    CASE WHEN :now >= cancelled_at THEN 'CANCELLED' ELSE 'CANCELLATION_REQUESTED' END
  WHEN :now < validating_at THEN 'QUEUED'
  WHEN :now < validated_at THEN 'VALIDATING'
  WHEN validation_ok = 0 THEN 'FAILED_VALIDATION'
  WHEN started_at IS NULL OR :now < started_at THEN 'VALIDATED'
  WHEN failed_at IS NOT NULL AND :now >= failed_at THEN 'FAILED'
  WHEN running_at IS NOT NULL AND :now < running_at THEN 'STARTED'
  WHEN success_at IS NULL OR :now < success_at OR failed_at IS NOT NULL THEN 'RUNNING'
  ELSE 'SUCCESS' END"""


def _planned(t: JobTimes) -> list[tuple[float, str]]:
    out = [(t.created_at, "QUEUED"), (t.validating_at, "VALIDATING")]
    if not t.validation_ok:
        return [*out, (t.validated_at, "FAILED_VALIDATION")]
    out.append((t.validated_at, "VALIDATED"))
    if t.started_at is not None:
        if t.running_at is not None and t.running_at > t.started_at:
            out += [(t.started_at, "STARTED"), (t.running_at, "RUNNING")]
        else:
            out.append((t.started_at, "RUNNING"))
        if t.failed_at is not None:
            out.append((t.failed_at, "FAILED"))
        elif t.success_at is not None:
            out.append((t.success_at, "SUCCESS"))
    return out


def transitions(t: JobTimes, now: float) -> list[tuple[float, str]]:
    """Every status change that has happened by ``now``, oldest first (one entry per change)."""
    planned = _planned(t)
    if t.cancel_requested_at is not None and now >= t.cancel_requested_at:
        assert t.cancelled_at is not None
        planned = [p for p in planned if p[0] <= t.cancel_requested_at and p[1] not in TERMINAL]
        planned += [(t.cancel_requested_at, "CANCELLATION_REQUESTED"), (t.cancelled_at, "CANCELLED")]
    return [p for p in planned if p[0] <= now]


def modified_at(t: JobTimes, now: float) -> float:
    done = transitions(t, now)
    return done[-1][0] if done else t.created_at


@dataclass(frozen=True)
class Checkpoint:
    step_number: int
    created_at: float
    train_loss: float
    valid_loss: float | None
    valid_mean_token_accuracy: float | None


def checkpoints(t: JobTimes, now: float, *, steps: int, seed: int, has_validation: bool) -> list[Checkpoint]:
    """Checkpoints every 10% of progress (every step for short jobs), newest first, loss decreasing.

    Without a validation file the validation metrics are null (the spec's nullable fields), not 0.0.
    """
    start = t.running_from
    if start is None or t.success_at is None:
        return []
    horizon = min(x for x in (now, t.cancel_requested_at, t.failed_at) if x is not None)
    count = max(1, min(steps, 10))
    span = t.success_at - start
    start_loss = 1.8 + (seed % 600) / 1000.0  # job-dependent but stable: 1.8 .. 2.4
    out: list[Checkpoint] = []
    for k in range(1, count + 1):
        frac = k / count
        at = start + frac * span
        if at > horizon:
            break
        train = 0.35 + (start_loss - 0.35) * math.exp(-3.0 * frac)
        out.append(
            Checkpoint(
                step_number=max(1, round(frac * steps)),
                created_at=at,
                train_loss=round(train, 6),
                valid_loss=round(train * 1.04 + 0.02, 6) if has_validation else None,
                valid_mean_token_accuracy=round(0.9 - 0.5 * math.exp(-3.0 * frac), 6) if has_validation else None,
            )
        )
    out.reverse()
    return out
