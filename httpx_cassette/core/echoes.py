"""The credentials a request carried that its recording does not keep, kept off disk when they come back.

A request's API key header, cookie, proxy credentials, URL password and secret query parameters are
dropped or redacted when it is stored. A server may send one back: a 401 that quotes the key ("The API
key 1f2e... is not valid"), a debug endpoint echoing the request, a transport error quoting a header
line (h11's "Illegal header value b'<key>\\n'"). The scanner cannot tell such a value from text when
it has no known format, but the recording knows it exactly: each one is written as ``REDACTED``
wherever it appears in the response (headers, body, events, error message).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import msgspec
from msgspec import UNSET

from httpx_cassette.core.places import decoded_bytes
from httpx_cassette.core.redact import SECRET_HEADERS, map_values
from httpx_cassette.core.request import LiveRequest
from httpx_cassette.core.secrets import REDACTED, secret_value
from httpx_cassette.model.cassette import Event, Response

__all__ = ["carried", "scrubbed"]

MIN_LENGTH = 8  # shorter values ("en", "1") would redact ordinary text wherever it appears
_ENCODER = msgspec.json.Encoder()


def carried(request: LiveRequest, dropped: Iterable[str] = (), mapped: Iterable[str] = ()) -> frozenset[str]:
    """The credentials in a live ``request``'s headers and URL that its recording does not keep: secret
    headers (``dropped``: more header names never stored) whole, after their scheme, and decoded from
    Basic; each cookie's value; the URL's password and secret query parameters. What holds a value the
    user ``mapped`` to a placeholder is left to the placeholder, which replay puts back."""
    names = SECRET_HEADERS | {name.lower() for name in dropped}
    found: set[str] = set()
    raw = request.headers
    headers: Iterable[tuple[str, str]] = raw.multi_items() if hasattr(raw, "multi_items") else raw.items()
    for name, value in headers:
        lower, value = name.lower(), value.strip()
        if lower in ("cookie", "cookie2"):
            found.update(part.partition("=")[2].strip() for part in value.split(";"))
        elif lower in names or secret_value(lower, value):  # a random id header (a trace) is no secret
            found.add(value)
            scheme, _, credentials = value.partition(" ")
            found.add(credentials.strip())
            if scheme.lower() == "basic":
                found.update(_basic(credentials.strip()))
    url = str(request.url)
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # a URL httpx sent but urllib cannot split (a bad port): its query still counts
        parts, password = urlsplit(url.partition("#")[0].partition("@")[2] or url), None
    found.add(password or "")
    found.update(
        v for k, v in parse_qsl(parts.query, keep_blank_values=True) if secret_value(k, v, query=True)
    )
    mapped = [m for m in mapped if m]
    return frozenset(
        v for v in found if len(v) >= MIN_LENGTH and v != REDACTED and not any(m in v for m in mapped)
    )


def _basic(credentials: str) -> list[str]:
    """``user:password`` and the password, from Basic credentials."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return []
    return [decoded, decoded.partition(":")[2]]


def scrubbed(response: Response, secrets: frozenset[str]) -> Response:
    """``response`` with each of ``secrets`` (and its percent-encoded form) written as ``REDACTED``
    wherever it appears; the very object when none does. One search of its JSON per secret: a 2,000-event
    stream costs about 0.3 ms."""
    if not secrets:
        return response
    forms = {form for s in secrets for form in (s, quote(s, safe=""))}
    # "Bearer <key>" holds "<key>": searching the shortest forms finds every one
    needles = [n for n in forms if not any(other != n and other in n for other in forms)]
    body = decoded_bytes(response.base64) if isinstance(response.base64, str) else b""
    encoded = _ENCODER.encode(response)
    if not any(_ENCODER.encode(n)[1:-1] in encoded or n.encode() in body for n in needles):
        return response
    ordered = sorted(forms, key=len, reverse=True)

    def change(text: str) -> str:
        for form in ordered:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    changes: dict[str, Any] = {"headers": {k: change(v) for k, v in response.headers.items()}}
    if response.body is not UNSET:
        events = response.events()
        changes["body"] = [_event(e, change) for e in events] if events else map_values(response.body, change)
    if isinstance(response.text, str):
        changes["text"] = change(response.text)
    if body:
        for form in ordered:
            body = body.replace(form.encode(), REDACTED.encode())
        changes["base64"] = base64.b64encode(body).decode()
    if response.error is not None:
        changes["error"] = msgspec.structs.replace(response.error, message=change(response.error.message))
    return msgspec.structs.replace(response, **changes)


def _event(event: Event, change: Callable[[str], str]) -> Event:
    data = event.parsed()
    changed = map_values(data, change)
    if isinstance(event.data, msgspec.Raw):
        changed = msgspec.Raw(_ENCODER.encode(changed)) if changed != data else event.data
    return msgspec.structs.replace(
        event,
        data=changed,
        event=change(event.event) if event.event else event.event,
        id=change(event.id) if event.id else event.id,
    )
