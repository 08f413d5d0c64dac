"""A deterministic ollama server (a Starlette app) speaking ollama's real ``/api/chat`` wire format.

Run it with :class:`tests.servers.runner.LiveServer` and point ``ollama.Client(host=server.url)`` (or plain
httpx) at it. Bodies are written the way ollama (a Go program) writes them: compact JSON with ``<``,
``>`` and ``&`` escaped as ``\\u003c``..., one object per line, each line ending in ``\\n``.

``POST /api/chat``
    Replies ``"Echo: <text of the last user message>"``. With ``stream`` true (ollama's default) the
    reply is ``application/x-ndjson``: one ``{"model", "created_at", "message": {"role": "assistant",
    "content": <piece>}, "done": false}`` line per word, then a final line with empty content,
    ``"done": true``, ``done_reason`` and the token counts and durations. With ``tools`` the final
    message calls the first tool with every schema property filled with the user text and
    ``done_reason`` stays ``"stop"`` (as ollama does). ``stream: false`` answers all of it in one
    ``application/json; charset=utf-8`` object.
``POST /api/generate``
    The same for a ``prompt``, with ``response`` pieces instead of ``message``.

Knobs, from request headers: ``x-mock-delay-ms`` (sleep before each line after the first),
``x-mock-no-final-newline`` (leave the last line without its ``\\n``). ``app.requests`` counts requests.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .openai_app import _digest, reply_pieces

__all__ = ["OllamaApp", "create_app", "go_json"]

JSON = dict[str, Any]


def go_json(value: Any) -> bytes:
    """``value`` as Go's ``json.Marshal`` writes it: compact, UTF-8, HTML characters escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.encode("utf-8")


def _created_at(raw: bytes, index: int) -> str:
    # Go's RFC 3339 with nanoseconds, derived from the request so replies are byte-identical.
    nanos = int(_digest(raw)[:8], 16) % 1_000_000_000
    return f"2025-01-01T00:00:{index % 60:02d}.{nanos:09d}Z"


def _last_user_text(messages: Any) -> str:
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


def _tool_calls(tools: Any, text: str) -> list[JSON]:
    if not isinstance(tools, list) or not tools:
        return []
    function = tools[0].get("function", {})
    properties = (function.get("parameters") or {}).get("properties") or {}
    return [
        {
            "function": {
                "index": 0,
                "name": function.get("name", ""),
                "arguments": dict.fromkeys(properties, text),
            }
        }
    ]


def _final(model: str, raw: bytes, index: int, pieces: list[str]) -> JSON:
    return {
        "model": model,
        "created_at": _created_at(raw, index),
        "done_reason": "stop",
        "done": True,
        "total_duration": 1_000_000 + 1000 * len(pieces),
        "load_duration": 1000,
        "prompt_eval_count": len(raw) // 4,
        "prompt_eval_duration": 2000,
        "eval_count": len(pieces),
        "eval_duration": 3000,
    }


class OllamaApp(Starlette):
    """``/api/chat`` and ``/api/generate``; ``requests`` counts the requests served."""

    def __init__(self) -> None:
        self.requests = 0
        self._lock = threading.Lock()
        routes = [
            Route("/api/chat", self._chat, methods=["POST"]),
            Route("/api/generate", self._generate, methods=["POST"]),
        ]
        super().__init__(routes=routes)

    async def _read(self, request: Request) -> tuple[bytes, JSON]:
        raw = await request.body()
        with self._lock:
            self.requests += 1
        return raw, json.loads(raw)

    async def _chat(self, request: Request) -> Response:
        raw, body = await self._read(request)
        model, text = str(body.get("model", "")), _last_user_text(body.get("messages"))
        pieces = reply_pieces(text, None)
        lines = [
            {
                "model": model,
                "created_at": _created_at(raw, i),
                "message": {"role": "assistant", "content": piece},
                "done": False,
            }
            for i, piece in enumerate(pieces)
        ]
        final = _final(model, raw, len(pieces), pieces)
        message: JSON = {"role": "assistant", "content": ""}
        calls = _tool_calls(body.get("tools"), text)
        if calls:
            message["tool_calls"] = calls
        final = {"model": model, "created_at": final["created_at"], "message": message, **final}
        if body.get("stream", True) is False:
            final["message"] = {**message, "content": "".join(pieces)}
            return _whole(final)
        return _stream([*lines, final], request.headers)

    async def _generate(self, request: Request) -> Response:
        raw, body = await self._read(request)
        model = str(body.get("model", ""))
        pieces = reply_pieces(str(body.get("prompt", "")), None)
        lines: list[JSON] = [
            {"model": model, "created_at": _created_at(raw, i), "response": piece, "done": False}
            for i, piece in enumerate(pieces)
        ]
        final = _final(model, raw, len(pieces), pieces)
        final = {"model": model, "created_at": final["created_at"], "response": "", **final}
        if body.get("stream", True) is False:
            return _whole({**final, "response": "".join(pieces)})
        return _stream([*lines, final], request.headers)


def _whole(value: JSON) -> Response:
    return Response(go_json(value), media_type="application/json; charset=utf-8")


def _stream(objects: list[JSON], headers: Mapping[str, str]) -> StreamingResponse:
    lines = [go_json(obj) + b"\n" for obj in objects]
    if headers.get("x-mock-no-final-newline"):
        lines[-1] = lines[-1][:-1]
    delay = int(headers.get("x-mock-delay-ms", "0")) / 1000
    return StreamingResponse(_paced(lines, delay), media_type="application/x-ndjson")


async def _paced(lines: list[bytes], delay: float) -> AsyncIterator[bytes]:
    for index, line in enumerate(lines):
        if index and delay:
            await asyncio.sleep(delay)
        yield line


def create_app() -> OllamaApp:
    """A fresh app with its own counter."""
    return OllamaApp()
