"""The plan explains its cost figures and warns before paying for something odd (issue 12)."""

from __future__ import annotations

from ftops.plan.cost import explain, warnings
from ftops.pricing import estimate


def test_a_tiny_dataset_explains_the_minimum_step_and_fee() -> None:
    e = estimate("ministral-3b-latest", 694, epochs=3)
    notes = explain(e, model="ministral-3b-latest", requested_epochs=3)
    assert notes[0] == "requested 3 epochs; the minimum of one step (65,536 tokens) trains 94.4 epochs of this data"
    assert notes[1].startswith("$4.00 is the minimum job fee (the training tokens alone: $0.03)")
    assert notes[2].startswith("Warning: 94.4 epochs is far past the usual 1-10")


def test_whole_steps_round_up_and_sane_jobs_say_nothing() -> None:
    e = estimate("open-mistral-7b", 100_000, epochs=3)
    assert explain(e, model="open-mistral-7b", requested_epochs=3) == [
        "requested 3 epochs; steps are whole, so 3 steps of 131,072 tokens train 3.93 epochs",
        "$4.00 is the minimum job fee (the training tokens alone: $0.79)",
    ]
    big = estimate("open-mistral-7b", 10_000_000, epochs=2)
    assert explain(big, model="open-mistral-7b", requested_epochs=2) == []


def test_a_runaway_step_count_is_warned_about() -> None:
    e = estimate("mistral-large-latest", 50_000_000_000, training_steps=100_000)
    assert e.cost > 78_000
    assert any("100,000 training steps is more than 10,000" in n for n in warnings(e.epochs, e.training_steps))
