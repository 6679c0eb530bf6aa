"""Following started jobs to a terminal state, with progress that suits the terminal it is shown on.

On a TTY a rich live table (status, step/total, train loss, ETA) redraws in place; in CI (or without a TTY)
one plain line is printed per status change and per new checkpoint, so logs stay short and greppable. Each
observed change is recorded in the lock (status, fine-tuned model id) as it is seen, so an interrupted wait
loses nothing. Polling backs off from 1 s to a few seconds and is bounded by the caller's timeout.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ftops.apply.protocols import ApiClient, Store
from ftops.apply.steps import record_job
from ftops.client.models import JobStatus, RemoteJob
from ftops.errors import ApiError, NotFoundError
from ftops.state.model import LockedResource


@dataclass
class Progress:
    """What one line / row shows for a job."""

    address: str
    job_id: str
    status: str = "?"
    step: int | None = None
    total: int | None = None
    train_loss: float | None = None
    eta_seconds: float | None = None
    fine_tuned_model: str | None = None

    @classmethod
    def of(cls, address: str, job: RemoteJob, now: float) -> Progress:
        checkpoints = sorted(job.checkpoints or [], key=lambda c: c.step_number)
        last = checkpoints[-1] if checkpoints else None
        total = job.hyperparameters.get("training_steps")
        loss = last.metrics.get("train_loss") if last else None
        return cls(
            address=address,
            job_id=job.id,
            status=job.status,
            step=last.step_number if last else None,
            total=int(total) if isinstance(total, (int, float)) else None,
            train_loss=loss,
            eta_seconds=_eta(job, now),
            fine_tuned_model=job.fine_tuned_model,
        )

    def line(self) -> str:
        parts = [f"{self.address} ({self.job_id}): {self.status}"]
        if self.step is not None:
            parts.append(f"step {self.step}" + (f"/{self.total}" if self.total else ""))
        if self.train_loss is not None:
            parts.append(f"train loss {self.train_loss:.4f}")
        if self.fine_tuned_model:
            parts.append(f"model {self.fine_tuned_model}")
        return ", ".join(parts)


def _eta(job: RemoteJob, now: float) -> float | None:
    if job.terminal or job.metadata is None or not job.metadata.expected_duration_seconds:
        return None
    running_since = next(
        (e.created_at for e in sorted(job.events or [], key=lambda e: e.created_at)
         if (e.data or {}).get("status") == "RUNNING"),
        None,
    )
    if running_since is None:
        return float(job.metadata.expected_duration_seconds)
    return max(0.0, running_since + job.metadata.expected_duration_seconds - now)


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def parked(job: RemoteJob) -> bool:
    """Validated and created without auto-start: nothing will move it until someone starts it."""
    return job.phase is JobStatus.VALIDATED and not job.auto_start


@dataclass
class WaitTargets:
    """What ``ftops wait`` follows, and what it leaves alone (said, never silently)."""

    follow: dict[str, str] = field(default_factory=dict)  # address → job id: queued, validating or training
    parked: dict[str, str] = field(default_factory=dict)  # address → job id: VALIDATED, waiting for a start
    finished: dict[str, str] = field(default_factory=dict)  # address → terminal status
    missing: dict[str, str] = field(default_factory=dict)  # address → job id the API no longer has


def wait_targets(client: ApiClient, resources: dict[str, LockedResource], addresses: tuple[str, ...]) -> WaitTargets:
    """Sort tracked jobs (all, or ``addresses``) by their LIVE status: the lock's may be stale.

    A job recorded as finished is final and is not asked about again (one GET per other job).
    """
    targets = WaitTargets()
    chosen = addresses or tuple(sorted(a for a, r in resources.items() if r.kind == "job"))
    for address in chosen:
        locked = resources[address]
        recorded = JobStatus.parse(locked.status)
        if recorded.terminal:
            targets.finished[address] = recorded.value
            continue
        try:
            job = client.get_job(locked.remote_id)
        except NotFoundError:
            targets.missing[address] = locked.remote_id
            continue
        if job.terminal:
            targets.finished[address] = job.status
        elif parked(job):
            targets.parked[address] = job.id
        else:
            targets.follow[address] = job.id
    return targets


@dataclass
class WaitResult:
    jobs: dict[str, RemoteJob] = field(default_factory=dict)  # by address: the last observation
    timed_out: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def failed(self) -> list[str]:
        return [a for a, j in self.jobs.items() if j.terminal and j.status != "SUCCESS"]


class PlainDisplay:
    """CI: one line per status change or new checkpoint."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self._seen: dict[str, tuple[str, int | None]] = {}

    def __enter__(self) -> PlainDisplay:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, rows: list[Progress]) -> None:
        for row in rows:
            key = (row.status, row.step)
            if self._seen.get(row.address) != key:
                self._seen[row.address] = key
                self.echo(f"  {row.line()}")


