"""The secret scan that guards the lock file and plan files: catches keys, spares ids and hashes."""

from __future__ import annotations

import pytest

from ftops.state.secrets import secret_paths

ENV = {"MISTRAL_API_KEY": "kJ8dH2mQ9xZ4pL7vN3bR6tY1wE5uA0sD", "WANDB_API_KEY": "w" * 40, "CI": "true"}


@pytest.mark.parametrize(
    "value",
    [
        "3f9a0c2b71de" * 5 + "abcd",  # sha256 hex
        "0b6c8a9e-1f2d-4c3b-9a8e-7d6c5b4a3f21",  # uuid
        "ft:open-mistral-7b:0b6c8a9e:20240611:a1b2c3d4",
        "train.3f9a0c2b71de.jsonl",
        "WANDB_API_KEY",
        "true",
    ],
)
def test_ordinary_values_pass(value: str) -> None:
    assert secret_paths({"a": {"b": [value]}}, environ=ENV) == []


@pytest.mark.parametrize(
    ("tree", "path"),
    [
        ({"x": "kJ8dH2mQ9xZ4pL7vN3bR6tY1wE5uA0sD"}, "x"),  # equals an env secret (and has the shape)
        ({"x": ["prefix " + "w" * 40]}, "x[0]"),  # contains an env secret
        ({"integrations": [{"api_key": "abc"}]}, "integrations[0].api_key"),  # named like a credential
        ({"h": "Bearer abcdefghijkl"}, "h"),
        ({"k": "sk-proj-abcdefghijklmnop"}, "k"),
    ],
)
def test_secrets_are_found_by_path(tree: object, path: str) -> None:
    assert secret_paths(tree, environ=ENV) == [path]


def test_placeholders_are_not_secrets() -> None:
    assert secret_paths({"api_key": "****", "password": "$WANDB_API_KEY", "secret": ""}, environ=ENV) == []
