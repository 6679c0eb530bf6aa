"""The last line of defence for rule 8 (secrets never leave memory): scan what is about to be written.

Everything ftops writes to disk next to the manifests (the lock file, saved plans) goes through
:func:`secret_paths` first. It flags (a) any string equal to, or containing, the value of a secret-looking
environment variable (``MISTRAL_API_KEY``, ``WANDB_API_KEY``, ``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``...),
(b) any non-empty string under a key named like a credential (``api_key``, ``secret``, ``password``...), and
(c) strings shaped like well-known keys (``sk-...``, ``Bearer ...``, 32-char mixed-case Mistral keys).
Hashes (lowercase hex) and ids (UUIDs, ``ft:...``) never match. Only *paths* are reported, never values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping

_SECRET_ENV = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD)$", re.IGNORECASE)
_SECRET_KEY_NAME = re.compile(r"(^|_|-)(api_?key|apikey|secret|password|passwd|access_token|auth_token)$", re.I)
_KEY_SHAPES = (
    re.compile(r"^sk-[A-Za-z0-9_-]{16,}$"),
    re.compile(r"^Bearer\s+\S{8,}$", re.IGNORECASE),
    # Mistral API keys: 32 alphanumerics. Requiring upper AND lower case keeps hex digests out.
    re.compile(r"^(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{32}$"),
)
# Placeholders that say "a secret goes here" without being one: masks and environment-variable references.
_PLACEHOLDER = re.compile(r"^(\*+|<?redacted>?|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)$", re.IGNORECASE)
_MIN_SECRET_LEN = 8  # shorter env values ("1", "true") would match everything


def env_secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables whose names say they are credentials."""
    env = os.environ if environ is None else environ
    return [v for k, v in env.items() if _SECRET_ENV.search(k) and len(v) >= _MIN_SECRET_LEN]


def _walk(node: object, path: str) -> Iterator[tuple[str, str | None, object]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            sub = f"{path}.{key}" if path else str(key)
            yield sub, str(key), value
            yield from _walk(value, sub)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            sub = f"{path}[{i}]"
            yield sub, None, value
            yield from _walk(value, sub)


def secret_paths(tree: object, *, environ: Mapping[str, str] | None = None) -> list[str]:
    """Dotted paths of values in a JSON-like tree that look like secrets (empty list: safe to write)."""
    known = env_secret_values(environ)
    found: list[str] = []
    for path, key, value in _walk(tree, ""):
        if not isinstance(value, str) or not value or _PLACEHOLDER.match(value):
            continue
        if (
            (key is not None and _SECRET_KEY_NAME.search(key))
            or any(secret in value for secret in known)
            or any(shape.match(value) for shape in _KEY_SHAPES)
        ):
            found.append(path)
    return found
