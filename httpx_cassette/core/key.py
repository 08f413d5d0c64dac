"""Canonical request form and its sha256 key: the one place a request's identity is decided.

What counts: method; URL path; query (sorted by name, repeated names keep their order); the body
(JSON re-serialized with sorted keys, forms sorted, multipart without its random boundary); the
content-type media type and a few semantic headers. What never counts: scheme and host (unless
asked), SDK telemetry headers (``x-stainless-*``, ``user-agent``), retry counts, timeouts.

Both functions take a stored `Request` or a live one (an ``httpx.Request`` / ``httpx2.Request``, or
anything with their ``method``, ``url``, ``headers`` and ``content``); a live one is first turned into
the record a cassette would store (`to_record`), so its key is the key it is recorded under.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
from msgspec import UNSET

from httpx_cassette.core.request import LiveRequest, to_record
from httpx_cassette.model.body import media_type
from httpx_cassette.model.cassette import Request
from httpx_cassette.model.jsonpath import DROP, JsonPath, apply_at, parse_path

__all__ = ["CanonicalForm", "KeyOptions", "canonical_form", "key_of", "same_request", "stored_form"]

CanonicalForm = dict[str, object]  # method, path, query, headers, body (and host): plain JSON data

SEMANTIC_HEADERS = ("openai-beta", "anthropic-beta")


@dataclass(frozen=True)
class KeyOptions:
    """What a key depends on beyond the defaults.

    ``ignore_json_paths`` are dotted paths into a JSON body (``metadata.trace_id``,
    ``messages[0].content``, ``messages[*].id``) left out of the key; ``match_headers`` adds request
    headers to the key; ``include_host`` adds scheme, host and port. ``match_on`` (vcrpy's
    names: method, path, query, body, headers, host), when given, keeps only those parts.
    """

    include_host: bool = False
    ignore_json_paths: tuple[str, ...] = ()
    match_headers: tuple[str, ...] = ()
    match_on: tuple[str, ...] = ()
    parsed_paths: tuple[JsonPath, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "match_headers", tuple(h.lower() for h in self.match_headers))
        object.__setattr__(self, "parsed_paths", tuple(parse_path(p) for p in self.ignore_json_paths))


def _drop(_: Any) -> Any:
    return DROP


def _canonical_body(record: Request, paths: Iterable[JsonPath]) -> Any:
    if record.body is not UNSET:
        body = record.body
        for path in paths:
            body = apply_at(body, path, _drop)
        return {"json": body}
    if record.multipart is not UNSET:
        return {"multipart": [msgspec.to_builtins(p) for p in record.multipart]}
    if record.text is not UNSET:
        if media_type(record.headers.get("content-type")) == "application/x-www-form-urlencoded":
            return {"form": sorted(parse_qsl(record.text, keep_blank_values=True), key=lambda kv: kv[0])}
        return {"text": record.text}
    if record.base64 is not UNSET:
        return {"base64_sha256": hashlib.sha256(record.base64.encode()).hexdigest()}
    return None


def stored_form(request: Request | LiveRequest, match_headers: Iterable[str] = ()) -> Request:
    """``request`` as a cassette stores it: a live request is read (if it has not been) and recorded."""
    if isinstance(request, Request):
        return request
    try:
        _ = request.content
    except RuntimeError:  # httpx's RequestNotRead: a streamed body nobody has read yet
        if not isinstance(getattr(request, "stream", None), Iterable):
            raise TypeError(
                f"cannot key {request.method} {request.url}: its body is an async stream not read yet;"
                " `await request.aread()` first"
            ) from None
        request.read()  # type: ignore[attr-defined]  # httpx and httpx2 requests have it
    return to_record(request, match_headers)


def canonical_form(request: Request | LiveRequest, options: KeyOptions | None = None) -> CanonicalForm:
    """The canonical form of a request (stored, or a live httpx/httpx2 one): a plain dict, handy to diff
    two requests."""
    options = options or KeyOptions()
    record = stored_form(request, options.match_headers)
    url = urlsplit(record.url)
    query = sorted(parse_qsl(url.query, keep_blank_values=True), key=lambda kv: kv[0])
    form: CanonicalForm = {"method": record.method.upper(), "path": url.path or "/", "query": query}
    if options.include_host:
        form["host"] = f"{url.scheme}://{url.netloc}"
    headers = {"content-type": media_type(record.headers.get("content-type"))}
    for name in (*SEMANTIC_HEADERS, *options.match_headers):
        if name in record.headers:
            headers[name] = record.headers[name]
    form["headers"] = {k: v for k, v in headers.items() if v}
    form["body"] = _canonical_body(record, options.parsed_paths)
    if options.match_on:
        return _only(form, options.match_on, f"{url.scheme}://{url.netloc}")
    return form


def _only(form: dict[str, Any], parts: tuple[str, ...], host: str) -> dict[str, Any]:
    """The canonical form cut down to ``parts`` (``match_on``): a name left out matches anything."""
    kept: dict[str, Any] = {
        part: form[part] for part in ("method", "path", "query", "headers", "body") if part in parts
    }
    if "host" in parts:
        kept["host"] = host
    return kept


def key_of(request: Request | LiveRequest, options: KeyOptions | None = None) -> str:
    """The sha256 hex key of a request's canonical form (a stored request, or a live httpx/httpx2 one)."""
    encoded = msgspec.json.encode(canonical_form(request, options), order="sorted")
    return hashlib.sha256(encoded).hexdigest()


def same_request(a: Request, b: Request) -> bool:
    """Whether two stored requests are the same request (keyed with the default options)."""
    return key_of(a, KeyOptions()) == key_of(b, KeyOptions())
