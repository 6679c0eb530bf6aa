"""The two commands README.md promises on a fresh machine really work.

The main command is run for real in a temporary copy of the repository. It starts by creating a venv and
pip-installing ftops; to keep CI fast the test asserts that install prefix verbatim and runs the rest with
the ftops of the current environment instead of a fresh install. The test command must be exactly what
``.ci/run`` extracts and executes.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
CI_RUN = REPO / ".ci" / "run"
INSTALL_PREFIX = ["python3 -m venv .venv", ".venv/bin/pip install -q ."]
_IGNORE = shutil.ignore_patterns(".venv", ".git", ".ftops", "__pycache__", ".mypy_cache", ".ruff_cache",
                                 ".pytest_cache", "*.egg-info", "build", "dist")


def readme_command(marker: str, text: str | None = None) -> str:
    """The sh block right after ``<!-- marker -->`` (the same rule as ``.ci/run``'s awk)."""
    lines = (README.read_text() if text is None else text).splitlines()
    try:
        start = lines.index(f"<!-- {marker} -->")
    except ValueError:
        pytest.fail(f"README.md has no <!-- {marker} --> marker")
    body: list[str] = []
    inside = False
    for line in lines[start + 1 :]:
        if not inside and line.startswith("```sh"):
            inside = True
        elif inside and line.startswith("```"):
            break
        elif inside:
            body.append(line)
    return "\n".join(body)


def test_the_extractor_follows_the_ci_rule() -> None:
    text = "intro\n<!-- x -->\nsome words\n```sh\necho one\necho two\n```\n```sh\nnot this\n```\n"
    assert readme_command("x", text) == "echo one\necho two"


def test_test_command_is_exactly_what_ci_runs() -> None:
    script = CI_RUN.read_text()
    assert "test_cmd=$(readme_command test-command)" in script
    assert 'bash -euo pipefail -c "$test_cmd"' in script
    awk = re.search(r"awk -v m=\"<!-- \$1 -->\" '([^']*)' README.md", script)
    assert awk, ".ci/run no longer extracts README blocks with awk; update this test"
    if shutil.which("awk"):
        ci_view = subprocess.run(["awk", "-v", "m=<!-- test-command -->", awk.group(1), str(README)],
                                 capture_output=True, text=True, check=True, timeout=30).stdout.rstrip("\n")
        assert ci_view == readme_command("test-command")
    command = readme_command("test-command")
    assert "pip install" in command and "[dev]" in command
    # The whole suite, not a subset: CI's verdict is the README's promise.
    assert re.search(r"-m pytest -q\s*$", command), command


def _main_command_rest() -> list[str]:
    segments = [s.strip() for s in readme_command("main-command").split("&&")]
    assert segments[: len(INSTALL_PREFIX)] == INSTALL_PREFIX, f"main command changed its install part: {segments}"
    rest = segments[len(INSTALL_PREFIX) :]
    assert rest, "the main command does nothing after installing"
    return rest


def test_main_command_runs_in_a_fresh_copy_of_the_repo(tmp_path: Path) -> None:
    rest = _main_command_rest()
    bindir = Path(sys.executable).parent
    assert shutil.which("ftops", path=str(bindir)), f"ftops is not installed next to {sys.executable}"
    copy = tmp_path / "repo"
    shutil.copytree(REPO, copy, ignore=_IGNORE)
    env = {k: v for k, v in os.environ.items() if k not in {"FTOPS_ENDPOINT", "MISTRAL_API_KEY"}}
    env.update(CI="true", FTOPS_LOCAL_SPEED=env.get("FTOPS_LOCAL_SPEED", "100000"))
    for segment in rest:
        # `.venv/bin/X` → X of the environment running the tests (same install, no reinstall).
        command = re.sub(r"(?<![\w/.])\.venv/bin/(?=\w)", lambda _: shlex.quote(str(bindir)) + "/", segment)
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=copy, env=env,
                              capture_output=True, text=True, timeout=240)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"`{segment}` exited {done.returncode}:\n{output[-4000:]}"
        assert "Traceback" not in output and "internal error" not in output

