"""Showing a URL without its secret-bearing parts: user info, query and fragment are replaced by ``***``.

Anything a user may paste into ``FTOPS_ENDPOINT`` (``https://user:token@host/?key=…#…``) goes through
:func:`redact_url` before it is printed, logged or written; the host and path stay readable so the error
still says which endpoint is wrong.
"""

from __future__ import annotations

import re

_MASK = "***"
# Fallback for text urlsplit refuses (e.g. a broken IPv6 literal): cut user info, then query and fragment.
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)?[^/?#@]*@")
_TAIL = re.compile(r"([?#]).*\Z", re.DOTALL)


def redact_url(text: str) -> str:
    """``text`` with user info, query and fragment masked (unchanged when it has none)."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(text)
    except ValueError:
        masked = _USERINFO.sub(lambda m: f"{m.group(1) or ''}{_MASK}@", text)
        return _TAIL.sub(lambda m: f"{m.group(1)}{_MASK}", masked)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{_MASK}@{netloc.rsplit('@', 1)[1]}"
    query = _MASK if parts.query else ""
    fragment = _MASK if parts.fragment else ""
    out = urlunsplit((parts.scheme, netloc, parts.path, query, fragment))
    if not parts.netloc and "@" in parts.path:  # scheme-less "user:pw@host/x": urlsplit sees it all as a path
        out = _USERINFO.sub(f"{_MASK}@", out)
    return out


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")


def redact_urls_in(text: str) -> str:
    """``text`` with every URL in it passed through :func:`redact_url` (for messages that echo user input)."""
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
