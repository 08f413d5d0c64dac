"""aiohttp's ``auto_decompress=False`` while recording: replay hands the caller what it read live.

With ``auto_decompress`` off (the session's, or the request's) aiohttp gives its caller the body as it
came, with its ``content-encoding``. The recording stores it so (base64, with its header), as the store
keeps any body its client did not decode, and replay gives it back as it came to a caller with
``auto_decompress`` off, and decoded to one with it on, as a live response would. A body aiohttp decoded
(``auto_decompress`` on) is stored decoded without its header, as httpx recordings are: replayed with
``auto_decompress`` off it comes decoded, with no header saying otherwise.

The reference is aiohttp itself: the same bytes served live from a canned endpoint on 127.0.0.1.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import use_cassette
from tests.servers.echo import Canned
from tests.servers.openai_app import OpenAIApp
from tests.servers.runner import LiveServer

aiohttp = pytest.importorskip("aiohttp")
requests = pytest.importorskip("requests")
brotli = pytest.importorskip("brotli")
zstandard = pytest.importorskip("zstandard")

PAYLOAD = {"answer": "hello", "items": list(range(40))}
BODY = json.dumps(PAYLOAD, separators=(",", ":")).encode()  # as a stored JSON body is served again
COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}
# How a caller asks: aiohttp's default, the session's auto_decompress=False, the request's.
HOW = ("on", "session off", "request off")
Seen = tuple[str | None, bytes]  # the content-encoding header the caller sees, and the bytes it reads


async def read(url: str, how: str) -> Seen:
    async with aiohttp.ClientSession(auto_decompress=how != "session off") as session:
        override = {"auto_decompress": False} if how == "request off" else {}
        async with session.get(url, **override) as response:
            return response.headers.get("content-encoding"), await response.read()


async def replayed(directory: Path, url: str, how: str) -> Seen:
    with use_cassette(directory, mode="replay") as cassette:
        seen = await read(url, how)
    assert len(cassette.played) == 1
    assert not cassette.misses
    return seen


def serve(server: LiveServer[OpenAIApp], name: str, coding: str, data: bytes) -> str:
    headers = [("content-type", "application/json"), ("content-encoding", coding)]
    server.app.canned[name] = Canned(content=data, headers=headers)
    return f"{server.url}/v1/canned/{name}"


def stored_response(directory: Path) -> dict[str, Any]:
    (file,) = directory.glob("*.json")
    return dict(json.loads(file.read_text())["responses"][0])


@pytest.mark.parametrize("recorded_with", ["session off", "request off"])
@pytest.mark.parametrize("coding", list(COMPRESS))
async def test_a_body_recorded_with_auto_decompress_off_replays_as_live_under_either_setting(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp], coding: str, recorded_with: str
) -> None:
    data = COMPRESS[coding](BODY)
    url = serve(openai_server, f"off-{coding}-{recorded_with.split()[0]}", coding, data)
    live = {how: await read(url, how) for how in HOW}
    assert live == {"on": (coding, BODY), "session off": (coding, data), "request off": (coding, data)}

    with use_cassette(tmp_path, mode="record") as recording:
        assert await read(url, recorded_with) == (coding, data)
    assert len(recording.recorded) == 1
    stored = stored_response(tmp_path)
    assert stored["headers"]["content-encoding"] == coding  # kept: the body is stored as it came
    assert base64.b64decode(stored["base64"]) == data
    assert "body" not in stored

    assert {how: await replayed(tmp_path, url, how) for how in HOW} == live
    with use_cassette(tmp_path, mode="replay"):  # the other clients decode it, as they would live
        assert requests.get(url, timeout=5).json() == PAYLOAD
        assert httpx.get(url).json() == PAYLOAD


@pytest.mark.parametrize("coding", ["gzip", "br"])
async def test_a_body_recorded_with_auto_decompress_on_is_stored_decoded(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp], coding: str
) -> None:
    url = serve(openai_server, f"on-{coding}", coding, COMPRESS[coding](BODY))
    with use_cassette(tmp_path, mode="record"):
        assert await read(url, "on") == (coding, BODY)
    stored = stored_response(tmp_path)
    assert stored["body"] == PAYLOAD  # readable, as httpx recordings of a compressed body are
    assert "content-encoding" not in stored["headers"]
    assert (await replayed(tmp_path, url, "on"))[1] == BODY
    # Nothing of the coding is left to give back: decoded, and no header claims otherwise.
    for how in ("session off", "request off"):
        assert await replayed(tmp_path, url, how) == (None, BODY)


async def test_two_codings_aiohttp_leaves_alone_are_stored_as_they_came(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp]
) -> None:
    """aiohttp undoes one coding, never two: with ``auto_decompress`` on its caller gets ``gzip, gzip``
    as it came, and so does a replay; urllib3 undoes both, live and replayed."""
    data = gzip.compress(gzip.compress(BODY))
    url = serve(openai_server, "twice", "gzip, gzip", data)
    live = {how: await read(url, how) for how in HOW}
    assert set(live.values()) == {("gzip, gzip", data)}
    with use_cassette(tmp_path, mode="record"):
        await read(url, "on")
    stored = stored_response(tmp_path)
    assert (stored["headers"]["content-encoding"], base64.b64decode(stored["base64"])) == ("gzip, gzip", data)
    assert {how: await replayed(tmp_path, url, how) for how in HOW} == live
    with use_cassette(tmp_path, mode="replay"):
        assert requests.get(url, timeout=5).json() == PAYLOAD


async def test_a_compressed_stream_read_with_auto_decompress_off_replays_byte_for_byte(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp]
) -> None:
    """A gzip stream flushed event by event, read chunk by chunk as it came; replayed decoded to a
    session with ``auto_decompress`` on."""
    compressor = zlib.compressobj(wbits=31)
    events = [f"data: {json.dumps({'n': n})}\n\n".encode() for n in range(5)]
    pieces = [compressor.compress(event) + compressor.flush(zlib.Z_SYNC_FLUSH) for event in events]
    data = b"".join(pieces) + compressor.flush()
    headers = [("content-type", "text/event-stream"), ("content-encoding", "gzip")]
    openai_server.app.canned["stream"] = Canned(content=data, headers=headers)
    url = f"{openai_server.url}/v1/canned/stream"

    async def chunks(how: str) -> bytes:
        async with aiohttp.ClientSession(auto_decompress=how == "on") as session, session.get(url) as r:
            return b"".join([chunk async for chunk in r.content.iter_chunked(7)])

    with use_cassette(tmp_path, mode="record"):
        live = await chunks("session off")
    assert live == data
    for how, expected in (("session off", data), ("on", b"".join(events))):
        with use_cassette(tmp_path, mode="replay") as cassette:
            assert await chunks(how) == expected
        assert len(cassette.played) == 1
