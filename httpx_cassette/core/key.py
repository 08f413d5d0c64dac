"""Canonical request form and its sha256 key: the one place a request's identity is decided.

What counts: method; URL path; query (sorted by name, repeated names keep their order); the body
(JSON re-serialized with sorted keys, forms sorted, multipart without its random boundary); the
content-type media type and a few semantic headers. What never counts: scheme and host (unless
asked), SDK telemetry headers (``x-stainless-*``, ``user-agent``), retry counts, timeouts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
from msgspec import UNSET

from httpx_cassette.model.body import media_type
from httpx_cassette.model.cassette import Request
from httpx_cassette.model.jsonpath import DROP, JsonPath, apply_at, parse_path

__all__ = ["KeyOptions", "canonical_form", "key_of"]

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


def canonical_form(record: Request, options: KeyOptions | None = None) -> dict[str, Any]:
    """The canonical form of a stored request: a plain dict, handy to diff two requests."""
    options = options or KeyOptions()
    url = urlsplit(record.url)
    query = sorted(parse_qsl(url.query, keep_blank_values=True), key=lambda kv: kv[0])
    form: dict[str, Any] = {"method": record.method.upper(), "path": url.path or "/", "query": query}
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


def key_of(record: Request, options: KeyOptions | None = None) -> str:
    """The sha256 hex key of a stored request's canonical form."""
    encoded = msgspec.json.encode(canonical_form(record, options), order="sorted")
    return hashlib.sha256(encoded).hexdigest()
