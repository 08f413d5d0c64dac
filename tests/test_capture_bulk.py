"""A recorded stream is parsed in bulk, a batch of whole events at a time (`Capture`): that path must give
exactly the events, ``[DONE]`` flag and offsets that the general, chunk-by-chunk parser gives, however the
bytes were chunked, wherever the batches fell and wherever the stream stopped."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.core import capture as capture_module
from httpx_cassette.core.capture import Capture
from httpx_cassette.core.decoding import IDENTITY
from httpx_cassette.core.strings import Strings, of_events
from httpx_cassette.model.cassette import Response

SSE = [("content-type", "text/event-stream")]


class Clock:
    """A deterministic `time` for the capture module: each reading is 1 ms after the last."""

    def __init__(self) -> None:
        self.now = 0.0

    def perf_counter(self) -> float:
        self.now += 0.001
        return self.now


def record(
    chunks: list[bytes],
    *,
    general: bool,
    truncated: bool = False,
    as_json: bool = False,
    digest_at: int | None = None,
    paced: bool = False,
) -> tuple[Response, Strings | None]:
    """The stored response for ``chunks``, and the strings its capture walked; ``general``: with the bulk
    path switched off; ``as_json``: events held as their JSON text; ``digest_at``: parse a batch between
    chunks once this many bytes wait (None: only at the end); ``paced``: every chunk comes after a gap
    that says the stream is paced (the clock moves 1 ms a reading), so what arrived is parsed at once."""
    with (
        mock.patch.object(capture_module, "time", Clock()),
        mock.patch.object(capture_module, "DIGEST_BYTES", 10**12 if digest_at is None else digest_at),
        mock.patch.object(capture_module, "PACED_S", 0.001 if paced else float("inf")),
        mock.patch.object(capture_module, "PACED_BYTES", 0),
    ):
        if general:
            with mock.patch.object(capture_module, "_plain_events", return_value=None):
                return _record(chunks, truncated, as_json)
        return _record(chunks, truncated, as_json)


def _record(chunks: list[bytes], truncated: bool, as_json: bool) -> tuple[Response, Strings | None]:
    capture = Capture(200, SSE, IDENTITY, 0.0, events_as_json=as_json)
    for chunk in chunks:
        capture.feed(chunk)
        capture.digest()  # as the tee does, once the caller has the chunk
    return capture.finish(truncated=truncated), capture.walked


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
PAYLOADS = st.one_of(
    JSON.map(lambda v: json.dumps(v, separators=(",", ":")).encode()),
    JSON.map(lambda v: json.dumps(v, ensure_ascii=False).encode()),  # spaced, non-ASCII
    st.sampled_from([b"[DONE]", b"", b"not json", b'{"a":', b'"\xff"', b"\xe9t\xe9", b"data: x", b"1e400"]),
)


@st.composite
def plain_streams(draw: st.DrawFn) -> bytes:
    """Events of one ``data: `` line each, maybe ``[DONE]`` anywhere, maybe a last one cut short."""
    text = b"".join(b"data: " + value + b"\n\n" for value in draw(st.lists(PAYLOADS, max_size=12)))
    tail = draw(st.sampled_from([b"", b"", b"data: {", b"data: [DONE]", b"data: 1\n", b": ping\n\n"]))
    return text + tail


# Events the bulk path leaves to the general parser, for a stream that turns general midway.
ODD_EVENTS = [b"event: ping\ndata: {}\n\n", b": keep-alive\n\n", b"id: 7\ndata: 1\n\n", b"data: a\r\n\r\n"]


@st.composite
def mixed_streams(draw: st.DrawFn) -> bytes:
    """Plain events with, maybe, events of other shapes among them."""
    plain = PAYLOADS.map(lambda value: b"data: " + value + b"\n\n")
    pieces = draw(st.lists(st.one_of(plain, st.sampled_from(ODD_EVENTS))))
    tail = draw(st.sampled_from([b"", b"data: {", b"data: 1\n"]))
    return b"".join(pieces) + tail


def chunks_of(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(stream) + 1) for c in cuts})
    return [stream[a:b] for a, b in itertools.pairwise([0, *points, len(stream)]) if b > a]


def view(response: Response) -> tuple[Any, ...]:
    """What a response holds, with event data held as JSON text decoded."""
    events = [msgspec.structs.replace(event, data=event.parsed()) for event in response.events()]
    return events, response.done, response.offsets_ms, response.truncated


@settings(max_examples=600, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stream=plain_streams(),
    cuts=st.lists(st.integers(0, 2000), max_size=8),
    truncated=st.booleans(),
    as_json=st.booleans(),
)
def test_bulk_parse_records_what_the_chunk_parser_records(
    stream: bytes, cuts: list[int], truncated: bool, as_json: bool
) -> None:
    chunks = chunks_of(stream, cuts)
    bulk, walked = record(chunks, general=False, truncated=truncated, as_json=as_json)
    general, _ = record(chunks, general=True, truncated=truncated)
    assert view(bulk) == view(general)
    if walked is not None:  # the strings walked while parsing are those of the stored events
        assert walked == of_events(general.events())
        assert as_json


@settings(max_examples=600, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stream=st.one_of(plain_streams(), mixed_streams()),
    cuts=st.lists(st.integers(0, 2000), max_size=10),
    truncated=st.booleans(),
    as_json=st.booleans(),
    digest_at=st.sampled_from([None, 0, 1, 24, 80]),
    paced=st.booleans(),
)
def test_parsing_in_batches_while_the_stream_arrives_records_what_parsing_at_the_end_records(
    stream: bytes, cuts: list[int], truncated: bool, as_json: bool, digest_at: int | None, paced: bool
) -> None:
    chunks = chunks_of(stream, cuts)
    batched, walked = record(
        chunks, general=False, truncated=truncated, as_json=as_json, digest_at=digest_at, paced=paced
    )
    general, _ = record(chunks, general=True, truncated=truncated, digest_at=digest_at)
    at_end, _ = record(chunks, general=True, truncated=truncated)
    assert view(batched) == view(general) == view(at_end)
    if walked is not None:  # only while every batch was plain: the walk saw every event
        assert walked == of_events(general.events())


@pytest.mark.parametrize("paced", [False, True])
def test_a_long_stream_is_parsed_while_it_arrives(paced: bool) -> None:
    # What is left for the end of a 2,000-event stream is its last batch: a few events when paced.
    events = [{"i": i, "choices": [{"index": 0, "delta": {"content": f"t{i} "}}]} for i in range(2_000)]
    wire = [b"data: " + json.dumps(event).encode() + b"\n\n" for event in events]
    capture = Capture(200, SSE, IDENTITY, 0.0, events_as_json=True)
    parsed = []
    with (
        mock.patch.object(Capture, "_parse_chunks", side_effect=AssertionError("general parser used")),
        mock.patch.object(capture_module, "PACED_S", 0.0 if paced else float("inf")),
    ):
        for chunk in wire:
            capture.feed(chunk)
            capture.digest()
            parsed.append(len(capture._events.events))
        batch = capture_module.PACED_BYTES if paced else capture_module.DIGEST_BYTES
        assert parsed[-1] >= 2_000 - batch // len(wire[0]) - 1
        assert parsed[-1] < 2_000  # the last batch waits for the end
        response = capture.finish(truncated=False)
    assert [event.parsed()["i"] for event in response.events()] == list(range(2_000))
    # The text the stream sent piece by piece, whole across its batches: where a key sent in pieces shows.
    assert capture.walked is not None
    assert "".join(f"t{i} " for i in range(2_000)) in capture.walked.found


def test_a_plain_stream_takes_the_bulk_path_and_keeps_each_chunks_arrival() -> None:
    events = [{"i": i, "content": f"token {i}"} for i in range(2_000)]
    wire = [b"data: " + json.dumps(e).encode() + b"\n\n" for e in events] + [b"data: [DONE]\n\n"]
    # Two events in some chunks and an event split over two in others: offsets follow the completing chunk.
    chunks = [wire[0] + wire[1], *wire[2:10], wire[10][:7], wire[10][7:] + wire[11], *wire[12:]]
    with mock.patch.object(Capture, "_parse_chunks", side_effect=AssertionError("general parser used")):
        response, _ = record(chunks, general=False)
    assert [event.data for event in response.events()] == events
    assert response.done is True
    assert response.offsets_ms is not None
    # One offset per event, [DONE] included. The clock read 1 ms when the response began, so chunk k
    # (from 0) arrived at k + 2 ms.
    offsets = list(response.offsets_ms)
    assert offsets[:2] == [2.0, 2.0]
    assert offsets[2:10] == [float(k) for k in range(3, 11)]
    assert offsets[10:12] == [12.0, 12.0]  # event 10 was completed by chunk 10, which also held event 11
    assert len(offsets) == 2_001


# -- through the transport: events held as JSON text while recording --------------------------------------

CHUNK = {"id": "c1", "object": "chat.completion.chunk", "choices": [{"delta": {"content": "hi"}}]}


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"


def stream_twice(path: Path, bodies: list[bytes], **options: Any) -> list[dict[str, Any]]:
    """Record the same streamed request once per body, in one session; the file's responses."""
    answers = iter(bodies)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=next(answers))

    transport = CassetteTransport(path, mode="record", inner=httpx.MockTransport(handler), **options)
    with httpx.Client(transport=transport) as client:
        for _ in bodies:
            with client.stream("POST", "https://api.example.com/v1/chat", json={"stream": True}) as response:
                response.read()
    (file,) = path.glob("*.json")
    responses: list[dict[str, Any]] = json.loads(file.read_text())["responses"]
    return responses


