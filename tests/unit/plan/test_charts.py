"""Loss charts in the Markdown plan: a chart per sweep and per Model from the curves the lock recorded, none
for jobs without checkpoints, at most MAX_CHARTS of MAX_SERIES jobs, and Mermaid text GitHub can parse."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ftops.plan.build import build_plan
from ftops.plan.charts import MAX_CHARTS, MAX_SERIES, _on_grid, loss_charts
from ftops.plan.model import Plan
from ftops.render.markdown import render_markdown

from .harness import _desired, _live, _lock

FILE = {"apiVersion": "ftops/v1", "kind": "File", "metadata": {"name": "train"}, "spec": {"path": "data/t.jsonl"}}


def _job(name: str, sweep: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if sweep:
        meta["annotations"] = {"ftops.dev/matrix-of": sweep}
    return {"apiVersion": "ftops/v1", "kind": "FineTuningJob", "metadata": meta,
            "spec": {"model": "open-mistral-7b", "training_files": [{"file": "train"}],
                     "hyperparameters": {"training_steps": 10}}}


def _curve(final: float, steps: int = 5, valid: bool = True) -> dict[str, Any]:
    train = [[s, round(final + (steps - s) * 0.2, 3)] for s in range(1, steps + 1)]
    return {"train_loss": train, **({"valid_loss": [[s, v + 0.1] for s, v in train]} if valid else {})}


def _plan(tmp_path: Path, jobs: list[dict[str, Any]], curves: dict[str, dict[str, Any] | None],
          models: tuple[dict[str, Any], ...] = ()) -> Plan:
    desired = _desired([FILE, *jobs, *models], tmp_path, {})
    entries: dict[str, Any] = {"file.train": {"remote_id": "f1"}}
    live_jobs, live_models = [], []
    for i, address in enumerate(sorted(desired.jobs)):
        attributes = {"curve": curves[address]} if curves.get(address) is not None else {}
        entries[address] = {"remote_id": f"j{i}", "status": "SUCCESS", "fine_tuned_model": f"ft:{i}",
                            "attributes": attributes}
        live_jobs.append({"id": f"j{i}", "status": "SUCCESS", "fine_tuned_model": f"ft:{i}"})
        live_models.append({"id": f"ft:{i}", "job": f"j{i}", "created": 1})
    lock = _lock({"lock": entries}, desired)
    live = _live({"files": [{"id": "f1", "filename": "{upload:file.train}"}], "jobs": live_jobs,
                  "models": live_models}, desired)
    plan = build_plan(desired, lock, live, plan_id="p", now=6000.0, endpoint_identity="local")
    charts, uncharted = loss_charts(desired, lock, live, plan.changes)
    return plan.model_copy(update={"charts": charts, "uncharted": uncharted})


def _mermaid_blocks(markdown: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", markdown, flags=re.S)


NUMBER = r"-?\d+(?:\.\d+)?"


def _check_xychart(block: str) -> int:
    """Mermaid xychart-beta as GitHub parses it: quoted title and axis names, quoted step categories, plain
    decimal numbers (no exponent) in the y range and in every line, one value per step. Returns the lines."""
    rows = block.strip().split("\n")
    assert rows[0] == "xychart-beta"
    assert re.fullmatch(r'    title "[^"]+"', rows[1]), rows[1]
    x = re.fullmatch(r'    x-axis "step" \[((?:"\d+", )*"\d+")\]', rows[2])
    assert x, rows[2]
    steps = len(x.group(1).split(", "))
    assert re.fullmatch(rf'    y-axis "(valid_loss|train_loss)" {NUMBER} --> {NUMBER}', rows[3]), rows[3]
    for row in rows[4:]:
        values = re.fullmatch(rf"    line \[((?:{NUMBER}, )*{NUMBER})\]", row)
        assert values and len(values.group(1).split(", ")) == steps, row
    return len(rows) - 4


def test_a_sweep_and_a_model_get_a_chart_each_and_jobs_without_checkpoints_none(tmp_path: Path) -> None:
    jobs = [_job("sweep-1", "sweep"), _job("sweep-2", "sweep"), _job("support"), _job("plain")]
    model = {"apiVersion": "ftops/v1", "kind": "Model", "metadata": {"name": "support"},
             "spec": {"job": "support", "smoke": False}}
    plan = _plan(tmp_path, jobs, {"job.sweep-1": _curve(0.9), "job.sweep-2": _curve(0.5),
                                  "job.support": _curve(0.7, valid=False), "job.plain": None}, (model,))
    assert [(c.title, c.metric, list(c.series)) for c in plan.charts] == [
        ("jobs", "train_loss", ["job.support"]),  # about a change of this plan (the Model is adopted): first
        ('sweep "sweep"', "valid_loss", ["job.sweep-2", "job.sweep-1"]),  # best first
    ]
    markdown = render_markdown(plan)
    blocks = _mermaid_blocks(markdown)
    assert [_check_xychart(b) for b in blocks] == [1, 2]
    assert 'title "sweep \'sweep\' · valid_loss"' in blocks[1]
    assert "job.plain" not in markdown.split("Loss curves")[1]  # no checkpoints recorded: no chart
    assert "<details open><summary>Loss curves</summary>" in markdown


def test_no_curves_no_charts(tmp_path: Path) -> None:
    plan = _plan(tmp_path, [_job("plain")], {"job.plain": None})
    assert plan.charts == [] and "```mermaid" not in render_markdown(plan)
    damaged = _plan(tmp_path, [_job("plain")], {"job.plain": {"train_loss": [["x", "y"]], "valid_loss": 3}})
    assert damaged.charts == []


def test_charts_are_capped_and_the_rest_is_counted(tmp_path: Path) -> None:
    jobs = [_job(f"s{g}-{i}", f"s{g}") for g in range(6) for i in range(8)]
    curves: dict[str, dict[str, Any] | None] = {f"job.s{g}-{i}": _curve(1 + i / 10, steps=40)
                                                for g in range(6) for i in range(8)}
    plan = _plan(tmp_path, jobs, curves)
    assert len(plan.charts) == MAX_CHARTS and all(len(c.series) == MAX_SERIES for c in plan.charts)
    assert all(len(points) <= 20 for c in plan.charts for points in c.series.values())
    assert plan.uncharted == 48 - MAX_CHARTS * MAX_SERIES
    markdown = render_markdown(plan)
    assert f"{plan.uncharted} more job(s) with loss curves are not charted here" in markdown
    assert len(markdown) < 12_000  # 48 finished jobs: a few kilobytes of charts, not one per job


def test_series_of_different_lengths_share_one_grid() -> None:
    grid = _on_grid([("a", {"train_loss": [(10, 1.0), (20, 0.5)]}),
                     ("b", {"train_loss": [(5, 2.0), (15, 1.5), (30, 1.0)]})], "train_loss")
    assert grid == {"a": [[5, 1.0], [10, 1.0], [15, 1.0], [20, 0.5], [30, 0.5]],
                    "b": [[5, 2.0], [10, 2.0], [15, 1.5], [20, 1.5], [30, 1.0]]}


def test_a_models_new_candidate_is_charted_against_the_current_model(tmp_path: Path) -> None:
    desired = _desired([FILE, _job("support"), {"apiVersion": "ftops/v1", "kind": "Model",
                                               "metadata": {"name": "support"}, "spec": {"job": "support"}}],
                       tmp_path, {})
    lock = _lock({"lock": {
        "file.train": {"remote_id": "f1"},
        "job.support": {"remote_id": "j2", "status": "SUCCESS", "fine_tuned_model": "ft:new",
                        "attributes": {"curve": _curve(0.4)}},
        "model.support": {"remote_id": "ft:old", "status": "active", "attributes": {"curve": _curve(0.6)}},
    }}, desired)
    live = _live({"files": [{"id": "f1", "filename": "{upload:file.train}"}],
                  "jobs": [{"id": "j2", "status": "SUCCESS", "fine_tuned_model": "ft:new"}],
                  "models": [{"id": "ft:old", "job": "j1", "created": 1}, {"id": "ft:new", "job": "j2",
                                                                             "created": 2}]}, desired)
    plan = build_plan(desired, lock, live, plan_id="p", now=6000.0, endpoint_identity="local")
    charts, uncharted = loss_charts(desired, lock, live, plan.changes)
    assert uncharted == 0
    assert [(c.title, c.metric, list(c.series)) for c in charts] == [
        ("model.support: candidate vs current", "valid_loss", ["job.support (candidate)", "current ft:old"])]
    assert charts[0].series["job.support (candidate)"][-1] == [5, 0.5]
