"""CassetteTransport over an in-process upstream (httpx.MockTransport): modes, repeats, truncation,
failures, misses and what reaches disk. End-to-end runs against a real server live in
test_openai_e2e.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteError, CassetteFormatError, CassetteMiss, CassetteTransport

SSE_CHUNKS = [
    b'data: {"object": "chat.completion.chunk", "n": 1}\n\n',
    b'data: {"object": "chat.completion.chunk", "n": 2}\n\n',
    b"data: [DONE]\n\n",
]


class Upstream:
    """A fake upstream counting calls; answers JSON, or SSE when the body asks to stream."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.calls = 0
        self.status = status
        self.headers = headers or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        body = json.loads(request.content or b"{}")
        if body.get("stream"):
            return httpx.Response(
                self.status,
                headers={"content-type": "text/event-stream", **self.headers},
                stream=httpx.ByteStream(b"".join(SSE_CHUNKS)) if body.get("one_chunk") else _chunks(),
            )
        answer = {"call": self.calls, "echo": body}
        return httpx.Response(
            self.status, json=answer, headers={"x-request-id": f"req-{self.calls}", **self.headers}
        )


def _chunks() -> Any:
    class Chunks(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield from SSE_CHUNKS

    return Chunks()


def client(
    path: Path, mode: str, upstream: Callable[[httpx.Request], httpx.Response] | None = None, **kw: Any
) -> httpx.Client:
    inner = httpx.MockTransport(upstream) if upstream else None
    return httpx.Client(
        transport=CassetteTransport(path, mode=mode, inner=inner, **kw), base_url="https://api.test"
    )


def files(path: Path) -> list[Path]:
    return sorted(path.glob("*.json"))


def test_record_then_replay_json(tmp_path: Path) -> None:
    upstream = Upstream()
    with client(tmp_path, "record", upstream) as c:
        live = c.post("/v1/chat/completions", json={"model": "m", "messages": []})
    with client(tmp_path, "replay") as c:
        replayed = c.post("/v1/chat/completions", json={"messages": [], "model": "m"})
    assert replayed.json() == live.json()
    assert replayed.headers["x-request-id"] == "req-1"
    assert upstream.calls == 1
    [file] = files(tmp_path)
    assert file.name.startswith("post-chat-completions-")
    stored = json.loads(file.read_text())
    assert stored["request"]["body"] == {"model": "m", "messages": []}
    assert stored["responses"][0]["body"] == live.json()
    assert stored["meta"]["library"].startswith("httpx ")


def test_record_then_replay_stream(tmp_path: Path) -> None:
    with client(tmp_path, "record", Upstream()) as c, c.stream("POST", "/v1/x", json={"stream": True}) as r:
        live = list(r.iter_bytes())
    with (
        client(tmp_path, "replay", replay_chunks="event") as c,
        c.stream("POST", "/v1/x", json={"stream": True}) as r,
    ):
        replayed = list(r.iter_raw())
        assert r.headers["content-type"] == "text/event-stream"
    # one event per chunk, compact JSON with exactly one space after "data:"
    assert replayed == [
        b'data: {"object":"chat.completion.chunk","n":1}\n\n',
        b'data: {"object":"chat.completion.chunk","n":2}\n\n',
        b"data: [DONE]\n\n",
    ]
    # instant replay by default: the same bytes in one chunk
    with client(tmp_path, "replay") as c, c.stream("POST", "/v1/x", json={"stream": True}) as r:
        assert list(r.iter_raw()) == [b"".join(replayed)]
    assert b"".join(live) == b"".join(SSE_CHUNKS)
    stored = json.loads(files(tmp_path)[0].read_text())["responses"][0]
    assert stored["is_streaming"] is True
    assert stored["done"] is True
    assert stored["body"][0] == {
        "__type__": "openai.types.chat.chat_completion_chunk.ChatCompletionChunk",
        "__data__": {"object": "chat.completion.chunk", "n": 1},
    }
    assert len(stored["offsets_ms"]) == 3


def test_events_split_across_chunks_are_recorded_whole(tmp_path: Path) -> None:
    with client(tmp_path, "record", Upstream()) as c:
        c.post("/v1/x", json={"stream": True, "one_chunk": True})
    stored = json.loads(files(tmp_path)[0].read_text())["responses"][0]
    assert [e["__data__"]["n"] for e in stored["body"]] == [1, 2]


def test_ordered_repeats_then_last_repeats(tmp_path: Path) -> None:
    with client(tmp_path, "record", Upstream()) as c:
        recorded = [c.post("/v1/x", json={"q": 1}).json()["call"] for _ in range(3)]
    assert recorded == [1, 2, 3]
    assert len(files(tmp_path)) == 1
    with client(tmp_path, "replay") as c:
        assert [c.post("/v1/x", json={"q": 1}).json()["call"] for _ in range(5)] == [1, 2, 3, 3, 3]


def test_strict_repeats_raise_after_the_last(tmp_path: Path) -> None:
    with client(tmp_path, "record", Upstream()) as c:
        c.post("/v1/x", json={"q": 1})
    with client(tmp_path, "replay", strict_repeats=True) as c:
        c.post("/v1/x", json={"q": 1})
        with pytest.raises(CassetteMiss, match="all 1 recorded responses were already played"):
            c.post("/v1/x", json={"q": 1})


def test_record_overwrites_what_it_touches(tmp_path: Path) -> None:
    with client(tmp_path, "record", Upstream()) as c:
        c.post("/v1/x", json={"q": 1})
        c.post("/v1/x", json={"q": 1})
    second = Upstream()
    second.calls = 100
    with client(tmp_path, "record", second) as c:
        c.post("/v1/x", json={"q": 1})
    stored = json.loads(files(tmp_path)[0].read_text())
    assert [r["body"]["call"] for r in stored["responses"]] == [101]


def test_record_missing_replays_existing_and_records_the_rest(tmp_path: Path) -> None:
    first = Upstream()
    with client(tmp_path, "record", first) as c:
        c.post("/v1/x", json={"q": 1})
    second = Upstream()
    second.calls = 10
    with client(tmp_path, "record-missing", second) as c:
        assert c.post("/v1/x", json={"q": 1}).json()["call"] == 1  # replayed
        assert c.post("/v1/x", json={"q": 2}).json()["call"] == 11  # recorded
        assert c.post("/v1/x", json={"q": 1}).json()["call"] == 12  # a repeat past the end: recorded
    assert second.calls == 12  # two forwarded requests
    with client(tmp_path, "replay") as c:
        assert [c.post("/v1/x", json={"q": 1}).json()["call"] for _ in range(2)] == [1, 12]


def test_live_mode_writes_nothing(tmp_path: Path) -> None:
    upstream = Upstream()
    with client(tmp_path, "live", upstream) as c:
        assert c.post("/v1/x", json={"q": 1}).json()["call"] == 1
    assert upstream.calls == 1
    assert not tmp_path.exists() or not files(tmp_path)


def test_mode_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPX_CASSETTE_MODE", "record")
    assert CassetteTransport(tmp_path).cassette.mode == "record"
    monkeypatch.delenv("HTTPX_CASSETTE_MODE")
    assert CassetteTransport(tmp_path).cassette.mode == "replay"


def test_unknown_mode_says_what_is_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPX_CASSETTE_MODE", "onse")  # a typo (vcrpy's "once" is taken, see modes.py)
    with pytest.raises(
        CassetteError,
        match=r"unknown cassette mode 'onse' in \$HTTPX_CASSETTE_MODE: use one of replay, record",
    ):
        CassetteTransport(tmp_path)


def test_miss_message(tmp_path: Path) -> None:
    with client(tmp_path, "replay") as c, pytest.raises(CassetteMiss) as info:
        c.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "Hi"}]})
    text = str(info.value)
    assert f"no recording for POST /v1/chat/completions in cassette {tmp_path}" in text
    assert 'canonical body: {"json":{"messages":[{"content":"Hi","role":"user"}],"model":"m"}}' in text
    assert "pass mode='record-missing' instead of mode='replay'" in text
    assert "HTTPX_CASSETTE_MODE=record-missing" not in text  # the argument wins over it: no use


