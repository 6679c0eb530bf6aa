"""``python -m ftops`` and the ``ftops`` console script: quiet signals during start-up, then the CLI."""

from __future__ import annotations


def main() -> None:
    import sys

    from ftops._signals import quiet_startup

    quiet_startup()  # before the CLI's imports: a signal now exits 130/143 without a traceback
    # httpx imports its own command-line client (rich, pygments) when imported, ~50 ms this process never
    # uses; with the module marked absent, httpx falls back to a stub `httpx.main`. Only in the ftops CLI.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    from ftops.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
