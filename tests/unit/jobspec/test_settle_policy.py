"""How long apply searches for the object of an unanswered POST before it stops (never re-sending)."""

from __future__ import annotations

import pytest

from ftops.apply.steps_base import SETTLE_ENV, SettlePolicy


def test_delays_search_at_once_then_back_off_within_the_bound() -> None:
    delays = list(SettlePolicy(total=20.0).delays())
    assert delays[:6] == [0.0, 0.5, 1.0, 2.0, 4.0, 8.0]
    assert sum(delays) == pytest.approx(20.0)
    assert max(delays) <= 8.0


def test_zero_bound_searches_once() -> None:
    assert list(SettlePolicy(total=0.0).delays()) == [0.0]


def test_the_bound_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SETTLE_ENV, "3")
    assert sum(SettlePolicy.from_env().delays()) == pytest.approx(3.0)
    monkeypatch.setenv(SETTLE_ENV, "not-a-number")
    assert SettlePolicy.from_env().total == SettlePolicy().total
