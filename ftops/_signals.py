"""Signals in the two phases of an ``ftops`` process: start-up (imports) and running a command.

During start-up nothing has been written and no lock is held, so Ctrl-C or SIGTERM ends the process at
once with the conventional code (130, 143) and no traceback. Once a command runs, Ctrl-C raises
``KeyboardInterrupt`` as usual and SIGTERM (what CI systems send on cancel) raises ``Terminated``, a
``KeyboardInterrupt``, so every ``finally`` and context manager (the run lock) unwinds the same way.
Stdlib only: this module is imported before anything else.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

EXIT_SIGINT = 128 + signal.SIGINT  # 130
EXIT_SIGTERM = 128 + signal.SIGTERM  # 143

_installed = False  # set by the console entry point only: an in-process caller (tests) keeps its handlers


class Terminated(KeyboardInterrupt):
    """SIGTERM received while a command runs."""


def _exit_now(signum: int, frame: FrameType | None) -> None:
    os._exit(128 + signum)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


def quiet_startup() -> None:
    """From now until ``enter_runtime``: a signal ends the process quietly (nothing to clean up yet)."""
    global _installed
    _installed = True
    signal.signal(signal.SIGINT, _exit_now)
    signal.signal(signal.SIGTERM, _exit_now)


def enter_runtime() -> None:
    """The command starts: Ctrl-C raises KeyboardInterrupt, SIGTERM raises Terminated (only after start-up)."""
    if not _installed:
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_terminated)
