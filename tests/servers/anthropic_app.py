"""A deterministic Anthropic Messages API server (a Starlette app) that speaks the real wire format.

Build it with :func:`create_app` and run it with :class:`tests.servers.runner.LiveServer`; point the SDK at
``server.url`` (the SDK adds ``/v1/messages`` itself). Every object validates against the ``anthropic``
SDK's models, and everything is derived from the request: the same request always gets byte-identical
bodies and the same ``request-id``.

``POST /v1/messages``
    Replies ``"Echo: <text of the last user message>"`` in one text block. With ``tools`` (unless
    ``tool_choice`` is ``{"type": "none"}``) a ``tool_use`` block follows, calling the first tool (or the
    one ``tool_choice`` names) with every ``input_schema`` property filled (strings get the user text,
    numbers 1, booleans true), and ``stop_reason`` is ``"tool_use"``. ``stream: true`` sends named events,
    as Anthropic does (the SDK ignores any event without an ``event:`` line): ``message_start``, then per
    block ``content_block_start``, a ``ping`` after the first one, ``content_block_delta`` per word
    (``text_delta``) or argument piece (``input_json_delta``), ``content_block_stop``; then
    ``message_delta`` (stop reason, output tokens) and ``message_stop``.

Errors on demand, chosen by the ``model``: ``error-<status>`` answers ``<status>`` with Anthropic's error
body ``{"type": "error", "error": {"type", "message"}, "request_id"}`` (400 ``invalid_request_error``, 401
``authentication_error``, 403 ``permission_error``, 404 ``not_found_error``, 413 ``request_too_large``,
429 ``rate_limit_error``, 500 ``api_error``, 529 ``overloaded_error``); ``flaky-<status>`` fails like that
for the first ``fail_times`` identical requests, then succeeds, and sends ``retry-after-ms:
<retry_after_ms>`` (default 10) so the SDK's retry waits milliseconds rather than its back-off.

Knobs, read from ``x-mock-<name>`` request headers (the Messages API has no free-form metadata):
``n_chunks`` (exact number of text pieces), ``delay_ms`` (sleep before each stream event after the first),
``error_after`` (after this many events send ``event: error`` with an ``overloaded_error`` and end),
``abort_after`` (after this many events drop the connection), ``fail_times``, ``retry_after_ms``.
``app.requests`` counts the requests served.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .openai_app import _digest, _dumps, reply_pieces  # one digest and JSON style for both servers

__all__ = ["ERRORS", "AnthropicApp", "StreamAborted", "create_app"]

JSON = dict[str, Any]

ERRORS: Final[dict[int, tuple[str, str]]] = {
    400: ("invalid_request_error", "Simulated invalid request for model {model}."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "model: {model}"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}
"""status -> (error type, message) of the simulated errors."""


class StreamAborted(Exception):
    """Raised inside a stream to drop the connection; LiveServer keeps it out of the logs."""

    live_server_quiet = True


class _Error(Exception):
    def __init__(
        self, status: int, kind: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.headers = status, kind, message, dict(headers or {})


def _event(data: JSON) -> bytes:
    """One named event; Anthropic names each event after its data's ``type``."""
    return f"event: {data['type']}\ndata: {_dumps(data)}\n\n".encode()


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(b.get("text", "")) for b in content if isinstance(b, Mapping) and b.get("type") == "text"
        )
    return ""


def _last_user_text(messages: Any) -> str:
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def _tool_input(schema: Any, user_text: str) -> JSON:
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    filled: JSON = {}
    for name, prop in (props or {}).items():
        kind = prop.get("type") if isinstance(prop, Mapping) else None
        filled[name] = {"integer": 1, "number": 1, "boolean": True}.get(str(kind), user_text)
    return filled


