"""A body replayed with its ``content-encoding`` reaches requests and aiohttp as it reaches them live.

The format keeps a body in a coding the recording machine could not undo as it came (``base64`` plus
its ``content-encoding`` header), and a hand-edited file may do the same. On replay each library undoes
the coding as it would live: requests (urllib3) when ``decode_content`` is asked for (``.content``,
``.json()``, ``iter_content``) and not for ``raw.read()``; aiohttp unless ``auto_decompress`` is off; a
coding the library does not undo passes as it is, and the header stays as recorded.

The reference is the library itself: the same bytes, with the same headers, are served live from a
canned endpoint of the local server on 127.0.0.1, and what the caller sees there is what replay must give.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import inspect
import json
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from httpx_cassette import use_cassette
from tests.servers.echo import Canned
from tests.servers.openai_app import OpenAIApp
from tests.servers.runner import LiveServer

aiohttp = pytest.importorskip("aiohttp")
requests = pytest.importorskip("requests")
brotli = pytest.importorskip("brotli")
zstandard = pytest.importorskip("zstandard")
DeflateBuffer = pytest.importorskip("aiohttp.http_parser").DeflateBuffer

PAYLOAD = {"answer": "hello", "items": list(range(40)), "note": "héllo wörld"}
BODY = json.dumps(PAYLOAD).encode()


def _raw_deflate(data: bytes) -> bytes:
    """Deflate without the zlib wrapper: wrong for HTTP, and still read by urllib3 and aiohttp."""
    z = zlib.compressobj(wbits=-15)
    return z.compress(data) + z.flush()


COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,  # HTTP's deflate is the zlib format
    "raw-deflate": _raw_deflate,
    "br": brotli.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}
HEADER = {"raw-deflate": "deflate"}  # the content-encoding each is served with, when not its name


def _cassette(directory: Path, url: str, coding: str, data: bytes) -> Path:
    """A hand-written cassette: one GET answered with ``data`` in ``base64``, with its coding's header."""
    headers = {"content-type": "application/json", "content-encoding": coding}
    response = {"status": 200, "headers": headers, "base64": base64.b64encode(data).decode()}
    doc = {"version": 1, "request": {"method": "GET", "url": url}, "responses": [response], "meta": {}}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "get-v1-canned-000000000000.json").write_text(json.dumps(doc, indent=1))
    return directory


def _serve(server: LiveServer[OpenAIApp], name: str, coding: str, data: bytes) -> str:
    """The same answer served live from the local server; its URL."""
    headers = [("content-type", "application/json"), ("content-encoding", coding)]
    server.app.canned[name] = Canned(content=data, headers=headers)
    return f"{server.url}/v1/canned/{name}"


Opener = Callable[[], contextlib.AbstractContextManager[Any]]


def _live() -> contextlib.AbstractContextManager[Any]:
    return contextlib.nullcontext()


def _replaying(directory: Path) -> Opener:
    @contextlib.contextmanager
    def opened() -> Iterator[Any]:
        with use_cassette(directory, mode="replay") as cassette:
            yield cassette
        assert len(cassette.played) == 1, "served from the cassette, not the server"

    return opened


# -- what each library hands its caller ---------------------------------------------------------------


def _read_pieces(raw: Any, size: int, **kwargs: Any) -> bytes:
    pieces = []
    while piece := raw.read(size, **kwargs):
        pieces.append(piece)
    return b"".join(pieces)


def _parsed(parse: Callable[[], Any]) -> Any:
    """What ``parse`` returns, or the name of the error it raises when the body is not JSON as it is."""
    try:
        return parse()
    except ValueError as exc:
        return type(exc).__name__


def seen_by_requests(url: str, opened: Opener) -> dict[str, Any]:
    """Every way a requests caller reads the body: decoded and as it came."""
    seen: dict[str, Any] = {}
    with opened():
        r = requests.get(url, timeout=5)
        seen["header"] = r.headers.get("content-encoding")
        seen["content"] = r.content
        seen["json"] = _parsed(r.json)
    with opened():
        r = requests.get(url, timeout=5, stream=True)
        seen["iter_content"] = b"".join(r.iter_content(7))
    with opened():
        r = requests.get(url, timeout=5, stream=True)
        seen["raw.read(decode_content=False)"] = r.raw.read(decode_content=False)
    with opened():
        r = requests.get(url, timeout=5, stream=True)
        seen["raw.read()"] = r.raw.read()  # requests opens the response with decode_content=False
    with opened():
        r = requests.get(url, timeout=5, stream=True)
        seen["raw.read(5, decode_content=True)"] = _read_pieces(r.raw, 5, decode_content=True)
    return seen