class LiveDisplay:
    """TTY: a rich table redrawn in place."""

    def __init__(self) -> None:
        from rich.live import Live

        self._live = Live(refresh_per_second=4, transient=False)

    def __enter__(self) -> LiveDisplay:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(None, None, None)

    def update(self, rows: list[Progress]) -> None:
        from rich.table import Table

        table = Table(title="Fine-tuning jobs")
        for col in ("job", "status", "step", "train loss", "ETA", "fine-tuned model"):
            table.add_column(col)
        for r in rows:
            step = "-" if r.step is None else f"{r.step}/{r.total}" if r.total else str(r.step)
            loss = "-" if r.train_loss is None else f"{r.train_loss:.4f}"
            table.add_row(r.address, r.status, step, loss, format_eta(r.eta_seconds), r.fine_tuned_model or "-")
        self._live.update(table)


def follow_jobs(
    client: ApiClient,
    store: Store,
    jobs: dict[str, str],
    *,
    timeout: float,
    stop: threading.Event,
    display: PlainDisplay | LiveDisplay,
    first_delay: float = 1.0,
    max_delay: float = 5.0,
    until_parked: bool = False,
) -> WaitResult:
    """Poll ``jobs`` (address → job id) until each is terminal, ``timeout`` passes or ``stop`` is set.

    ``until_parked`` (``ftops wait``): a job created without auto-start that reaches VALIDATED is done too;
    nothing will start it while we wait. Apply's own ``--wait`` follows jobs it has just started instead.
    """
    result = WaitResult()
    active = dict(jobs)
    deadline = time.monotonic() + timeout
    delay = 0.0
    with display:
        while active:
            if stop.wait(delay):
                result.interrupted = True
                break
            for address, job_id in list(active.items()):
                try:
                    job = client.get_job(job_id)
                except NotFoundError:
                    active.pop(address)
                    continue
                except ApiError:
                    continue  # transient after the client's own retries: try again next round
                result.jobs[address] = job
                record_job(store, address, job)
                if job.terminal or (until_parked and parked(job)):
                    active.pop(address)
            display.update([Progress.of(a, j, time.time()) for a, j in result.jobs.items()])
            if time.monotonic() >= deadline:
                result.timed_out = sorted(active)
                break
            delay = min(max(first_delay, delay * 1.5), max_delay, max(0.0, deadline - time.monotonic()))
    return result


def report_skipped(targets: WaitTargets, echo: Callable[[str], None]) -> None:
    """Name every tracked job ``ftops wait`` will not follow, and why."""
    for address, job_id in sorted(targets.parked.items()):
        echo(f"Skipping {address} ({job_id}): parked in VALIDATED and not started (state: created); "
             "`ftops apply` starts it once the manifest says state: started.")
    for address, status in sorted(targets.finished.items()):
        echo(f"Skipping {address}: already finished ({status}).")
    for address, job_id in sorted(targets.missing.items()):
        echo(f"Skipping {address}: job {job_id} no longer exists on the API (`ftops plan` shows the drift).")