def test_miss_in_missing_directory_says_so(tmp_path: Path) -> None:
    with (
        client(tmp_path / "nope", "replay") as c,
        pytest.raises(CassetteMiss, match="directory does not exist"),
    ):
        c.get("/v1/models")


def test_truncated_stream_is_marked(tmp_path: Path) -> None:
    with client(tmp_path, "record", Upstream()) as c, c.stream("POST", "/v1/x", json={"stream": True}) as r:
        first = next(r.iter_raw())
    assert first == SSE_CHUNKS[0]
    stored = json.loads(files(tmp_path)[0].read_text())["responses"][0]
    assert stored["truncated"] is True
    assert [e["__data__"]["n"] for e in stored["body"]] == [1]
    assert "done" not in stored  # defaults are omitted from files


def test_upstream_failure_mid_stream_is_recorded_and_replayed(tmp_path: Path) -> None:
    class Broken(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield SSE_CHUNKS[0]
            raise httpx.ReadError("connection reset by peer")

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Broken())

    with client(tmp_path, "record", upstream) as c, pytest.raises(httpx.ReadError):
        c.post("/v1/x", json={"stream": True})
    stored = json.loads(files(tmp_path)[0].read_text())["responses"][0]
    assert stored["error"] == {"type": "ReadError", "message": "connection reset by peer"}
    got: list[bytes] = []
    with client(tmp_path, "replay") as c, pytest.raises(httpx.ReadError, match="connection reset"):  # noqa: SIM117
        with c.stream("POST", "/v1/x", json={"stream": True}) as r:
            got.extend(r.iter_raw())
    assert got == [b'data: {"object":"chat.completion.chunk","n":1}\n\n']


