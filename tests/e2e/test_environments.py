"""Environments: one set of manifests, two targets (two local APIs), two states that never mix.

Each ``[environments.NAME]`` of ftops.toml has its endpoint, key variable and cost limit; ``--env`` /
``FTOPS_ENV`` selects one; each has its own lock (``ftops.NAME.lock``) and ``.ftops/NAME/`` directory, and
the banner names it. Runs against two real local APIs over HTTP, each with its own key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ftops.cli import cli
from ftops.localapi.embedded import EmbeddedServer, start_embedded
from tests.e2e.apply_project import list_all, make_project

STAGING_KEY = "sk-staging-4e1b9a7c2d5f8a0b3c6e"
PRODUCTION_KEY = "sk-production-9c3e7a1f5b2d8c4e6a0b"


@pytest.fixture(autouse=True)
def _restore_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    """`ftops -C DIR` changes the process's directory; put it back after each test."""
    monkeypatch.chdir(Path.cwd())


@pytest.fixture()
def servers(tmp_path: Path) -> Iterator[tuple[EmbeddedServer, EmbeddedServer]]:
    staging = start_embedded(tmp_path / "api-staging", api_key=STAGING_KEY, speed=100000)
    production = start_embedded(tmp_path / "api-production", api_key=PRODUCTION_KEY, speed=100000)
    yield staging, production
    staging.stop()
    production.stop()


def _project(tmp_path: Path, staging: str, production: str) -> Path:
    root = make_project(tmp_path / "project")
    (root / "ftops.toml").write_text(
        'manifests = "manifests"\nmax_cost = 100.0\n\n'
        f'[environments.staging]\nendpoint = "{staging}"\napi_key_env = "KEY_STAGING"\nmax_cost = 5.0\n\n'
        f'[environments.production]\nendpoint = "{production}"\napi_key_env = "KEY_PRODUCTION"\n'
    )
    return root


def run(root: Path, *args: str, **env: str) -> Result:
    base = {"CI": "true", "NO_COLOR": "1", "FTOPS_ENDPOINT": "", "FTOPS_ENV": "", "MISTRAL_API_KEY": "",
            "KEY_STAGING": STAGING_KEY, "KEY_PRODUCTION": PRODUCTION_KEY}
    result = CliRunner().invoke(cli, ["-C", str(root), *args], env={**base, **env})
    assert "Traceback" not in result.output
    return result


def test_two_environments_apply_the_same_manifests_into_separate_states(
    tmp_path: Path, servers: tuple[EmbeddedServer, EmbeddedServer]
) -> None:
    staging, production = servers
    root = _project(tmp_path, staging.url, production.url)

    first = run(root, "apply", "--env", "staging", "--auto-approve")
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[0] == f"Using the Mistral API at {staging.url} (environment: staging)"
    second = run(root, "apply", "--auto-approve", FTOPS_ENV="production")
    assert second.exit_code == 0, second.output
    assert "(environment: production)" in second.output.splitlines()[0]

    # One lock and one state directory per environment; nothing at the single-environment paths.
    assert not (root / "ftops.lock").exists()
    locks = {name: json.loads((root / f"ftops.{name}.lock").read_text()) for name in ("staging", "production")}
    assert locks["staging"]["endpoint"] == staging.url and locks["production"]["endpoint"] == production.url
    assert (root / ".ftops" / "staging").is_dir() and (root / ".ftops" / "production").is_dir()

    # Same addresses, different objects; each API holds exactly its environment's jobs.
    ids = {name: {a: r["remote_id"] for a, r in lock["resources"].items()} for name, lock in locks.items()}
    assert ids["staging"].keys() == ids["production"].keys() >= {"job.support-a", "job.support-b"}
    assert not set(ids["staging"].values()) & set(ids["production"].values())
    for server, name, key in ((staging, "staging", STAGING_KEY), (production, "production", PRODUCTION_KEY)):
        jobs = {j["id"] for j in list_all(server.url, "jobs", key=key)}
        assert jobs == {v for a, v in ids[name].items() if a.startswith("job.")}

    # Each environment is in sync with its own API: neither sees the other's objects as drift or changes.
    for name in ("staging", "production"):
        plan = run(root, "plan", "--env", name, "--detailed-exitcode")
        assert plan.exit_code == 0, plan.output
        assert "outside ftops" not in plan.output


def test_an_environment_must_be_chosen_and_spelled_right(
    tmp_path: Path, servers: tuple[EmbeddedServer, EmbeddedServer]
) -> None:
    root = _project(tmp_path, servers[0].url, servers[1].url)
    unset = run(root, "plan")
    assert unset.exit_code == 1
    assert "several environments (production, staging)" in unset.output and "--env" in unset.output
    typo = run(root, "plan", "--env", "prod")
    assert typo.exit_code == 1 and "unknown environment 'prod'" in typo.output and "production" in typo.output
    # validate reads only the manifests: it needs no environment.
    assert run(root, "validate").exit_code == 0


def test_each_environment_has_its_own_key_and_cost_limit(
    tmp_path: Path, servers: tuple[EmbeddedServer, EmbeddedServer]
) -> None:
    root = make_project(tmp_path / "project", state_a="started")
    staging, production = servers
    (root / "ftops.toml").write_text(
        f'[environments.staging]\nendpoint = "{staging.url}"\napi_key_env = "KEY_STAGING"\nmax_cost = 0.01\n\n'
        f'[environments.production]\nendpoint = "{production.url}"\napi_key_env = "KEY_PRODUCTION"\n'
    )
    over = run(root, "plan", "--env", "staging")
    assert over.exit_code == 1 and "above ftops.toml [environments.staging] max_cost $0.01" in over.output
    assert run(root, "plan", "--env", "production").exit_code == 0
    no_key = run(root, "plan", "--env", "production", KEY_PRODUCTION="")
    assert no_key.exit_code == 1 and "KEY_PRODUCTION" in no_key.output and "environment production" in no_key.output


def test_an_environment_on_the_embedded_api_keeps_its_state_in_its_own_directory(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    (root / "ftops.toml").write_text('[environments.dev]\nendpoint = "local"\n\n'
                                     '[environments.ci]\nendpoint = "local"\n')
    first = run(root, "plan", "--env", "dev")
    assert first.exit_code == 0, first.output
    banner = first.output.splitlines()[0]
    assert banner.startswith("Using the embedded local API at http://127.0.0.1:")
    assert banner.endswith("(environment: dev; state in .ftops/dev/localapi)")
    assert (root / ".ftops" / "dev" / "localapi").is_dir() and not (root / ".ftops" / "ci").exists()
    assert (root / ".ftops" / ".gitignore").read_text().splitlines()[-1] == "*"