def _chosen_tool(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    tools = [t for t in body.get("tools") or [] if isinstance(t, Mapping) and "name" in t]
    choice = body.get("tool_choice")
    if not tools or (isinstance(choice, Mapping) and choice.get("type") == "none"):
        return None
    if isinstance(choice, Mapping) and choice.get("type") == "tool":
        return next((t for t in tools if t["name"] == choice.get("name")), tools[0])
    return tools[0]


class AnthropicApp(Starlette):
    """The Messages API app; ``requests`` counts requests, ``reset()`` clears the flaky counters."""

    def __init__(self) -> None:
        self.requests = 0
        self._flaky: dict[str, int] = {}
        self._lock = threading.Lock()
        super().__init__(routes=[Route("/v1/messages", self._messages, methods=["POST"])])

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self._flaky.clear()

    async def _messages(self, request: Request) -> Response:
        raw = await request.body()
        request_id = "req_" + _digest(request.method, request.url.path, raw)[:24]
        with self._lock:
            self.requests += 1
        try:
            try:
                body = json.loads(raw)
                knobs = {
                    k[len("x-mock-") :].replace("-", "_"): int(v)
                    for k, v in request.headers.items()
                    if k.startswith("x-mock-")
                }
            except ValueError as exc:
                raise _Error(400, "invalid_request_error", f"Could not parse the request: {exc}") from None
            self._simulate_errors(str(body.get("model", "")), raw, knobs)
            response = self._answer(body, raw, knobs)
        except _Error as error:
            payload = {
                "type": "error",
                "error": {"type": error.kind, "message": error.message},
                "request_id": request_id,
            }
            response = JSONResponse(payload, status_code=error.status, headers=error.headers)
        response.headers["request-id"] = request_id
        response.headers["anthropic-organization-id"] = "00000000-0000-4000-8000-000000000000"
        return response

    def _simulate_errors(self, model: str, raw: bytes, knobs: Mapping[str, int]) -> None:
        kind, _, status_text = model.partition("-")
        if kind not in ("error", "flaky") or not status_text.isdigit():
            return
        status = int(status_text)
        error_type, message = ERRORS.get(status, ("api_error", "Simulated HTTP {status}."))
        headers: dict[str, str] = {"retry-after": "1"} if status == 429 else {}
        if kind == "flaky":
            with self._lock:
                seen = self._flaky[raw.hex()] = self._flaky.get(raw.hex(), 0) + 1
            if seen > knobs.get("fail_times", 1):
                return
            headers["retry-after-ms"] = str(knobs.get("retry_after_ms", 10))
        raise _Error(status, error_type, message.format(model=model, status=status), headers)

    def _answer(self, body: Mapping[str, Any], raw: bytes, knobs: Mapping[str, int]) -> Response:
        model = body.get("model")
        if not isinstance(model, str) or not isinstance(body.get("max_tokens"), int):
            raise _Error(400, "invalid_request_error", "model and max_tokens: Field required")
        user_text = _last_user_text(body.get("messages"))
        text_block: JSON = {"type": "text", "text": ""}
        blocks = [(text_block, reply_pieces(user_text, knobs.get("n_chunks")))]
        tool = _chosen_tool(body)
        if tool is not None:
            arguments = _dumps(_tool_input(tool.get("input_schema"), user_text))
            tool_use = {"type": "tool_use", "id": "toolu_" + _digest("tool", raw)[:24], "name": tool["name"]}
            blocks.append(
                ({**tool_use, "input": {}}, [arguments[i : i + 12] for i in range(0, len(arguments), 12)])
            )
        input_tokens = sum(len(_text_of(m.get("content")).split()) for m in body.get("messages") or [])
        output_tokens = sum(len(pieces) for _, pieces in blocks)
        usage = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "service_tier": "standard",
        }
        message: JSON = {
            "id": "msg_" + _digest("message", raw)[:24],
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [_finished(block, pieces) for block, pieces in blocks],
            "stop_reason": "tool_use" if tool is not None else "end_turn",
            "stop_sequence": None,
            "usage": usage,
        }
        if not body.get("stream"):
            return JSONResponse(message)

        start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
        events = [_event({"type": "message_start", "message": start})]
        for index, (block, pieces) in enumerate(blocks):
            events.append(_event({"type": "content_block_start", "index": index, "content_block": block}))
            if index == 0:
                events.append(_event({"type": "ping"}))
            events += [
                _event({"type": "content_block_delta", "index": index, "delta": _delta(block, p)})
                for p in pieces
            ]
            events.append(_event({"type": "content_block_stop", "index": index}))
        delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
        events.append(
            _event({"type": "message_delta", "delta": delta, "usage": {"output_tokens": output_tokens}})
        )
        events.append(_event({"type": "message_stop"}))
        if "error_after" in knobs:
            error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
            events = [*events[: knobs["error_after"]], _event(error)]
        headers = {"cache-control": "no-cache"}
        return StreamingResponse(_paced(events, knobs), media_type="text/event-stream", headers=headers)


def _finished(block: JSON, pieces: list[str]) -> JSON:
    """A content block as the non-streaming answer has it: all its pieces joined."""
    if block["type"] == "text":
        return {**block, "text": "".join(pieces)}
    return {**block, "input": json.loads("".join(pieces))}


def _delta(block: JSON, piece: str) -> JSON:
    if block["type"] == "text":
        return {"type": "text_delta", "text": piece}
    return {"type": "input_json_delta", "partial_json": piece}


async def _paced(events: list[bytes], knobs: Mapping[str, int]) -> AsyncIterator[bytes]:
    for index, event in enumerate(events):
        if "abort_after" in knobs and index >= knobs["abort_after"]:
            raise StreamAborted(f"abort_after={knobs['abort_after']}")
        if index and knobs.get("delay_ms"):
            await asyncio.sleep(knobs["delay_ms"] / 1000)
        yield event


def create_app() -> AnthropicApp:
    """A fresh app with its own counters."""
    return AnthropicApp()
