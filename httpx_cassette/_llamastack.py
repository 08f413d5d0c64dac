"""llama-stack recording files <-> our cassette model, and converting directories between the two.

A llama-stack recording (``tests/integration/*/recordings/<sha256>.json``, written by llama-stack's test
recorder) is one JSON object::

    {"test_id": ..., "request": {"method", "url", "headers", "body", "endpoint", "model"},
     "response": {"body", "is_streaming", ["is_exception", "exception_data", "exception_message"]},
     "id_normalization_mapping": {...}}

where each object in ``response.body`` is ``{"__type__": <SDK class>, "__data__": <its model_dump>}``.

Reading (`from_llama_stack`) gives a `CassetteFile` whose request is what the OpenAI SDK sends on the
wire, so the ordinary key finds it: the path is ``endpoint`` (``url`` holds it doubled,
``/v1/v1/chat/completions``), a models list is a GET (stored as POST), ``extra_body`` is merged into
the body, ``extra_headers``/``extra_query`` go to the headers and the query, ``timeout`` is dropped,
and embeddings get the SDK's default ``encoding_format: "base64"``. The host is kept but keys ignore
it. A list of chunks becomes a data-only SSE stream ending with ``data: [DONE]``; one object is its
JSON; a non-streaming list is a list page ``{"object": "list", "data": [...]}`` (``/v1/models``); a
recorded exception with a status code is that HTTP error, its body ``{"error": body}`` (or ``body``
itself when that is what the recorded message shows), so the SDK raises the same class; one without
a status code is a transport failure, raised after any chunks. Ids and timestamps stay as stored.
The response keeps the file's ``test_id`` (cassette scopes select by it) and an `Origin` with what
replay does not need, so `to_llama_stack` writes the same JSON back.

Writing (`llama_stack_files`): llama-stack keeps one response per file, named by the sha256 of
``{"method", "endpoint": <url path>, "body", "test_id"}`` (`recording_name`). The responses our
file holds for one request, in order, go to ``<name>.json``, ``<name>.1.json``, ``<name>.2.json``...
(responses of different tests to different names): llama-stack reads the first (it replays one
response per request and test), httpx_cassette reads them all, in that order. Bodies are written as
they came over the wire (llama-stack validates them into the ``__type__`` class when it reads them).
Response headers and timings are not kept. A response llama-stack cannot hold so that it replays
unchanged (a binary or plain-text body, named SSE events, a cut-off stream, a request header that is
part of the key...) makes `llama_stack_files` return None: the store then writes that request in
our format, which it reads from the same directory.
"""

from __future__ import annotations

import array
import base64
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

import msgspec
from msgspec import UNSET

from ._errors import CassetteError, CassetteFormatError, NotAnExchangeError
from ._events import type_name
from ._format import CassetteFile, Event, FileFormat, Meta, Origin, Request, Response, TransportFailure
from ._key import KeyOptions, key_of
from ._redact import kept_request_headers
from ._request import STORED_REQUEST_HEADERS

__all__ = [
    "LLAMA_STACK",
    "convert_directory",
    "from_llama_stack",
    "held_format",
    "llama_stack_bytes",
    "llama_stack_files",
    "order_key",
    "recording_name",
    "to_llama_stack",
]

LLAMA_STACK: FileFormat = "llama-stack"

_MODEL_LISTS = ("/v1/models", "/api/tags")  # llama-stack hashes these without the test id
_SDK_OPTIONS = ("extra_headers", "extra_query", "extra_body", "timeout")  # SDK keyword arguments, not body
_DOUBLED = ("/chat/completions", "/completions", "/embeddings", "/models")  # llama-stack adds /v1 to these
_MODEL = "openai.types.model.Model"
_EMBEDDINGS = "openai.types.create_embedding_response.CreateEmbeddingResponse"
_TYPE_BY_OBJECT = {
    "chat.completion": "openai.types.chat.chat_completion.ChatCompletion",
    "text_completion": "openai.types.completion.Completion",
    "model": _MODEL,
    "response": "openai.types.responses.response.Response",
}
# The OpenAI SDK's exception class for each status (`OpenAI._make_status_error`).
_ERROR_CLASSES = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}
_LONG_DECIMAL = re.compile(r"-?\d+\.\d{4,}")
_REPEAT = re.compile(r"(.+?)(?:\.(\d+))?\.json")
_SAFE_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.json")  # a plain name: never a path elsewhere
_NOT_HELD = object()  # a body whose shape a template no longer fits

