"""A stream's events are assembled (a key the model sends in pieces is whole only there) whatever its
first event is: a ``ping`` with no data, stored without ``__data__``, came first and hid the stream."""

from __future__ import annotations

import json
from pathlib import Path

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
