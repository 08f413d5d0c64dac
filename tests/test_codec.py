"""Unit tests of `httpx_cassette.storage.codec`: encoding never touches the file it is given."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import httpx
import msgspec
import pytest

from httpx_cassette import CassetteTransport
from httpx_cassette.errors import CassetteFormatError
from httpx_cassette.model.cassette import CassetteFile, Event, Request, Response
from httpx_cassette.storage.codec import decode_file, encode_file


def streamed() -> CassetteFile:
    events = [Event(data={"n": i}) for i in range(50)]
    responses = [Response(status=200, is_streaming=True, body=list(events)) for _ in range(3)]
    return CassetteFile(request=Request(method="POST", url="https://x/v1/chat"), responses=responses)


def test_encode_leaves_its_argument_as_it_was() -> None:
    cassette = streamed()
    bodies = [r.body for r in cassette.responses]
    before = msgspec.to_builtins(cassette)
    data = encode_file(cassette)
    assert msgspec.to_builtins(cassette) == before
    assert all(r.body is body for r, body in zip(cassette.responses, bodies, strict=True))
    assert decode_file(data, "x.json") == cassette
    assert data.count(b'\n        {"__data__"') == 150  # each event on a line of its own


def test_a_reader_never_sees_a_half_encoded_file() -> None:
    # Encoding used to swap each stream's events for a marker string and put them back afterwards:
    # a thread replaying the same file in between saw a string where its events belong.
    cassette = streamed()
    stop = threading.Event()
    encoded = [0]

    def encode() -> None:
        while not stop.is_set() and encoded[0] < 3000:
            encode_file(cassette)
            encoded[0] += 1

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, to land inside an encode
    writer = threading.Thread(target=encode)
    writer.start()
    try:
        seen: set[type] = set()
        while writer.is_alive():
            seen.update(type(r.body) for r in cassette.responses)
    finally:
        stop.set()
        writer.join()
        sys.setswitchinterval(interval)
    assert encoded[0] == 3000
    assert seen == {list}


def test_a_syntax_error_is_placed_by_line_and_column() -> None:
    text = '{\n  "version": 1,,\n  "request": {"method": "GET", "url": "https://x/é"}\n}\n'
    with pytest.raises(CassetteFormatError) as info:
        decode_file(text.encode(), "x.json")
    assert info.value.problem == "JSON is malformed: object keys must be strings (line 2, column 16)"
    accented = '{\n  "a": "éé" x\n}\n'  # columns count characters, not UTF-8 bytes
    with pytest.raises(CassetteFormatError, match=r"\(line 2, column 13\)$"):
        decode_file(accented.encode(), "x.json")
    with pytest.raises(CassetteFormatError, match=r"truncated$"):  # no place to give
        decode_file(b'{"version": 1', "x.json")


def test_a_body_holding_the_marker_events_are_written_at_keeps_its_text(tmp_path: Path) -> None:
    # The file is written with each stream's events put where a marker string stands: a body holding
    # such a string must keep it, and the events must go to their stream
    marker = "@@httpx-cassette-events-0@@"
    sse = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n'
    upstream = httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse)
    )
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.post("https://api.test/v1/chat", json={"note": marker}).read()
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client:
        assert client.post("https://api.test/v1/chat", json={"note": marker}).content == sse
    [file] = tmp_path.glob("*.json")
    assert json.loads(file.read_text())["request"]["body"] == {"note": marker}
