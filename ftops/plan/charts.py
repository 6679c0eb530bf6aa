"""Loss charts for the Markdown plan: the curves of the project's finished jobs, grouped and capped.

Pure, like the plan builder: the curves come from what the lock recorded (apply records a finished job's
thinned curves once, see ``ftops.apply.steps_base.record_job``) or from detailed answers the snapshot already
holds (the jobs of a ``best_of`` sweep); charting never costs a request.

Grouping: one chart per ``matrix`` sweep (its best ``MAX_SERIES`` jobs), one per Model whose job has a new
model the Model does not track yet (candidate vs current: the job's curve and the one recorded with the
current model), and one for the remaining jobs (those this plan touches first, then the best). A chart shows
``valid_loss`` when every job in it has a validation curve, else ``train_loss``, on at most ``MAX_POINTS``
shared steps. Charts about what this plan changes come first; at most ``MAX_CHARTS`` are kept and
``uncharted`` counts the jobs left out, so a 50-job project gets a comment of a few kilobytes, not one chart
per job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ftops.desired import Desired
from ftops.live import LiveSnapshot
from ftops.metrics import MAX_POINTS, curve_from_record, job_metrics, thin
from ftops.plan.model import Change, LossChart
from ftops.state.model import LockedResource, LockFile

MAX_CHARTS = 4
MAX_SERIES = 6
Curves = dict[str, list[tuple[int, float]]]  # metric → [(step, value)]
Metric = Literal["valid_loss", "train_loss"]


@dataclass(frozen=True)
class _Group:
    title: str
    members: tuple[tuple[str, Curves], ...]  # (label, curves), best first
    addresses: frozenset[str]  # what the group is about (to put charts about this plan's changes first)
    jobs: int  # how many jobs with curves it covers (members beyond MAX_SERIES are dropped)


def _curves(entry: LockedResource, live: LiveSnapshot) -> Curves:
    remote = live.jobs.get(entry.remote_id)
    if remote is not None and remote.checkpoints:
        metrics = job_metrics(remote)
        return {m: thin(s) for m in ("train_loss", "valid_loss") if (s := metrics.series(m))}
    return curve_from_record(entry.attributes.get("curve"))


def _metric(members: Sequence[tuple[str, Curves]]) -> Metric:
    return "valid_loss" if all(c.get("valid_loss") for _, c in members) else "train_loss"


def _final(curves: Curves, metric: str) -> float:
    series = curves.get(metric) or curves.get("train_loss") or []
    return series[-1][1] if series else float("inf")


def _on_grid(members: Sequence[tuple[str, Curves]], metric: str) -> dict[str, list[list[float]]]:
    """Every series on one grid of at most MAX_POINTS steps (a step a series lacks takes its last value before
    it, or its first): jobs of different lengths share an x-axis without it growing past the cap."""
    grid = thin(sorted({s for _, c in members for s, _ in c.get(metric, [])}), MAX_POINTS)
    out: dict[str, list[list[float]]] = {}
    for label, curves in members:
        points = curves.get(metric, [])
        if not points:
            continue
        row, i = [], 0
        for step in grid:
            while i + 1 < len(points) and points[i + 1][0] <= step:
                i += 1
            row.append([step, points[i][1]])
        out[label] = row
    return out


def _groups(desired: Desired, tracked: Mapping[str, LockedResource], curves: Mapping[str, Curves],
            skip_sweeps: set[str], touched: set[str]) -> list[_Group]:
    groups: list[_Group] = []
    charted: set[str] = set()
    sweeps: dict[str, list[str]] = {}
    for address in sorted(curves):
        declared = desired.jobs.get(address)
        if declared is not None and declared.sweep:
            sweeps.setdefault(declared.sweep, []).append(address)
    for sweep, jobs in sorted(sweeps.items()):
        charted.update(jobs)
        if sweep in skip_sweeps:  # a best_of ranking in this plan already charts it
            continue
        metric = _metric([(a, curves[a]) for a in jobs])
        ranked = sorted(jobs, key=lambda a: _final(curves[a], metric))
        groups.append(_Group(f'sweep "{sweep}"', tuple((a, curves[a]) for a in ranked), frozenset(jobs), len(jobs)))
    for address, m in sorted(desired.models.items()):
        entry, job_entry = tracked.get(address), tracked.get(m.job)
        if m.best_of is not None or m.job not in curves or m.job in charted or entry is None \
                or job_entry is None or job_entry.fine_tuned_model == entry.remote_id:
            continue
        current = curve_from_record(entry.attributes.get("curve"))
        if current:  # the job has a new model the Model does not track yet: candidate vs current
            charted.add(m.job)
            members = ((f"{m.job} (candidate)", curves[m.job]), (f"current {entry.remote_id}", current))
            groups.append(_Group(f"{address}: candidate vs current", members, frozenset({address, m.job}), 1))
    rest = [a for a in sorted(curves) if a not in charted]
    if rest:
        metric = _metric([(a, curves[a]) for a in rest])
        ranked = sorted(rest, key=lambda a: (a not in touched, _final(curves[a], metric)))
        groups.append(_Group("jobs", tuple((a, curves[a]) for a in ranked), frozenset(rest), len(rest)))
    return groups


def loss_charts(desired: Desired, lock: LockFile | None, live: LiveSnapshot,
                changes: Sequence[Change]) -> tuple[list[LossChart], int]:
    """The charts for a plan and how many jobs with curves they leave out."""
    if lock is None:
        return [], 0
    tracked = lock.resources
    curves = {address: c for address in desired.jobs
              if (entry := tracked.get(address)) is not None and entry.kind == "job"
              and (c := _curves(entry, live))}
    if not curves:
        return [], 0
    skip = {str((c.after or {}).get("sweep")) for c in changes if (c.after or {}).get("ranking")}
    touched = {c.address for c in changes} | {str((c.after or {}).get("job")) for c in changes}
    groups = _groups(desired, tracked, curves, skip, touched)
    groups.sort(key=lambda g: not (g.addresses & touched))  # stable: about this plan first, then by name
    charts: list[LossChart] = []
    for group in groups[:MAX_CHARTS]:
        members = group.members[:MAX_SERIES]
        metric = _metric(members)
        charts.append(LossChart(title=group.title, metric=metric, series=_on_grid(members, metric)))
    shown = sum(min(g.jobs, MAX_SERIES) for g in groups[:MAX_CHARTS])
    return charts, len(curves) - shown
