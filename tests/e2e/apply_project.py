"""A tiny ftops project on disk (2 files, 2 jobs; optionally a W&B integration and extra jobs) and helpers
to run the CLI against a local API.

Shared by the apply e2e tests and the reliability tests; kept small so each apply takes about a second.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

SECRET_KEY = "sk-test-SECRET-7f3a9c1e5b2d4f6a8c0e"
WANDB_SECRET = "wandbSECRET" + "0123456789abcdef0123456789abc"  # 40 characters
WANDB_ENV = "FTOPS_WANDB_KEY"

# The two datasets every project here trains on (tests that build their own jobs reuse them).
FILES = """\
apiVersion: ftops/v1
kind: File
metadata: {name: train}
spec: {path: ../data/train.jsonl}
---
apiVersion: ftops/v1
kind: File
metadata: {name: valid}
spec: {path: ../data/valid.jsonl}
"""
MANIFEST = FILES + """\
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: support-aTAG}
spec:
  model: open-mistral-7b
  training_files: [{file: train}]
  validation_files: [valid]
  hyperparameters: {training_steps: 2, learning_rate: 0.0001}
  state: STATE_A
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: support-bTAG}
spec:
  model: open-mistral-7b
  training_files: [{file: train, weight: 2}]
  hyperparameters: {training_steps: 3}
  state: STATE_B
"""


# The same two jobs on Together (ftops.toml: provider = "together"): one training file each, trained at once.
TOGETHER_MANIFEST = FILES + """\
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: support-aTAG}
spec:
  model: meta-llama/Meta-Llama-3.1-8B-Instruct-Reference
  training_files: [{file: train}]
  validation_files: [valid]
  hyperparameters: {n_epochs: 1, learning_rate: 0.0001}
  state: started
---
apiVersion: ftops/v1
kind: FineTuningJob
metadata: {name: support-bTAG}
spec:
  model: meta-llama/Meta-Llama-3.1-8B-Instruct-Reference
  training_files: [{file: train}]
  hyperparameters: {n_epochs: 2, lora_r: 8}
  state: started
"""
PROVIDERS = ("mistral", "together")


def _rows(n: int, tag: str) -> str:
    lines = []
    for i in range(n):
        lines.append(json.dumps({"messages": [
            {"role": "user", "content": f"{tag} question {i}: how do I reset my password?"},
            {"role": "assistant", "content": f"Open Settings, choose Security, then Reset password ({tag} {i})."},
        ]}))
    return "\n".join(lines) + "\n"


def make_project(
    root: Path, *, state_a: str = "created", state_b: str = "created", extra: str = "", tag: str = "",
    provider: str = "mistral",
) -> Path:
    """``tag`` makes the data and job names unique, so many projects can share one local API.

    ``provider="together"``: the same project on Together (its jobs are always ``started`` there).
    """
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "train.jsonl").write_text(_rows(12, "train" + tag))
    (root / "data" / "valid.jsonl").write_text(_rows(4, "valid" + tag))
    text = MANIFEST.replace("STATE_A", state_a).replace("STATE_B", state_b).replace("TAG", tag)
    if provider == "together":
        text = TOGETHER_MANIFEST.replace("TAG", tag)
        (root / "ftops.toml").write_text('provider = "together"\n')
    (root / "manifests" / "project.yaml").write_text(text + extra)
    return root


def add_wandb(root: Path) -> Path:
    """Give the first job a W&B integration whose key is read from ``WANDB_ENV`` (see ``api_env(wandb=True)``)."""
    manifest = root / "manifests" / "project.yaml"
    text = manifest.read_text()
    anchor = next(a for a in ("  hyperparameters: {training_steps: 2, learning_rate: 0.0001}\n",
                              "  hyperparameters: {n_epochs: 1, learning_rate: 0.0001}\n") if a in text)
    wandb = f"  integrations: [{{project: support, api_key_env: {WANDB_ENV}}}]\n"
    manifest.write_text(text.replace(anchor, anchor + wandb, 1))
    return root


def add_jobs(root: Path, count: int, *, tag: str = "", state: str = "created") -> Path:
    """One more dataset file and ``count`` more jobs training on it (a bigger plan for interrupt tests)."""
    (root / "data" / "extra.jsonl").write_text(_rows(10, "extra" + tag))
    docs = ["apiVersion: ftops/v1\nkind: File\nmetadata: {name: extra}\nspec: {path: ../data/extra.jsonl}\n"]
    for i in range(count):
        docs.append(
            f"apiVersion: ftops/v1\nkind: FineTuningJob\nmetadata: {{name: extra-{i}{tag}}}\nspec:\n"
            f"  model: open-mistral-7b\n  training_files: [{{file: extra}}]\n"
            f"  hyperparameters: {{training_steps: {i + 1}}}\n  state: {state}\n"
        )
    (root / "manifests" / "extra.yaml").write_text("---\n".join(docs))
    return root


def api_env(url: str, key: str = SECRET_KEY, *, wandb: bool = False, provider: str = "mistral") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("FTOPS_ENDPOINT", "MISTRAL_API_KEY", "TOGETHER_API_KEY", "CI", WANDB_ENV)}
    env.update(FTOPS_ENDPOINT=url, MISTRAL_API_KEY=key, CI="true", NO_COLOR="1")
    if provider == "together":  # ftops serve speaks Together under /together
        env.update(FTOPS_ENDPOINT=f"{url}/together", TOGETHER_API_KEY=key)
    if wandb:
        env[WANDB_ENV] = WANDB_SECRET
    return env


def run_cli(root: Path, url: str, *args: str, timeout: float = 60.0, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ftops", "-C", str(root), *args],
        env=env or api_env(url), capture_output=True, text=True, timeout=timeout,
    )


def sha12(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


class ServeProcess:
    """``ftops serve --port 0`` in a subprocess (so kill -9 of an apply never touches the server)."""

    def __init__(self, state_dir: Path, *, key: str = SECRET_KEY, speed: float = 1000.0) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FTOPS_")}
        env.update(FTOPS_LOCAL_API_KEY=key)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ftops", "serve", "--port", "0", "--state-dir", str(state_dir),
             "--speed", str(speed)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.url = ""
        deadline = time.monotonic() + 60
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                self.url = match.group(1).rstrip(",")
                break
            if not line and self.proc.poll() is not None:
                break
        if not self.url:
            self.stop()
            raise RuntimeError("ftops serve did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def admin(url: str, method: str, path: str, body: Any = None, key: str = SECRET_KEY) -> Any:
    response = httpx.request(method, f"{url}{path}", json=body, headers={"Authorization": f"Bearer {key}"},
                             timeout=10.0)
    response.raise_for_status()
    return response.json()


def list_all(url: str, what: str, key: str = SECRET_KEY, *, provider: str = "mistral") -> list[dict[str, Any]]:
    if provider == "together":  # one unpaginated list
        path = {"files": "/together/v1/files", "jobs": "/together/v1/fine-tunes"}[what]
        return list(httpx.get(f"{url}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=10.0)
                    .json()["data"])
    path = {"files": "/v1/files", "jobs": "/v1/fine_tuning/jobs"}[what]
    out: list[dict[str, Any]] = []
    page = 0
    while True:
        data = httpx.get(f"{url}{path}", params={"page": page, "page_size": 100},
                         headers={"Authorization": f"Bearer {key}"}, timeout=10.0).json()
        out.extend(data.get("data") or [])
        if len(out) >= int(data.get("total") or 0) or not data.get("data"):
            return out
        page += 1
