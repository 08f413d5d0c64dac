"""Recording never writes a file that loading refuses: what no HTTP server sends (from a mock upstream
or a hook) is refused before anything is written, with the rule named; a file holding a body on a
response to HEAD is refused when read."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import msgspec
import pytest

from httpx_cassette import CassetteError, CassetteFormatError, CassetteTransport, Request, Response

URL = "https://api.example.com/v1/thing"


def _upstream(
    status: int, content: bytes = b"", headers: dict[str, str] | None = None
) -> httpx.MockTransport:
    return httpx.MockTransport(lambda _: httpx.Response(status, headers=headers, content=content))


def _recorder(path: Path, inner: httpx.MockTransport, **options: object) -> httpx.Client:
    return httpx.Client(transport=CassetteTransport(path, mode="record", inner=inner, **options))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "status", "content", "rule"),
    [
        ("GET", 204, b"late", "a 204 response has no body"),
        ("GET", 304, b"stale", "a 304 response has no body"),
        ("GET", 101, b"", "status 101 is informational"),
        ("HEAD", 200, b'{"size": 3}', "a response to HEAD has no body"),
    ],
)
def test_a_response_no_server_sends_is_refused_and_nothing_is_written(
    tmp_path: Path, method: str, status: int, content: bytes, rule: str
) -> None:
    inner = _upstream(status, content, {"content-type": "application/json"})
    with _recorder(tmp_path, inner) as client, pytest.raises(CassetteError) as caught:
        client.request(method, URL)
    message = str(caught.value)
    assert rule in message
    assert f"the response to {method} {URL}" in message
    assert "Nothing was written" in message
    assert str(tmp_path) in message
    assert not list(tmp_path.glob("*.json"))


def test_the_same_exchanges_with_what_http_allows_record_and_replay(tmp_path: Path) -> None:
    cases = [("GET", 204, b""), ("HEAD", 200, b""), ("GET", 200, b'{"ok":true}')]
    for i, (method, status, content) in enumerate(cases):
        with _recorder(tmp_path, _upstream(status, content, {"content-type": "application/json"})) as client:
            assert client.request(method, f"{URL}/{i}").status_code == status
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client:
        for i, (method, status, content) in enumerate(cases):
            replayed = client.request(method, f"{URL}/{i}")
            assert (replayed.status_code, replayed.content) == (status, content)


def _duplicate_header(response: Response) -> Response:
    return msgspec.structs.replace(response, headers={**response.headers, "Content-Type": "text/plain"})


def _line_break(response: Response) -> Response:
    return msgspec.structs.replace(response, headers={**response.headers, "x-note": "one\r\nSet-Cookie: a=b"})


@pytest.mark.parametrize(
    ("hook", "rule"),
    [
        (_duplicate_header, "is given twice, in two cases"),
        (_line_break, "holds a line break or control character"),
    ],
)
def test_a_response_hook_that_bends_headers_is_refused(
    tmp_path: Path, hook: Callable[[Response], Response], rule: str
) -> None:
    inner = _upstream(200, b'{"ok": true}', {"content-type": "application/json"})
    with (
        _recorder(tmp_path, inner, before_record_response=hook) as client,
        pytest.raises(CassetteError, match=rule),
    ):
        client.get(URL)
    assert not list(tmp_path.glob("*.json"))


def test_a_request_hook_that_doubles_a_header_is_refused_before_the_request_goes_out(tmp_path: Path) -> None:
    sent: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True})

    def doubled(request: Request) -> Request:
        return msgspec.structs.replace(request, headers={"Accept": "a", "accept": "b"})

    transport = CassetteTransport(
        tmp_path,
        mode="record",
        inner=httpx.MockTransport(upstream),
        before_record_request=doubled,
        match_on=("method", "uri"),
    )
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteError) as caught:
        client.get(URL)
    assert "the request GET" in str(caught.value)
    assert "is given twice, in two cases" in str(caught.value)
    assert not sent
    assert not list(tmp_path.glob("*.json"))


def test_a_streamed_response_bent_by_a_hook_is_refused_at_its_end_async(tmp_path: Path) -> None:
    events = b"".join(f"data: {json.dumps({'n': n})}\n\n".encode() for n in range(3))
    inner = _upstream(200, events, {"content-type": "text/event-stream"})

    async def run() -> list[bytes]:
        hook = _duplicate_header
        transport = CassetteTransport(tmp_path, mode="record", inner=inner, before_record_response=hook)
        chunks: list[bytes] = []
        async with httpx.AsyncClient(transport=transport) as client, client.stream("GET", URL) as response:
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
        return chunks

    with pytest.raises(CassetteError, match="is given twice, in two cases"):
        asyncio.run(run())
    assert not list(tmp_path.glob("*.json"))


def test_a_file_with_a_body_on_a_response_to_head_is_refused_when_read(tmp_path: Path) -> None:
    with _recorder(tmp_path, _upstream(200, b"", {"content-type": "application/json"})) as client:
        client.head(URL)
    (file,) = tmp_path.glob("*.json")
    data = json.loads(file.read_text())
    data["responses"][0]["body"] = {"size": 3}  # edited in a pull request
    file.write_text(json.dumps(data))
    with (
        httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client,
        pytest.raises(CassetteFormatError, match="a response to HEAD has no body") as caught,
    ):
        client.head(URL)
    assert file.name in str(caught.value)


@pytest.mark.parametrize(
    "offsets", [["sk-proj-" + "a1B2c3D4" * 6], [{"api_key": "x" * 20}], [object()], [-1.0]]
)
def test_a_hook_that_puts_no_offsets_in_offsets_is_refused(tmp_path: Path, offsets: list[object]) -> None:
    """The secret check reads no offsets (numbers, one per event): what a hook puts there must be one, or
    nothing is written, a credential least of all."""
    stream = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n'
    inner = _upstream(200, stream, {"content-type": "text/event-stream"})
    hook = lambda response: msgspec.structs.replace(response, offsets_ms=offsets)  # noqa: E731
    client = _recorder(tmp_path, inner, before_record_response=hook)
    with client, pytest.raises(CassetteError, match="Nothing was written") as info:
        client.post(URL, json={}).read()
    assert "offsets_ms" in str(info.value) or "object" in str(info.value)
    assert not list(tmp_path.rglob("*.json"))
