"""Compressed upstream bodies (gzip, deflate, br, zstd; streams flushed per event) are stored decoded and
readable, and replay serves them plain without claiming an encoding. Non-UTF-8 text survives byte for
byte, non-ASCII JSON keeps every character. All recorded from real local servers, replayed stopped."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from types import ModuleType
from typing import Any

import brotli
import openai
import pytest
import zstandard
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from httpx_cassette import CassetteTransport
from tests.roundtrip_helpers import API_KEY, dump, record_then_replay, record_then_replay_async
from tests.servers.openai_app import create_app

CODINGS = ["gzip", "deflate", "br", "zstd", "gzip, br"]


class _Zlib:
    def __init__(self, wbits: int) -> None:
        self._z = zlib.compressobj(wbits=wbits)

    def chunk(self, data: bytes) -> bytes:
        return self._z.compress(data) + self._z.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._z.flush(zlib.Z_FINISH)


class _Brotli:
    def __init__(self) -> None:
        self._b = brotli.Compressor()

    def chunk(self, data: bytes) -> bytes:
        return bytes(self._b.process(data) + self._b.flush())

    def finish(self) -> bytes:
        return bytes(self._b.finish())


class _Zstd:
    def __init__(self) -> None:
        self._z = zstandard.ZstdCompressor().compressobj()

    def chunk(self, data: bytes) -> bytes:
        return self._z.compress(data) + self._z.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)

    def finish(self) -> bytes:
        return self._z.flush()


COMPRESSORS: dict[str, Any] = {
    "gzip": lambda: _Zlib(31),
    "deflate": lambda: _Zlib(15),  # HTTP's "deflate" is the zlib format
    "br": _Brotli,
    "zstd": _Zstd,
}


class Compress:
    """ASGI middleware: compresses each answer with the coding the ``x-test-encoding`` request header names,
    flushing after every body chunk so a compressed stream still arrives event by event."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        coding = dict(scope.get("headers", [])).get(b"x-test-encoding", b"").decode()
        if not coding:
            await self.app(scope, receive, send)
            return
        compressors = [COMPRESSORS[name.strip()]() for name in coding.split(",")]  # applied in order

        async def compressed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message["headers"] if k.lower() != b"content-length"]
                message = {**message, "headers": [*headers, (b"content-encoding", coding.encode())]}
            elif message["type"] == "http.response.body":
                body = message.get("body", b"")
                last = not message.get("more_body", False)
                for compressor in compressors:
                    body = compressor.chunk(body) + (compressor.finish() if last else b"")
                message = {**message, "body": body}
            await send(message)

        await self.app(scope, receive, compressed)


def openai_client(lib: ModuleType, transport: CassetteTransport, url: str, coding: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=url + "/v1",
        api_key=API_KEY,
        http_client=lib.Client(transport=transport),
        max_retries=0,
        default_headers={"x-test-encoding": coding},
    )


@pytest.mark.parametrize("coding", CODINGS)
def test_compressed_json_and_streams_are_stored_decoded(
    tmp_path: Path, httpx_lib: ModuleType, coding: str
) -> None:
    messages = [{"role": "user", "content": "squeeze this"}]

    def call(transport: CassetteTransport, url: str) -> Any:
        c = openai_client(httpx_lib, transport, url, coding)
        raw = c.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages)
        stream = c.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=messages, stream=True, metadata={"n_chunks": "8"}
        )
        encodings = [raw.headers.get("content-encoding"), stream.headers.get("content-encoding")]
        return dump(raw.parse()), dump(list(stream.parse())), encodings

    rt = record_then_replay(tmp_path, Compress(create_app()), call)
    completion, chunks, encodings = rt.live
    assert encodings == [coding, coding], "the server really compressed both answers"
    assert completion["choices"][0]["message"]["content"] == "Echo: squeeze this"
    assert len(chunks) == 10
    replayed_completion, replayed_chunks, replayed_encodings = rt.replayed
    assert (replayed_completion, replayed_chunks) == (completion, chunks)
    assert replayed_encodings == [None, None], "replay serves plain bodies and says so"
    by_stream = {f["request"]["body"].get("stream", False): f["responses"][0] for f in rt.files()}
    assert by_stream[False]["body"]["choices"][0]["message"]["content"] == "Echo: squeeze this"
    assert by_stream[True]["body"][1]["__data__"]["choices"][0]["delta"]["content"] == "Echo:"
    assert all("content-encoding" not in r["headers"] for r in by_stream.values())


