"""Reading one llama-stack recording: the request the OpenAI SDK sends and the response it receives.

The request is what goes on the wire, so the ordinary key finds it: the path is ``endpoint`` (``url``
holds it doubled, ``/v1/v1/chat/completions``), a models list is a GET (stored as POST), ``extra_body``
is merged into the body, ``extra_headers``/``extra_query`` go to the headers and the query,
``timeout`` is dropped, and embeddings get the SDK's default ``encoding_format: "base64"``. The host
is kept but keys ignore it. A list of chunks becomes a data-only SSE stream ending with
``data: [DONE]``; one object is its JSON; a non-streaming list is a list page
``{"object": "list", "data": [...]}`` (``/v1/models``); a recorded exception with a status code is
that HTTP error, its body ``{"error": body}`` (or ``body`` itself when that is what the recorded
message shows), so the SDK raises the same class; one without a status code is a transport failure,
raised after any chunks. Ids and timestamps stay as stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from msgspec import UNSET

from httpx_cassette.core.echoes import carried, scrubbed_data
from httpx_cassette.core.places import redact_url
from httpx_cassette.core.redact import kept_request_headers
from httpx_cassette.core.request import STORED_REQUEST_HEADERS
from httpx_cassette.errors import CassetteFormatError, NotAnExchangeError
from httpx_cassette.model.cassette import Event, FileFormat, Request, Response, TransportFailure

__all__ = ["LLAMA_STACK", "MODEL_LISTS", "echoes_scrubbed", "is_model_list", "payload", "read", "web_host"]

LLAMA_STACK: FileFormat = "llama-stack"

MODEL_LISTS = ("/v1/models", "/api/tags")  # llama-stack hashes these without the test id
_SDK_OPTIONS = ("extra_headers", "extra_query", "extra_body", "timeout")  # SDK keyword arguments, not body


def read(raw: Any, source: str) -> tuple[Request, Response]:
    """The request and response of recording ``raw``; errors name ``source`` and the JSON path."""
    if not isinstance(raw, dict):
        raise CassetteFormatError(source, "a llama-stack recording must be a JSON object")
    data = _normalized_ids(raw, source)
    stored = data.get("request")
    if not isinstance(stored, dict):
        raise CassetteFormatError(source, "`$.request` of a llama-stack recording must be an object")
    if not isinstance(stored.get("url"), str) and not isinstance(stored.get("endpoint"), str):
        raise NotAnExchangeError(source, "it records a tool call (its `$.request` has no `url`), not HTTP")
    request = _wire_request(stored)
    response = _wire_response(data.get("response"), source)
    test_id = data.get("test_id")
    if isinstance(test_id, str):
        response.test_id = test_id
    return request, response


def is_model_list(path: str) -> bool:
    return path.rstrip("/").endswith("/models") or path in MODEL_LISTS


def web_host(url: SplitResult) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL; None for anything else (a blank or made-up URL)."""
    web = url.scheme in ("http", "https") and url.netloc
    return f"{url.scheme}://{url.netloc}" if web else None


def payload(item: Any) -> Any:
    """The ``__data__`` of a typed body item ``{"__type__", "__data__"}``; else the item itself."""
    return item["__data__"] if isinstance(item, dict) and "__data__" in item else item


MAX_EXPANSION = 4 * 1024 * 1024  # characters the mapping may add to a file: ids are short
# What a mapping may ask for (a real one lists a few ids): each replaced in one regex pass over each
# string, so the work grows with the file and the mapping, not with their product.
_MAX_ID_CHARS = 256  # one original id; also bounds the nesting of the regex built from them all
_MAX_ID_TOTAL = 4 * 1024 * 1024  # all the original ids together, in characters
_MAX_ID_PREFIXES = 256 * 1024  # distinct prefixes of the original ids: the size of the regex
_MAX_REPLACEMENTS = 1_000_000  # ids replaced in one file
_MAPPING = "`$.id_normalization_mapping`"


