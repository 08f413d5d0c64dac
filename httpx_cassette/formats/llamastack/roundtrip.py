"""Writing a llama-stack recording that replays unchanged, and writing a read one back exactly.

A response read from a llama-stack file keeps, in its `Origin`, what replay did not need (`kept`):
nothing when `derive` rebuilds the file, the file's JSON with its ``__data__`` payloads left out when
only the rest differs (they are filled in again from the response), else the whole file. Whatever is
written is read back first: a response llama-stack cannot hold so that it replays unchanged (a binary
or plain-text body, named SSE events, a cut-off stream, a request header that is part of the key...)
has no llama-stack recording.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from msgspec import UNSET

from httpx_cassette.core.key import KeyOptions, key_of
from httpx_cassette.core.redact import SECRET_HEADERS
from httpx_cassette.core.secrets import REDACTED, secret_value
from httpx_cassette.errors import CassetteFormatError
from httpx_cassette.formats.llamastack.read import LLAMA_STACK, payload, read
from httpx_cassette.formats.llamastack.write import derive, seen_by_llama_stack
from httpx_cassette.model.cassette import Event, Origin, Request, Response

__all__ = ["kept", "llama_stack_origin", "to_llama_stack"]

_NOT_HELD = object()  # a body whose shape a template no longer fits


def llama_stack_origin(response: Response) -> Origin | None:
    """The `Origin` of a response read from a llama-stack file; None for any other response."""
    origin = response.origin
    return origin if origin is not None and origin.format == LLAMA_STACK else None


def to_llama_stack(request: Request, response: Response) -> dict[str, Any] | None:
    """The llama-stack recording of ``response`` to ``request``, or None when one would not replay it
    unchanged (checked by reading the result back)."""
    origin = llama_stack_origin(response)
    if origin is not None and isinstance(origin.rest, dict):
        candidate = _from_template(origin.rest, request, response)
        if candidate is not None and _reads_back(candidate, request, response):
            return candidate
    derived = derive(request, response)
    seen_as = seen_by_llama_stack(request, response)[1]
    return derived if _reads_back(derived, request, seen_as) else None


def kept(raw: dict[str, Any], request: Request, response: Response) -> Any:
    """What `to_llama_stack` needs beyond ``request`` and ``response`` to write ``raw`` back exactly,
    except secret request headers (``api-key``...), kept as ``REDACTED``."""
    raw = _without_secret_headers(raw)
    derived = derive(request, response)
    if _dumps(derived) == _dumps(raw):
        return None
    mapping = raw.get("id_normalization_mapping")
    stored = raw.get("response")
    if (isinstance(mapping, dict) and mapping) or not isinstance(stored, dict) or "body" not in stored:
        return {"template": raw, "body": "verbatim"}
    if _dumps(_payloads(stored["body"])) != _dumps(_payloads(derived["response"]["body"])):
        return {"template": raw, "body": "verbatim"}
    template = {**raw, "response": {**stored, "body": _skeleton(stored["body"])}}
    return {"template": template, "body": "types"}


def _redacted_headers(headers: Any) -> Any:
    if not isinstance(headers, dict):
        return headers
    secret = {k for k, v in headers.items() if str(k).lower() in SECRET_HEADERS or secret_value(str(k), v)}
    return {k: REDACTED if k in secret else v for k, v in headers.items()}


def _without_secret_headers(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with the values of its request's secret headers (and ``extra_headers``) as ``REDACTED``."""
    stored = raw.get("request")
    if not isinstance(stored, dict):
        return raw
    stored = {**stored, "headers": _redacted_headers(stored.get("headers"))}
    body = stored.get("body")
    if isinstance(body, dict) and "extra_headers" in body:
        stored["body"] = {**body, "extra_headers": _redacted_headers(body["extra_headers"])}
    if "headers" not in raw["request"]:
        del stored["headers"]
    return {**raw, "request": stored}


def _dumps(value: Any) -> str:
    return json.dumps(value)


def _payloads(body: Any) -> Any:
    return [payload(item) for item in body] if isinstance(body, list) else payload(body)


def _skeleton(body: Any) -> Any:
    """``body`` without its ``__data__`` payloads (the types stay), to be filled in again."""
    if isinstance(body, list):
        return [_skeleton(item) for item in body]
    if isinstance(body, dict) and "__data__" in body:
        return {k: v for k, v in body.items() if k != "__data__"}
    return None


def _fill(skeleton: Any, body: Any) -> Any:
    if isinstance(skeleton, list):
        if not isinstance(body, list) or len(body) != len(skeleton):
            return _NOT_HELD
        items = [_fill(s, b) for s, b in zip(skeleton, body, strict=True)]
        return _NOT_HELD if any(item is _NOT_HELD for item in items) else items
    data = payload(body)
    return {**skeleton, "__data__": data} if isinstance(skeleton, dict) else data


def _from_template(rest: dict[str, Any], request: Request, response: Response) -> dict[str, Any] | None:
    template = rest.get("template")
    if not isinstance(template, dict) or not isinstance(template.get("response"), dict):
        return None
    stored = template.get("request")
    if not isinstance(stored, dict) or not all(isinstance(stored.get(f), str) for f in ("url", "method")):
        return None  # read all the same (`endpoint` and POST stand in), but no name can be hashed from it
    if rest.get("body") == "verbatim":
        return template
    body = _fill(template["response"].get("body"), derive(request, response)["response"]["body"])
    if body is _NOT_HELD:
        return None
    return {**template, "response": {**template["response"], "body": body}}


def _reads_back(recording: dict[str, Any], request: Request, response: Response) -> bool:
    try:
        got_request, got_response = read(recording, "(recording being written)")
    except CassetteFormatError:
        return False
    same_key = key_of(got_request, KeyOptions()) == key_of(request, KeyOptions())
    return same_key and _replayed(got_response) == _replayed(response)


def _replayed(response: Response) -> Response:
    """What replay makes of ``response``: headers, timings, event types and the origin left out, and
    a stream closed by its reader after ``[DONE]`` counted as whole (SDKs stop reading there)."""
    body = response.body
    if response.is_streaming and isinstance(body, list):
        body = [msgspec.structs.replace(e, type=None) if isinstance(e, Event) else e for e in body]
    return msgspec.structs.replace(
        response,
        headers={},
        body=body,
        truncated=response.truncated and not response.done,
        elapsed_ms=UNSET,
        offsets_ms=UNSET,
        origin=None,
    )