async def test_compressed_stream_async(tmp_path: Path, httpx_lib: ModuleType) -> None:
    async def call(transport: CassetteTransport, url: str) -> Any:
        c = openai.AsyncOpenAI(
            base_url=url + "/v1",
            api_key=API_KEY,
            http_client=httpx_lib.AsyncClient(transport=transport),
            default_headers={"x-test-encoding": "br"},
        )
        stream = await c.responses.create(model="gpt-4o", input="brotli stream", stream=True)
        return dump([event async for event in stream])

    rt = await record_then_replay_async(tmp_path, Compress(create_app()), call)
    assert rt.live[-1]["response"]["output"][0]["content"][0]["text"] == "Echo: brotli stream"
    assert rt.replayed == rt.live


# ------------------------------------------------------------------------------------ text encodings

UNICODE = {"text": "héllo wörld 世界 🎉", "quote": 'say "hi"\n'}

ANSWERS: dict[str, tuple[str, bytes]] = {
    "latin1": ("text/plain; charset=iso-8859-1", "café naïve £5".encode("latin-1")),
    "undeclared": ("text/plain", b"\xff\xfe not utf-8 \x80"),
    "cp1252-json": ("application/json", '{"name": "Zo\xeb"}'.encode("cp1252")),
    "json-raw": ("application/json", json.dumps(UNICODE, ensure_ascii=False, separators=(",", ":")).encode()),
    "json-escaped": ("application/json; charset=utf-8", json.dumps(UNICODE).encode()),
}


async def answer(request: Request) -> Response:
    content_type, body = ANSWERS[request.path_params["name"]]
    return Response(body, headers={"content-type": content_type})


async def unicode_stream(request: Request) -> Response:
    async def events() -> Any:
        yield f"data: {json.dumps(UNICODE, ensure_ascii=False)}\n\n".encode()
        yield "event: note\ndata: plain text - ünïcode ✓\n\n".encode()

    return StreamingResponse(events(), media_type="text/event-stream")


def sse_events(body: bytes) -> list[tuple[str | None, Any]]:
    """(event name, data as JSON or text) of each event of a small, well-formed stream."""
    events: list[tuple[str | None, Any]] = []
    for block in body.decode().split("\n\n")[:-1]:
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        try:
            data = json.loads(fields["data"])
        except ValueError:
            data = fields["data"]
        events.append((fields.get("event"), data))
    return events


def text_app() -> Starlette:
    return Starlette(routes=[Route("/answer/{name}", answer), Route("/stream", unicode_stream)])


@pytest.mark.parametrize("coding", ["", *CODINGS])
def test_text_encodings_survive(tmp_path: Path, httpx_lib: ModuleType, coding: str) -> None:
    def call(transport: CassetteTransport, url: str) -> Any:
        with httpx_lib.Client(transport=transport, base_url=url, headers={"x-test-encoding": coding}) as c:
            answers = {name: c.get(f"/answer/{name}") for name in ANSWERS}
            stream = c.get("/stream")
            return {name: (r.content, r.text) for name, r in answers.items()}, stream.content

    rt = record_then_replay(tmp_path, Compress(text_app()), call)
    answers, stream = rt.live
    replayed_answers, replayed_stream = rt.replayed
    for name in ("latin1", "undeclared", "cp1252-json", "json-raw"):  # byte for byte
        assert replayed_answers[name] == answers[name], name
    assert answers["latin1"][1] == "café naïve £5"
    # Escaped JSON is stored as its value: the same characters, written out unescaped on replay.
    assert (
        json.loads(replayed_answers["json-escaped"][0]) == json.loads(answers["json-escaped"][0]) == UNICODE
    )
    # Stream events are stored as values too: the same events, the JSON in them re-written compactly.
    assert (
        sse_events(replayed_stream)
        == sse_events(stream)
        == [
            (None, UNICODE),
            ("note", "plain text - ünïcode ✓"),
        ]
    )
    stored = "\n".join(f.read_text(encoding="utf-8") for f in tmp_path.glob("*.json"))
    assert "héllo wörld 世界 🎉" in stored, "non-ASCII text is stored readable"
    assert "plain text - ünïcode ✓" in stored


async def test_text_encodings_survive_async(tmp_path: Path, httpx_lib: ModuleType) -> None:
    async def call(transport: CassetteTransport, url: str) -> Any:
        async with httpx_lib.AsyncClient(
            transport=transport, base_url=url, headers={"x-test-encoding": "zstd"}
        ) as c:
            return [(await c.get(f"/answer/{name}")).content for name in ("latin1", "json-raw")]

    rt = await record_then_replay_async(tmp_path, Compress(text_app()), call)
    assert rt.live[0] == "café naïve £5".encode("latin-1")
    assert rt.replayed == rt.live
