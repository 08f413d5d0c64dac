"""`Cassette` used directly, with the public types only: plan a live request, save what it got, replay it.
Nothing it is handed is changed."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import msgspec
import pytest

from httpx_cassette import Cassette, CassetteMiss, Meta, Play, Record, Request, Response

BODY = {"model": "gpt-4o", "input": "hi"}


def live() -> httpx.Request:
    return httpx.Request("POST", "https://api.openai.com/v1/responses", json=BODY)


def test_plan_save_and_replay_with_public_types(tmp_path: Path) -> None:
    recorder = Cassette(tmp_path, mode="record")
    plan = recorder.plan(live())
    assert isinstance(plan, Record)
    recorder.save(plan, Response(status=200, headers={"content-type": "application/json"}, body={"ok": 1}))
    replayer = Cassette(tmp_path, mode="replay")
    played = replayer.plan(live())
    assert isinstance(played, Play)
    assert played.prepared.status == 200
    assert json.loads(b"".join(played.prepared.chunks)) == {"ok": 1}
    headers = {"content-type": "application/json"}
    stored = Request(method="POST", url="https://api.openai.com/v1/responses", headers=headers, body=BODY)
    assert replayer.key(stored) == replayer.key(live()) == played.key
    assert replayer.canonical(live())["path"] == "/v1/responses"


def test_save_copies_meta_and_response(tmp_path: Path) -> None:
    cassette = Cassette(tmp_path, mode="record", scope="tests/test_a.py::test_one")
    plan = cassette.plan(live())
    assert isinstance(plan, Record)
    meta = Meta(recorder="my tool 1.0")
    response = Response(status=200, body={"ok": 1})
    before = (msgspec.to_builtins(meta), msgspec.to_builtins(response))
    cassette.save(plan, response, meta)
    assert (msgspec.to_builtins(meta), msgspec.to_builtins(response)) == before
    [file] = tmp_path.glob("*.json")
    written = json.loads(file.read_text())
    assert written["meta"]["recorder"] == "my tool 1.0"
    assert written["meta"]["recorded_at"]  # stamped on the copy
    assert written["responses"][0]["test_id"] == "tests/test_a.py::test_one"


def test_repeated_live_requests_are_keyed_once_and_the_log_stays_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from httpx_cassette.storage import cassette as module

    recorder = Cassette(tmp_path, mode="record")
    plan = recorder.plan(httpx.Request("POST", "https://api.test/v1/x", json={"n": 1}))
    assert isinstance(plan, Record)
    recorder.save(plan, Response(status=200, body={"ok": True}))
    monkeypatch.setattr(module, "REQUESTS_KEPT", 10)
    keyed: list[object] = []
    real_key_of = module.key_of
    monkeypatch.setattr(module, "key_of", lambda *a: keyed.append(a) or real_key_of(*a))
    replay = Cassette(tmp_path, mode="replay")
    for _ in range(25):
        assert isinstance(replay.plan(httpx.Request("POST", "https://api.test/v1/x", json={"n": 1})), Play)
    assert len(keyed) == 1  # the other 24 came from the memo
    other = httpx.Request("POST", "https://api.test/v1/x", json={"n": 2})
    with pytest.raises(CassetteMiss):  # a different body is keyed anew, and misses
        replay.plan(other)
    assert len(keyed) >= 2
    assert len(replay.requests) <= 10
    assert replay.requests[-1].status == "missed"
    # What was played is bounded too, and still counts every play and knows every response it used.
    assert len(replay.played) <= 10
    assert replay.played.total == 25
    assert {key for key, _ in replay.played.pairs} == {plan.key}
    assert replay.unused() == []
