"""Miss diagnostics: the closest recorded requests, the structured diff of the best one, and the hints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteMiss, CassetteTransport
from httpx_cassette.core.miss import Difference, MissReport
from httpx_cassette.model.jsondiff import MISSING

SYSTEM = "You are a helpful assistant. Today is 2024-01-01; answer briefly and cite the sources you use."


def chat(*user: str, **extra: Any) -> dict[str, Any]:
    messages = [{"role": "system", "content": SYSTEM}, *({"role": "user", "content": u} for u in user)]
    return {"model": "gpt-4o-mini", "messages": messages, **extra}


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    transport = CassetteTransport(
        tmp_path, mode="record", inner=httpx.MockTransport(upstream), match_headers=["x-tenant"]
    )
    with httpx.Client(transport=transport, base_url="https://api.test") as c:
        c.post("/v1/chat/completions", json=chat("Hello there", "Hi", user="u-1"), headers={"x-tenant": "a"})
        c.post("/v1/embeddings", json={"model": "text-embedding-3-small", "input": "Hi"})
        c.get("/v1/models", params={"limit": "10"})
    return tmp_path


def miss(path: Path, method: str, url: str, mode: str | None = "replay", **kw: Any) -> CassetteMiss:
    transport = CassetteTransport(
        path, mode=mode, match_headers=["x-tenant"], strict_repeats=kw.pop("strict", False)
    )
    times = kw.pop("times", 1)
    with httpx.Client(transport=transport, base_url="https://api.test") as c:
        for _ in range(times - 1):
            c.request(method, url, **kw)
        with pytest.raises(CassetteMiss) as info:
            c.request(method, url, **kw)
    return info.value


def report(error: CassetteMiss) -> MissReport:
    assert isinstance(error.details, MissReport)
    return error.details


def test_best_candidate_and_body_diff_down_to_the_path(recorded: Path) -> None:
    error = miss(
        recorded,
        "POST",
        "/v1/chat/completions",
        json=chat("Hello there", "Hello", user="u-1"),
        headers={"x-tenant": "a"},
    )
    lines = str(error).splitlines()
    assert lines[0] == f"no recording for POST /v1/chat/completions in cassette {recorded}"
    assert lines[2] == "  closest recorded requests, best first:"
    assert lines[3].startswith("    1. post-chat-completions-")
    assert lines[3].endswith(": POST /v1/chat/completions, 1 difference (body)")
    assert lines[4].startswith("    2. post-embeddings-")
    assert lines[4].endswith(": POST /v1/embeddings, 6 differences (path, header, body)")
    assert lines[5].startswith("    3. get-models-")
    assert lines[6] == f"  how {report(error).candidates[0].file.name} differs (recorded → requested):"
    assert lines[7] == '    body messages[2].content: "Hi" → "Hello"'
    assert lines[8] == (  # the prompt changed: never advise leaving it out of the key
        "  hint: the request changed (messages[2].content differs): the recording is stale, so record it"
        " again (as below) rather than leave what the code sends on purpose out of the key"
    )
    assert "ignore_json_paths" not in str(error)
    best = report(error).best
    assert best is not None
    assert best.differences == [Difference("body", "messages[2].content", "Hi", "Hello")]


def test_the_same_diagnosis_as_data(recorded: Path) -> None:
    error = miss(recorded, "GET", "/v1/models", params={"limit": "20", "after": "m-1"})
    data = report(error).as_dict()
    assert (data["reason"], data["method"], data["path"]) == ("no recording", "GET", "/v1/models")
    assert data["directory_exists"] is True
    assert data["candidates"][0]["differences"] == [
        {"part": "query", "where": "limit", "change": "changed", "recorded": "10", "requested": "20"},
        {"part": "query", "where": "after", "change": "added", "recorded": None, "requested": "m-1"},
    ]
    assert '    query limit: "10" → "20"' in str(error)
    assert '    query after: (absent) → "m-1"' in str(error)


def test_long_values_are_shortened_around_the_difference(recorded: Path) -> None:
    changed = SYSTEM.replace("2024-01-01", "2024-01-02")
    body = chat("Hello there", "Hi", user="u-1")
    body["messages"][0]["content"] = changed
    error = miss(recorded, "POST", "/v1/chat/completions", json=body, headers={"x-tenant": "a"})
    assert (
        "    body messages[0].content: …. Today is 2024-01-01; answer briefly and cite the sources y…"
        " → …. Today is 2024-01-02; answer briefly and cite the sources y…"
    ) in str(error).splitlines()
    [difference] = report(error).candidates[0].differences
    assert difference.requested == changed  # the data keeps the whole value


def test_method_header_and_removed_field(recorded: Path) -> None:
    body = chat("Hello there", "Hi")  # no "user"
    error = miss(recorded, "PUT", "/v1/chat/completions", json=body, headers={"x-tenant": "b"})
    assert [str(d) for d in report(error).candidates[0].differences] == [
        'method: "POST" → "PUT"',
        'header x-tenant: "a" → "b"',
        'body user: "u-1" → (absent)',
    ]
    assert report(error).candidates[0].differences[2].change == "removed"


def test_only_a_header_differs(recorded: Path) -> None:
    error = miss(
        recorded,
        "POST",
        "/v1/chat/completions",
        json=chat("Hello there", "Hi", user="u-1"),
        headers={"x-tenant": "b"},
    )
    assert "  hint: only the header x-tenant differs; it is in the key because of match_headers" in str(error)


def test_a_built_in_key_header_is_not_blamed_on_match_headers(tmp_path: Path) -> None:
    # No match_headers: the content type and the beta headers are in every key, for reasons of their own.
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    record = CassetteTransport(tmp_path, mode="record", inner=httpx.MockTransport(upstream))
    with httpx.Client(transport=record, base_url="https://api.test") as client:
        client.post("/v1/messages", json=chat("Hi"), headers={"anthropic-beta": "files-api-2025-04-14"})
        client.post("/v1/files", content=b"some text", headers={"content-type": "text/plain"})
    with httpx.Client(transport=CassetteTransport(tmp_path), base_url="https://api.test") as client:
        with pytest.raises(CassetteMiss) as beta:
            client.post("/v1/messages", json=chat("Hi"), headers={"anthropic-beta": "files-api-2026-01-01"})
        with pytest.raises(CassetteMiss) as content_type:
            client.post("/v1/files", content=b"some text", headers={"content-type": "text/markdown"})
    hints = [
        line for error in (beta, content_type) for line in str(error.value).splitlines() if "hint:" in line
    ]
    assert hints[0] == (
        "  hint: only the header anthropic-beta differs: every key holds the beta headers (openai-beta and"
        " anthropic-beta), since they change what the API does; an SDK upgrade or other betas changed it:"
        " record again"
    )
    assert (
        "  hint: only the content type differs: the recording has content-type text/plain, the request sent"
        " text/markdown; every key holds the content type (it says how the body is read): give a"
        " recording written by hand the request's content-type header, or record again"
    ) in hints
    assert not any("match_headers" in hint for hint in hints)


def test_strict_repeats_hint(recorded: Path) -> None:
    error = miss(recorded, "GET", "/v1/models", params={"limit": "10"}, strict=True, times=2)
    assert (
        str(error).splitlines()[0]
        == f"all 1 recorded responses were already played for GET /v1/models in cassette {recorded}"
    )
    assert (
        "  hint: this request was recorded 1 time and this is call 2 with strict_repeats=True: record the"
        " extra call (record-missing), or pass strict_repeats=False to replay the last response again"
    ) in str(error)
    assert "differs" not in str(error)  # the best candidate is the request itself


def test_missing_directory_hint(tmp_path: Path) -> None:
    error = miss(tmp_path / "nope", "GET", "/v1/models", mode=None)
    text = str(error)
    assert f"in cassette {tmp_path / 'nope'} (the directory does not exist)" in text
    assert text.count("does not exist") == 1
    assert "  hint: check the path, or record into it" in text.splitlines()  # absolute: no "relative to"
    assert report(error).directory_exists is False
    assert report(error).candidates == []


def test_empty_cassette_hint(tmp_path: Path) -> None:
    error = miss(tmp_path, "GET", "/v1/models", mode=None)
    assert f"  hint: the cassette {tmp_path} holds no recordings yet" in str(error)


def test_where_the_mode_came_from(recorded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from_argument = str(miss(recorded, "GET", "/v1/nothing"))
    assert (
        "  hint: the mode 'replay' was passed as the mode argument, which wins over HTTPX_CASSETTE_MODE"
    ) in from_argument
    assert from_argument.endswith(
        "  to record it: pass mode='record-missing' instead of mode='replay'"
        " (to CassetteTransport / use_cassette)"
    )
    assert "HTTPX_CASSETTE_MODE=record-missing" not in from_argument  # it would change nothing
    monkeypatch.setenv("HTTPX_CASSETTE_MODE", "replay")
    from_env = str(miss(recorded, "GET", "/v1/nothing", mode=None))
    assert "  hint: HTTPX_CASSETTE_MODE=replay is set in the environment, so nothing is recorded" in from_env
    assert from_env.endswith("  to record it: run with HTTPX_CASSETTE_MODE=record-missing")
    monkeypatch.delenv("HTTPX_CASSETTE_MODE")
    by_default = str(miss(recorded, "GET", "/v1/nothing", mode=None))
    assert "hint: HTTPX_CASSETTE_MODE" not in by_default
    assert "mode argument" not in by_default
    assert by_default.endswith(
        "  to record it: run with HTTPX_CASSETTE_MODE=record-missing"
        " (or pass mode='record-missing' to CassetteTransport / use_cassette)"
    )


def test_body_kinds_that_differ() -> None:
    from httpx_cassette.core.miss import compare

    base = {"method": "POST", "path": "/x", "query": [], "headers": {}}
    json_body = {**base, "body": {"json": {"a": 1}}}
    text_body = {**base, "body": {"text": "a=1"}}
    no_body = {**base, "body": None}
    assert compare(json_body, text_body) == [Difference("body", "", {"a": 1}, "a=1")]
    assert compare(no_body, json_body) == [Difference("body", "", MISSING, {"a": 1})]
    form_a = {**base, "body": {"form": [["a", "1"], ["b", "2"]]}}
    form_b = {**base, "body": {"form": [["a", "1"], ["b", "3"]]}}
    assert compare(form_a, form_b) == [Difference("body", "b", "2", "3")]


def test_many_differences_are_capped(tmp_path: Path) -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={})

    with httpx.Client(
        transport=CassetteTransport(tmp_path, mode="record", inner=httpx.MockTransport(upstream))
    ) as c:
        c.post("https://api.test/v1/x", json={f"f{i}": i for i in range(12)})
    error = miss(tmp_path, "POST", "/v1/x", json={f"f{i}": -i - 1 for i in range(12)})
    lines = str(error).splitlines()
    assert "    body f7: 7 → -8" in lines
    assert "    body f8: 8 → -9" not in lines
    assert "    … and 4 more" in lines
    assert "ignore_json_paths" not in str(error)  # 12 changed fields is not a volatile field


def test_a_random_token_in_a_query_or_header_value_is_masked_in_the_diff(tmp_path: Path) -> None:
    old, live = "3f1c9a7be2d04c5f8a6b1e0d9c7f2a4b", "8d2e4f6a0b1c3d5e7f9a2b4c6d8e0f1a"
    transport = CassetteTransport(
        tmp_path,
        mode="record",
        inner=httpx.MockTransport(lambda _: httpx.Response(200, json={"temp": 12})),
        match_headers=["x-tenant"],
    )
    with httpx.Client(transport=transport, base_url="https://api.test") as c:
        c.get("/weather", params={"q": "Paris", "appid": old}, headers={"x-tenant": old})
    caught = miss(
        tmp_path, "GET", f"https://api.test/weather?q=Paris&appid={live}", headers={"x-tenant": live}
    )
    text = str(caught)
    assert "query appid" in text  # still names the difference
    assert "header x-tenant" in text
    assert live not in text
    assert old not in text
    assert f"{live[:6]}…(32 chars)" in text
    # An ordinary value still shows whole: the diff stays useful.
    caught = miss(tmp_path, "GET", f"https://api.test/weather?q=Lyon&appid={old}", headers={"x-tenant": old})
    assert '"Paris" → "Lyon"' in str(caught)