async def seen_by_aiohttp(url: str, opened: Opener) -> dict[str, Any]:
    """Every way an aiohttp caller reads the body, with ``auto_decompress`` on and off."""
    seen: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session:
        with opened():
            async with session.get(url) as r:
                seen["header"] = r.headers.get("content-encoding")
                seen["read"] = await r.read()
                try:
                    seen["json"] = await r.json()
                except ValueError as exc:  # not JSON as it came (UnicodeDecodeError, JSONDecodeError)
                    seen["json"] = type(exc).__name__
        with opened():
            async with session.get(url) as r:
                seen["iter_chunked"] = b"".join([chunk async for chunk in r.content.iter_chunked(5)])
        with opened():
            async with session.get(url, auto_decompress=False) as r:  # per request
                seen["read, request auto_decompress=False"] = await r.read()
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        with opened():
            async with session.get(url) as r:
                seen["read, session auto_decompress=False"] = await r.read()
                seen["header, session auto_decompress=False"] = r.headers.get("content-encoding")
    return seen


# -- a body stored as it came is decoded as live ---------------------------------------------------


@pytest.mark.parametrize("name", list(COMPRESS))
def test_requests_decodes_a_stored_coding_as_urllib3_does_live(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp], name: str
) -> None:
    coding, data = HEADER.get(name, name), COMPRESS[name](BODY)
    url = _serve(openai_server, f"requests-{name}", coding, data)
    live = seen_by_requests(url, _live)
    replayed = seen_by_requests(url, _replaying(_cassette(tmp_path, url, coding, data)))
    assert replayed == live
    assert replayed == {
        "header": coding,  # the header stays, as on a live response
        "content": BODY,
        "json": PAYLOAD,
        "iter_content": BODY,
        "raw.read(decode_content=False)": data,
        "raw.read()": data,
        "raw.read(5, decode_content=True)": BODY,
    }


@pytest.mark.parametrize("name", list(COMPRESS))
async def test_aiohttp_decodes_a_stored_coding_unless_auto_decompress_is_off(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp], name: str
) -> None:
    coding, data = HEADER.get(name, name), COMPRESS[name](BODY)
    url = _serve(openai_server, f"aiohttp-{name}", coding, data)
    live = await seen_by_aiohttp(url, _live)
    replayed = await seen_by_aiohttp(url, _replaying(_cassette(tmp_path, url, coding, data)))
    assert replayed == live
    assert replayed == {
        "header": coding,
        "read": BODY,
        "json": PAYLOAD,
        "iter_chunked": BODY,
        "read, request auto_decompress=False": data,
        "read, session auto_decompress=False": data,
        "header, session auto_decompress=False": coding,
    }


async def test_codings_a_library_does_not_undo_pass_as_they_came(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp]
) -> None:
    """urllib3 undoes ``gzip, br`` (both, in turn), aiohttp one coding only; a made-up coding is
    nobody's: each library's replay matches its live self."""
    layered = brotli.compress(gzip.compress(BODY))
    cases = {"layered": ("gzip, br", layered), "made-up": ("x-made-up", b"\x00\x01 opaque bytes \xff")}
    for name, (coding, data) in cases.items():
        url = _serve(openai_server, f"as-came-{name}", coding, data)
        directory = _cassette(tmp_path / name, url, coding, data)
        live_requests = seen_by_requests(url, _live)
        assert seen_by_requests(url, _replaying(directory)) == live_requests, coding
        live_aiohttp = await seen_by_aiohttp(url, _live)
        assert await seen_by_aiohttp(url, _replaying(directory)) == live_aiohttp, coding
        assert live_aiohttp["read"] == data, "aiohttp hands on what it does not undo"
        assert live_requests["content"] == (BODY if name == "layered" else data)


