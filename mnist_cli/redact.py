"""Secrets out of anything recorded or printed: the password (or token) of a URL such as
`postgresql+psycopg://user:PASSWORD@host/db` or `https://user:TOKEN@host/...`, and the value
of a secret-looking query parameter (`?password=...`, `&token=...`).

Run directories get shared, committed and uploaded, so every command line, URL and config
the tool writes or prints goes through `redact` (the run directory's files also at the one
place that writes them, `runs.artifacts.write_text`). It works on any text, not only a
whole URL: an argv element like `--storage=postgresql://u:p@h/db` or an error message that
quotes a URL is redacted too. It errs on the side of hiding: everything between `user:` and
the last `@` of the word is hidden.
"""

from __future__ import annotations

import re
from typing import Any

HIDDEN = "***"

# scheme://user:SECRET@ -- SECRET runs to the last "@" of the word (an unescaped "@" in a
# password must not leave its tail behind).
_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@?#]*:)(?P<secret>\S*)@")
# https://TOKEN@host: a user-only userinfo of http(s) is a token (a database URL's is a name)
_HTTP_TOKEN = re.compile(r"(?P<head>\bhttps?://)(?P<secret>[^\s:/@?#]+)@", re.IGNORECASE)
# ?password=SECRET or &api_token=SECRET in a URL's query
_QUERY = re.compile(
    r"(?P<head>[?&;][^\s=&;#]*(?:password|passwd|pwd|secret|token|api_?key|access_?key)"
    r"[^\s=&;#]*=)(?P<secret>[^\s&;#]+)", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the secret of every URL in it replaced by `***` (unchanged if none)."""
    if "://" not in text and "=" not in text:
        return text
    for pattern in (_USERINFO, _HTTP_TOKEN):
        text = pattern.sub(lambda m: f"{m['head']}{HIDDEN}@", text)
    return _QUERY.sub(lambda m: f"{m['head']}{HIDDEN}", text)


def redact_command(argv: list[str] | tuple[str, ...]) -> list[str]:
    """A command line with each argument redacted (metrics.json's `command`)."""
    return [redact(str(arg)) for arg in argv]


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
    """Whether `text` holds a secret `redact` would hide."""
    return redact(text) != text


def server_of(url: str) -> str:
    """`url` without its userinfo (`http://alice:pw@host:5000/x` -> `http://host:5000/x`):
    which server it names, whoever logs in."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, path = rest.partition("/")
    return f"{scheme}://{netloc.rsplit('@', 1)[-1]}{slash}{path}"