def test_connection_failure_is_recorded_and_replayed(tmp_path: Path) -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    with client(tmp_path, "record", upstream) as c, pytest.raises(httpx.ConnectError):
        c.get("/v1/models")
    with client(tmp_path, "replay") as c, pytest.raises(httpx.ConnectError, match="connection refused"):
        c.get("/v1/models")


def test_secrets_never_written(tmp_path: Path) -> None:
    upstream = Upstream(headers={"set-cookie": "session=sekrit-cookie", "openai-organization": "org-sekrit"})
    with client(tmp_path, "record", upstream) as c:
        c.post(
            "/v1/x?api-key=sk-sekrit-query",
            json={"q": 1},
            headers={
                "authorization": "Bearer sk-sekrit-bearer",
                "api-key": "sekrit-azure",
                "x-api-key": "sk-ant-sekrit",
                "x-goog-api-key": "sekrit-goog",
                "cookie": "c=sekrit-cookie",
                "openai-organization": "org-sekrit",
                "openai-project": "proj-sekrit",
            },
        )
    for file in tmp_path.rglob("*"):
        assert b"sekrit" not in file.read_bytes(), file


def test_transport_only_headers_dropped_and_body_stored_decoded(tmp_path: Path) -> None:
    import gzip

    payload = json.dumps({"hello": "wörld"}).encode()

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            content=gzip.compress(payload),
            headers={"content-encoding": "gzip", "content-type": "application/json", "x-request-id": "r"},
        )

    with client(tmp_path, "record", upstream) as c:
        assert c.get("/v1/x").json() == {"hello": "wörld"}
    stored = json.loads(files(tmp_path)[0].read_text())["responses"][0]
    assert stored["body"] == {"hello": "wörld"}
    assert "content-encoding" not in stored["headers"]
    assert "content-length" not in stored["headers"]
    with client(tmp_path, "replay") as c:
        replayed = c.get("/v1/x")
    assert replayed.json() == {"hello": "wörld"}
    assert "content-encoding" not in replayed.headers


def test_a_body_in_a_coding_unknown_while_recording_is_stored_as_it_came_with_its_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import brotli

    from httpx_cassette.http.library import Library

    payload = json.dumps({"hello": "wörld"}).encode()

    def upstream(request: httpx.Request) -> httpx.Response:
        coding = request.url.path.rsplit("/", 1)[-1]
        body = brotli.compress(payload) if coding == "br" else payload[::-1]
        headers = {"content-encoding": coding, "content-type": "application/json"}
        return httpx.Response(200, stream=httpx.ByteStream(body), headers=headers)  # as from the network

    with monkeypatch.context() as patch:
        patch.setattr(Library, "_decoders", lambda self: {})  # as on a machine without brotli
        with client(tmp_path, "record", upstream) as c:
            live_br = c.get("/v1/br")  # httpx itself decodes br: brotli is installed for the client
            live_custom = c.get("/v1/x-reversed")  # a coding no one knows: httpx passes the bytes on
    assert live_br.json() == {"hello": "wörld"}
    assert live_custom.content == payload[::-1]
    for file in files(tmp_path):
        stored = json.loads(file.read_text())["responses"][0]
        assert stored["headers"]["content-encoding"] in ("br", "x-reversed")
        assert "base64" in stored
        assert "body" not in stored
    with client(tmp_path, "replay") as c:
        replay_br, replay_custom = c.get("/v1/br"), c.get("/v1/x-reversed")
    assert replay_br.json() == {"hello": "wörld"}
    assert replay_br.headers["content-encoding"] == "br"
    assert replay_custom.content == payload[::-1]
    assert replay_custom.headers["content-encoding"] == "x-reversed"


def test_retry_after_does_not_sleep_on_replay(tmp_path: Path) -> None:
    upstream = Upstream(status=429, headers={"retry-after": "20"})
    with client(tmp_path, "record", upstream) as c:
        c.get("/v1/x")
    with client(tmp_path, "replay") as c:
        replayed = c.get("/v1/x")
    assert replayed.status_code == 429
    assert replayed.headers["retry-after"] == "20"
    assert float(replayed.headers["retry-after-ms"]) < 1


