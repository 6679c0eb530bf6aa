"""The GitHub Actions workflow users copy (``examples/github/ftops.yml`` = the ``ftops init`` one) is sound.

It parses, has the triggers, permissions and concurrency the CI guide promises, posts ONE sticky comment,
commits the lock back with ``[skip ci]``, and every ``ftops ...`` command in its ``run:`` scripts exists
with exactly the flags it uses (checked against the real click commands, and ``--help`` runs).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from ftops.cli import cli
from ftops.scaffold import template_text

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "github" / "ftops.yml"


def load() -> dict[str, Any]:
    doc = yaml.safe_load(EXAMPLE.read_text())
    assert isinstance(doc, dict)
    # YAML 1.1 reads the bare key `on` as the boolean true.
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def steps(doc: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return list(doc["jobs"][job]["steps"])


def _without_redirections(words: list[str]) -> list[str]:
    kept: list[str] = []
    skip_next = False
    for word in words:
        if skip_next:
            skip_next = False
        elif word in {">", "2>", ">>", "2>>", "<"}:
            skip_next = True  # `> plan.md`: the target is the next word
        elif not re.match(r"^\d?>>?\S+", word):  # `2>plan.err`
            kept.append(word)
    return kept


def ftops_invocations(doc: dict[str, Any]) -> list[list[str]]:
    """Every `ftops ...` command line in the run: scripts, split into words, redirections dropped."""
    found = []
    for job in doc["jobs"].values():
        for step in job["steps"]:
            for line in str(step.get("run", "")).splitlines():
                for segment in re.split(r"&&|\|\||[|;]", line):
                    words = shlex.split(segment, comments=True)
                    if words and words[0] == "ftops":
                        found.append(_without_redirections(words))
    return found


def test_example_is_the_file_init_writes() -> None:
    assert EXAMPLE.read_text() == template_text("workflow.yml")


def test_triggers_permissions_and_concurrency() -> None:
    doc = load()
    assert "pull_request" in doc["on"]
    assert doc["on"]["push"]["branches"] == ["main"]
    assert doc["permissions"] == {"contents": "read"}

    plan, apply = doc["jobs"]["plan"], doc["jobs"]["apply"]
    assert "pull_request" in plan["if"]
    assert plan["permissions"]["pull-requests"] == "write"
    assert "refs/heads/main" in apply["if"]
    assert apply["permissions"] == {"contents": "write"}
    # One apply at a time, and a queued apply is never cancelled half-way through a paid job.
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert "ftops-apply" in apply["concurrency"]["group"]
    # Secrets come from the repository settings, never inline.
    assert doc["env"]["MISTRAL_API_KEY"] == "${{ secrets.MISTRAL_API_KEY }}"
    assert doc["env"]["WANDB_API_KEY"] == "${{ secrets.WANDB_API_KEY }}"
    assert doc["env"]["FTOPS_ENDPOINT"] == "${{ vars.FTOPS_ENDPOINT }}"


def test_plan_is_posted_as_one_sticky_comment() -> None:
    doc = load()
    comment = next(s for s in steps(doc, "plan") if str(s.get("uses", "")).startswith("actions/github-script@"))
    script = comment["with"]["script"]
    assert "<!-- ftops-plan -->" in script
    assert "updateComment" in script and "createComment" in script
    plan_step = next(s for s in steps(doc, "plan") if s.get("id") == "plan")
    assert "--format markdown" in plan_step["run"] and "--detailed-exitcode" in plan_step["run"]


def test_apply_is_gated_by_the_detailed_exit_code_and_commits_the_lock() -> None:
    doc = load()
    by_name = {s.get("name"): s for s in steps(doc, "apply")}
    gate = by_name["Plan (gate)"]
    assert "--detailed-exitcode" in gate["run"]
    assert by_name["Apply"]["if"] == "steps.plan.outputs.exitcode == '2'"
    assert "ftops apply --auto-approve --wait" in by_name["Apply"]["run"]
    commit = by_name["Commit ftops.lock"]
    assert "always()" in commit["if"]
    assert "git add ftops.lock" in commit["run"] and "[skip ci]" in commit["run"]


def _check_words(command: click.Command, words: list[str], where: str) -> None:
    """Every option in `words` is one of the command's, with a value when it takes one; positionals fit."""
    options = {opt: p for p in command.params if isinstance(p, click.Option) for opt in (*p.opts, *p.secondary_opts)}
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    positionals: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            assert name in options, f"{where}: `{name}` is not an option of `ftops {command.name}`"
            opt = options[name]
            if not opt.is_flag and not opt.count and "=" not in word:
                assert i + 1 < len(words), f"{where}: `{name}` needs a value"
                i += 1
        else:
            positionals.append(word)
        i += 1
    capacity = sum(10**6 if a.nargs == -1 else a.nargs for a in arguments)
    assert len(positionals) <= capacity, f"{where}: too many arguments {positionals} for `ftops {command.name}`"


def test_every_ftops_command_in_the_workflow_exists_with_its_flags() -> None:
    invocations = ftops_invocations(load())
    assert {tuple(w[:2]) for w in invocations} >= {("ftops", "validate"), ("ftops", "plan"), ("ftops", "apply")}
    runner = CliRunner()
    for words in invocations:
        where = " ".join(words)
        with click.Context(cli) as ctx:
            command = cli.get_command(ctx, words[1])
        assert command is not None, f"`{where}`: ftops has no command {words[1]!r}"
        _check_words(command, words[2:], where)
        result = runner.invoke(cli, [words[1], "--help"])
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize("line", ["ftops plan --format markdown > plan.md 2> plan.err", "x && ftops validate"])
def test_the_command_extractor_handles_redirections_and_chains(line: str) -> None:
    doc = {"jobs": {"j": {"steps": [{"run": line}]}}}
    (words,) = ftops_invocations(doc)
    assert words[0] == "ftops" and all(not w.startswith(("plan.", ">", "2>")) for w in words)
