"""Hostile and broken input: cassette files that are broken, truncated, wrong-typed, huge or deeply nested;
names that try to leave the cassette directory; and malformed SSE from upstream, replayed to the OpenAI SDK
exactly as it saw it live."""

from __future__ import annotations

import json
import pickle
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import StreamingResponse
from starlette.routing import Route

from httpx_cassette import (
    CassetteError,
    CassetteFormatError,
    CassetteTransport,
    KeyOptions,
    Request,
    Response,
    key_of,
)
from httpx_cassette.model.cassette import CassetteFile, Event
from httpx_cassette.storage.codec import encode_file
from httpx_cassette.storage.files import file_name
from httpx_cassette.storage.store import DirectoryStore
from tests.servers.runner import LiveServer

REQUEST = Request(
    method="POST", url="https://api.test/v1/x", body={"q": 1}, headers={"content-type": "application/json"}
)
NAME = file_name(key_of(REQUEST), REQUEST)


def good_file() -> bytes:
    return encode_file(CassetteFile(request=REQUEST, responses=[Response(status=200, body={"ok": True})]))


def replay(path: Path) -> httpx.Response:
    with httpx.Client(transport=CassetteTransport(path, mode="replay")) as client:
        return client.post("https://api.test/v1/x", json={"q": 1})


def broken(path: Path, data: bytes, name: str = NAME) -> CassetteFormatError:
    path.mkdir(exist_ok=True)
    (path / name).write_bytes(data)
    with pytest.raises(CassetteFormatError) as info:
        replay(path)
    assert info.value.path == str(path / name)
    assert str(info.value).startswith(f"broken cassette file {path / name}: ")
    return info.value


# -- broken files ------------------------------------------------------------------------------------------


def test_a_good_file_replays(tmp_path: Path) -> None:
    tmp_path.joinpath(NAME).write_bytes(good_file())
    assert replay(tmp_path).json() == {"ok": True}


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "Input data was truncated"),
        (b"{not json", "JSON is malformed"),
        (b'{"request": 1, "responses": []}', "Expected `object`, got `int` - at `$.request`"),
        (b"[1, 2, 3]", "Expected `object`, got `array`"),
        (
            b'{"request": {"method": "POST", "url": "x"}, "responses": {}}',
            "Expected `array`, got `object` - at `$.responses`",
        ),
        (
            b'{"request": {"method": "POST", "url": "https://api.test/v1/x", "headers": {"a": 1}},'
            b' "responses": []}',
            "Expected `str`, got `int` - at `$.request.headers[...]`",
        ),
        (
            b'{"request": {"method": "GET", "url": "u"}, "responses": [{"status": 200, "is_streaming": true,'
            b' "body": [{"__data__": 1, "retry": "soon"}]}]}',
            "Expected `int | null`, got `str` - at `$.responses[0].body[0].retry`",
        ),
        (b"\xff\xfe{}", "invalid character"),
    ],
)
def test_broken_and_wrong_typed_files_name_the_file_and_the_place(
    tmp_path: Path, data: bytes, problem: str
) -> None:
    assert problem in str(broken(tmp_path, data))


