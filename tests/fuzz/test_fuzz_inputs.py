"""CI-sized fuzzing (seeded, about 15 s per input kind): see fuzzkit.py for the invariants checked."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from fuzzkit import MANIFEST, SECRET, SECRETS, YAML_SNIPPETS, Arena, Stats, mutate_text, run

BUDGET = float(os.environ.get("FTOPS_FUZZ_SECONDS", "15"))


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> Arena:
    with pytest.MonkeyPatch.context() as mp:
        for var in ("FTOPS_ENDPOINT", "MISTRAL_API_KEY", "CI"):
            mp.delenv(var, raising=False)
        return Arena(tmp_path_factory.mktemp("fuzz"))


@pytest.mark.parametrize("kind", ["manifest", "lock", "plan", "dataset"])
def test_fuzz(arena: Arena, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("FTOPS_ENDPOINT", "MISTRAL_API_KEY", "CI"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WANDB_API_KEY", SECRET)
    stats = Stats()
    run(arena, kind, seed=1, budget_seconds=BUDGET, max_trials=400, stats=stats)
    assert stats.trials.get(kind, 0) >= 5, "the budget allowed too few trials to mean anything"
    assert not stats.failures, "\n".join(stats.failures[:10])


def test_fuzz_subprocess_runs(tmp_path: Path) -> None:
    """A few real processes: exit codes, output and time as a user's shell sees them."""
    (tmp_path / "manifests").mkdir()
    rng = random.Random("subprocess")
    env = {k: v for k, v in os.environ.items() if k not in ("FTOPS_ENDPOINT", "MISTRAL_API_KEY", "CI")}
    env["FTOPS_ENDPOINT"] = "https://user:FUZZPASSWORD@127.0.0.1:9/?token=FUZZQUERY#FUZZFRAGMENT"
    for n in range(3):
        (tmp_path / "manifests" / "main.yaml").write_text(mutate_text(rng, MANIFEST, YAML_SNIPPETS))
        command = ["validate"] if n < 2 else ["plan"]
        done = subprocess.run([sys.executable, "-m", "ftops", "-C", str(tmp_path), *command], env=env,
                              capture_output=True, text=True, timeout=120)
        output = done.stdout + done.stderr
        assert done.returncode in (0, 1, 2), output
        assert "internal error" not in output and "Traceback" not in output, output
        assert not any(s in output for s in SECRETS), output
