"""In ``record-missing``, a recording a ``match_on`` function refuses is missing: it is recorded
again, as replay would have missed it; before, record-missing replayed it without asking the function."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from httpx_cassette import CassetteTransport, Request


def same_model(recorded: Request, incoming: Request) -> bool:
    """A matcher that compares what the key leaves out (the body, with match_on=("method", "path"))."""
    assert isinstance(recorded.body, dict)
    assert isinstance(incoming.body, dict)
    return recorded.body.get("model") == incoming.body.get("model")


def test_record_missing_records_again_what_a_match_on_function_refuses(tmp_path: Path) -> None:
    calls: list[str] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        model = json.loads(request.content)["model"]
        calls.append(model)
        return httpx.Response(200, json={"model": model})

    def client(mode: str) -> httpx.Client:
        transport = CassetteTransport(
            tmp_path, mode=mode, match_on=("method", "path", same_model), inner=httpx.MockTransport(upstream)
        )
        return httpx.Client(transport=transport)

    with client("record") as recording:
        assert recording.post("https://api.test/v1/chat", json={"model": "a"}).json() == {"model": "a"}
    with client("record-missing") as again:
        assert again.post("https://api.test/v1/chat", json={"model": "a"}).json() == {"model": "a"}
        assert calls == ["a"]  # matched: replayed
    with client("record-missing") as other:
        assert other.post("https://api.test/v1/chat", json={"model": "b"}).json() == {"model": "b"}
        assert calls == ["a", "b"]  # refused by the function: recorded again
    with client("replay") as replay:
        assert replay.post("https://api.test/v1/chat", json={"model": "b"}).json() == {"model": "b"}