def test_a_truncated_file(tmp_path: Path) -> None:
    data = good_file()
    assert "Input data was truncated" in str(broken(tmp_path, data[: len(data) // 2]))


def test_nesting_deeper_than_python_recurses(tmp_path: Path) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    data = (
        b'{"request": {"method": "POST", "url": "https://api.test/v1/x", "body": '
        + body
        + b'}, "responses": []}'
    )
    assert "its JSON is nested too deeply (~1000 levels) to read" in str(broken(tmp_path, data))


def test_deep_but_parseable_nesting_replays(tmp_path: Path) -> None:
    deep: Any = 1
    for _ in range(400):
        deep = [deep]
    cassette = CassetteFile(request=REQUEST, responses=[Response(status=200, body={"deep": deep})])
    tmp_path.joinpath(NAME).write_bytes(encode_file(cassette))
    assert replay(tmp_path).json() == {"deep": deep}


def test_huge_files_fail_clearly(tmp_path: Path) -> None:
    filler = b"x" * 100_000_000
    wrong_type = (
        b'{"request": {"method": "POST", "url": "https://api.test/v1/x"}, "responses": "' + filler + b'"}'
    )
    assert "Expected `array`, got `str` - at `$.responses`" in str(broken(tmp_path / "a", wrong_type))
    truncated = (
        b'{"request": {"method": "POST", "url": "https://api.test/v1/x"}, "responses": [{"text": "' + filler
    )
    assert "Input data was truncated" in str(broken(tmp_path / "b", truncated))


def test_nothing_in_a_file_is_executed(tmp_path: Path) -> None:
    canary = tmp_path / "canary"

    class Payload:
        def __reduce__(self) -> tuple[Any, tuple[str, str]]:
            return (open, (str(canary), "w"))

    broken(tmp_path / "pickle", pickle.dumps(Payload()))
    broken(tmp_path / "yaml", b"!!python/object/apply:os.system ['touch " + str(canary).encode() + b"']\n")
    assert not canary.exists()


def test_an_unplayable_response_names_its_file(tmp_path: Path) -> None:
    event = Event(event="a\nb", data={})  # an event name no SSE line can carry
    response = Response(
        status=200, headers={"content-type": "text/event-stream"}, is_streaming=True, body=[event]
    )
    error = broken(tmp_path, encode_file(CassetteFile(request=REQUEST, responses=[response])))
    assert "line break - at `$.responses[0].body[0]`" in str(error)  # refused when read, where it is


def test_a_recorded_exception_name_picks_only_request_errors(tmp_path: Path) -> None:
    for name, raised in [
        ("ReadTimeout", httpx.ReadTimeout),
        ("Client", httpx.TransportError),
        ("HTTPStatusError", httpx.TransportError),
    ]:
        cassette = CassetteFile(
            request=REQUEST, responses=[Response(status=0, error={"type": name, "message": "m"})]
        )  # type: ignore[arg-type]
        tmp_path.joinpath(NAME).write_bytes(encode_file(cassette))
        with pytest.raises(httpx.TransportError) as info:
            replay(tmp_path)
        assert type(info.value) is raised


def test_non_ascii_header_values_replay(tmp_path: Path) -> None:
    cassette = CassetteFile(
        request=REQUEST, responses=[Response(status=200, headers={"x-city": "Zürich"}, body={})]
    )
    tmp_path.joinpath(NAME).write_bytes(encode_file(cassette))
    assert replay(tmp_path).headers["x-city"] == "Zürich"


# -- names that try to leave the directory -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "https://api.test/../../etc/passwd"),
        ("../../evil", "https://api.test/v1/x"),
        ("GET", "https://api.test/v1/..%2F..%2Fetc/passwd"),
        ("GET", "https://api.test/C:\\Windows\\system32"),
        ("CON", "https://api.test/"),
        ("GET", "https://api.test/con"),
        ("GET", "https://api.test/v1/a\x00b"),
    ],
)
def test_generated_file_names_stay_inside(tmp_path: Path, method: str, url: str) -> None:
    request = Request(method=method, url=url)
    store = DirectoryStore(tmp_path / "cassette", KeyOptions())
    written = store.put(key_of(request), CassetteFile(request=request, responses=[]))
    assert written.parent == tmp_path / "cassette"
    assert written.name.endswith(".json")
    assert not {"/", "\\", "\0"} & set(written.name)
    assert written.name.split(".")[0].split("-")[0] not in {"", ".", ".."}
    assert [p.name for p in tmp_path.iterdir()] == ["cassette"]


@pytest.mark.parametrize("key", ["../../etc/passwd", "/absolute", "abc", "0123456789ab\x00", "..", "CON"])
def test_a_key_that_is_not_a_hex_digest_is_refused(tmp_path: Path, key: str) -> None:
    store = DirectoryStore(tmp_path / "cassette", KeyOptions())
    with pytest.raises(CassetteError, match="a key is the hex sha256 of a request"):
        store.put(key, CassetteFile(request=REQUEST, responses=[]))
    assert not list(tmp_path.rglob("*.json"))


def test_a_nul_byte_in_the_cassette_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="has a NUL byte"):
        CassetteTransport(str(tmp_path / "a\x00b"))


def test_a_body_file_that_points_elsewhere_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.bin").write_bytes(b"outside")
    cassette = CassetteFile(request=REQUEST, responses=[Response(status=200, body_file="../secret.bin")])
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / NAME).write_bytes(encode_file(cassette))
    with pytest.raises(CassetteFormatError, match="must be a plain file name"):
        replay(tmp_path / "c")