def test_a_stream_recorded_twice_in_one_session_is_written_once_each(tmp_path: Path) -> None:
    # The second write merges with the file on disk (objects) what this session holds (JSON text):
    # the first recording must be recognised, not written again.
    first, second = sse(CHUNK), sse({**CHUNK, "id": "c2"})
    responses = stream_twice(tmp_path / "c", [first, second, second])
    ids = [[event["__data__"]["id"] for event in r["body"]] for r in responses]
    assert ids == [["c1"], ["c2"], ["c2"]]


def test_a_secret_named_field_in_a_stream_is_redacted_and_a_known_key_refused(tmp_path: Path) -> None:
    # A JSON-text event has to be decoded to be redacted, and is scanned with its strings.
    token = "tok" + "Q7x9Lm2Vb8Nc4Zd6Fg1Hj3K"
    responses = stream_twice(tmp_path / "a", [sse({**CHUNK, "session_token": token})])
    assert responses[0]["body"][0]["__data__"]["session_token"] == "REDACTED"
    key = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"
    with pytest.raises(CassetteSecretError):
        stream_twice(tmp_path / "b", [sse({**CHUNK, "note": f"use {key}"})])
    assert not list((tmp_path / "b").glob("*.json"))


def test_a_key_streamed_in_pieces_across_batches_is_refused(tmp_path: Path) -> None:
    # The pieces fall on both sides of a batch boundary; only the assembled text holds the key.
    key = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"

    def event(piece: str) -> bytes:
        data = {**CHUNK, "choices": [{"index": 0, "delta": {"content": piece}}]}
        return b"data: " + json.dumps(data).encode() + b"\n\n"

    filler = "x" * 199 + " "
    first_batch = -(-capture_module.DIGEST_BYTES // len(event(filler)))  # events in the first batch
    pieces = [filler] * (2 * first_batch)
    pieces[first_batch - 2 : first_batch + 3] = ["sk", "-pr", "oj-", key[8:20], key[20:]]
    chunks = [event(piece) for piece in pieces]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=iter(chunks))

    def read() -> None:
        transport = CassetteTransport(tmp_path / "sync", mode="record", inner=httpx.MockTransport(handler))
        with (
            httpx.Client(transport=transport) as client,
            client.stream("POST", "https://api.example.com/v1/chat", json={"stream": True}) as response,
        ):
            for _ in response.iter_raw():
                pass

    with pytest.raises(CassetteSecretError):
        read()

    async def streamed() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    async def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=streamed())

    async def read_async() -> None:
        transport = CassetteTransport(tmp_path / "async", mode="record", inner=httpx.MockTransport(answer))
        async with httpx.AsyncClient(transport=transport) as client:
            request = client.build_request("POST", "https://api.example.com/v1/chat", json={"stream": True})
            response = await client.send(request, stream=True)
            try:
                async for _ in response.aiter_raw():
                    pass
            finally:
                await response.aclose()

    with pytest.raises(CassetteSecretError):
        asyncio.run(read_async())
    assert not list(tmp_path.rglob("*.json"))
