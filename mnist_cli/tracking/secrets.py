"""Credentials in URLs (a tracking URI, an Optuna `--storage`) never reach a file, a log or
the tracker: `user:password@` and secret query values are masked before anything is written.

Private to tracking until the project's shared redaction helper lands (then fold into it).
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
# scheme://userinfo@  (userinfo: up to the last @ before the path's / ? #, so an unescaped
# @ in a password hides its tail too)
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<info>[^/?#\s]+)@")
_SECRET_QUERY = re.compile(
    r"(?P<key>[?&;](?:password|passwd|pwd|token|access_token|secret|api_key|apikey|key|sig)=)"
    r"(?P<value>[^&;#\s]+)", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with every URL's user:password (or token) and secret query values masked:
    `https://alice:pw@host/x?token=t` -> `https://***@host/x?token=***`."""
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    return _SECRET_QUERY.sub(lambda m: f"{m['key']}{MASK}", text)


def redacted(value: Any) -> Any:
    """A JSON/YAML-like value with every string in it redacted (dict keys kept)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(v) for v in value]
    return value


def has_secret(text: str) -> bool:
    return redact(text) != text
