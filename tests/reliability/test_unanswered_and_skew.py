"""Issue 9's two timing stories, each ending with exactly one upload and one job per spec in ONE apply:

- the local API answers POSTs later than the client waits (latency fault > ``FTOPS_HTTP_TIMEOUT``): every
  upload and create goes unanswered while the server still stores it; apply must search (with backoff) until
  the object appears, never send it again;
- the API's clock is 600 s ahead of or behind this machine's, and a create's answer is dropped: recovery
  must find the job without reading any clock.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from apply_forked import run_forked, warm_up
from apply_project import ServeProcess, admin, api_env, list_all, make_project, sha12

from ftops.localapi.store import Store

POSTS = ["/v1/files", "/v1/fine_tuning/jobs"]


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    state = tmp_path_factory.mktemp("api")
    server = ServeProcess(state)
    server.state_dir = state  # type: ignore[attr-defined]
    warm = make_project(tmp_path_factory.mktemp("warm"), tag="-warm-skew")
    warm_up(["-C", str(warm), "apply", "--auto-approve"], api_env(server.url))
    try:
        yield server
    finally:
        server.stop()


def exactly_one_each(root: Path, url: str, tag: str) -> None:
    lock = json.loads((root / "ftops.lock").read_text())
    assert lock["intents"] == []
    shas = {sha12(root / "data" / "train.jsonl"), sha12(root / "data" / "valid.jsonl")}
    files = [f for f in list_all(url, "files") if any(s in f["filename"] for s in shas)]
    jobs = [j for j in list_all(url, "jobs") if (j.get("suffix") or "").endswith(tag)]
    assert len(files) == 2, files  # one upload per dataset
    assert sorted(j["suffix"] for j in jobs) == sorted({j["suffix"] for j in jobs}) and len(jobs) == 2, jobs
    assert {r["remote_id"] for r in lock["resources"].values()} == {f["id"] for f in files} | {j["id"] for j in jobs}


def test_answers_slower_than_the_client_timeout_are_waited_for_not_resent(serve: ServeProcess,
                                                                          tmp_path: Path) -> None:
    tag = "-slow"
    root = make_project(tmp_path / "p", tag=tag)
    env = {**api_env(serve.url), "FTOPS_HTTP_TIMEOUT": "0.6", "FTOPS_SETTLE_SECONDS": "20"}
    admin(serve.url, "PUT", "/_ftops/faults", {"latency_ms": 1500, "methods": ["POST"], "paths": POSTS})
    try:
        code, out = run_forked(["-C", str(root), "apply", "--auto-approve", "--parallelism", "2"], env,
                               tmp_path / "log", timeout=120)
    finally:
        admin(serve.url, "PUT", "/_ftops/faults", {})
    assert code == 0, out
    assert "has not appeared" not in out and "Traceback" not in out
    assert "adopted after" in out  # every unanswered POST was found by search
    exactly_one_each(root, serve.url, tag)


@pytest.mark.parametrize("skew", [600.0, -600.0])
def test_api_clock_off_by_ten_minutes_with_a_dropped_create(serve: ServeProcess, tmp_path: Path,
                                                            skew: float) -> None:
    tag = f"-skew{int(skew)}"
    root = make_project(tmp_path / "p", tag=tag)
    api_store = Store(serve.state_dir)  # type: ignore[attr-defined]
    api_store.advance_clock(skew)  # the admin endpoint only moves forward; the store takes either sign
    admin(serve.url, "PUT", "/_ftops/faults",
          {"rate_drop": 1.0, "budget": 2, "methods": ["POST"], "paths": ["/v1/fine_tuning/jobs"]})
    try:
        code, out = run_forked(["-C", str(root), "apply", "--auto-approve"], api_env(serve.url), tmp_path / "log",
                               timeout=120)
    finally:
        admin(serve.url, "PUT", "/_ftops/faults", {})
        api_store.advance_clock(-skew)
    assert code == 0, out
    assert "adopted after" in out and "Traceback" not in out
    exactly_one_each(root, serve.url, tag)
    code, out = run_forked(["-C", str(root), "plan", "--detailed-exitcode"], api_env(serve.url), tmp_path / "log2")
    assert code == 0, out
