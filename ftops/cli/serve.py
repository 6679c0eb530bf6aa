"""CLI command ``ftops serve``: run the local Mistral-compatible fine-tuning API until Ctrl-C.

Parses flags (each with an environment variable), refuses non-loopback hosts unless ``--allow-remote``,
prints where the server listens and how to point ftops and the SDK at it (never the key itself unless it is
the public default), then hands the socket to uvicorn.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from ftops.errors import ConfigError


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, envvar="FTOPS_LOCAL_HOST", help="Interface to bind.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535), envvar="FTOPS_LOCAL_PORT",
              help="Port to bind (0: any free port).")
@click.option("--state-dir", default=".ftops/localapi", show_default=True, type=click.Path(file_okay=False),
              envvar="FTOPS_LOCAL_STATE_DIR", help="Where the SQLite database and uploaded files live.")
@click.option("--api-key", envvar="FTOPS_LOCAL_API_KEY", default=None,
              help="Bearer key clients must send [env FTOPS_LOCAL_API_KEY; default: ftops-local].")
@click.option("--speed", type=float, envvar="FTOPS_LOCAL_SPEED", default=None,
              help="Simulated seconds per real second for job progress [env FTOPS_LOCAL_SPEED; default 100].")
@click.option("--max-upload-mb", type=click.FloatRange(min=0, min_open=True), default=512.0, show_default=True,
              help="Uploads larger than this get 413.")
@click.option("--fault-429", type=click.FloatRange(0, 1), default=0.0, envvar="FTOPS_LOCAL_FAULT_429",
              help="Share of /v1 requests answered 429 with Retry-After.")
@click.option("--fault-5xx", type=click.FloatRange(0, 1), default=0.0, envvar="FTOPS_LOCAL_FAULT_5XX",
              help="Share of /v1 requests answered 500/502/503.")
@click.option("--fault-drop", type=click.FloatRange(0, 1), default=0.0, envvar="FTOPS_LOCAL_FAULT_DROP",
              help="Share of /v1 responses dropped after the request's write committed.")
@click.option("--latency-ms", type=click.IntRange(0, 60_000), default=0, envvar="FTOPS_LOCAL_LATENCY_MS",
              help="Latency added to every /v1 request.")
@click.option("--fault-seed", type=int, default=None, envvar="FTOPS_LOCAL_FAULT_SEED",
              help="Seed for the fault dice (reproducible runs).")
@click.option("--fail-rate", type=click.FloatRange(0, 1), default=0.0, envvar="FTOPS_LOCAL_FAIL_RATE",
              help="Share of started jobs that fail half-way through training (status FAILED).")
@click.option("--allow-remote", is_flag=True, help="Allow binding a non-loopback interface.")
def serve(
    host: str,
    port: int,
    state_dir: str,
    api_key: str | None,
    speed: float | None,
    max_upload_mb: float,
    fault_429: float,
    fault_5xx: float,
    fault_drop: float,
    latency_ms: int,
    fault_seed: int | None,
    fail_rate: float,
    allow_remote: bool,
) -> None:
    """Run the local Mistral-compatible fine-tuning API (files, jobs, models) until Ctrl-C."""
    from ftops.localapi.config import ServerConfig
    from ftops.localapi.defaults import DEFAULT_API_KEY, default_speed
    from ftops.localapi.embedded import serve_config
    from ftops.localapi.schemas import FaultSettings

    if not _is_loopback(host) and not allow_remote:
        raise ConfigError(f"refusing to listen on non-loopback host {host!r}", where="ftops serve --host",
                          hint="the local API is for this machine; pass --allow-remote if you really mean it")
    if fault_429 + fault_5xx + fault_drop > 1:
        raise ConfigError("--fault-429, --fault-5xx and --fault-drop add up to more than 1",
                          where="ftops serve", hint="they are shares of requests; keep their sum at most 1")
    faults = FaultSettings(rate_429=fault_429, rate_5xx=fault_5xx, rate_drop=fault_drop, latency_ms=latency_ms,
                           seed=fault_seed, rate_training_failure=fail_rate)
    key = api_key or DEFAULT_API_KEY
    config = ServerConfig(state_dir=Path(state_dir), api_key=key,
                          speed=speed if speed is not None else default_speed(),
                          max_upload_bytes=int(max_upload_mb * 1024 * 1024), faults=faults)
    try:
        server, sock = serve_config(config, host=host, port=port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", where="ftops serve",
                          hint="pick another --port (0 picks a free one) or stop the other server") from None
    bound_host, bound_port = sock.getsockname()[:2]
    url = f"http://{bound_host}:{bound_port}"
    shown_key = f'"{key}"' if key == DEFAULT_API_KEY else "<your --api-key / FTOPS_LOCAL_API_KEY>"
    click.echo(f"ftops local API listening on {url} (state: {config.state_dir / 'state.sqlite3'}, "
               f"speed {config.speed:g}x)")
    click.echo(f"  ftops:  export FTOPS_ENDPOINT={url}")
    click.echo(f"  SDK:    Mistral(api_key={shown_key}, server_url=\"{url}\")")
    if faults.rate_429 or faults.rate_5xx or faults.rate_drop or faults.latency_ms or fail_rate:
        click.echo(f"  faults: 429={fault_429} 5xx={fault_5xx} drop={fault_drop} latency={latency_ms}ms "
                   f"training failures={fail_rate} seed={fault_seed}")
    click.echo("Press Ctrl-C to stop.", nl=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after a clean shutdown; stopping is the intent
        pass
    finally:
        server.config.app.context.store.close()
    click.echo("Stopped.")


def register(group: click.Group) -> None:
    """Add this module's commands to the root group."""
    group.add_command(serve)
