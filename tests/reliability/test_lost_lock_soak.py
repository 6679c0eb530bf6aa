"""CI-sized lost-lock soak (bench/soak_lost_lock.py has the 300-trial version): after each apply the lock is
deleted, reverted, swapped with another clone's or loses entries, then apply + plan. The API is the source of
truth: no duplicate upload, no duplicate job, no second start, every apply succeeds and every re-plan is
clean."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from soak_lost_lock import run_soak


@pytest.mark.parametrize(("provider", "trials"), [("mistral", 20), ("together", 12)])
def test_lost_lock_soak_never_pays_twice(tmp_path: Path, provider: str, trials: int) -> None:
    result = run_soak(trials, seed=7, workdir=tmp_path, new_job_every=3, provider=provider)
    assert result.trials == trials and len(result.damages) == 4, result.damages  # every kind of damage was tried
    assert result.jobs >= 1 + trials // 3  # jobs were added along the way (the soak did something)
    assert result.failures == []
    assert (result.duplicate_uploads, result.duplicate_jobs, result.second_starts) == (0, 0, 0)
