"""A stream's events are assembled (a key the model sends in pieces is whole only there) as a client reads
them: whatever its first event is (a ``ping`` with no data, stored without ``__data__``, came first and
hid the stream), and line by line as httpx splits lines."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.storage.scan import scan_directory
from tests.security.placements import cassette, openai_key


def _delta(text: str) -> dict[str, object]:
    return {
        "event": "content_block_delta",
        "__data__": {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        },
    }


def test_a_stream_starting_with_a_ping_is_assembled(tmp_path: Path) -> None:
    key = openai_key()
    pieces = [key[i : i + 4] for i in range(0, len(key), 4)]
    events = [{"event": "ping"}, *(_delta(piece) for piece in pieces)]
    file = cassette(
        response={"headers": {"content-type": "text/event-stream"}, "is_streaming": True, "body": events}
    )
    (tmp_path / "x.json").write_text(json.dumps(file))
    assert scan_directory(tmp_path)
    (tmp_path / "x.json").write_text(json.dumps(file).replace(key[:4], "Note"))  # the control: no key
    assert scan_directory(tmp_path) == []


def _line(text: str) -> str:
    message = {"role": "assistant", "content": text}
    return json.dumps({"model": "llama3", "message": message, "done": False}, separators=(",", ":"))


def test_a_line_a_client_reads_as_two_is_assembled_as_two(tmp_path: Path) -> None:
    """httpx's iter_lines (ollama's client, httpx-sse) also ends a line at \\x1e, U+2028 and the like: one
    stored line is then two chunks to the client, and a key split across them is whole in its answer."""
    key = openai_key()
    raw = _line(key[:5]) + "\x1e" + _line(key[5:])
    upstream = httpx.MockTransport(
        lambda request: httpx.Response(
            200, headers={"content-type": "application/x-ndjson"}, content=(raw + "\n").encode()
        )
    )
    with (
        httpx.Client(
            transport=CassetteTransport(tmp_path / "recorded", mode="record", inner=upstream)
        ) as client,
        pytest.raises(CassetteSecretError),
    ):
        client.post("http://localhost:11434/api/chat", json={"model": "llama3"}).read()
    events = [{"__data__": raw, "raw": True}]
    file = cassette(
        response={
            "headers": {"content-type": "application/x-ndjson"},
            "is_streaming": True,
            "stream_format": "ndjson",
            "body": events,
        }
    )
    (tmp_path / "x.json").write_text(json.dumps(file))
    assert scan_directory(tmp_path)
