"""The fine-tuned model suffix rule of the API, and the default suffix ftops derives from a job's name.

The last job-creation schema of Mistral's spec requires ``^[a-zA-Z0-9_-]+$``, 1–18 characters. A suffix the
user writes is checked against it (``checks.py``, code M055); one ftops derives from ``metadata.name`` (which
may contain ``.`` and be 63 characters long) is *sanitised* into it. When sanitising or cutting changed the
name, a short hash of the full name is appended, so two names that would otherwise collapse to one suffix
(``support.v2-experiment-a`` / ``-b``) still get different ones.
"""

from __future__ import annotations

import hashlib
import re

SUFFIX_MAX = 18
SUFFIX_PATTERN = r"^[a-zA-Z0-9_-]+$"
SUFFIX_RULE = "letters, digits, '_' and '-' only, 1 to 18 characters (the API's rule)"
_VALID = re.compile(SUFFIX_PATTERN)
_OUTSIDE = re.compile(r"[^a-zA-Z0-9_-]+")
_HASH_CHARS = 6


def is_valid_suffix(text: str) -> bool:
    return 0 < len(text) <= SUFFIX_MAX and _VALID.match(text) is not None


def suffix_from_name(name: str, *, width: int = SUFFIX_MAX) -> str:
    """``name`` as a suffix of at most ``width`` characters: unchanged when it already fits the rule."""
    if len(name) <= width and _VALID.match(name):
        return name
    tag = hashlib.sha256(name.encode()).hexdigest()[:_HASH_CHARS]
    stem = _OUTSIDE.sub("-", name).strip("-")[: max(0, width - _HASH_CHARS - 1)].rstrip("-")
    return f"{stem}-{tag}" if stem else tag
