"""A deterministic OpenAI-compatible test server (a Starlette app) that speaks the real wire format.

Build it with :func:`create_app` and run it with :class:`tests.servers.runner.LiveServer`. Every object it
returns validates against the ``openai`` SDK's pydantic models with no unknown fields, and everything is
derived from the request: the same request always yields byte-identical bodies and the same
``x-request-id``. Nothing depends on the clock (``created`` is fixed at :data:`CREATED`; uvicorn's ``date``
and ``server`` headers are switched off by the runner).

Endpoints
---------
``POST /v1/chat/completions``
    Replies ``"Echo: <text of the last user message>"``. ``stream: true`` sends ``data: <chunk>\\n\\n``
    events: a role chunk, one content chunk per word, a finish chunk, a usage chunk (``choices: []``) when
    ``stream_options.include_usage`` is true, then ``data: [DONE]``. With ``tools`` (and ``tool_choice``
    not ``"none"``) the reply is one call to the first function tool (or the one ``tool_choice`` names)
    whose JSON arguments fill every schema property (strings get the user text, numbers 1, booleans
    true); streamed, the arguments arrive in pieces and ``finish_reason`` is ``"tool_calls"``.
``POST /v1/embeddings``
    One vector per input (``dimensions``, default 8) whose values are exact float32 numbers, so
    ``encoding_format: "float"`` and ``"base64"`` (little-endian float32, what the SDK asks for and
    decodes by default) give identical lists.
``GET /v1/models``, ``GET /v1/models/{id}``
    A list page of :data:`MODELS`; an unknown id is a 404 ``model_not_found``.
``POST /v1/responses``
    A ``Response`` with one output message. ``stream: true`` sends ``event: <type>\\ndata: <json>\\n\\n``:
    ``response.created``, ``response.in_progress``, ``response.output_item.added``,
    ``response.content_part.added``, one ``response.output_text.delta`` per word,
    ``response.output_text.done``, ``response.content_part.done``, ``response.output_item.done``,
    ``response.completed``; ``sequence_number`` counts from 0; no ``[DONE]``.
``POST /v1/audio/speech``
    Deterministic bytes (``n_bytes`` long, default 256 per input character) with the audio content type
    of ``response_format`` (``audio/mpeg`` for the default mp3), streamed in 16 KiB chunks.
``POST /v1/audio/transcriptions`` (multipart)
    ``{"text": "Transcript of <filename>: <size> bytes, sha256 <12 hex>", "usage": {...}}``;
    ``response_format: "text"`` answers that text as ``text/plain``.
``POST /v1/files`` (multipart), ``GET /v1/files``, ``GET /v1/files/{id}``, ``GET /v1/files/{id}/content``
    Uploads live on the app (``file-<hash of name, purpose and contents>``); the list is a cursor page
    (``limit``, default 20; ``after=<id>``; ``order``, default ``desc``: newest upload first; ``has_more``).
    An unknown id is a 404.
``GET|POST /v1/echo/...``, ``GET|POST /v1/canned/<name>``
    The request echoed back as JSON, and responses a test puts in ``app.canned`` (see ``echo.py``).
``GET /_stats``
    :meth:`ServerStats.as_dict` as JSON (not counted as a request). Tests in the same process should
    read ``app.stats`` directly instead.

Every response (errors and unknown routes too, which get OpenAI's ``Invalid URL`` error) carries
``x-request-id: req_<hash of method, path and body>``, ``openai-version`` and ``openai-processing-ms``.

Errors on demand, chosen by the ``model`` (or the model id in ``GET /v1/models/{id}``)
-----------------------------------------------------------------------------------------
``error-<status>``
    Answers ``<status>`` with ``{"error": {"message", "type", "param", "code"}}`` before anything else
    (also for streaming requests). 400 ``invalid_request_error``, 401 ``invalid_api_key``, 403, 404
    ``model_not_found``, 409, 422, 429 ``rate_limit_exceeded`` (plus ``retry-after: 1``), 500, 502, 503
    ``server_error``; any other 4xx/5xx gets a generic error.
``flaky-<status>``
    The first ``fail_times`` (default 1) requests with a given method, path and body fail like
    ``error-<status>``, later ones succeed. The counter lives on the app (:meth:`OpenAIApp.reset` clears
    it). A flaky 429 sends ``retry-after-ms: <retry_after_ms>`` (default 10) so the SDK's retry waits
    10 ms, not the 1 s of ``retry-after``.

Knobs
-----
Each knob is read from the header ``x-mock-<name with dashes>`` (e.g. ``x-mock-n-chunks: 200``) or, if
that is absent, from the JSON body's ``metadata`` object (e.g. ``metadata={"n_chunks": "200"}``; values
are strings, as the API requires, but numbers work too). Embeddings take no ``metadata`` in the SDK, so
use headers there (``extra_headers=...``) or ``extra_body={"metadata": ...}``.

``n_chunks``
    The reply has exactly this many words, so a stream has exactly this many content chunks (or tool
    argument pieces): a longer reply has its tail merged into the last word, a shorter one is padded
    with `` tok<i>``. Non-streaming replies use the same text.
``delay_ms``
    Sleep this long before every stream event after the first (before the whole answer when not
    streaming).
``abort_after``
    Streams only: after this many events, drop the connection mid-body (the client sees an incomplete
    chunked body; the SDK raises ``APIConnectionError``).
``truncate_after``
    Streams only: after this many events, end the body cleanly, without the remaining events (no
    ``[DONE]`` / ``response.completed``).
``error_after``
    Chat and Responses streams only: after this many events, send an error event instead of the rest
    (chat: ``data: {"error": {...}}``; Responses: ``event: error`` with ``{"type": "error", ...}``).
``n_bytes``
    ``audio/speech`` only: the size of the audio body.
``tool_loop``
    Chat only: when ``1``, a request whose last message is a tool result is answered with text,
    ``"Echo: Tool said: <that result>"``, instead of another tool call, so an agent's tool loop ends.
``retry_after_ms``, ``fail_times``
    See ``flaky-<status>`` above.

Event counter
-------------
``app.stats`` (:class:`ServerStats`, thread-safe) records every stream in :class:`StreamStats`:
``planned`` (events the stream would send in full), ``sent`` (events handed to the server so far; counted
just *before* each is written, so ``sent`` never lags what the client can have seen) and ``finished`` /
``completed``. ``app.stats.last_stream`` is the most recently started stream, and
``app.stats.stream(request_id)`` finds the latest stream with that ``x-request-id``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import struct
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any, Final

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from .echo import Canned, canned_endpoint, echo

if TYPE_CHECKING:
    from starlette.datastructures import Headers
    from starlette.requests import Request

__all__ = [
    "CREATED",
    "MODELS",
    "ApiError",
    "Knobs",
    "OpenAIApp",
    "ServerStats",
    "StreamAborted",
    "StreamStats",
    "create_app",
]

CREATED: Final = 1_700_000_000
"""The fixed ``created`` / ``created_at`` of everything the server makes."""

SYSTEM_FINGERPRINT: Final = "fp_httpx_cassette"
DEFAULT_DIMENSIONS: Final = 8
MODELS: Final[tuple[tuple[str, str], ...]] = (
    ("gpt-4o", "system"),
    ("gpt-4o-mini", "system"),
    ("gpt-4.1-mini", "system"),
    ("text-embedding-3-small", "system"),
    ("text-embedding-3-large", "system"),
)

JSON = dict[str, Any]


# --------------------------------------------------------------------------------------------- stats


@dataclass(frozen=True)
class StreamStats:
    """A snapshot of one stream, as the server saw it."""

    request_id: str
    path: str
    planned: int
    sent: int
    finished: bool
    completed: bool


@dataclass
class _StreamRecord:
    request_id: str
    path: str
    planned: int
    sent: int = 0
    finished: bool = False
    completed: bool = False


class ServerStats:
    """Thread-safe request and stream counters, written by the server's thread and read by tests."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._requests: dict[str, int] = {}
        self._streams: list[_StreamRecord] = []

    # ---- written by the app
    def _count_request(self, method: str, path: str) -> None:
        with self._cond:
            key = f"{method} {path}"
            self._requests[key] = self._requests.get(key, 0) + 1
            self._cond.notify_all()

    def _begin_stream(self, request_id: str, path: str, planned: int) -> _StreamRecord:
        record = _StreamRecord(request_id, path, planned)
        with self._cond:
            self._streams.append(record)
            self._cond.notify_all()
        return record

    def _mark_sent(self, record: _StreamRecord) -> None:
        with self._cond:
            record.sent += 1
            self._cond.notify_all()

    def _finish(self, record: _StreamRecord, *, completed: bool) -> None:
        with self._cond:
            record.finished = True
            record.completed = completed
            self._cond.notify_all()

    # ---- read by tests
    @property
    def requests(self) -> int:
        """Requests served so far (``/_stats`` excluded)."""
        with self._cond:
            return sum(self._requests.values())

    def requests_to(self, path: str, method: str | None = None) -> int:
        """Requests served so far to ``path`` (e.g. ``"/v1/chat/completions"``), of any or one method."""
        with self._cond:
            return sum(n for key, n in self._requests.items() if _key_matches(key, path, method))

    @property
    def streams(self) -> list[StreamStats]:
        """Every stream started so far, oldest first."""
        with self._cond:
            return [_snapshot(r) for r in self._streams]

    @property
    def last_stream(self) -> StreamStats | None:
        """The most recently started stream (it may still be running), or None."""
        with self._cond:
            return _snapshot(self._streams[-1]) if self._streams else None

    @property
    def events_sent(self) -> int:
        """Events sent so far by the most recently started stream (0 before any stream)."""
        with self._cond:
            return self._streams[-1].sent if self._streams else 0

    def stream(self, request_id: str) -> StreamStats | None:
        """The latest stream whose response carried ``x-request-id: request_id``."""
        with self._cond:
            for record in reversed(self._streams):
                if record.request_id == request_id:
                    return _snapshot(record)
        return None

    def wait_for_stream_end(self, timeout: float = 5.0) -> StreamStats:
        """Block until the most recently started stream has finished; return its final snapshot."""
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._streams) and self._streams[-1].finished, timeout):
                raise TimeoutError(f"no stream finished within {timeout}s")
            return _snapshot(self._streams[-1])

    def reset(self) -> None:
        with self._cond:
            self._requests.clear()
            self._streams.clear()

    def as_dict(self) -> JSON:
        with self._cond:
            last = _snapshot(self._streams[-1]) if self._streams else None
            return {
                "requests": sum(self._requests.values()),
                "requests_by_route": dict(self._requests),
                "events_sent": last.sent if last else 0,
                "last_stream": asdict(last) if last else None,
                "streams": [asdict(_snapshot(r)) for r in self._streams],
            }


