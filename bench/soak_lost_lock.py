"""Soak: the lock is lost, reverted, swapped with another clone's or loses entries after every apply.

Run: .venv/bin/python bench/soak_lost_lock.py [--trials 300] [--seed 1] [--provider together]

Two clones of one project share one local API (embedded, in-process, job clock sped up 1000x). Each trial
picks a clone, sometimes adds a new job to both clones' manifests (the same commit), damages that clone's
``ftops.lock`` at random — deleted, reverted to an older copy, replaced by the other clone's, or with entries
removed — then runs ``ftops apply --auto-approve`` and ``ftops plan --detailed-exitcode`` in-process. Counted
from the API and from the client calls: duplicate uploads (two files with one content-addressed name),
duplicate jobs (two jobs with one suffix: every job here has its own), second starts (start called for a job
already started), failed applies, and re-plans that still show changes. ``run_soak`` is also what the
CI-sized test (tests/reliability/test_lost_lock_soak.py) calls.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from ftops.cli import cli
from ftops.client import MistralClient
from ftops.localapi.embedded import start_embedded
from ftops.providers.together_client import TogetherClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from apply_project import FILES  # the two File documents every test project trains on

KEY = "sk-soak-lost-lock"
DAMAGES = ("delete", "revert", "swap", "drop-entries")


def _job(i: int, provider: str = "mistral") -> str:
    if provider == "together":
        return (f"---\napiVersion: ftops/v1\nkind: FineTuningJob\nmetadata: {{name: soak-{i}}}\nspec:\n"
                f"  model: meta-llama/Meta-Llama-3.1-8B-Instruct-Reference\n  training_files: [{{file: train}}]\n"
                f"  validation_files: [valid]\n  hyperparameters: {{n_epochs: {1 + i % 3}, learning_rate: 0.0001}}\n"
                f"  state: started\n")
    return (f"---\napiVersion: ftops/v1\nkind: FineTuningJob\nmetadata: {{name: soak-{i}}}\nspec:\n"
            f"  model: open-mistral-7b\n  training_files: [{{file: train}}]\n  validation_files: [valid]\n"
            f"  hyperparameters: {{training_steps: {1 + i % 3}, learning_rate: 0.0001}}\n  state: started\n")


def _rows(n: int, tag: str) -> str:
    return "".join(json.dumps({"messages": [{"role": "user", "content": f"{tag} q{i}"},
                                            {"role": "assistant", "content": f"{tag} a{i}"}]}) + "\n"
                   for i in range(n))


@dataclass
class SoakResult:
    trials: int = 0
    damages: Counter[str] = field(default_factory=Counter)
    duplicate_uploads: int = 0
    duplicate_jobs: int = 0
    second_starts: int = 0
    failed_applies: int = 0
    replans_with_changes: int = 0
    jobs: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.duplicate_uploads or self.duplicate_jobs or self.second_starts or self.failed_applies
                    or self.replans_with_changes)


@contextmanager
def _counting_starts(client_class: type[MistralClient] = MistralClient) -> Iterator[Counter[str]]:
    """Count start calls per job id (a second one for the same job would be a second paid start)."""
    starts: Counter[str] = Counter()
    original: Callable[..., Any] = client_class.start_job

    def counted(self: MistralClient, job_id: str) -> Any:
        starts[job_id] += 1
        return original(self, job_id)

    client_class.start_job = counted  # type: ignore[method-assign]
    try:
        yield starts
    finally:
        client_class.start_job = original  # type: ignore[method-assign]


def _make_clone(root: Path, provider: str = "mistral") -> None:
    (root / "manifests").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "data" / "train.jsonl").write_text(_rows(12, "soak-train"))
    (root / "data" / "valid.jsonl").write_text(_rows(4, "soak-valid"))
    (root / "manifests" / "files.yaml").write_text(FILES)
    (root / "manifests" / "jobs.yaml").write_text(_job(0, provider).removeprefix("---\n"))
    if provider != "mistral":
        (root / "ftops.toml").write_text(f'provider = "{provider}"\n')


def _damage(rng: random.Random, kind: str, lock: Path, history: list[str], other: Path) -> None:
    if kind == "delete" or not lock.exists():
        lock.unlink(missing_ok=True)
    elif kind == "revert" and history:
        lock.write_text(rng.choice(history))
    elif kind == "swap" and other.exists():
        lock.write_text(other.read_text())
    else:
        data = json.loads(lock.read_text())
        names = sorted(data.get("resources") or {})
        for name in rng.sample(names, k=rng.randint(1, max(1, len(names)))) if names else []:
            del data["resources"][name]
        lock.write_text(json.dumps(data, indent=2))


def _client_class(provider: str) -> type[MistralClient]:
    return TogetherClient if provider == "together" else MistralClient


def _api_counts(url: str, provider: str = "mistral") -> tuple[int, int, int]:
    """(duplicate uploads, duplicate jobs, jobs) as the API lists them."""
    with _client_class(provider)(url, KEY) as client:
        files = Counter(f.filename for f in client.list_files(purpose="fine-tune"))
        suffixes = Counter(j.suffix for j in client.list_jobs())
    return (sum(n - 1 for n in files.values() if n > 1), sum(n - 1 for n in suffixes.values() if n > 1),
            sum(suffixes.values()))


def run_soak(trials: int, *, seed: int, workdir: Path, new_job_every: int = 4,
             echo: Callable[[str], None] = lambda s: None, provider: str = "mistral") -> SoakResult:
    rng = random.Random(seed)
    result = SoakResult()
    started = time.monotonic()
    clones = [workdir / "clone-a", workdir / "clone-b"]
    for clone in clones:
        _make_clone(clone, provider)
    history: dict[Path, list[str]] = {c: [] for c in clones}
    runner = CliRunner()
    with start_embedded(workdir / "api", api_key=KEY, speed=1000.0) as server, \
            _counting_starts(_client_class(provider)) as starts:
        url = server.url + ("/together" if provider == "together" else "")
        env = {"FTOPS_ENDPOINT": url, "MISTRAL_API_KEY": KEY, "TOGETHER_API_KEY": KEY, "CI": "true",
               "NO_COLOR": "1"}
        jobs = 1
        first = runner.invoke(cli, ["-C", str(clones[0]), "apply", "--auto-approve"], env=env)
        assert first.exit_code == 0, first.output
        shutil.copy(clones[0] / "ftops.lock", clones[1] / "ftops.lock")  # both clones start from one commit
        for trial in range(trials):
            clone = rng.choice(clones)
            other = clones[1] if clone is clones[0] else clones[0]
            if trial % new_job_every == new_job_every - 1:  # a new commit adds a job on both clones
                for c in clones:
                    with (c / "manifests" / "jobs.yaml").open("a") as fh:
                        fh.write(_job(jobs, provider))
                jobs += 1
            kind = rng.choice(DAMAGES)
            result.damages[kind] += 1
            _damage(rng, kind, clone / "ftops.lock", history[clone], other / "ftops.lock")
            applied = runner.invoke(cli, ["-C", str(clone), "apply", "--auto-approve"], env=env)
            if applied.exit_code != 0:
                result.failed_applies += 1
                result.failures.append(f"trial {trial} ({kind}) apply: {applied.output[-800:]}")
            replan = runner.invoke(cli, ["-C", str(clone), "plan", "--detailed-exitcode"], env=env)
            if replan.exit_code != 0:
                result.replans_with_changes += 1
                result.failures.append(f"trial {trial} ({kind}) re-plan exit {replan.exit_code}: "
                                       f"{replan.output[-800:]}")
            if (clone / "ftops.lock").exists():
                history[clone].append((clone / "ftops.lock").read_text())
            result.trials += 1
            if (trial + 1) % 25 == 0:
                echo(f"  {trial + 1} trials, {time.monotonic() - started:.0f} s")
        result.duplicate_uploads, result.duplicate_jobs, result.jobs = _api_counts(url, provider)
        result.second_starts = sum(n - 1 for n in starts.values() if n > 1)
    result.seconds = time.monotonic() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--provider", choices=("mistral", "together"), default="mistral")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = run_soak(args.trials, seed=args.seed, workdir=Path(tmp), echo=print, provider=args.provider)
    print(f"trials {r.trials} ({dict(r.damages)}), jobs on the API {r.jobs}, {r.seconds:.0f} s")
    print(f"duplicate uploads {r.duplicate_uploads}, duplicate jobs {r.duplicate_jobs}, second starts "
          f"{r.second_starts}, failed applies {r.failed_applies}, re-plans with changes {r.replans_with_changes}")
    for failure in r.failures[:5]:
        print(failure)
    sys.exit(0 if r.clean else 1)


if __name__ == "__main__":
    main()