# -- malformed SSE from upstream, through the OpenAI SDK ---------------------------------------------------


def _chunk(text: str) -> str:
    return json.dumps(
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
        }
    )


# Each variant: the raw pieces the server writes, split at awkward places on purpose.
STREAMS: dict[str, list[bytes]] = {
    "no-trailing-blank-line": [f"data: {_chunk('a')}\n\ndata: {_chunk('b')}\n".encode()],
    "bom": [b"\xef\xbb\xbf" + f"data: {_chunk('a')}\n\ndata: {_chunk('b')}\n\n".encode()],
    "crlf": [
        f"data: {_chunk('a')}\r".encode(),
        f"\n\r\ndata: {_chunk('b')}\r\n\r\ndata: [DONE]\r\n\r\n".encode(),
    ],
    "lone-cr": [f"data: {_chunk('a')}\r\rdata: [DONE]\r\r".encode()],
    "comments-retry-id": [
        b": keep-alive\n\n",
        f"id: 7\nretry: 3000\ndata: {_chunk('a')}\n\n: ping\n".encode(),
        f"event: message\ndata: {_chunk('b')}\nid: 8\n\n".encode(),
        b"retry: soon\ndata: [DONE]\n\n",
    ],
    "multi-line-data": [
        b'data: {"id": "c1", "object": "chat.completion.chunk",\ndata: "created": 0, "model": "m",',
        b'\ndata: "choices": []}\n\n',
    ],
    "invalid-json": [
        f"data: {_chunk('a')}\n\n".encode(),
        b"data: {not json\n\n",
        f"data: {_chunk('c')}\n\n".encode(),
    ],
    "error-event": [
        f"data: {_chunk('a')}\n\n".encode(),
        b'data: {"error": {"message": "overloaded", "type": "server"}}\n\n',
    ],
    "done-with-suffix": [
        f"data: {_chunk('a')}\n\n".encode(),
        b"data: [DONE] trailing\n\n",
        f"data: {_chunk('z')}\n\n".encode(),
    ],
    "split-utf8": [f"data: {_chunk('é')}\n\n".encode()[:40], f"data: {_chunk('é')}\n\n".encode()[40:]],
}


async def _stream(request: StarletteRequest) -> StreamingResponse:
    pieces = STREAMS[(await request.json())["model"]]

    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    return StreamingResponse(body(), media_type="text/event-stream")


@pytest.fixture(scope="module")
def sse_server() -> Iterator[LiveServer[Starlette]]:
    with LiveServer(Starlette(routes=[Route("/v1/chat/completions", _stream, methods=["POST"])])) as server:
        yield server


def _what_the_sdk_saw(
    transport: CassetteTransport, base_url: str, variant: str
) -> tuple[list[Any], str | None]:
    client = openai.OpenAI(
        base_url=base_url, api_key="test", http_client=httpx.Client(transport=transport), max_retries=0
    )
    seen: list[Any] = []
    try:
        for chunk in client.chat.completions.create(model=variant, messages=[], stream=True):
            seen.append(chunk.model_dump(mode="json"))
    except Exception as exc:
        return seen, f"{type(exc).__name__}: {exc}"
    return seen, None


@pytest.mark.parametrize("variant", list(STREAMS))
def test_malformed_sse_replays_as_the_sdk_saw_it_live(
    tmp_path: Path, sse_server: LiveServer[Starlette], variant: str
) -> None:
    live = _what_the_sdk_saw(CassetteTransport(tmp_path, mode="record"), sse_server.base_url, variant)
    replayed = _what_the_sdk_saw(CassetteTransport(tmp_path, mode="replay"), sse_server.base_url, variant)
    assert replayed == live
    expected_errors = {"invalid-json": "JSONDecodeError", "error-event": "APIError"}
    assert (live[1] or "").split(":")[0] == expected_errors.get(variant, "")
    counts = {
        "no-trailing-blank-line": 1,
        "bom": 1,
        "multi-line-data": 1,
        "invalid-json": 1,
        "error-event": 1,
    }
    assert len(live[0]) == counts.get(variant, 2 if variant in ("crlf", "comments-retry-id") else 1)
