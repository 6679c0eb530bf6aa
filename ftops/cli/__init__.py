"""The ``ftops`` command line: parse → call the pipeline → render → exit code.

Each command group lives in its own module and adds itself with ``register(group)``; this module only
owns the root group and the one place where errors become messages and exit codes.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from ftops import __version__
from ftops.errors import FtopsError


class _Root(click.Group):
    """Turns every FtopsError into its rendered message and exit code 1: never a traceback for bad input."""

    def invoke(self, ctx: click.Context) -> Any:
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
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # an ftops bug: say so plainly, keep the traceback for FTOPS_DEBUG
            if os.environ.get("FTOPS_DEBUG"):
                raise
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
    from ftops.cli import (
        apply_cmds,
        data,
        eval_cmds,
        manifests,
        metrics_cmds,
        ops,
        plan_cmds,
        serve,
        show_cmds,
        state_cmds,
    )

    for module in (manifests, data, serve, plan_cmds, apply_cmds, ops, state_cmds, show_cmds, eval_cmds,
                   metrics_cmds):
        module.register(cli)


_register_all()


def main() -> None:
    cli(prog_name="ftops")


if __name__ == "__main__":  # pragma: no cover
    main()
    sys.exit(0)
