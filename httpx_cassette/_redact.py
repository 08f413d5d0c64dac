"""What never reaches disk: secret headers, secret query parameters, transport-only headers.

Redaction runs before a request is keyed and before anything is written, so a replayed request
(redacted the same way) still finds its recording.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY_PARAMS",
    "redact_url",
    "response_headers",
]

REDACTED = "REDACTED"

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
        "openai-organization",
        "openai-project",
    }
)

# Bodies are stored decoded, so these would lie about the stored body; the rest is per-connection.
TRANSPORT_HEADERS = frozenset(
    {"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"}
)

SECRET_QUERY_PARAMS = frozenset({"api-key", "api_key", "key", "token", "access_token", "sig"})


def redact_url(url: str, secret_params: frozenset[str] = SECRET_QUERY_PARAMS) -> str:
    """The URL with the values of secret query parameters replaced by ``REDACTED``."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(name.lower() in secret_params for name, _ in pairs):
        return url
    query = urlencode([(k, REDACTED if k.lower() in secret_params else v) for k, v in pairs])
    return urlunsplit(parts._replace(query=query))


def response_headers(
    headers: Iterable[tuple[str, str]], drop: frozenset[str] = SECRET_HEADERS | TRANSPORT_HEADERS
) -> dict[str, str]:
    """Response headers worth storing: lower-cased, secrets and transport headers dropped."""
    kept: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        if lower in drop:
            continue
        kept[lower] = f"{kept[lower]}, {value}" if lower in kept else value
    return kept


def kept_request_headers(headers: Mapping[str, str], keep: Iterable[str]) -> dict[str, str]:
    """Only the request headers named in ``keep`` (never a secret one), lower-cased."""
    return {name: headers[name] for name in keep if name in headers and name not in SECRET_HEADERS}