# -- reading -------------------------------------------------------------------------------------


def from_llama_stack(raw: Any, source: str) -> CassetteFile:
    """The cassette one llama-stack recording stands for; errors name ``source`` and the JSON path."""
    request, response = _read(raw, source)
    url = raw["request"].get("url")
    recorded_at = url if isinstance(url, str) else ""
    response.origin = Origin(format=LLAMA_STACK, file=Path(source).name, url=recorded_at)
    response.origin.rest = _rest(raw, request, response)
    return CassetteFile(request=request, responses=[response], meta=Meta(recorder=LLAMA_STACK))


def held_format(file: Path, cassette: CassetteFile) -> FileFormat:
    """``"llama-stack"`` for what `from_llama_stack` read from ``file`` itself, else ``"ours"``."""
    origin = cassette.responses[0].origin if len(cassette.responses) == 1 else None
    if origin is not None and origin.format == LLAMA_STACK and origin.file == file.name:
        return LLAMA_STACK
    return "ours"


def _read(raw: Any, source: str) -> tuple[Request, Response]:
    if not isinstance(raw, dict):
        raise CassetteFormatError(source, "a llama-stack recording must be a JSON object")
    data = _normalized_ids(raw)
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


def _normalized_ids(raw: dict[str, Any]) -> dict[str, Any]:
    """What llama-stack replays: each original string of ``id_normalization_mapping`` replaced."""
    mapping = raw.get("id_normalization_mapping")
    if not isinstance(mapping, dict) or not mapping:
        return raw
    text = json.dumps(raw)
    for normalized, original in mapping.items():
        text = text.replace(str(original), str(normalized))
    replaced: dict[str, Any] = json.loads(text)
    return replaced


def _is_model_list(path: str) -> bool:
    return path.rstrip("/").endswith("/models") or path in _MODEL_LISTS


def _wire_request(stored: dict[str, Any]) -> Request:
    """The request the SDK sends for the keyword arguments llama-stack stored."""
    url = stored.get("url")
    parts = urlsplit(url if isinstance(url, str) else "")
    endpoint = stored.get("endpoint")
    path = endpoint if isinstance(endpoint, str) and endpoint.startswith("/") else parts.path or "/"
    web = parts.scheme in ("http", "https") and parts.netloc
    host = f"{parts.scheme}://{parts.netloc}" if web else "http://llama-stack.invalid"
    method = "GET" if _is_model_list(path) else str(stored.get("method") or "POST").upper()
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
            wire = {k: v for k, v in body.items() if k not in _SDK_OPTIONS}
            extra_body = body.get("extra_body")
            if isinstance(extra_body, dict):
                wire.update(extra_body)
            if path.endswith("/embeddings"):
                wire.setdefault("encoding_format", "base64")  # the SDK asks for base64 unless told
            headers.setdefault("content-type", "application/json")
    target = host + path + (f"?{urlencode(query)}" if query else "")
    return Request(
        method=method, url=target, headers=kept_request_headers(headers, STORED_REQUEST_HEADERS), body=wire
    )


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}


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
        events = [Event(type=_type(item), data=_payload(item)) for item in body]
        return Response(status=200, is_streaming=True, body=events, done=failure is None, error=failure)
    if failure is not None:
        return Response(status=0, error=failure)
    if isinstance(body, list):
        return Response(status=200, body={"object": "list", "data": [_payload(item) for item in body]})
    return Response(status=200) if body is None else Response(status=200, body=_payload(body))


