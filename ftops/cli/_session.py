"""The API session every API-talking command opens: settings → client (+ embedded server) → banner.

Use it from a command like this::

    @group.command()
    @pass_settings
    def status(settings: Settings) -> None:
        with open_session(settings, echo=click.echo) as session:
            snapshot = fetch_snapshot(session.client, lock=...)

``pass_settings`` adds ``--endpoint`` and ``--env`` to the command and injects the resolved
:class:`Settings` (the root group's ``-C`` has already changed the directory, so the project root is the
current directory). ``open_session`` prints the endpoint line FIRST — ``Using the embedded local API at
http://127.0.0.1:PORT (state in .ftops/localapi)`` or ``Using the Mistral API at https://api.mistral.ai``,
with ``environment: NAME`` in the parentheses when one is selected — through ``echo`` (pass
``lambda s: click.echo(s, err=True)`` when stdout must stay machine-readable). With no endpoint it starts the
embedded local API for the duration of the block and stops it on exit — except in CI when nobody configured
an endpoint (see ``Settings.require_configured_endpoint``). The local API is imported lazily here: only the
CLI may import it.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from ftops.errors import ConfigError
from ftops.settings import STATE_DIR, Settings, load_settings

if TYPE_CHECKING:  # the client (httpx, pydantic models) loads when a session opens, not with every command
    from ftops.client import MistralClient, RetryPolicy
    from ftops.state.runlock import RunLockSlot
    from ftops.state.store import LockStore

F = TypeVar("F", bound=Callable[..., Any])
LOCALAPI_DIR = "localapi"


@dataclass(frozen=True)
class Session:
    client: MistralClient
    settings: Settings
    endpoint_label: str  # "the embedded local API at http://…" / "the Mistral API at https://…"
    base_url: str  # the URL actually talked to (for the embedded API, its loopback address)
    server: Any = None  # the EmbeddedServer when embedded (tests use its url/api_key for admin calls)

    @property
    def endpoint_identity(self) -> str:
        return self.settings.endpoint_identity


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _prepare_state_dir(state_dir: Path, root: Path) -> None:
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        ignore = root / STATE_DIR / ".gitignore"
        if state_dir.is_relative_to(ignore.parent) and not ignore.exists():
            ignore.write_text("# local ftops state (embedded API, caches, run lock): never commit\n*\n")
    except OSError as exc:
        raise ConfigError(f"cannot create the local API state directory: {exc.strerror or exc}",
                          where=str(state_dir),
                          hint="make the project directory writable, or set FTOPS_ENDPOINT to a remote API") from None


def _start_embedded(state_dir: Path, root: Path) -> Any:
    """The embedded local API: a child process from a fresh CLI process, a thread where FastAPI is loaded."""
    from ftops.localapi.defaults import default_api_key

    _prepare_state_dir(state_dir, root)
    if "fastapi" in sys.modules:
        from ftops.localapi.embedded import start_embedded

        return start_embedded(state_dir, api_key=default_api_key())
    from ftops.localapi.process import spawn_local_api

    return spawn_local_api(state_dir, default_api_key())


_EARLY: dict[Path, Any] = {}  # embedded APIs started ahead of their session, by state directory


def start_local_api_early(settings: Settings) -> None:
    """Start the embedded local API now, if the session will use one, so that it boots on another core while
    the command loads its manifests; ``open_session`` takes it over. Nothing happens when an endpoint is
    configured, when CI requires one (the session reports that), or in a process with FastAPI loaded."""
    if settings.endpoint is not None or "fastapi" in sys.modules:
        return
    try:
        settings.require_configured_endpoint()
    except ConfigError:
        return  # the session reports it, after any manifest error
    state_dir = settings.state_dir / LOCALAPI_DIR
    if state_dir in _EARLY:
        return
    try:
        server = _start_embedded(state_dir, settings.root)
    except ConfigError:
        return  # open_session starts it again and reports the problem in its place
    _EARLY[state_dir] = server

    def stop_if_unused() -> None:  # the command failed before its session took the server (a bad manifest)
        if _EARLY.pop(state_dir, None) is server:
            server.stop()

    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(stop_if_unused)


@contextmanager
def open_session(
    settings: Settings,
    *,
    echo: Callable[[str], None] = click.echo,
    retry: RetryPolicy | None = None,
) -> Iterator[Session]:
    """Open the API named by ``settings`` (or the embedded local API) and announce it; close on exit."""
    from ftops.client.deprecation import deprecation_warning
    from ftops.providers import get as get_provider

    provider = get_provider(settings.provider)
    with ExitStack() as stack:
        scope = f"environment: {settings.environment}" if settings.environment else ""
        if settings.endpoint is None:
            settings.require_configured_endpoint()
            state_dir = settings.state_dir / LOCALAPI_DIR
            server = _EARLY.pop(state_dir, None) or _start_embedded(state_dir, settings.root)
            stack.callback(server.stop)
            base_url, api_key = server.url + provider.local_root, server.api_key
            label = f"the embedded local API at {base_url}"
            where = f"state in {_relative(state_dir, settings.root)}"
            banner = f"Using {label} ({scope + '; ' if scope else ''}{where})"
        else:
            api_key = settings.require_api_key()
            server = None
            base_url = settings.endpoint
            label = f"{provider.label} at {base_url}"
            banner = f"Using {label}" + (f" ({scope})" if scope else "")
        client = stack.enter_context(provider.open_client(base_url, api_key, retry=retry, timeout=http_timeout()))
        echo(banner)
        if (notice := deprecation_warning(base_url)) is not None:
            echo(notice)  # once per run: Mistral deprecated the jobs API (ftops.client.deprecation)
        yield Session(client=client, settings=settings, endpoint_label=label, base_url=base_url, server=server)


def settings_from_context(
    ctx: click.Context | None = None, *, endpoint: str | None = None, environment: str | None = None
) -> Settings:
    """Settings for the current command: the cwd as root, ``--endpoint``/``--env`` (here or on the root
    group), env, toml."""
    ctx = ctx or click.get_current_context()
    root_obj = ctx.find_root().obj
    if isinstance(root_obj, dict):
        endpoint = endpoint if endpoint is not None else root_obj.get("endpoint")
        environment = environment if environment is not None else root_obj.get("env")
    return load_settings(Path.cwd(), endpoint=endpoint, environment=environment)


def pass_settings(func: F) -> F:
    """Decorator: add ``--endpoint`` and ``--env`` to a command and call it with ``settings=`` instead."""

    @click.option("--endpoint", "endpoint", default=None, metavar="URL",
                  help="API host root (no /v1), or 'local' for the embedded local API. Default: FTOPS_ENDPOINT, "
                       "ftops.toml, else the embedded local API.")
    @click.option("--env", "environment", default=None, metavar="NAME",
                  help="The [environments.NAME] of ftops.toml to target (its endpoint, key, lock, cost limit). "
                       "Default: FTOPS_ENV.")
    @functools.wraps(func)
    def wrapper(*args: Any, endpoint: str | None = None, environment: str | None = None, **kwargs: Any) -> Any:
        return func(*args, settings=settings_from_context(endpoint=endpoint, environment=environment), **kwargs)

    return cast(F, wrapper)


HTTP_TIMEOUT_ENV = "FTOPS_HTTP_TIMEOUT"


def http_timeout(default: float = 30.0) -> float:
    """Seconds the client waits for an answer (``FTOPS_HTTP_TIMEOUT``; tests lower it to provoke timeouts)."""
    raw = os.environ.get(HTTP_TIMEOUT_ENV, "")
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default


def run_lock_of(settings: Settings) -> Path | RunLockSlot:
    """The run lock of the configured backend: ``.ftops/apply.lock`` for file, a row/object when remote."""
    from ftops.state.backends.config import run_lock_target

    return run_lock_target(settings.backend, settings.state_dir)


def open_store(settings: Settings, *, check_endpoint: bool = True) -> LockStore:
    """The state on the configured backend (``[backend]`` in ftops.toml; ``ftops.lock`` by default).

    ``check_endpoint=False`` for the commands that only edit what the lock records (``state rm|mv``)."""
    from ftops.state.backends.config import state_backend
    from ftops.state.store import LockStore

    return LockStore.open(settings.lock_path, endpoint=settings.endpoint_identity if check_endpoint else None,
                          backend=state_backend(settings.backend, settings.lock_path))
