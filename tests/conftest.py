"""Shared by every test: the local API is loaded in the test process.

A CLI command started from a shell runs the embedded local API as a child process
(``ftops.localapi.process``); a process that has FastAPI loaded runs it as a thread instead, which is what
in-process CLI tests (``CliRunner``) should get whatever order the tests run in: cheap, and in reach of
the test's monkeypatches. ``tests/localapi_client/test_local_api_process.py`` covers the child process.
"""

import ftops.localapi.app  # noqa: F401
