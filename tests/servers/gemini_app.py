"""A deterministic Gemini API server (a Starlette app) speaking the Generative Language API's wire format.

Run it with :class:`tests.servers.runner.LiveServer` and point ``genai.Client`` at it with
``http_options={"base_url": server.url}`` and any non-empty api key. Bodies are the shapes the
``google-genai`` SDK parses (camelCase keys, as the real API sends them), derived from the request only,
so the same request always gets byte-identical bodies.

``POST /v1/models/{model}:generateContent`` (and the same under ``/v1beta``)
    One ``GenerateContentResponse``: a single candidate whose ``content`` is ``{"parts": [{"text":
    "Echo: <text of the last user content>"}], "role": "model"}``, ``finishReason: "STOP"``,
    ``usageMetadata`` (token counts are word counts) and ``modelVersion`` / ``responseId``. Written
    indented with two spaces, as the real API writes it.
``POST /v1/models/{model}:streamGenerateContent?alt=sse`` (and under ``/v1beta``)
    ``text/event-stream``: one ``data: <compact JSON>\\r\\n\\r\\n`` event per word of the reply, each a whole
    ``GenerateContentResponse`` holding that piece; the last one carries ``finishReason: "STOP"``.
    Without ``alt=sse`` the API would answer a JSON array; the SDK always asks for SSE, so this one
    refuses it with a 400.

A request without an ``x-goog-api-key`` header (or ``key`` query parameter) gets the API's 403
``PERMISSION_DENIED`` error, an unknown method its 404 ``NOT_FOUND``; errors are
``{"error": {"code", "message", "status"}}``. ``app.requests`` counts the requests served.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .openai_app import _digest, reply_pieces

__all__ = ["GeminiApp", "create_app"]

JSON = dict[str, Any]
VERSIONS = ("v1", "v1beta")
"""The API versions served: google-genai 3.x sends ``v1`` by default, ``v1beta`` when asked (and 1.x)."""


def _last_user_text(contents: Any) -> str:
    if isinstance(contents, str):
        return contents
    for content in reversed(contents if isinstance(contents, list) else []):
        if isinstance(content, Mapping) and content.get("role", "user") == "user":
            parts = content.get("parts") or []
            return "".join(str(p.get("text", "")) for p in parts if isinstance(p, Mapping))
    return ""


def _usage(prompt: str, pieces: list[str]) -> JSON:
    prompt_tokens, reply_tokens = len(prompt.split()), len(pieces)
    return {
        "promptTokenCount": prompt_tokens,
        "candidatesTokenCount": reply_tokens,
        "totalTokenCount": prompt_tokens + reply_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_tokens}],
    }


def _response(model: str, raw: bytes, text: str, *, done: bool, usage: JSON) -> JSON:
    candidate: JSON = {"content": {"parts": [{"text": text}], "role": "model"}}
    if done:
        candidate["finishReason"] = "STOP"
    candidate["index"] = 0
    return {
        "candidates": [candidate],
        "usageMetadata": usage,
        "modelVersion": model,
        "responseId": _digest(raw)[:22],
    }


_UNREGISTERED = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)


def _error(code: int, status: str, message: str) -> Response:
    body = json.dumps({"error": {"code": code, "message": message, "status": status}}, indent=2)
    return Response(body + "\n", status_code=code, media_type="application/json; charset=UTF-8")


class GeminiApp(Starlette):
    """``generateContent`` and ``streamGenerateContent``; ``requests`` counts the requests served."""

    def __init__(self) -> None:
        self.requests = 0
        self._lock = threading.Lock()
        routes = [Route(f"/{version}/models/{{call}}", self._call, methods=["POST"]) for version in VERSIONS]
        super().__init__(routes=routes)

    async def _call(self, request: Request) -> Response:
        raw = await request.body()
        with self._lock:
            self.requests += 1
        if not (request.headers.get("x-goog-api-key") or request.query_params.get("key")):
            return _error(403, "PERMISSION_DENIED", _UNREGISTERED)
        model, _, method = request.path_params["call"].partition(":")
        text = _last_user_text(json.loads(raw or b"{}").get("contents"))
        pieces = reply_pieces(text, None)
        usage = _usage(text, pieces)
        if method == "generateContent":
            body = _response(model, raw, "".join(pieces), done=True, usage=usage)
            return Response(json.dumps(body, indent=2) + "\n", media_type="application/json; charset=UTF-8")
        if method == "streamGenerateContent" and request.query_params.get("alt") == "sse":
            events = [
                _response(model, raw, piece, done=i == len(pieces) - 1, usage=usage)
                for i, piece in enumerate(pieces)
            ]
            return StreamingResponse(_sse(events), media_type="text/event-stream")
        if method == "streamGenerateContent":
            return _error(400, "INVALID_ARGUMENT", "This server only streams with alt=sse.")
        return _error(404, "NOT_FOUND", f"Method {method!r} is not found for model {model!r}.")


async def _sse(events: list[JSON]) -> AsyncIterator[bytes]:
    for event in events:
        yield b"data: " + json.dumps(event, separators=(",", ":")).encode() + b"\r\n\r\n"


def create_app() -> GeminiApp:
    """A fresh app with its own counter."""
    return GeminiApp()
