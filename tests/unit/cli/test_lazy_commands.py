"""`ftops --help` lists every command without importing the command modules (so not httpx, FastAPI, rich),
and each lazily loaded command is the one its module registers, with the help line `--help` shows."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import click
from click.testing import CliRunner

import ftops.cli
from ftops.cli import COMMANDS, cli, load_command

HEAVY = ("httpx", "fastapi", "uvicorn", "rich", "mistral_common", "ftops.client", "ftops.apply")


def _registered() -> dict[str, click.Command]:
    """Every command some `ftops/cli/*.py` module adds with `register(group)`."""
    group = click.Group()
    for info in pkgutil.iter_modules(ftops.cli.__path__):
        module = importlib.import_module(f"ftops.cli.{info.name}")
        if hasattr(module, "register"):
            module.register(group)
    return dict(group.commands)


def test_help_lists_every_registered_command_with_its_own_help_line() -> None:
    registered = _registered()
    assert set(COMMANDS) == set(registered), "add a COMMANDS line in ftops/cli/__init__.py for each command"
    for name, command in registered.items():
        assert load_command(name) is command, name
        first = (command.help or "").split("\n\n")[0]
        assert COMMANDS[name].summary == " ".join(first.split()), f"{name}: update its COMMANDS help line"
    output = CliRunner().invoke(cli, ["--help"]).output
    listed = output.split("Commands:", 1)[1].split()
    for name in registered:
        assert name in listed, name


def test_help_and_light_commands_import_no_heavy_module() -> None:
    probe = (
        "import json, sys\n"
        "from ftops.cli import cli\n"
        "for args in (['--help'], ['schema'], ['data', '--help'], ['data', 'validate', '--help'],"
        " ['validate', '--help']):\n"
        "    try:\n"
        "        cli.main(args, prog_name='ftops', standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []
    assert "Commands:" in done.stdout and "wait" in done.stdout


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["aply"])
    assert result.exit_code == 2
    assert "No such command 'aply'" in result.output