def test_broken_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "post-x-000000000000.json"
    bad.write_text(
        '{"request": {"method": "POST", "url": "https://x/v1/x"}, "responses": [{"status": "ok"}]}'
    )
    with client(tmp_path, "replay") as c, pytest.raises(CassetteFormatError) as info:
        c.post("/v1/x", json={})
    assert str(bad) in str(info.value)
    assert "$.responses[0].status" in str(info.value)


def test_hand_edited_request_is_still_found(tmp_path: Path) -> None:
    with client(tmp_path, "record", Upstream()) as c:
        c.post("/v1/x", json={"q": 1})
    [file] = files(tmp_path)
    data = json.loads(file.read_text())
    data["request"]["body"] = {"q": 2}
    file.write_text(json.dumps(data))
    with client(tmp_path, "replay") as c:
        assert c.post("/v1/x", json={"q": 2}).json()["call"] == 1
        with pytest.raises(CassetteMiss):
            c.post("/v1/x", json={"q": 1})


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    with client(tmp_path, "record", Upstream()) as c:
        c.post("/v1/x", json={"q": 1})
    [file] = files(tmp_path)
    before = file.read_bytes()

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with client(tmp_path, "record", Upstream()) as c, pytest.raises(CassetteError, match=f"{file}: disk"):
        c.post("/v1/x", json={"q": 1})
    assert file.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [file.name]


async def test_async_record_and_replay(tmp_path: Path) -> None:
    async def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"async": True})

    transport = CassetteTransport(tmp_path, mode="record", inner=httpx.MockTransport(upstream))
    async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as c:
        assert (await c.get("/v1/a")).json() == {"async": True}
    async with httpx.AsyncClient(transport=CassetteTransport(tmp_path, mode="replay")) as c:
        assert (await c.get("https://elsewhere/v1/a")).json() == {"async": True}


def test_key_and_canonical_are_exposed(tmp_path: Path) -> None:
    transport = CassetteTransport(tmp_path)
    a = httpx.Request("POST", "https://a/v1/x", json={"b": 1, "a": 2})
    b = httpx.Request("POST", "https://b/v1/x", json={"a": 2, "b": 1})
    assert transport.key(a) == transport.key(b)
    assert transport.canonical(a)["body"] == {"json": {"b": 1, "a": 2}}


def _paced_cassette(path: Path) -> None:
    cassette = {
        "version": 1,
        "request": {
            "method": "POST",
            "url": "https://api.test/v1/x",
            "headers": {"content-type": "application/json"},
            "body": {"stream": True},
        },
        "responses": [
            {
                "status": 200,
                "headers": {"content-type": "text/event-stream"},
                "is_streaming": True,
                "body": [{"__data__": {"n": 1}}, {"__data__": {"n": 2}}],
                "done": True,
                "elapsed_ms": 50.0,
                "offsets_ms": [100.0, 400.0, 450.0],
            }
        ],
    }
    path.mkdir(exist_ok=True)
    (path / "post-x-000000000000.json").write_text(json.dumps(cassette))


@pytest.mark.parametrize(
    ("timing", "expected"), [("recorded", [0.05, 0.3, 0.05]), (2.0, [0.025, 0.15, 0.025])]
)
def test_replay_timing_reproduces_recorded_pacing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, timing: Any, expected: list[float]
) -> None:
    import threading
    import time

    _paced_cassette(tmp_path)
    slept: list[float] = []
    real_sleep, this_thread = time.sleep, threading.get_ident()
    # Only this thread's sleeps: a thread another test left running in this worker sleeps too.
    monkeypatch.setattr(
        time, "sleep", lambda s: slept.append(s) if threading.get_ident() == this_thread else real_sleep(s)
    )
    with (
        client(tmp_path, "replay", replay_timing=timing) as c,
        c.stream("POST", "/v1/x", json={"stream": True}) as r,
    ):
        chunks = list(r.iter_raw())
    assert len(chunks) == 3
    assert slept == pytest.approx(expected)


def test_instant_replay_never_sleeps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    _paced_cassette(tmp_path)
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail("instant replay slept"))
    with client(tmp_path, "replay") as c:
        assert c.post("/v1/x", json={"stream": True}).status_code == 200


async def test_async_replay_timing_uses_async_sleep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import anyio

    _paced_cassette(tmp_path)
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(anyio, "sleep", fake_sleep)
    transport = CassetteTransport(tmp_path, mode="replay", replay_timing="recorded")
    async with (
        httpx.AsyncClient(transport=transport, base_url="https://api.test") as c,
        c.stream("POST", "/v1/x", json={"stream": True}) as r,
    ):
        assert len([chunk async for chunk in r.aiter_raw()]) == 3
    assert slept == pytest.approx([0.05, 0.3, 0.05])
