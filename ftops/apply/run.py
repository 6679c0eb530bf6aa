"""One apply run over an already-decided Plan: secrets check, execution, optional waiting, the report.

The CLI does the surrounding work (session, run lock, intent recovery, planning, confirmation); this module
is what happens after "yes": it marks the plan as applied (single-use), runs the changes, follows started
jobs with ``--wait`` and then finishes the model changes that were waiting for a fine-tuned model id.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ftops.apply.executor import Executor, StepResult
from ftops.apply.protocols import ApiClient, Store
from ftops.apply.specs import check_secrets, job_spec_of
from ftops.apply.steps import PollPolicy, StepContext
from ftops.apply.wait import LiveDisplay, PlainDisplay, WaitResult, follow_jobs
from ftops.client.models import JobStatus
from ftops.plan.model import Action, Plan

EXIT_INTERRUPTED = 130


@dataclass
class ApplyOptions:
    parallelism: int = 4
    wait: bool = False
    timeout: float = 3600.0
    live_display: bool = False  # a rich table while waiting (TTY only)


@dataclass
class ApplyReport:
    results: list[StepResult] = field(default_factory=list)
    waited: WaitResult | None = None
    interrupted: bool = False

    def of(self, outcome: str) -> list[StepResult]:
        return [r for r in self.results if r.outcome == outcome]

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        failed_jobs = self.waited.failed if self.waited else []
        timed_out = self.waited.timed_out if self.waited else []
        return 1 if self.of("failed") or self.of("skipped") or failed_jobs or timed_out else 0

    def summary(self) -> list[str]:
        done, failed, skipped = self.of("done"), self.of("failed"), self.of("skipped")
        deferred = self.of("deferred")
        left = self.of("not started") + self.of("interrupted")
        lines: list[str] = []
        if self.interrupted:
            lines.append(f"Interrupted: {len(done)} change(s) done, {len(left)} change(s) not done "
                         f"({', '.join(sorted({r.change.address for r in left})) or 'none'}). "
                         "The lock file records everything that was done; run ftops apply again to finish.")
        else:
            head = f"Apply finished: {len(done)} done"
            head += f", {len(failed)} failed" if failed else ""
            head += f", {len(skipped)} skipped" if skipped else ""
            head += f", {len(deferred)} waiting for a job" if deferred else ""
            lines.append(head + ".")
        if deferred and not self.interrupted:
            jobs = ", ".join(sorted({r.job_address or "?" for r in deferred}))
            lines.append(f"Waiting for {jobs} to finish before the model changes can be made: run "
                         "`ftops apply --wait`, or `ftops wait` and then ftops apply again.")
        if self.waited is not None:
            for address in self.waited.failed:
                job = self.waited.jobs[address]
                lines.append(f"Error: {address}: job {job.id} ended {job.status}")
            for address in self.waited.timed_out:
                lines.append(f"Error: {address}: still running when the --timeout ran out (ftops wait follows it)")
        return lines


def _secrets_preflight(plan: Plan) -> None:
    specs = [(c.address, job_spec_of(c)) for c in plan.changes if c.action in (Action.CREATE, Action.REPLACE)]
    check_secrets(specs)


def preflight(plan: Plan) -> None:
    """Everything that must hold before the first API write (missing W&B keys, malformed changes)."""
    _secrets_preflight(plan)


def execute_plan(
    plan: Plan,
    *,
    client: ApiClient,
    store: Store,
    root: Path,
    echo: Callable[[str], None],
    stop: threading.Event,
    options: ApplyOptions,
    checkpoint: Callable[[], None] | None = None,
) -> ApplyReport:
    preflight(plan)
    report = ApplyReport()
    if not plan.changes:
        return report
    store.mark_plan_applied(plan.id)
    ctx = StepContext(client=client, store=store, root=root, echo=echo, stop=stop,
                      poll=PollPolicy(timeout=options.timeout))
    executor = Executor(ctx, parallelism=options.parallelism, checkpoint=checkpoint)
    report.results = executor.run(plan.changes)
    if stop.is_set():
        report.interrupted = True
        return report
    if options.wait:
        follow = _jobs_to_follow(store, report.results)
        if follow:
            echo(f"Waiting for {len(follow)} job(s) to finish (timeout {options.timeout:.0f} s)...")
            display = LiveDisplay() if options.live_display else PlainDisplay(executor.say)
            report.waited = follow_jobs(client, store, follow, timeout=options.timeout, stop=stop, display=display)
            if report.waited.interrupted:
                report.interrupted = True
                return report
        deferred = [r.change for r in report.results if r.outcome == "deferred"]
        if deferred:
            echo("Applying the model changes that were waiting for their job:")
            again = {id(r.change): r for r in executor.run(deferred)}
            report.results = [again.get(id(r.change), r) for r in report.results]
            report.interrupted = stop.is_set()
    return report


def _jobs_to_follow(store: Store, results: list[StepResult]) -> dict[str, str]:
    """Jobs started by this run, and jobs a deferred model change waits for (unless parked on purpose)."""
    resources = store.lock.resources
    addresses = {r.change.address for r in results if r.outcome == "done" and r.change.action is Action.START}
    for r in results:
        if r.outcome == "deferred" and r.job_address:
            locked = resources.get(r.job_address)
            parked = locked is not None and JobStatus.parse(locked.status).startable \
                and locked.attributes.get("state") == "created"
            if not parked:
                addresses.add(r.job_address)
    return {a: resources[a].remote_id for a in sorted(addresses) if a in resources}
