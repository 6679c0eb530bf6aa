"""Rendering: Terraform-style text (golden snippets), the JSON document (validated against its JSON Schema for
every plan case) and the pull-request Markdown (sticky-comment marker, drift warning, cost)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ftops.plan.model import Plan
from ftops.render.json import plan_document, plan_json_schema, render_json
from ftops.render.markdown import MARKER, render_markdown
from ftops.render.text import NO_CHANGES, iter_text, render_text, render_text_rich

from .harness import CASES, load_case, plan_for


def _plan(name: str, tmp_path: Path) -> Plan:
    plan, _ = plan_for(load_case(name), tmp_path)
    return plan


def test_text_new_project_blocks_and_footer(tmp_path: Path) -> None:
    text = render_text(_plan("new_project.yaml", tmp_path))
    assert '  # file.train will be uploaded\n  # new dataset data/train.jsonl\n  + file "train" {' in text
    assert '      + path     = "data/train.jsonl"\n' in text
    assert "  # job.support will be created (auto_start=false" in text
    assert '  ▶ job "support" {' in text
    assert "cost: $4.00 estimated (1,310,720 train tokens; 10 steps;" in text
    assert "estimated count" in text
    assert "  # model.support will smoke-test the new model before it is named or promoted" in text
    assert '      smoke test: a chat: "Hello! Please answer briefly: are you working?", it must answer\n' in text
    assert text.rstrip().endswith(
        "Plan: 2 to upload, 1 to create, 1 to start, 1 to smoke-test, 1 to update. Estimated training cost: $4.00 "
        "(1 job)."
    )
    assert "\x1b[" not in text  # plain unless asked for colour


def test_text_replace_marks_forcing_fields_and_old_job(tmp_path: Path) -> None:
    text = render_text(_plan("replace_hyperparameter.yaml", tmp_path))
    assert '-/+ job "support" {' in text
    assert "      ~ hyperparameters.learning_rate = 0.0001 -> 0.0002  # forces replacement\n" in text
    assert "old job j1 will be cancelled" in text
    assert "Plan: 1 to replace, 1 to start." in text


def test_text_drift_and_progress_sections(tmp_path: Path) -> None:
    drift = render_text(_plan("drift_model_renamed.yaml", tmp_path))
    assert drift.startswith("Objects changed outside ftops:\n  ! model.support: name changed outside ftops")
    progress = render_text(_plan("progress_is_not_a_change.yaml", tmp_path))
    assert progress.startswith("Progress since last apply:\n  · job.support: RUNNING → SUCCESS\n")
    assert progress.rstrip().endswith(NO_CHANGES)


def test_text_colour_only_when_asked(tmp_path: Path) -> None:
    plan = _plan("new_project.yaml", tmp_path)
    coloured = render_text(plan, color=True)
    assert "\x1b[" in coloured
    assert "Plan: 2 to upload" in coloured


@pytest.mark.parametrize("name", sorted(p.name for p in CASES.glob("*.yaml")))
def test_json_matches_schema(name: str, tmp_path: Path) -> None:
    document = json.loads(render_json(_plan(name, tmp_path)))
    jsonschema.Draft202012Validator(plan_json_schema()).validate(document)
    assert document["format_version"] == "1.1"
    assert document["summary"]["total"] == len(document["resource_changes"])


def test_json_shape_of_a_replace(tmp_path: Path) -> None:
    doc = plan_document(_plan("replace_hyperparameter.yaml", tmp_path))
    replace = doc["resource_changes"][0]
    assert replace["actions"] == ["replace"]
    assert replace["replace_paths"] == ["hyperparameters.learning_rate"]
    assert replace["old_job_disposition"] == "cancel"
    assert doc["lock"] == {"lineage": "lineage-1", "serial": 3}
    assert doc["cost"]["total"] > 0 and doc["cost"]["jobs"][0]["source"] == "estimate"


def test_json_schema_rejects_a_broken_document(tmp_path: Path) -> None:
    doc = plan_document(_plan("new_project.yaml", tmp_path))
    doc["resource_changes"][0]["actions"] = ["explode"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, plan_json_schema())


def test_markdown_comment(tmp_path: Path) -> None:
    md = render_markdown(_plan("drift_model_renamed.yaml", tmp_path))
    assert md.startswith(MARKER + "\n### ftops plan — Plan: 1 to update.")
    assert "> [!WARNING]\n> **1 object(s) changed outside ftops**" in md
    assert "| `~` | `model.support` | update | restore what the manifest says |  |" in md
    assert "<details><summary>Full plan</summary>" in md and "```diff" in md


def test_markdown_cost_and_no_changes(tmp_path: Path) -> None:
    md = render_markdown(_plan("new_project.yaml", tmp_path))
    assert "**Estimated training cost of this plan: $4.00**" in md
    assert "| $4.00 (estimate) |" in md
    quiet = render_markdown(_plan("no_changes.yaml", tmp_path))
    assert NO_CHANGES in quiet and "<details>" not in quiet


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.glob("*.yaml")))
def test_text_printed_in_pieces_is_the_whole_text(case: str, tmp_path: Path) -> None:
    plan = _plan(case, tmp_path)
    pieces = list(iter_text(plan))
    assert "".join(pieces) == render_text_rich(plan).plain  # the one Text the coloured output is printed from
    assert len(pieces) == (len(plan.changes) + 2 if plan.changes else 1)  # head, one per change, foot