def _type(item: Any) -> str | None:
    kind = item.get("__type__") if isinstance(item, dict) else None
    return kind if isinstance(kind, str) else None


def _payload(item: Any) -> Any:
    return item["__data__"] if isinstance(item, dict) and "__data__" in item else item


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


def _rest(raw: dict[str, Any], request: Request, response: Response) -> Any:
    """What `to_llama_stack` needs beyond ``request`` and ``response`` to write ``raw`` back exactly."""
    derived = _derive(request, response)
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


def _payloads(body: Any) -> Any:
    return [_payload(item) for item in body] if isinstance(body, list) else _payload(body)


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
    payload = _payload(body)
    return {**skeleton, "__data__": payload} if isinstance(skeleton, dict) else payload


# -- writing -------------------------------------------------------------------------------------


def to_llama_stack(request: Request, response: Response) -> dict[str, Any] | None:
    """The llama-stack recording of ``response`` to ``request``, or None when one would not replay it
    unchanged (checked by reading the result back)."""
    origin = response.origin
    if origin is not None and origin.format == LLAMA_STACK and isinstance(origin.rest, dict):
        candidate = _from_template(origin.rest, request, response)
        if candidate is not None and _reads_back(candidate, request, response):
            return candidate
    derived = _derive(request, response)
    seen_as = _as_llama_stack_sees(request, response)[1]
    return derived if _reads_back(derived, request, seen_as) else None


def _from_template(rest: dict[str, Any], request: Request, response: Response) -> dict[str, Any] | None:
    template = rest.get("template")
    if not isinstance(template, dict) or not isinstance(template.get("response"), dict):
        return None
    if rest.get("body") == "verbatim":
        return template
    body = _fill(template["response"].get("body"), _derive(request, response)["response"]["body"])
    if body is _NOT_HELD:
        return None
    return {**template, "response": {**template["response"], "body": body}}


def _reads_back(recording: dict[str, Any], request: Request, response: Response) -> bool:
    try:
        got_request, got_response = _read(recording, "(recording being written)")
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


def _as_llama_stack_sees(request: Request, response: Response) -> tuple[Request, Response]:
    """Embeddings the SDK asked for as base64 by default are stored as the floats it decodes them to."""
    body, data = request.body, response.body
    if not (isinstance(body, dict) and body.get("encoding_format") == "base64"):
        return request, response
    if not (urlsplit(request.url).path.endswith("/embeddings") and isinstance(data, dict)):
        return request, response
    items = data.get("data")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return request, response
    if not any(isinstance(i.get("embedding"), str) for i in items):
        return request, response
    decoded = [
        {**i, "embedding": _floats(v)} if isinstance(v := i.get("embedding"), str) else i for i in items
    ]
    kwargs = {k: v for k, v in body.items() if k != "encoding_format"}
    return (
        msgspec.structs.replace(request, body=kwargs),
        msgspec.structs.replace(response, body={**data, "data": decoded}),
    )


def _floats(encoded: str) -> list[float]:
    return array.array("f", base64.b64decode(encoded)).tolist()  # little-endian float32, as the SDK reads it


def _derive(request: Request, response: Response) -> dict[str, Any]:
    """The recording llama-stack's recorder would write, from what we hold."""
    request, response = _as_llama_stack_sees(request, response)
    parts = urlsplit(request.url)
    path = parts.path or "/"
    origin = response.origin
    recorded = urlsplit(origin.url) if origin is not None and origin.url else None
    if recorded is not None and recorded.scheme in ("http", "https") and recorded.netloc:
        host = f"{recorded.scheme}://{recorded.netloc}"
    else:
        host = f"{parts.scheme}://{parts.netloc}"
    kwargs = request.body if isinstance(request.body, dict) else {}
    stored_request = {
        "method": "POST" if _is_model_list(path) else request.method,  # llama-stack writes POST for all
        "url": host + _recorded_path(path) + (f"?{parts.query}" if parts.query else ""),
        "headers": {},
        "body": kwargs,
        "endpoint": path,
        "model": kwargs.get("model", ""),
    }
    return {
        "test_id": response.test_id if isinstance(response.test_id, str) else None,
        "request": stored_request,
        "response": _stored_response(response, path),
        "id_normalization_mapping": {},
    }