def _normalized_ids(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """What llama-stack replays: each original string of ``id_normalization_mapping`` replaced.

    Replaced inside the file's strings (keys and values), not in its JSON text, so no mapping can
    break the JSON (a quote, a brace); and a mapping that would grow the file by more than
    `MAX_EXPANSION` characters is refused instead of expanded to gigabytes. All ids are replaced in one
    pass, left to right, the longest id where several start at one place; a replacement is not replaced
    again. llama-stack replaces them one after the other, which differs only when an id contains,
    overlaps or becomes another id of the mapping: ids do not.
    """
    mapping = raw.get("id_normalization_mapping")
    if mapping is None or mapping == {}:
        return raw
    table = _table(mapping, source)
    pattern = _pattern(table, source)
    left = [MAX_EXPANSION, _MAX_REPLACEMENTS]  # characters it may add, ids it may replace

    def swap(match: re.Match[str]) -> str:
        original = match.group()
        normalized = table[original]
        left[0] -= len(normalized) - len(original)
        left[1] -= 1
        if left[0] < 0:
            problem = f"its id_normalization_mapping grows it past {MAX_EXPANSION:,} more characters"
            raise CassetteFormatError(source, problem)
        if left[1] < 0:
            raise CassetteFormatError(
                source, f"its id_normalization_mapping replaces over {_MAX_REPLACEMENTS:,} ids"
            )
        return normalized

    def replace(text: str) -> str:
        return pattern.sub(swap, text)

    return {k: v if k == "id_normalization_mapping" else _walk(v, replace) for k, v in raw.items()}


def _table(mapping: Any, source: str) -> dict[str, str]:
    """original id -> normalized id; for an original listed twice, the first (llama-stack replaces it
    first); refuses a mapping of the wrong shape or size."""
    if not isinstance(mapping, dict):
        raise CassetteFormatError(source, f"{_MAPPING} must be an object, got {type(mapping).__name__}")
    table: dict[str, str] = {}
    total = 0
    for normalized, value in mapping.items():
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            kind = "null" if value is None else type(value).__name__
            raise CassetteFormatError(
                source, f"{_MAPPING} maps {str(normalized)[:80]!r} to a {kind}, not an id"
            )
        original = str(value)
        if not original:
            raise CassetteFormatError(source, f"{_MAPPING} maps an id to an empty string")
        if len(original) > _MAX_ID_CHARS:
            raise CassetteFormatError(source, f"{_MAPPING} holds an id over {_MAX_ID_CHARS} characters")
        total += len(original)
        if total > _MAX_ID_TOTAL:
            raise CassetteFormatError(source, f"{_MAPPING} holds over {_MAX_ID_TOTAL:,} characters of ids")
        table.setdefault(original, str(normalized))
    return table


def _pattern(table: dict[str, str], source: str) -> re.Pattern[str]:
    """One regex matching every original id, the longest where several start at one place: a trie
    (``chatcmpl-ab(?:c)?``), so a position costs a few character tests however many ids there are."""
    root: dict[str, Any] = {}
    prefixes = 0
    for original in table:
        node = root
        for char in original:
            child = node.get(char)
            if child is None:
                prefixes += 1
                if prefixes > _MAX_ID_PREFIXES:
                    problem = f"{_MAPPING} holds over {_MAX_ID_PREFIXES:,} distinct id prefixes"
                    raise CassetteFormatError(source, problem)
                child = node[char] = {}
            node = child
        node[""] = {}  # an id ends here
    try:
        return re.compile(_trie_regex(root))
    except (RecursionError, OverflowError, re.error):  # ids nested in ids hundreds of levels deep
        raise CassetteFormatError(source, f"{_MAPPING} is too intricate to apply") from None


def _trie_regex(root: dict[str, Any]) -> str:
    """The regex of a trie, children before parents (no recursion: an id may be 256 characters)."""
    nodes = [root]
    for node in nodes:  # breadth first: grows while it is read
        nodes.extend(child for char, child in node.items() if char)
    done: dict[int, str] = {}
    for node in reversed(nodes):
        branches = [re.escape(char) + done.pop(id(child)) for char, child in node.items() if char]
        if not branches:
            done[id(node)] = ""
            continue
        either = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        if "" in node:  # an id ends here, and longer ones go on: greedy `?` tries the longer first
            either = f"(?:{either})?" if len(branches) == 1 else f"{either}?"
        done[id(node)] = either
    return done[id(root)]


def _walk(value: Any, replace: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, list):
        return [_walk(item, replace) for item in value]
    if isinstance(value, dict):
        return {replace(k) if isinstance(k, str) else k: _walk(v, replace) for k, v in value.items()}
    return value


# -- the request ---------------------------------------------------------------------------------


def _wire_request(stored: dict[str, Any]) -> Request:
    """The request the SDK sends for the keyword arguments llama-stack stored."""
    url = stored.get("url")
    parts = urlsplit(url if isinstance(url, str) else "")
    endpoint = stored.get("endpoint")
    path = endpoint if isinstance(endpoint, str) and endpoint.startswith("/") else parts.path or "/"
    host = web_host(parts) or "http://llama-stack.invalid"
    method = "GET" if is_model_list(path) else _text(stored.get("method"), "method", "POST").upper()
    query = parse_qsl(parts.query, keep_blank_values=True)
    headers = _lower(stored.get("headers"))
    body = stored.get("body")
    wire: Any = UNSET
    if isinstance(body, dict):
        headers.update(_lower(body.get("extra_headers")))
        extra_query = body.get("extra_query")
        if isinstance(extra_query, dict):
            query.extend((str(k), str(v)) for k, v in extra_query.items())
        if method != "GET":
            wire = _wire_body(body, path)
            headers.setdefault("content-type", "application/json")
    # As a live request is stored (secret parameters redacted), so that it has the same key.
    target = redact_url(host + path + (f"?{urlencode(query)}" if query else ""))
    return Request(
        method=method, url=target, headers=kept_request_headers(headers, STORED_REQUEST_HEADERS), body=wire
    )


@dataclass(frozen=True)
class _Sent:
    """A llama-stack request as `carried` reads a live one: its URL (``extra_query`` in it) and headers
    (``extra_headers`` among them)."""

    method: str
    url: str
    headers: dict[str, str]
    content: bytes = b""


def echoes_scrubbed(raw: Any) -> Any:
    """``raw`` (a llama-stack recording) with what its request carried (the credentials a request carries
    that its recording does not keep, `httpx_cassette.core.echoes.carried`) written as ``REDACTED``
    wherever its response sends it back (a 401 quoting the key, in its body or exception), as recording
    writes an echo (`scrubbed_data`); ``raw`` itself when there is none."""
    stored = raw.get("request") if isinstance(raw, dict) else None
    if not isinstance(stored, dict) or "response" not in raw:
        return raw
    headers, body, url = _lower(stored.get("headers")), stored.get("body"), stored.get("url")
    url = url if isinstance(url, str) else ""
    if isinstance(body, dict):
        headers.update(_lower(body.get("extra_headers")))
        extra_query = body.get("extra_query")
        if isinstance(extra_query, dict):
            query = urlencode([(str(k), str(v)) for k, v in extra_query.items()])
            url += ("&" if "?" in url else "?") + query
    secrets = carried(_Sent("POST", url, headers))
    return {**raw, "response": scrubbed_data(raw["response"], secrets)} if secrets else raw


def _text(value: Any, field: str, default: str) -> str:
    if value is None or value == "":
        return default
    if not isinstance(value, str):
        raise TypeError(f"`$.request.{field}` must be a string, got {type(value).__name__}")
    return value


def _wire_body(kwargs: dict[str, Any], path: str) -> dict[str, Any]:
    """The JSON body the SDK sends for its keyword arguments ``kwargs``."""
    wire = {k: v for k, v in kwargs.items() if k not in _SDK_OPTIONS}
    extra_body = kwargs.get("extra_body")
    if isinstance(extra_body, dict):
        wire.update(extra_body)
    if path.endswith("/embeddings"):
        wire.setdefault("encoding_format", "base64")  # the SDK asks for base64 unless told
    return wire


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}


