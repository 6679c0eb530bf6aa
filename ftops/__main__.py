"""``python -m ftops`` and the ``ftops`` console script: quiet signals during start-up, then the CLI."""

from __future__ import annotations


def main() -> None:
    from ftops._signals import quiet_startup

    quiet_startup()  # before the CLI's imports: a signal now exits 130/143 without a traceback
    from ftops.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
