"""The transport under other httpx-based SDKs: groq (OpenAI's wire format under ``/openai/v1``) and cohere
(its v2 chat API, whose stream parser insists on ``content-type: text/event-stream``). Each is recorded
from a real local server speaking its wire format and replayed with the server stopped."""

from __future__ import annotations

import importlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from httpx_cassette import CassetteTransport
from tests.roundtrip_helpers import API_KEY, dump, outcome, record_then_replay, record_then_replay_async
from tests.servers.openai_app import create_app, reply_pieces

MESSAGES = [{"role": "user", "content": "hello from another sdk"}]


def optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def needs(module: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(optional(module) is None, reason=f"{module} is not installed")


# ------------------------------------------------------------------------------------------------ groq

groq: Any = optional("groq")


def groq_app() -> Starlette:
    """Groq serves the OpenAI wire format under /openai/v1."""
    return Starlette(routes=[Mount("/openai", app=create_app())])


@needs("groq")
def test_groq_chat_stream_and_error(tmp_path: Path) -> None:
    def calls(transport: CassetteTransport, url: str) -> Any:
        c = groq.Groq(
            base_url=url, api_key=API_KEY, http_client=httpx.Client(transport=transport), max_retries=0
        )
        completion = c.chat.completions.create(model="llama-3.3-70b-versatile", messages=MESSAGES)
        chunks = list(
            c.chat.completions.create(model="llama-3.3-70b-versatile", messages=MESSAGES, stream=True)
        )
        error = outcome(lambda: c.chat.completions.create(model="error-429", messages=MESSAGES))
        return dump(completion), dump(chunks), error

    rt = record_then_replay(tmp_path, groq_app(), calls)
    completion, chunks, error = rt.live
    assert completion["choices"][0]["message"]["content"] == "Echo: hello from another sdk"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == (
        "Echo: hello from another sdk"
    )
    assert error["raised"] == "groq.RateLimitError"
    assert rt.replayed == rt.live
    assert {urlsplit(f["request"]["url"]).path for f in rt.files()} == {"/openai/v1/chat/completions"}


@needs("groq")
async def test_groq_async(tmp_path: Path) -> None:
    async def call(transport: CassetteTransport, url: str) -> Any:
        http = httpx.AsyncClient(transport=transport)
        c = groq.AsyncGroq(base_url=url, api_key=API_KEY, http_client=http, max_retries=0)
        stream = await c.chat.completions.create(model="llama-3.1-8b-instant", messages=MESSAGES, stream=True)
        return dump([chunk async for chunk in stream])

    rt = await record_then_replay_async(tmp_path, groq_app(), call)
    assert len(rt.live) == 7
    assert rt.replayed == rt.live


# ---------------------------------------------------------------------------------------------- cohere

cohere: Any = optional("cohere")


async def cohere_chat(request: Request) -> Response:
    """Cohere's v2 chat: one text reply; streamed as named events (message-start ... message-end)."""
    body = await request.json()
    if body["model"] == "error-400":
        return JSONResponse(
            {"id": "err-1", "message": "invalid request: model error-400 not found"}, status_code=400
        )
    text = body["messages"][-1]["content"]
    pieces = reply_pieces(text, None)
    usage = {
        "billed_units": {"input_tokens": len(text.split()), "output_tokens": len(pieces)},
        "tokens": {"input_tokens": len(text.split()) + 5, "output_tokens": len(pieces) + 1},
    }
    message_id = "c0ffee00-0000-4000-8000-000000000001"
    if not body.get("stream"):
        reply = {"role": "assistant", "content": [{"type": "text", "text": "".join(pieces)}]}
        return JSONResponse({"id": message_id, "message": reply, "finish_reason": "COMPLETE", "usage": usage})

    start = {
        "message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}
    }
    events: list[dict[str, Any]] = [
        {"type": "message-start", "id": message_id, "delta": start},
        {
            "type": "content-start",
            "index": 0,
            "delta": {"message": {"content": {"type": "text", "text": ""}}},
        },
        *(
            {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": p}}}}
            for p in pieces
        ),
        {"type": "content-end", "index": 0},
        {"type": "message-end", "delta": {"finish_reason": "COMPLETE", "usage": usage}},
    ]

    async def wire() -> AsyncIterator[bytes]:
        for event in events:
            yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()

    return StreamingResponse(wire(), media_type="text/event-stream")


def cohere_app() -> Starlette:
    return Starlette(routes=[Route("/v2/chat", cohere_chat, methods=["POST"])])


@needs("cohere")
def test_cohere_chat_stream_and_error(tmp_path: Path) -> None:
    def calls(transport: CassetteTransport, url: str) -> Any:
        c = cohere.ClientV2(api_key=API_KEY, base_url=url, httpx_client=httpx.Client(transport=transport))
        reply = c.chat(model="command-a-03-2025", messages=MESSAGES)
        events = list(c.chat_stream(model="command-a-03-2025", messages=MESSAGES))
        try:
            c.chat(model="error-400", messages=MESSAGES)
        except cohere.errors.BadRequestError as exc:
            error = (exc.status_code, exc.body, exc.headers.get("content-type"))
        return dump(reply), dump(events), error

    rt = record_then_replay(tmp_path, cohere_app(), calls)
    reply, events, error = rt.live
    assert reply["message"]["content"][0]["text"] == "Echo: hello from another sdk"
    assert [e["type"] for e in events][:2] == ["message-start", "content-start"]
    assert events[-1]["delta"]["finish_reason"] == "COMPLETE"
    assert error == (
        400,
        {"id": "err-1", "message": "invalid request: model error-400 not found"},
        "application/json",
    )
    assert rt.replayed == rt.live
    stream_file = next(f for f in rt.files() if f["request"]["body"].get("stream"))
    assert stream_file["responses"][0]["headers"]["content-type"].startswith("text/event-stream")


@needs("cohere")
async def test_cohere_async_stream(tmp_path: Path) -> None:
    async def call(transport: CassetteTransport, url: str) -> Any:
        c = cohere.AsyncClientV2(
            api_key=API_KEY, base_url=url, httpx_client=httpx.AsyncClient(transport=transport)
        )
        return dump([event async for event in c.chat_stream(model="command-r7b-12-2024", messages=MESSAGES)])

    rt = await record_then_replay_async(tmp_path, cohere_app(), call)
    assert [e["type"] for e in rt.live][-1] == "message-end"
    assert rt.replayed == rt.live