# -- the response --------------------------------------------------------------------------------


def _wire_response(stored: Any, source: str) -> Response:
    """The HTTP response that makes the SDK return (or raise) what llama-stack stored."""
    if not isinstance(stored, dict):
        raise CassetteFormatError(source, "`$.response` of a llama-stack recording must be an object")
    body = stored.get("body")
    failure = _exception(stored) if stored.get("is_exception") else None
    if isinstance(failure, Response):
        return failure
    if stored.get("is_streaming"):
        if not isinstance(body, list):
            raise CassetteFormatError(source, "`$.response.body` of a streaming recording must be a list")
        events = [Event(type=_type(item), data=payload(item)) for item in body]
        return Response(status=200, is_streaming=True, body=events, done=failure is None, error=failure)
    if failure is not None:
        return Response(status=0, error=failure)
    if isinstance(body, list):
        return Response(status=200, body={"object": "list", "data": [payload(item) for item in body]})
    return Response(status=200) if body is None else Response(status=200, body=payload(body))


def _type(item: Any) -> str | None:
    kind = item.get("__type__") if isinstance(item, dict) else None
    return kind if isinstance(kind, str) else None


def _exception(stored: dict[str, Any]) -> Response | TransportFailure:
    """A recorded exception: an HTTP error when it has a status code, else a transport failure."""
    data = stored.get("exception_data")
    fallback = stored.get("exception_message")
    fallback = fallback if isinstance(fallback, str) else ""
    if not isinstance(data, dict):
        return TransportFailure(type="TransportError", message=fallback)
    message = data.get("message")
    message = message if isinstance(message, str) else fallback
    status = data.get("status_code")
    if isinstance(status, int) and not isinstance(status, bool) and 400 <= status <= 599:
        return _http_error(status, data.get("body"), message)
    kind = data.get("type")
    return TransportFailure(type=kind if isinstance(kind, str) else "TransportError", message=message)


def _http_error(status: int, body: Any, message: str) -> Response:
    # The SDK's exception keeps `error` of the JSON body (or all of it) and says the whole body in its
    # message: serve whichever form reproduces the recorded message, by default the usual {"error": ...}.
    if body is None or body == "":
        return Response(status=status)
    if isinstance(body, str):
        return Response(status=status, text=body)
    forms = [{"error": body}, body] if isinstance(body, dict) else [body]
    chosen = next((form for form in forms if message == f"Error code: {status} - {form}"), forms[0])
    return Response(status=status, body=chosen)