def _recorded_path(path: str) -> str:
    """llama-stack's ``url`` path: its SDK base URL (``.../v1``) plus ``/v1/<resource>``, so doubled."""
    for suffix in _DOUBLED:
        base = path[: -len(suffix)]
        if path.endswith(suffix) and base.endswith("/v1"):
            return base + "/v1" + suffix
    return path


def _typed(data: Any, kind: str | None) -> Any:
    return {"__type__": kind, "__data__": data} if kind else data


def _stored_response(response: Response, path: str) -> dict[str, Any]:
    if response.status >= 400:
        return _status_exception(response)
    failure = response.error
    if response.status == 0:
        failure = failure or TransportFailure(type="TransportError")
        return {"body": None, "is_streaming": False, **_unknown_exception(failure)}
    if response.is_streaming:
        chunks = [_typed(e.data, e.type or type_name(e.data)) for e in response.events()]
        stored: dict[str, Any] = {"body": chunks, "is_streaming": True}
        return {**stored, **_unknown_exception(failure)} if failure is not None else stored
    body = response.body
    if body is UNSET:
        return {"body": None, "is_streaming": False}
    items = body.get("data") if isinstance(body, dict) and _is_model_list(path) else None
    if isinstance(items, list):
        models = [
            _typed(m, _MODEL if isinstance(m, dict) and m.get("object") == "model" else None) for m in items
        ]
        return {"body": models, "is_streaming": False}
    kind = body.get("object") if isinstance(body, dict) else None
    typed = _EMBEDDINGS if kind == "list" and path.endswith("/embeddings") else _TYPE_BY_OBJECT.get(str(kind))
    return {"body": _typed(body, typed), "is_streaming": False}


def _unknown_exception(failure: TransportFailure) -> dict[str, Any]:
    data = {"category": "unknown", "type": failure.type, "message": failure.message}
    return {"is_exception": True, "exception_data": data, "exception_message": failure.message}


def _status_exception(response: Response) -> dict[str, Any]:
    """An HTTP error as the OpenAI SDK raised it: its class, message and body, and the status code."""
    status = response.status
    value: Any = ""
    message = f"Error code: {status}"
    if response.body is not UNSET and not response.is_streaming:
        value = response.body
        message = f"Error code: {status} - {value}"
    elif isinstance(response.text, str) and response.text.strip():
        value = response.text.strip()
        try:
            value = json.loads(value)
            message = f"Error code: {status} - {value}"
        except ValueError:
            message = value
    kind = _ERROR_CLASSES.get(status, "InternalServerError" if status >= 500 else "APIStatusError")
    data = {
        "category": "provider_sdk",
        "provider": "openai",
        "type": kind,
        "message": message,
        "status_code": status,
        "body": value.get("error", value) if isinstance(value, dict) else value,
    }
    return {
        "body": None,
        "is_streaming": False,
        "is_exception": True,
        "exception_data": data,
        "exception_message": message,
    }


def _dumps(value: Any) -> str:
    return json.dumps(value)


def _hash_form(value: Any) -> Any:
    """The body as llama-stack hashes it: floats, and long decimals inside strings, to 5 places."""
    if isinstance(value, dict):
        return {k: _hash_form(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hash_form(v) for v in value]
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, str):
        return _LONG_DECIMAL.sub(lambda m: f"{float(m.group(0)):.5f}", value)
    return value


