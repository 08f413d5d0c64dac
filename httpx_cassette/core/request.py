"""A live httpx/httpx2 request -> the redacted `Request` record that is keyed and stored.

Works on any object with httpx's request attributes (``method``, ``url``, ``headers``,
``content``), so it serves both libraries without importing either.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections.abc import Iterable
from typing import Any, Protocol

from httpx_cassette.core.redact import kept_request_headers, redact_url
from httpx_cassette.model.body import media_type, store_body, stored_text
from httpx_cassette.model.cassette import Part, Request

__all__ = ["STORED_REQUEST_HEADERS", "LiveRequest", "header_names", "identity", "to_record"]

# Request headers written to the cassette: the ones that change what a server answers.
STORED_REQUEST_HEADERS = ("content-type", "openai-beta", "anthropic-beta", "anthropic-version")


class LiveRequest(Protocol):
    """The part of ``httpx.Request`` / ``httpx2.Request`` this module reads."""

    @property
    def method(self) -> str: ...
    @property
    def url(self) -> Any: ...
    @property
    def headers(self) -> Any: ...
    @property
    def content(self) -> bytes: ...


def _multipart(content: bytes, content_type: str) -> list[Part]:
    # The stdlib email parser handles folding, quoting and RFC 2231 names; parts are small in number.
    # Imported here: email.policy costs milliseconds at import time and few requests are multipart.
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + content
    )
    parts: list[Part] = []
    for sub in message.iter_parts():
        payload = sub.get_payload(decode=True)
        payload = payload if isinstance(payload, bytes) else b""
        name = sub.get_param("name", header="content-disposition") or ""
        filename = sub.get_filename()
        ctype = str(sub["content-type"]) if "content-type" in sub else None
        if filename is None:  # a field: kept as a body of its content-type is (text, else its bytes)
            text = _field_text(sub.raw_items(), payload)
            if text is None:
                encoded = base64.b64encode(payload).decode("ascii")
                parts.append(Part(name=str(name), content_type=ctype, base64=encoded))
            else:
                parts.append(Part(name=str(name), value=text, content_type=ctype))
        else:
            digest = hashlib.sha256(payload).hexdigest()
            parts.append(Part(str(name), filename, ctype, None, digest, len(payload)))
    return parts


def _field_text(headers: Iterable[tuple[str, str]], payload: bytes) -> str | None:
    """A field's ``payload`` as the text a body of its content-type is stored as; None: kept as bytes. Its
    content-type as sent (the parsed header is rewritten: ``charset="utf-8"``); one sent twice is read two
    ways, and is no text."""
    sent = [value for name, value in headers if name.lower() == "content-type"]
    if not payload or len(sent) > 1:
        return None if payload else ""
    return stored_text(payload, sent[0] if sent else None)


def _set_body(record: Request, content: bytes, content_type: str) -> None:
    if content and media_type(content_type) == "multipart/form-data":
        record.multipart = _multipart(content, content_type)
    else:
        store_body(record, content, content_type)


def _headers_named(headers: Any, names: Iterable[str]) -> dict[str, str]:
    """The headers called one of ``names`` (lower case), as ``{k.lower(): v for k, v in headers.items()}``
    would give them (repeats joined with ", "), without decoding every header the SDK sent."""
    raw = getattr(headers, "raw", None)  # httpx's and httpx2's Headers: [(name, value)] as bytes
    # All ASCII (one C-level check; cheaper than Headers.encoding): decoding is then the same in every
    # encoding httpx may pick, and bytes.lower() is str.lower(). Anything else takes the general way.
    if not isinstance(raw, list) or not b"".join(itertools.chain.from_iterable(raw)).isascii():
        return {k.lower(): v for k, v in headers.items() if k.lower() in names}
    wanted = {name.encode("ascii") for name in names if name.isascii()}  # others cannot match
    found: dict[str, str] = {}
    for key, value in raw:
        lower = key.lower()
        if lower in wanted:
            name, text = lower.decode("ascii"), value.decode("ascii")
            found[name] = f"{found[name]}, {text}" if name in found else text
    return found


def to_record(request: LiveRequest, extra_headers: Iterable[str] = ()) -> Request:
    """The redacted, storable form of ``request`` (whose body must have been read)."""
    keep = (*STORED_REQUEST_HEADERS, *(h.lower() for h in extra_headers))
    headers = _headers_named(request.headers, keep)
    record = Request(
        method=request.method.upper(),
        url=redact_url(str(request.url)),
        headers=kept_request_headers(headers, keep),
    )
    _set_body(record, request.content, headers.get("content-type", ""))
    return record


def identity(request: LiveRequest, names: frozenset[bytes]) -> tuple[object, ...]:
    """Everything `to_record` reads from ``request`` when it keeps the headers ``names`` (lower-case
    ASCII, see `header_names`): two requests with equal identities give equal records (and keys), so a
    cassette can key a repeated request from a memo instead of parsing it again. Cheaper than
    `to_record`: header bytes are compared as they are, nothing is decoded or parsed."""
    raw = getattr(request.headers, "raw", None)
    if isinstance(raw, list):
        headers: tuple[object, ...] = tuple(pair for pair in raw if pair[0].lower() in names)
    else:
        headers = tuple(request.headers.items())
    return (request.method, str(request.url), headers, request.content)


def header_names(extra_headers: Iterable[str] = ()) -> frozenset[bytes]:
    """The names (as bytes) of the headers `to_record` keeps, for `identity`."""
    keep = (*STORED_REQUEST_HEADERS, *(h.lower() for h in extra_headers))
    return frozenset(name.encode("utf-8") for name in keep)