def _snapshot(record: _StreamRecord) -> StreamStats:
    return StreamStats(
        record.request_id, record.path, record.planned, record.sent, record.finished, record.completed
    )


def _key_matches(key: str, path: str, method: str | None) -> bool:
    key_method, _, key_path = key.partition(" ")
    return key_path == path and (method is None or key_method == method.upper())


# --------------------------------------------------------------------------------------------- errors


class StreamAborted(Exception):
    """Raised inside a stream to drop the connection (``abort_after``); LiveServer keeps it out of logs."""

    live_server_quiet = True


_ERROR_KINDS: Final[dict[int, tuple[str, str | None, str | None, str]]] = {
    # status: (type, param, code, message)
    400: ("invalid_request_error", None, "invalid_value", "Simulated bad request for model '{model}'."),
    401: (
        "invalid_request_error",
        None,
        "invalid_api_key",
        "Incorrect API key provided: sk-test...000. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
    ),
    403: ("invalid_request_error", None, "unsupported_country_region_territory", "Country not supported."),
    404: (
        "invalid_request_error",
        None,
        "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
    409: ("invalid_request_error", None, "conflict", "Simulated conflict for model '{model}'."),
    422: ("invalid_request_error", None, "unprocessable_entity", "Simulated unprocessable entity."),
    429: (
        "requests",
        None,
        "rate_limit_exceeded",
        "Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, Requested 1. "
        "Please try again in 1s.",
    ),
    500: (
        "server_error",
        None,
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    502: ("server_error", None, None, "Bad gateway."),
    503: ("server_error", None, None, "The engine is currently overloaded, please try again later."),
}


class ApiError(Exception):
    """An OpenAI-style error answer: ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = dict(headers or {})

    @classmethod
    def simulated(cls, status: int, model: str, *, retry_after_ms: int | None = None) -> ApiError:
        kind = _ERROR_KINDS.get(status)
        if kind is None:
            kind = (
                "server_error" if status >= 500 else "invalid_request_error",
                None,
                None,
                f"Simulated HTTP {status} for model '{{model}}'.",
            )
        type_, param, code, message = kind
        headers: dict[str, str] = {}
        if status == 429:
            headers = {
                "retry-after": "1",
                "x-ratelimit-limit-requests": "3",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "1s",
            }
            if retry_after_ms is not None:
                headers["retry-after-ms"] = str(retry_after_ms)
        return cls(status, message.format(model=model), type=type_, param=param, code=code, headers=headers)

    def response(self) -> JSONResponse:
        body = {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


# --------------------------------------------------------------------------------------------- knobs


@dataclass(frozen=True)
class Knobs:
    """Per-request test options; see the module docstring."""

    n_chunks: int | None = None
    delay_ms: float = 0.0
    abort_after: int | None = None
    truncate_after: int | None = None
    retry_after_ms: int = 10
    fail_times: int = 1
    error_after: int | None = None
    n_bytes: int | None = None
    tool_loop: int = 0

    @property
    def delay(self) -> float:
        return self.delay_ms / 1000.0


_INT_KNOBS: Final = (
    "n_chunks",
    "abort_after",
    "truncate_after",
    "retry_after_ms",
    "fail_times",
    "error_after",
    "n_bytes",
    "tool_loop",
)


def read_knobs(body: Mapping[str, Any], headers: Headers) -> Knobs:
    """Read :class:`Knobs` from ``x-mock-*`` headers, then the body's ``metadata``; bad values are a 400."""
    metadata = body.get("metadata")
    meta: Mapping[str, Any] = metadata if isinstance(metadata, Mapping) else {}
    values: dict[str, Any] = {}
    for name in (*_INT_KNOBS, "delay_ms"):
        raw = headers.get("x-mock-" + name.replace("_", "-"))
        if raw is None:
            raw = meta.get(name)
        if raw is None:
            continue
        try:
            number = float(raw) if name == "delay_ms" else int(raw)
        except (TypeError, ValueError):
            raise ApiError(400, f"Invalid value for knob {name!r}: {raw!r}.", param=name) from None
        if number < 0 or (name in ("n_chunks", "fail_times") and number < 1):
            raise ApiError(400, f"Knob {name!r} out of range: {raw!r}.", param=name)
        values[name] = number
    return Knobs(**values)


# --------------------------------------------------------------------------------------------- helpers


def _digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\x00")
    return h.hexdigest()


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _text_of(content: Any) -> str:
    """The text of a message ``content``: a string, or a list of text parts (chat or Responses)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, Mapping) and part.get("type") in ("text", "input_text", "output_text")
        )
    return ""


def _last_user_text(messages: Any) -> str:
    if isinstance(messages, str):
        return messages
    if isinstance(messages, list):
        for message in reversed(messages):
            if isinstance(message, Mapping) and message.get("role", "user") == "user":
                return _text_of(message.get("content"))
    return ""


def _last_role(messages: list[Any]) -> str | None:
    last = messages[-1]
    return str(last.get("role")) if isinstance(last, Mapping) else None


def _tool_result(messages: list[Any]) -> str:
    # reply_pieces echoes "user text": make the echo read "Echo: Tool said: <result>".
    return "Tool said: " + _text_of(messages[-1].get("content"))


def _all_text(messages: Any) -> str:
    if isinstance(messages, str):
        return messages
    if isinstance(messages, list):
        return " ".join(_text_of(m.get("content")) for m in messages if isinstance(m, Mapping))
    return ""


def _count_words(text: str) -> int:
    return len(text.split())


def reply_pieces(user_text: str, n_chunks: int | None, replies: Mapping[str, str] | None = None) -> list[str]:
    """The reply split in word pieces (each but the first with its leading whitespace), ``n_chunks`` long.

    The reply is ``replies[user_text]`` when given (canned answers for shipped example cassettes),
    else ``"Echo: <user_text>"``.
    """
    reply = (replies or {}).get(user_text, f"Echo: {user_text}")
    pieces = re.findall(r"\s*\S+", reply.rstrip())
    if n_chunks is None:
        return pieces
    if len(pieces) < n_chunks:
        pieces += [f" tok{i}" for i in range(len(pieces), n_chunks)]
    elif len(pieces) > n_chunks:
        pieces = [*pieces[: n_chunks - 1], "".join(pieces[n_chunks - 1 :])]
    return pieces


def _split_string(text: str, n_pieces: int | None, default_size: int = 8) -> list[str]:
    if not text:
        return [""]
    if n_pieces is None:
        return [text[i : i + default_size] for i in range(0, len(text), default_size)]
    n = min(n_pieces, len(text))
    bounds = [len(text) * i // n for i in range(n + 1)]
    return [text[bounds[i] : bounds[i + 1]] for i in range(n)]


def _arguments_for(parameters: Any, user_text: str) -> str:
    """Deterministic JSON arguments that fill every property of a JSON-schema ``parameters`` object."""
    props = parameters.get("properties") if isinstance(parameters, Mapping) else None
    if not isinstance(props, Mapping) or not props:
        return _dumps({"input": user_text})
    args: JSON = {}
    for name, schema in props.items():
        kind = schema.get("type") if isinstance(schema, Mapping) else None
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        enum = schema.get("enum") if isinstance(schema, Mapping) else None
        if isinstance(enum, list) and enum:
            args[name] = enum[0]
        elif kind == "integer":
            args[name] = 1
        elif kind == "number":
            args[name] = 1.5
        elif kind == "boolean":
            args[name] = True
        elif kind == "array":
            args[name] = []
        elif kind == "object":
            args[name] = {}
        else:
            args[name] = user_text
    return _dumps(args)


def _choose_tool(tools: Any, tool_choice: Any) -> Mapping[str, Any] | None:
    if not isinstance(tools, list) or tool_choice == "none":
        return None
    functions = [
        t["function"]
        for t in tools
        if isinstance(t, Mapping) and t.get("type") == "function" and isinstance(t.get("function"), Mapping)
    ]
    if isinstance(tool_choice, Mapping):
        wanted = (tool_choice.get("function") or {}).get("name")
        functions = [f for f in functions if f.get("name") == wanted] or functions
    return functions[0] if functions else None


def _sse(data: Any) -> bytes:
    return f"data: {data if isinstance(data, str) else _dumps(data)}\n\n".encode()


def _sse_event(event: JSON) -> bytes:
    return f"event: {event['type']}\ndata: {_dumps(event)}\n\n".encode()


@dataclass
class _Ctx:
    request: Request
    raw: bytes
    body: JSON
    request_id: str
    knobs: Knobs = field(default_factory=Knobs)


Endpoint = Callable[[_Ctx], Awaitable[Response]]


# --------------------------------------------------------------------------------------------- app


class OpenAIApp(Starlette):
    """The OpenAI-compatible app. ``stats`` counts requests and stream events; ``reset()`` clears state."""

    def __init__(self, replies: Mapping[str, str] | None = None) -> None:
        self.stats = ServerStats()
        self.replies = dict(replies or {})
        self._flaky: dict[str, int] = {}
        self._flaky_lock = threading.Lock()
        self._files: dict[str, tuple[JSON, bytes]] = {}  # upload order
        self.canned: dict[str, Canned] = {}  # served as they are at /v1/canned/<name> (see echo.py)
        super().__init__(
            routes=[
                Route("/v1/chat/completions", self._wrap(self._chat), methods=["POST"]),
                Route("/v1/embeddings", self._wrap(self._embeddings), methods=["POST"]),
                Route("/v1/models", self._wrap(self._models), methods=["GET"]),
                Route("/v1/models/{model_id:path}", self._wrap(self._model), methods=["GET"]),
                Route("/v1/responses", self._wrap(self._responses), methods=["POST"]),
                Route("/v1/audio/speech", self._wrap(self._speech), methods=["POST"]),
                Route("/v1/audio/transcriptions", self._wrap(self._transcription), methods=["POST"]),
                Route("/v1/files", self._wrap(self._file_upload), methods=["POST"]),
                Route("/v1/files", self._wrap(self._file_list), methods=["GET"]),
                Route("/v1/files/{file_id}", self._wrap(self._file), methods=["GET"]),
                Route("/v1/files/{file_id}/content", self._wrap(self._file_content), methods=["GET"]),
                Route("/_stats", self._stats, methods=["GET"]),
                Route("/v1/echo/{rest:path}", echo, methods=["GET", "POST"]),
                Route("/v1/canned/{name}", canned_endpoint(self.canned), methods=["GET", "POST"]),
            ],
            exception_handlers={404: self._invalid_url, 405: self._invalid_url},
        )

    def reset(self) -> None:
        """Forget stats, flaky counters and uploaded files."""
        self.stats.reset()
        with self._flaky_lock:
            self._flaky.clear()
            self._files.clear()

    # ---- plumbing
    def _wrap(self, endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            raw = await request.body()
            request_id = "req_" + _digest(request.method, request.url.path, raw)[:32]
            self.stats._count_request(request.method, request.url.path)
            try:
                if request.headers.get("content-type", "").startswith("multipart/form-data"):
                    body: Any = _form_fields(raw, request.headers["content-type"])
                else:
                    body = json.loads(raw) if raw else {}
                if not isinstance(body, dict):
                    raise ApiError(400, "The request body must be a JSON object.")
                ctx = _Ctx(request, raw, body, request_id)
                ctx.knobs = read_knobs(body, request.headers)
                model = request.path_params.get("model_id") or body.get("model")
                if isinstance(model, str):
                    self._simulate_errors(model, ctx)
                response = await endpoint(ctx)
            except json.JSONDecodeError:
                response = ApiError(400, "We could not parse the JSON body of your request.").response()
            except ApiError as error:
                response = error.response()
            _stamp(response, request_id)
            return response

        return handle

    def _simulate_errors(self, model: str, ctx: _Ctx) -> None:
        kind, _, status_text = model.partition("-")
        if kind not in ("error", "flaky") or not status_text.isdigit() or not 400 <= int(status_text) <= 599:
            return
        status = int(status_text)
        if kind == "error":
            raise ApiError.simulated(status, model)
        key = _digest(ctx.request.method, ctx.request.url.path, ctx.raw)
        with self._flaky_lock:
            seen = self._flaky.get(key, 0)
            self._flaky[key] = seen + 1
        if seen < ctx.knobs.fail_times:
            raise ApiError.simulated(status, model, retry_after_ms=ctx.knobs.retry_after_ms)

    async def _invalid_url(self, request: Request, exc: Exception) -> Response:
        raw = await request.body()
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        response = ApiError(
            status,
            f"Invalid URL ({request.method} {request.url.path})",
            code=None if status == 404 else "method",
        ).response()
        _stamp(response, "req_" + _digest(request.method, request.url.path, raw)[:32])
        return response

    async def _stats(self, request: Request) -> Response:
        response = JSONResponse(self.stats.as_dict(), headers={"cache-control": "no-store"})
        _stamp(response, "req_" + _digest(request.method, request.url.path, b"")[:32])
        return response

    def _stream(self, ctx: _Ctx, events: list[bytes], error: bytes | None = None) -> StreamingResponse:
        if error is not None and ctx.knobs.error_after is not None:
            events = [*events[: ctx.knobs.error_after], error]
        record = self.stats._begin_stream(ctx.request_id, ctx.request.url.path, len(events))
        return StreamingResponse(
            self._paced(events, record, ctx.knobs),
            media_type="text/event-stream",
            headers={"cache-control": "no-cache"},
        )

    async def _paced(self, events: list[bytes], record: _StreamRecord, knobs: Knobs) -> AsyncIterator[bytes]:
        completed = False
        try:
            for index, event in enumerate(events):
                if knobs.truncate_after is not None and index >= knobs.truncate_after:
                    return
                if knobs.abort_after is not None and index >= knobs.abort_after:
                    raise StreamAborted(f"abort_after={knobs.abort_after}")
                if index and knobs.delay:
                    await asyncio.sleep(knobs.delay)
                self.stats._mark_sent(record)
                yield event
            completed = True
        finally:
            self.stats._finish(record, completed=completed)

    # ---- chat completions
    async def _chat(self, ctx: _Ctx) -> Response:
        body = ctx.body
        model = _require_str(body, "model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise ApiError(
                400,
                "Missing required parameter: 'messages'.",
                param="messages",
                code="missing_required_parameter",
            )
        user_text = _last_user_text(messages)
        completion_id = "chatcmpl-" + _digest("chat", ctx.raw)[:29]
        tool = _choose_tool(body.get("tools"), body.get("tool_choice"))
        if ctx.knobs.tool_loop and _last_role(messages) == "tool":
            tool, user_text = None, _tool_result(messages)
        prompt_tokens = _count_words(_all_text(messages))
        base: JSON = {
            "id": completion_id,
            "created": CREATED,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
        }
        if tool is not None:
            arguments = _arguments_for(tool.get("parameters"), user_text)
            pieces = _split_string(arguments, ctx.knobs.n_chunks)
            call_id = "call_" + _digest("call", ctx.raw)[:24]
            name = str(tool.get("name", "function"))
            text: str | None = None
        else:
            pieces = reply_pieces(user_text, ctx.knobs.n_chunks, self.replies)
            text = "".join(pieces)
        usage = _chat_usage(prompt_tokens, len(pieces))

        if not body.get("stream"):
            if ctx.knobs.delay:
                await asyncio.sleep(ctx.knobs.delay)
            message: JSON = {"role": "assistant", "content": text, "refusal": None, "annotations": []}
            if tool is not None:
                message["tool_calls"] = [
                    {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
                ]
            choice = {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "stop" if tool is None else "tool_calls",
            }
            return JSONResponse({**base, "object": "chat.completion", "choices": [choice], "usage": usage})

        stream_options = body.get("stream_options")
        include_usage = isinstance(stream_options, Mapping) and bool(stream_options.get("include_usage"))
        chunk_base: JSON = {**base, "object": "chat.completion.chunk"}
        if include_usage:
            chunk_base["usage"] = None

        def chunk(delta: JSON, finish_reason: str | None = None) -> bytes:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return _sse({**chunk_base, "choices": [choice]})

        events: list[bytes] = []
        if tool is None:
            events.append(chunk({"role": "assistant", "content": "", "refusal": None}))
            events += [chunk({"content": piece}) for piece in pieces]
            events.append(chunk({}, "stop"))
        else:
            first_call = {
                "index": 0,
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            events.append(
                chunk({"role": "assistant", "content": None, "tool_calls": [first_call], "refusal": None})
            )
            events += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}) for p in pieces]
            events.append(chunk({}, "tool_calls"))
        if include_usage:
            events.append(_sse({**chunk_base, "choices": [], "usage": usage}))
        events.append(_sse("[DONE]"))
        error = {"message": "The server had an error while streaming.", "type": "server_error"}
        return self._stream(ctx, events, _sse({"error": {**error, "param": None, "code": "stream_error"}}))

    # ---- embeddings
    async def _embeddings(self, ctx: _Ctx) -> Response:
        body = ctx.body
        model = _require_str(body, "model")
        inputs = _embedding_inputs(body.get("input"))
        dimensions = body.get("dimensions", DEFAULT_DIMENSIONS)
        if not isinstance(dimensions, int) or isinstance(dimensions, bool) or not 1 <= dimensions <= 4096:
            raise ApiError(
                400, f"Invalid 'dimensions': {dimensions!r}.", param="dimensions", code="invalid_value"
            )
        encoding = body.get("encoding_format", "float")
        if encoding not in ("float", "base64"):
            raise ApiError(400, f"Invalid 'encoding_format': {encoding!r}.", param="encoding_format")
        if ctx.knobs.delay:
            await asyncio.sleep(ctx.knobs.delay)
        data = []
        for index, text in enumerate(inputs):
            vector = embedding_vector(model, text, dimensions)
            value: Any = (
                base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
                if encoding == "base64"
                else vector
            )
            data.append({"object": "embedding", "index": index, "embedding": value})
        tokens = sum(max(1, _count_words(text)) for text in inputs)
        return JSONResponse(
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    # ---- models
    async def _models(self, ctx: _Ctx) -> Response:
        return JSONResponse({"object": "list", "data": [_model_object(i, o) for i, o in MODELS]})

    async def _model(self, ctx: _Ctx) -> Response:
        model_id = str(ctx.request.path_params["model_id"])
        for known, owner in MODELS:
            if known == model_id:
                return JSONResponse(_model_object(known, owner))
        if model_id.startswith("flaky-"):  # reached only once the flaky failures are spent
            return JSONResponse(_model_object(model_id, "system"))
        raise ApiError.simulated(404, model_id)

    # ---- responses
    async def _responses(self, ctx: _Ctx) -> Response:
        body = ctx.body
        _require_str(body, "model")
        if "input" not in body:
            raise ApiError(
                400, "Missing required parameter: 'input'.", param="input", code="missing_required_parameter"
            )
        user_text = _last_user_text(body["input"])
        pieces = reply_pieces(user_text, ctx.knobs.n_chunks, self.replies)
        text = "".join(pieces)
        response_id = "resp_" + _digest("response", ctx.raw)[:48]
        message_id = "msg_" + _digest("message", ctx.raw)[:48]
        input_tokens = _count_words(_all_text(body["input"])) + _count_words(
            _text_of(body.get("instructions"))
        )
        usage = {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": len(pieces),
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + len(pieces),
        }
        part_done: JSON = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
        message_done: JSON = {
            "id": message_id,
            "type": "message",
            "status": "completed",
            "content": [part_done],
            "role": "assistant",
        }
        completed = _response_object(body, response_id, "completed", [message_done], usage)

        if not body.get("stream"):
            if ctx.knobs.delay:
                await asyncio.sleep(ctx.knobs.delay)
            return JSONResponse(completed)

        in_progress = _response_object(body, response_id, "in_progress", [], None)
        where: JSON = {"item_id": message_id, "output_index": 0, "content_index": 0}
        raw_events: list[JSON] = [
            {"type": "response.created", "response": in_progress},
            {"type": "response.in_progress", "response": in_progress},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**message_done, "status": "in_progress", "content": []},
            },
            {"type": "response.content_part.added", **where, "part": {**part_done, "text": ""}},
            *({"type": "response.output_text.delta", **where, "delta": p, "logprobs": []} for p in pieces),
            {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
            {"type": "response.content_part.done", **where, "part": part_done},
            {"type": "response.output_item.done", "output_index": 0, "item": message_done},
            {"type": "response.completed", "response": completed},
        ]
        events = [_sse_event({**event, "sequence_number": n}) for n, event in enumerate(raw_events)]
        error: JSON = {
            "type": "error",
            "code": "server_error",
            "message": "The server had an error while streaming.",
            "param": None,
            "sequence_number": ctx.knobs.error_after or 0,
        }
        return self._stream(ctx, events, _sse_event(error))

    # ---- audio
    async def _speech(self, ctx: _Ctx) -> Response:
        body = ctx.body
        model = _require_str(body, "model")
        text = _require_str(body, "input")
        voice = str(body.get("voice", ""))
        fmt = str(body.get("response_format", "mp3"))
        size = ctx.knobs.n_bytes if ctx.knobs.n_bytes is not None else 256 * len(text)
        audio = hashlib.shake_256(_digest(model, voice, fmt, text).encode()).digest(size)

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(audio), 16 * 1024):
                yield audio[start : start + 16 * 1024]

        return StreamingResponse(chunks(), media_type=_AUDIO_TYPES.get(fmt, "application/octet-stream"))

    async def _transcription(self, ctx: _Ctx) -> Response:
        _require_str(ctx.body, "model")
        upload = _require_upload(ctx.body)
        digest = hashlib.sha256(upload.data).hexdigest()[:12]
        text = f"Transcript of {upload.filename}: {len(upload.data)} bytes, sha256 {digest}"
        if ctx.body.get("response_format") == "text":
            return PlainTextResponse(text + "\n")
        usage = {"type": "duration", "seconds": len(upload.data) // 1000 + 1}
        return JSONResponse({"text": text, "usage": usage})

    # ---- files
    async def _file_upload(self, ctx: _Ctx) -> Response:
        purpose = _require_str(ctx.body, "purpose")
        upload = _require_upload(ctx.body)
        file_id = "file-" + _digest("file", upload.filename, purpose, upload.data)[:24]
        obj: JSON = {
            "id": file_id,
            "object": "file",
            "bytes": len(upload.data),
            "created_at": CREATED,
            "filename": upload.filename,
            "purpose": purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }
        with self._flaky_lock:
            self._files.setdefault(file_id, (obj, upload.data))
        return JSONResponse(obj)

    async def _file_list(self, ctx: _Ctx) -> Response:
        query = ctx.request.query_params
        with self._flaky_lock:
            objects = [obj for obj, _ in self._files.values()]
        if query.get("purpose"):
            objects = [obj for obj in objects if obj["purpose"] == query["purpose"]]
        if query.get("order", "desc") == "desc":
            objects.reverse()
        after = query.get("after")
        if after:
            ids = [obj["id"] for obj in objects]
            objects = objects[ids.index(after) + 1 :] if after in ids else []
        limit = int(query.get("limit", "20"))
        page = objects[:limit]
        return JSONResponse(
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": len(objects) > limit,
            }
        )

    def _stored_file(self, ctx: _Ctx) -> tuple[JSON, bytes]:
        file_id = str(ctx.request.path_params["file_id"])
        with self._flaky_lock:
            found = self._files.get(file_id)
        if found is None:
            raise ApiError(404, f"No such File object: {file_id}", param="id")
        return found

    async def _file(self, ctx: _Ctx) -> Response:
        return JSONResponse(self._stored_file(ctx)[0])

    async def _file_content(self, ctx: _Ctx) -> Response:
        return Response(self._stored_file(ctx)[1], media_type="application/octet-stream")


def create_app(replies: Mapping[str, str] | None = None) -> OpenAIApp:
    """A fresh app, with its own stats and flaky counters (and canned ``replies`` by user text)."""
    return OpenAIApp(replies)


# --------------------------------------------------------------------------------------------- objects


def _stamp(response: Response, request_id: str) -> None:
    response.headers["x-request-id"] = request_id
    response.headers["openai-version"] = "2020-10-01"
    response.headers["openai-processing-ms"] = "1"


_AUDIO_TYPES: Final = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str | None
    data: bytes


def _form_fields(raw: bytes, content_type: str) -> JSON:
    """A multipart/form-data body as ``{name: str or Upload}`` (a repeated name keeps the last part)."""
    head = b"Content-Type: " + content_type.encode() + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    if not message.is_multipart():
        raise ApiError(400, "The multipart body could not be parsed.")
    fields: JSON = {}
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        name = str(part.get_param("name", header="content-disposition") or "")
        filename = part.get_filename()
        if filename is None:
            fields[name] = data.decode("utf-8", "replace")
        else:
            fields[name] = Upload(filename, part.get_content_type() if "content-type" in part else None, data)
    return fields


def _require_upload(body: Mapping[str, Any]) -> Upload:
    upload = body.get("file")
    if not isinstance(upload, Upload):
        raise ApiError(
            400, "Missing required parameter: 'file'.", param="file", code="missing_required_parameter"
        )
    return upload


def _require_str(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(
            400, f"Missing required parameter: '{name}'.", param=name, code="missing_required_parameter"
        )
    return value


def _chat_usage(prompt_tokens: int, completion_tokens: int) -> JSON:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _embedding_inputs(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        if all(isinstance(v, str) for v in value):
            return list(value)
        if all(isinstance(v, int) for v in value):
            return [" ".join(map(str, value))]
        if all(isinstance(v, list) and all(isinstance(t, int) for t in v) for v in value):
            return [" ".join(map(str, v)) for v in value]
    raise ApiError(400, "'input' must be a string, a list of strings or of token lists.", param="input")


def embedding_vector(model: str, text: str, dimensions: int) -> list[float]:
    """Values k/256 in (-1, 1): exact in float32, so float and base64 encodings agree to the bit."""
    stream = b""
    counter = 0
    while len(stream) < dimensions:
        stream += hashlib.sha256(f"{model}\x00{text}\x00{counter}".encode()).digest()
        counter += 1
    return [(2 * b - 255) / 256 for b in stream[:dimensions]]


def _model_object(model_id: str, owner: str) -> JSON:
    return {"id": model_id, "object": "model", "created": CREATED, "owned_by": owner}


def _response_object(
    body: Mapping[str, Any], response_id: str, status: str, output: list[JSON], usage: JSON | None
) -> JSON:
    metadata = body.get("metadata")
    return {
        "id": response_id,
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "background": False,
        "completed_at": CREATED + 1 if status == "completed" else None,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": body["model"],
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": "default",
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text", {"format": {"type": "text"}, "verbosity": "medium"}),
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": usage,
        "user": body.get("user"),
        "metadata": metadata if isinstance(metadata, Mapping) else {},
    }