def recording_name(recording: dict[str, Any]) -> str:
    """The file name llama-stack's recorder gives ``recording``: ``<sha256>.json``, and for a models
    list ``models-<sha256>-<8 hex of its model ids>.json``."""
    stored = recording["request"]
    path = urlsplit(stored["url"]).path
    hashed: dict[str, Any] = {"method": stored["method"].upper(), "endpoint": path}
    hashed["body"] = _hash_form(stored["body"])
    if path not in _MODEL_LISTS:
        hashed["test_id"] = recording.get("test_id")
    digest = hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()
    if stored.get("endpoint") not in _MODEL_LISTS:
        return f"{digest}.json"
    body = recording["response"].get("body")
    items = body if isinstance(body, list) else []
    ids = sorted({str(_payload(m).get("id")) for m in items if isinstance(_payload(m), dict)})
    return f"models-{digest}-{hashlib.sha256('|'.join(ids).encode()).hexdigest()[:8]}.json"


def order_key(name: str) -> tuple[str, int]:
    """Sorts the files of one request: ``x.json`` (0), ``x.1.json`` (1), ``x.2.json``, ... ``x.10.json``."""
    match = _REPEAT.fullmatch(name)
    return (match.group(1), int(match.group(2) or 0)) if match else (name, 0)


def llama_stack_files(cassette: CassetteFile) -> list[tuple[str, dict[str, Any]]] | None:
    """(file name, recording) for each response of ``cassette``, in order; None if one cannot be held.

    A response read from a llama-stack file keeps that file's name; the later responses for the same
    request and test are ``<name>.1.json``, ``<name>.2.json``... so they sort after it.
    """
    recordings: list[tuple[Response, dict[str, Any]]] = []
    for response in cassette.responses:
        recording = to_llama_stack(cassette.request, response)
        if recording is None:
            return None
        recordings.append((response, recording))
    stems: dict[str, str] = {}
    counts: dict[str, int] = {}
    files: list[tuple[str, dict[str, Any]]] = []
    for response, recording in recordings:
        group = recording_name(recording)
        origin = response.origin
        held = origin is not None and origin.format == LLAMA_STACK and _SAFE_FILE.fullmatch(origin.file)
        read_from = origin.file if origin is not None and held else group
        stem = stems.setdefault(group, order_key(read_from)[0])
        number = counts[group] = counts.get(group, -1) + 1
        files.append((f"{stem}.json" if number == 0 else f"{stem}.{number}.json", recording))
    return files


def llama_stack_bytes(recording: dict[str, Any]) -> bytes:
    """A recording as llama-stack's recorder writes it: ``json.dump(indent=2)`` and a newline."""
    return (json.dumps(recording, indent=2) + "\n").encode("ascii")


# -- directories ---------------------------------------------------------------------------------


def convert_directory(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], to: Literal["ours", "llama-stack"]
) -> list[Path]:
    """Write every recording in ``src`` (either format, mixed) to ``dst`` in format ``to``.

    To ours: one file per distinct request, its responses in file-name order, each keeping what
    converting back needs. To llama-stack: one file per response (see the module docstring); a
    request llama-stack cannot hold stays in our format. Tool-call recordings are skipped. Returns
    the files written.
    """
    from ._store import DirectoryStore  # the store reads and writes llama-stack files through this module

    source, target = Path(src), Path(dst)
    if not source.is_dir():
        raise CassetteError(f"cannot convert {source}: it is not a directory of recordings")
    if target.exists() and target.resolve() == source.resolve():
        raise CassetteError(f"cannot convert {source} into itself: name another directory to write to")
    reader = DirectoryStore(source, KeyOptions())
    writer = DirectoryStore(target, KeyOptions(), write_format="ours" if to == "ours" else LLAMA_STACK)
    written: list[Path] = []
    for key in sorted({key for key, _, _ in reader.items()}):
        cassette = reader.get(key)
        if cassette is not None and cassette.responses:
            inline = [_inlined(reader, key, r) for r in cassette.responses]
            written.extend(writer.write(key, msgspec.structs.replace(cassette, responses=inline)))
    return written


def _inlined(store: Any, key: str, response: Response) -> Response:
    """``response`` with a body kept in a side file put back inline (side files are not copied)."""
    data: bytes | None = store.body_file_bytes(key, response)
    if data is None:
        return response
    return msgspec.structs.replace(response, base64=base64.b64encode(data).decode("ascii"), body_file=UNSET)
