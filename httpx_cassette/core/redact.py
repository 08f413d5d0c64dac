"""What never reaches disk: secret headers, secret query parameters, transport-only headers, body fields a
user names, and secret values a user maps to placeholders.

Redaction runs before a request is keyed and before anything is written, so a replayed request
(redacted the same way) still finds its recording. Placeholders work both ways, like Ruby VCR's
``filter_sensitive_data``: the secret is written as its placeholder, and replayed responses get the
secret back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import msgspec
from msgspec import UNSET

from httpx_cassette.model.cassette import Request, Response
from httpx_cassette.model.jsonpath import (  # one path syntax for ignoring and for redacting
    apply_at,
    parse_path,
)

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY_PARAMS",
    "Redaction",
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


def _redacted(_: Any) -> str:
    return REDACTED


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """``value`` with ``change`` applied to every string in it, dictionary keys included."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [_map_strings(v, change) for v in value]
    if isinstance(value, dict):
        return {change(k): _map_strings(v, change) for k, v in value.items()}
    return value


class Redaction:
    """What a cassette hides beyond the defaults, applied to every request before it is keyed and to every
    recording before it is written.

    ``json_paths`` are body fields replaced by ``"REDACTED"`` in requests, responses and each event of a
    stream, in the syntax of ``ignore_json_paths`` (``user``, ``metadata.api_key``, ``messages[*].name``).
    ``headers`` are request and response headers never stored, on top of `SECRET_HEADERS`.
    ``placeholders`` maps a placeholder to a secret value (``{"<ACCOUNT_ID>": os.environ["ACCOUNT_ID"]}``):
    the secret is written as the placeholder wherever it occurs (the URL, percent-encoded there too;
    headers, bodies, event data, error messages), and replayed responses get the secret back. An empty
    secret hides nothing and is skipped, so ``os.environ.get(NAME, "")`` is fine where it is unset.
    """

    def __init__(
        self,
        json_paths: Iterable[str] = (),
        headers: Iterable[str] = (),
        placeholders: Mapping[str, str] | None = None,
    ) -> None:
        self.json_paths = tuple(json_paths)
        self._paths = tuple(parse_path(p) for p in self.json_paths)
        self.headers = frozenset(h.lower() for h in headers)
        # Longest secret first, so a secret that contains another one is replaced whole.
        named = sorted(((s, n) for n, s in (placeholders or {}).items() if s), key=lambda p: -len(p[0]))
        self._secrets = named
        self._in_urls = sorted(
            [*named, *((quote(s, safe=""), n) for s, n in named if quote(s, safe="") != s)],
            key=lambda p: -len(p[0]),
        )
        self._placeholders = sorted(((n, s) for s, n in named), key=lambda p: -len(p[0]))

    def __bool__(self) -> bool:
        return bool(self._paths or self.headers or self._secrets)

    # -- strings -------------------------------------------------------------------------------------

    @staticmethod
    def _swap(text: str, pairs: list[tuple[str, str]]) -> str:
        for old, new in pairs:
            if old in text:
                text = text.replace(old, new)
        return text

    def hide(self, text: str) -> str:
        """``text`` with every secret replaced by its placeholder."""
        return self._swap(text, self._secrets)

    def reveal(self, text: str) -> str:
        """``text`` with every placeholder replaced by its secret (for replay)."""
        return self._swap(text, self._placeholders)

    def _json(self, value: Any, change: Callable[[str], str], *, paths: bool) -> Any:
        for path in self._paths if paths else ():
            value = apply_at(value, path, _redacted)
        return _map_strings(value, change) if self._secrets else value

    # -- requests and responses ------------------------------------------------------------------------

    def request(self, record: Request) -> Request:
        """The request as it is keyed and stored."""
        if not self:
            return record
        changes: dict[str, Any] = {
            "url": self._swap(record.url, self._in_urls),
            "headers": {k: self.hide(v) for k, v in record.headers.items() if k not in self.headers},
        }
        if record.body is not UNSET:
            changes["body"] = self._json(record.body, self.hide, paths=True)
        if isinstance(record.text, str):
            changes["text"] = self._swap(record.text, self._in_urls)  # form bodies are percent-encoded
        if isinstance(record.multipart, list):
            changes["multipart"] = [
                msgspec.structs.replace(
                    part,
                    value=self.hide(part.value) if part.value is not None else None,
                    filename=self.hide(part.filename) if part.filename is not None else None,
                )
                for part in record.multipart
            ]
        return msgspec.structs.replace(record, **changes)

    def response(self, response: Response) -> Response:
        """The response as it is written."""
        if not self:
            return response
        return self._response(response, self.hide, store=True)

    def restore(self, response: Response) -> Response:
        """A stored response as replay serves it: placeholders back to their secrets."""
        if not self._secrets:
            return response
        return self._response(response, self.reveal, store=False)

    def _response(self, response: Response, change: Callable[[str], str], *, store: bool) -> Response:
        def data(value: Any) -> Any:
            return self._json(value, change, paths=store)

        changes: dict[str, Any] = {
            "headers": {k: change(v) for k, v in response.headers.items() if k not in self.headers}
        }
        if response.is_streaming:
            changes["body"] = [
                msgspec.structs.replace(
                    event,
                    data=change(event.data) if event.raw else data(event.data),
                    id=change(event.id) if event.id is not None else None,
                )
                for event in response.events()
            ]
        elif response.body is not UNSET:
            changes["body"] = data(response.body)
        if isinstance(response.text, str):
            changes["text"] = change(response.text)
        if response.error is not None:
            changes["error"] = msgspec.structs.replace(response.error, message=change(response.error.message))
        return msgspec.structs.replace(response, **changes)
