"""`ftops chat` and `ftops eval` on the embedded local API: a model trained on the task beats its base model,
a model trained on the wrong data loses, and the output says local answers are simulated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from eval_project import FACTS, make_eval_project

from ftops.cli import cli


def _run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["-C", str(root), *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    mp = pytest.MonkeyPatch()
    mp.setenv("FTOPS_LOCAL_SPEED", "100000")
    mp.setenv("FTOPS_ENDPOINT", "local")  # the embedded local API, on purpose (also under CI=true)
    root = make_eval_project(tmp_path_factory.mktemp("evalproj"))
    applied = _run(root, "apply", "--auto-approve", "--wait")
    assert applied.exit_code == 0, applied.output
    yield root
    mp.undo()


def test_chat_answers_from_training_and_says_it_is_simulated(project: Path) -> None:
    out = _run(project, "chat", "model.good", "what's the battery life of the TrailLamp?")
    assert out.exit_code == 0, out.output
    assert "The TrailLamp battery lasts 40 hours." in out.output
    assert "simulates models" in out.output


def test_eval_scores_the_task_model_above_base_and_wrong_data(project: Path) -> None:
    out = _run(project, "eval", "job.good", "open-mistral-7b", "model.wrong", "--set", "data/eval.jsonl",
               "--format", "json")
    assert out.exit_code == 0, out.output
    runs = json.loads(out.stdout)
    good, base, wrong = (r["score"] for r in runs)
    assert (good, base, wrong) == (1.0, 0.0, 0.0), runs
    assert runs[1]["model"] == "open-mistral-7b" and runs[0]["model"].startswith("ft:open-mistral-7b:")
    assert all(r["cases"] == len(FACTS) for r in runs) and runs[0]["simulated"] is True


def test_eval_compare_prints_the_ab_table_and_min_score_gates(project: Path) -> None:
    out = _run(project, "eval", "--compare", "open-mistral-7b", "model.good", "--set", "data/eval.jsonl",
               "--scorer", "contains")
    assert out.exit_code == 0, out.output
    assert "Total: A 0.000, B 1.000" in out.output and "Verdict: B is better (+1.000)" in out.output
    gate = _run(project, "eval", "model.wrong", "--set", "data/eval.jsonl", "--min-score", "0.8")
    assert gate.exit_code == 1 and "below --min-score 0.8: model.wrong 0.000" in gate.output


def test_eval_with_a_broken_set_names_the_line(project: Path) -> None:
    bad = project / "data" / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "q"}], "expected": "a"}\n{not json\n')
    out = _run(project, "eval", "model.good", "--set", str(bad))
    assert out.exit_code == 1 and f"{bad}:2" in out.output and "Traceback" not in out.output


def test_metrics_rank_a_sweep_and_draw_its_curves(project: Path, tmp_path: Path) -> None:
    out = _run(project, "metrics", "job.*", "--format", "json", "--metric", "train_loss")
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)
    assert {j["address"] for j in report["jobs"]} == {"job.good", "job.wrong"}
    first = report["jobs"][0]
    assert first["rank"] == 1 and first["checkpoints"] and first["final"]["train_loss"] is not None
    assert first["final"]["valid_loss"] is None  # no validation file: no validation metric, never 0
    losses = [j["final"]["train_loss"] for j in report["jobs"]]
    assert losses == sorted(losses)

    png = tmp_path / "curves.png"
    text = _run(project, "metrics", "job.good", "job.wrong", "--png", str(png))
    assert text.exit_code == 0, text.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "ranked by final train_loss" in text.output and "job.good" in text.output

    md = _run(project, "metrics", "job.*", "--format", "markdown")
    assert "```mermaid\nxychart-beta" in md.stdout and "line [" in md.stdout

    one = _run(project, "metrics", "job.good", "--no-chart")
    assert "Checkpoints:" in one.output and "Events:" in one.output and "SUCCESS" in one.output
