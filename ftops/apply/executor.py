"""Runs a Plan's changes: dependency order, bounded parallelism, clean stop on Ctrl-C.

A change may start when every change it depends on (same address earlier in the plan, its ``depends_on``
addresses, and for a job the files it trains on) has finished. Independent changes run in a thread pool of
``parallelism`` workers; the lock store serialises writes. When a change fails, everything that depends on
it is skipped and the rest carries on; when it is deferred (a model waiting for its job to finish) its
dependents are deferred too. When ``stop`` is set (SIGINT) no new change starts, in-flight ones finish (a
waiting step gives up its wait) and the report says what was done and what is left.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Literal

from ftops.apply.steps import Deferred, Interrupted, StepContext, run_step
from ftops.errors import FtopsError
from ftops.plan.model import Action, Change

Outcome = Literal["done", "failed", "skipped", "deferred", "interrupted", "not started"]


@dataclass
class StepResult:
    change: Change
    outcome: Outcome
    message: str
    job_address: str | None = None  # for deferred steps: the job they wait for
    error: FtopsError | None = None


def dependencies(changes: Sequence[Change]) -> list[set[int]]:
    """For each change, the indexes of earlier changes it must wait for."""
    deps: list[set[int]] = []
    for i, change in enumerate(changes):
        wanted = {change.address, *change.depends_on}
        if change.job_spec is not None:  # a job waits for the uploads it trains on
            wanted.update(change.job_spec.file_addresses)
        deps.append({j for j in range(i) if changes[j].address in wanted})
    return deps


class Executor:
    def __init__(
        self,
        ctx: StepContext,
        *,
        parallelism: int = 4,
        checkpoint: Callable[[], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.parallelism = max(1, parallelism)
        self.checkpoint = checkpoint or (lambda: None)
        self._echo_lock = threading.Lock()

    def say(self, text: str) -> None:
        with self._echo_lock:
            self.ctx.echo(text)

    def _run_one(self, change: Change) -> StepResult:
        try:
            message = run_step(self.ctx, change)
        except Deferred as exc:
            return StepResult(change, "deferred", f"{change.address}: {exc.reason}", job_address=exc.job_address)
        except Interrupted:
            return StepResult(change, "interrupted", f"{change.address}: interrupted while waiting")
        except FtopsError as exc:
            return StepResult(change, "failed", f"{change.address}: {exc.message}", error=exc)
        return StepResult(change, "done", message)

    def run(self, changes: Sequence[Change]) -> list[StepResult]:
        deps = dependencies(changes)
        results: dict[int, StepResult] = {}
        pending = list(range(len(changes)))
        running: dict[Future[StepResult], int] = {}
        with ThreadPoolExecutor(max_workers=self.parallelism, thread_name_prefix="ftops-apply") as pool:
            while pending or running:
                if not self.ctx.stop.is_set():
                    pending = self._schedule(pool, changes, deps, pending, running, results)
                if not running:
                    break
                finished, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = running.pop(future)
                    result = future.result()
                    results[index] = result
                    self._report(result)
        for index in pending:
            results[index] = StepResult(changes[index], "not started", f"{changes[index].address}: not started")
        return [results[i] for i in range(len(changes))]

    def _schedule(
        self,
        pool: ThreadPoolExecutor,
        changes: Sequence[Change],
        deps: list[set[int]],
        pending: list[int],
        running: dict[Future[StepResult], int],
        results: dict[int, StepResult],
    ) -> list[int]:
        progressed = True
        while progressed:  # a skip can make further skips possible without anything running
            progressed = False
            left: list[int] = []
            for index in pending:
                if self.ctx.stop.is_set():
                    left.append(index)
                    continue
                blocked = [results[d] for d in deps[index] if d in results and results[d].outcome != "done"]
                if blocked:
                    results[index] = self._blocked(changes[index], blocked[0])
                    self._report(results[index])
                    progressed = True
                elif all(d in results for d in deps[index]) and len(running) < self.parallelism:
                    try:
                        self.checkpoint()
                    except FtopsError as exc:
                        self.ctx.stop.set()
                        self.say(f"Stopping: {exc.message}")
                        left.append(index)
                        continue
                    running[pool.submit(self._run_one, changes[index])] = index
                else:
                    left.append(index)
            pending = left
            if self.ctx.stop.is_set():
                break
        return pending

    def _blocked(self, change: Change, cause: StepResult) -> StepResult:
        if cause.outcome == "deferred":
            return StepResult(change, "deferred", f"{change.address}: {cause.message.split(': ', 1)[-1]}",
                              job_address=cause.job_address)
        if cause.outcome in ("interrupted", "not started"):
            return StepResult(change, "not started", f"{change.address}: not started")
        if cause.change.action is Action.GATE:  # nothing is promoted past a failed gate
            return StepResult(change, "skipped", f"{change.address}: skipped ({change.action.value}) because the "
                              "gate did not pass")
        if cause.change.action is Action.SMOKE:  # nor past a failed smoke test
            return StepResult(change, "skipped", f"{change.address}: skipped ({change.action.value}) because the "
                              "smoke test did not pass")
        return StepResult(change, "skipped", f"{change.address}: skipped because {cause.change.address} "
                          f"did not complete")

    def _report(self, result: StepResult) -> None:
        mark = {"done": "✓", "failed": "✗", "skipped": "-", "deferred": "…", "interrupted": "!",
                "not started": " "}[result.outcome]
        if result.outcome == "failed" and result.error is not None and result.error.hint:
            self.say(f"  {mark} {result.message}\n      hint: {result.error.hint}")
        else:
            self.say(f"  {mark} {result.message}")
