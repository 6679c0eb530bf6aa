"""The ``ftops`` command line: parse → call the pipeline → render → exit code.

Each command lives in its own module. The root group only knows where each one is (``COMMANDS``: name →
``"module:attr"`` and its one-line help) and imports a command's module when that command runs, so
``ftops --help`` and the light commands never load httpx, FastAPI or rich. This module also owns the one
place where errors become messages and exit codes.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import click

from ftops import __version__
from ftops._signals import EXIT_SIGINT, EXIT_SIGTERM, Terminated, enter_runtime
from ftops.errors import FtopsError


class LazyCommand(NamedTuple):
    target: str  # "module:attr" of the click command
    summary: str  # the line `ftops --help` shows (tests check it is the command's own short help)


# One line per command. Add yours here; `tests/unit/test_cli_lazy.py` checks each entry loads and that the
# help line is the command's own.
COMMANDS: dict[str, LazyCommand] = {
    "apply": LazyCommand(
        "ftops.cli.apply_cmds:apply_cmd",
        "Make the fine-tuning resources match the manifests (or apply a saved plan).",
    ),
    "chat": LazyCommand(
        "ftops.cli.eval_cmds:chat_cmd",
        "Ask a model (id, model.NAME or job.NAME) one PROMPT, or every conversation of a JSONL --file.",
    ),
    "compare-plans": LazyCommand(
        "ftops.cli.review_cmds:compare_plans_cmd",
        "Exit 0 when FRESH makes the same changes at the same cost as REVIEWED (two `ftops plan -o` files).",
    ),
    "data": LazyCommand(
        "ftops.cli.data:data_group",
        "Validate, inspect, repair and split JSONL training data.",
    ),
    "eval": LazyCommand(
        "ftops.cli.eval_cmds:eval_cmd",
        "Score models (ids, model.NAME or job.NAME) on an evaluation set; --compare A B for an A/B table.",
    ),
    "force-unlock": LazyCommand(
        "ftops.cli.state_cmds:force_unlock_cmd",
        "Remove the run lock with this ID (shown when an apply finds the project locked).",
    ),
    "import": LazyCommand(
        "ftops.cli.apply_cmds:import_cmd",
        "Adopt an existing file, job or model into the lock, fingerprinted as it is on the API.",
    ),
    "init": LazyCommand(
        "ftops.cli.ops:init_cmd",
        "Scaffold a new ftops project in DIRECTORY (default: the current directory).",
    ),
    "jobs": LazyCommand(
        "ftops.cli.ops:jobs_cmd",
        "Jobs dashboard: counts by status and the latest jobs with model, status, cost and error.",
    ),
    "metrics": LazyCommand(
        "ftops.cli.metrics_cmds:metrics_cmd",
        "Train/validation loss and accuracy per checkpoint, cost and duration of jobs (job.X, job.sweep-*, ids).",
    ),
    "models": LazyCommand(
        "ftops.cli.ops:models_cmd",
        "Fine-tuned models: id, active/archived, name, the job and base model, created; ftops address if managed.",
    ),
    "plan": LazyCommand(
        "ftops.cli.plan_cmds:plan_cmd",
        "Show what `ftops apply` would change, and what it would cost. Changes nothing.",
    ),
    "refresh": LazyCommand(
        "ftops.cli.apply_cmds:refresh_cmd",
        "Read the API and update the lock: record observed statuses, adopt matching objects. No API writes.",
    ),
    "schema": LazyCommand(
        "ftops.cli.manifests:schema_cmd",
        "Print the JSON Schema of manifest documents (for yaml-language-server and other editors).",
    ),
    "serve": LazyCommand(
        "ftops.cli.serve:serve",
        "Run the local Mistral-compatible fine-tuning API (files, jobs, models) until Ctrl-C.",
    ),
    "show": LazyCommand(
        "ftops.cli.show_cmds:show_cmd",
        "Show a saved plan (from `ftops plan -o FILE`), or one tracked job in depth (job.X, model.X).",
    ),
    "state": LazyCommand(
        "ftops.cli.state_cmds:state_group",
        "Inspect and edit what ftops.lock tracks (the API is never touched).",
    ),
    "status": LazyCommand(
        "ftops.cli.apply_cmds:status_cmd",
        "Every tracked resource with its live status (one snapshot of list calls).",
    ),
    "validate": LazyCommand(
        "ftops.cli.manifests:validate_cmd",
        "Check manifests and the datasets they name; report every problem at once (no API calls).",
    ),
    "wait": LazyCommand(
        "ftops.cli.apply_cmds:wait_cmd",
        "Follow queued, validating or training jobs to the end (all tracked, or ADDRESS...); skips parked ones.",
    ),
}

# Modules that still add their commands eagerly with ``register(group)`` (loaded on every start: prefer
# a COMMANDS line).
EAGER_MODULES: tuple[str, ...] = ()


def load_command(name: str) -> click.Command:
    """Import the module that holds ``name`` and return its click command."""
    module_name, attr = COMMANDS[name].target.split(":")
    command = getattr(importlib.import_module(module_name), attr)
    assert isinstance(command, click.Command), COMMANDS[name].target
    return command


class _Root(click.Group):
    """Loads commands on use, and turns every FtopsError into its message and exit code 1 (never a traceback)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(load_command(cmd_name), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command table from COMMANDS' help lines: ``--help`` imports no command module."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None:
                if loaded.hidden:
                    continue
                rows.append((name, loaded.get_short_help_str(limit)))
            else:
                # A stand-in command shortens the line exactly as the real one would.
                rows.append((name, click.Command(name, help=COMMANDS[name].summary).get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        enter_runtime()  # start-up is over: Ctrl-C/SIGTERM now unwind normally (locks released, exit 130/143)
        # `-C` changes the working directory for this invocation only (tests run many in one process).
        cwd = os.getcwd()
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # `ftops status | head`: the reader went away; that is not an ftops error.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(0)
        except FtopsError as exc:
            click.echo(exc.render(), err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, Terminated)
            click.echo("Terminated." if terminated else "Interrupted.", err=True)
            ctx.exit(EXIT_SIGTERM if terminated else EXIT_SIGINT)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # an ftops bug: say so plainly, keep the traceback for FTOPS_DEBUG
            if os.environ.get("FTOPS_DEBUG"):
                raise
            if isinstance(exc, OSError):  # read-only directory, disk full, permission denied: cause and fix
                from ftops.envproblems import environment_error

                problem = environment_error(exc)
                if problem is not None:
                    click.echo(problem.render(), err=True)
                    ctx.exit(problem.exit_code)
            click.echo(
                f"Error: internal error: {type(exc).__name__}: {exc}\n"
                "  hint: this is a bug in ftops; rerun with FTOPS_DEBUG=1 for a traceback and report it",
                err=True,
            )
            ctx.exit(1)
        finally:
            os.chdir(cwd)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ftops")
@click.option(
    "-C",
    "--chdir",
    "chdir",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Run as if ftops was started in this directory (the project root).",
)
@click.option("--no-color", is_flag=True, envvar="NO_COLOR", help="Plain output without colours.")
@click.pass_context
def cli(ctx: click.Context, chdir: str | None, no_color: bool) -> None:
    """GitOps for LLM fine-tuning: plan and apply Mistral fine-tuning resources from YAML manifests."""
    if chdir:
        os.chdir(chdir)
    ctx.ensure_object(dict)
    ctx.obj["no_color"] = bool(no_color)


def _register_all() -> None:
    for module_name in EAGER_MODULES:
        register: Callable[[click.Group], None] = importlib.import_module(module_name).register
        register(cli)


_register_all()


def main() -> None:
    cli(prog_name="ftops")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