async def test_a_large_body_is_decoded_in_aiohttps_bounded_steps(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp]
) -> None:
    """Two MiB that gzip to a few KiB: aiohttp's decompressor hands the reader a bounded piece at a
    time (when this aiohttp bounds it), so a small stored body cannot flood the reader at once."""
    big = json.dumps({"rows": ["the same row again"] * 100_000}).encode()
    data = gzip.compress(big)
    url = _serve(openai_server, "large", "gzip", data)
    directory = _cassette(tmp_path, url, "gzip", data)
    async with aiohttp.ClientSession() as session:
        with use_cassette(directory, mode="replay"):
            async with session.get(url) as r:
                pieces = [piece async for piece in r.content.iter_any()]
    assert b"".join(pieces) == big
    if "max_decompress_size" in inspect.signature(DeflateBuffer).parameters:
        assert max(map(len, pieces)) <= 2**16 < len(big)
    with use_cassette(directory, mode="replay"):
        assert requests.get(url, timeout=5).content == big


# -- a body that is not in its coding fails as it would live -----------------------------------------


def test_requests_a_body_not_in_its_coding_is_a_content_decoding_error(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp]
) -> None:
    data = b"this was never gzip"
    url = _serve(openai_server, "requests-broken", "gzip", data)
    with pytest.raises(requests.exceptions.ContentDecodingError):
        requests.get(url, timeout=5)  # live
    directory = _cassette(tmp_path, url, "gzip", data)
    with use_cassette(directory, mode="replay"), pytest.raises(requests.exceptions.ContentDecodingError):
        requests.get(url, timeout=5)
    with use_cassette(directory, mode="replay"):  # the bytes as they came are still there for raw reads
        assert requests.get(url, timeout=5, stream=True).raw.read(decode_content=False) == data


async def test_aiohttp_a_body_not_in_its_coding_is_a_payload_error(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp]
) -> None:
    data = b"this was never gzip"
    url = _serve(openai_server, "aiohttp-broken", "gzip", data)
    directory = _cassette(tmp_path, url, "gzip", data)
    async with aiohttp.ClientSession() as session:
        for opened in (_live, _replaying(directory)):
            with opened():
                async with session.get(url) as r:
                    with pytest.raises(aiohttp.ClientPayloadError, match="Can not decode content-encoding"):
                        await r.read()
        with use_cassette(directory, mode="replay"):
            async with session.get(url, auto_decompress=False) as r:
                assert await r.read() == data


# -- recorded through the shells: a coding the library left alone is stored as it came ---------------


def test_a_coding_urllib3_leaves_alone_is_recorded_as_it_came_with_its_header(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp]
) -> None:
    data = b"\x00\x01 opaque bytes \xff"
    url = _serve(openai_server, "recorded-made-up", "x-made-up", data)
    with use_cassette(tmp_path, mode="record") as recording:
        live = requests.get(url, timeout=5)
    assert (live.content, live.headers["content-encoding"]) == (data, "x-made-up")
    assert len(recording.recorded) == 1
    (stored,) = (json.loads(f.read_text())["responses"][0] for f in tmp_path.glob("*.json"))
    assert stored["headers"]["content-encoding"] == "x-made-up"
    assert base64.b64decode(stored["base64"]) == data
    with use_cassette(tmp_path, mode="replay") as replay:
        replayed = requests.get(url, timeout=5)
    assert (replayed.content, replayed.headers["content-encoding"]) == (data, "x-made-up")
    assert len(replay.played) == 1


async def test_a_coding_aiohttp_leaves_alone_is_recorded_as_it_came_and_each_client_reads_it_as_live(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp]
) -> None:
    data = brotli.compress(gzip.compress(BODY))
    url = _serve(openai_server, "recorded-layered", "gzip, br", data)
    async with aiohttp.ClientSession() as session:
        with use_cassette(tmp_path, mode="record") as recording:
            async with session.get(url) as r:
                live = (r.headers["content-encoding"], await r.read())
        assert live == ("gzip, br", data), "aiohttp undoes one coding at a time, not two"
        assert len(recording.recorded) == 1
        (stored,) = (json.loads(f.read_text())["responses"][0] for f in tmp_path.glob("*.json"))
        assert stored["headers"]["content-encoding"] == "gzip, br"
        assert base64.b64decode(stored["base64"]) == data
        with use_cassette(tmp_path, mode="replay"):
            async with session.get(url) as r:
                assert (r.headers["content-encoding"], await r.read()) == live
    with use_cassette(tmp_path, mode="replay"):  # urllib3 undoes both, live and replayed
        assert requests.get(url, timeout=5).json() == PAYLOAD
