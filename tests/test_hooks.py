"""Hooks, custom matching, the request log and recording age, through the public API
(`use_cassette`, `CassetteTransport`) against an in-memory server (``httpx.MockTransport``)."""

from __future__ import annotations

import asyncio
import json
import warnings
from pathlib import Path

import httpx
import msgspec
import pytest

from httpx_cassette import CassetteError, CassetteMiss, CassetteSecretError, CassetteTransport, use_cassette
from httpx_cassette.errors import CassetteAgeWarning, CassetteExpired
from httpx_cassette.model.cassette import Request, Response


def echo(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content) if request.content else {}
    return httpx.Response(200, json={"echo": body, "path": request.url.path})


def client(path: Path, mode: str, **options: object) -> httpx.Client:
    transport = CassetteTransport(path, mode, inner=httpx.MockTransport(echo), **options)  # type: ignore[arg-type]
    return httpx.Client(transport=transport, base_url="https://api.example.com")


def files(path: Path) -> str:
    return "".join(f.read_text() for f in sorted(path.glob("*.json")))


def drop_user(request: Request) -> Request:
    """A hook that redacts a body field: the replayed request must still match."""
    body = dict(request.body) if isinstance(request.body, dict) else request.body
    if isinstance(body, dict):
        body["user"] = "someone"
    return msgspec.structs.replace(request, body=body)


def test_request_hook_runs_before_keying_so_replay_still_matches(tmp_path: Path) -> None:
    with client(tmp_path, "record", before_record_request=drop_user) as c:
        c.post("/chat", json={"q": "hi", "user": "alice@example.com"})
    assert json.loads(files(tmp_path))["request"]["body"]["user"] == "someone"
    with client(tmp_path, "replay", before_record_request=drop_user) as c:
        assert c.post("/chat", json={"q": "hi", "user": "bob@example.com"}).status_code == 200


def test_request_hook_returning_none_passes_the_request_through_unrecorded(tmp_path: Path) -> None:
    def skip_health(request: Request) -> Request | None:
        return None if request.url.endswith("/health") else request

    with use_cassette(tmp_path, "replay", before_record_request=skip_health) as cassette:
        transport = httpx.MockTransport(echo)
        with httpx.Client(transport=transport) as c:
            c.get("https://api.example.com/health")
    assert not list(tmp_path.glob("*.json"))
    assert [s.status for s in cassette.requests] == []  # MockTransport is not intercepted
    with client(tmp_path, "replay", before_record_request=skip_health) as c:
        assert c.get("/health").json()["path"] == "/health"  # forwarded although replaying
    assert not list(tmp_path.glob("*.json"))


def test_response_hook_changes_or_drops_what_is_written(tmp_path: Path) -> None:
    def scrub(response: Response) -> Response | None:
        if response.status != 200:
            return None
        return msgspec.structs.replace(response, body={"scrubbed": True})

    with client(tmp_path, "record", before_record_response=scrub) as c:
        assert c.post("/a", json={"n": 1}).json()["path"] == "/a"  # the caller gets the real answer
    assert '"scrubbed"' in files(tmp_path)
    with client(tmp_path, "replay") as c:
        assert c.post("/a", json={"n": 1}).json() == {"scrubbed": True}


def test_a_hook_that_raises_is_a_cassette_error_naming_it(tmp_path: Path) -> None:
    def broken(request: Request) -> Request:
        raise KeyError("model")

    c = client(tmp_path, "record", before_record_request=broken)
    with pytest.raises(CassetteError) as info:
        c.post("/chat", json={})
    assert (
        "before_record_request hook test_a_hook_that_raises_is_a_cassette_error_naming_it.<locals>.broken"
        in str(info.value)
    )
    assert "KeyError" in str(info.value)


def test_match_on_names_and_functions(tmp_path: Path) -> None:
    with client(tmp_path, "record", match_on=["method", "path"]) as c:
        c.post("/chat", json={"q": "recorded"})
    with client(tmp_path, "replay", match_on=["method", "path"]) as c:
        assert c.post("/chat", json={"q": "other"}).json()["echo"] == {"q": "recorded"}  # body ignored

    def same_question(recorded: Request, incoming: Request) -> bool:
        return recorded.body == incoming.body

    with client(tmp_path, "replay", match_on=["method", "path", same_question]) as c:
        with pytest.raises(CassetteMiss, match=r"match_on function .*same_question refused"):
            c.post("/chat", json={"q": "other"})
        assert c.post("/chat", json={"q": "recorded"}).status_code == 200
    with pytest.raises(CassetteError, match="unknown match_on entry 'bodyy'"):
        client(tmp_path, "replay", match_on=["bodyy"])


@pytest.mark.parametrize("is_async", [False, True])
def test_a_match_on_function_judges_every_request_even_once_its_response_is_in_memory(
    tmp_path: Path, is_async: bool
) -> None:
    with client(tmp_path, "record", match_on=["method", "path"]) as c:
        c.post("/chat", json={"q": "recorded"})

    def same_question(recorded: Request, incoming: Request) -> bool:
        return recorded.body == incoming.body

    transport = CassetteTransport(tmp_path, "replay", match_on=["method", "path", same_question])
    questions = ["recorded", "recorded", "other"]  # the second is replayed from memory; so is the key
    if not is_async:
        with httpx.Client(transport=transport, base_url="https://api.example.com") as c:
            assert c.post("/chat", json={"q": questions[0]}).status_code == 200
            assert c.post("/chat", json={"q": questions[1]}).status_code == 200
            with pytest.raises(CassetteMiss, match=r"same_question refused"):
                c.post("/chat", json={"q": questions[2]})
        return

    async def run() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="https://api.example.com") as c:
            assert (await c.post("/chat", json={"q": questions[0]})).status_code == 200
            assert (await c.post("/chat", json={"q": questions[1]})).status_code == 200
            with pytest.raises(CassetteMiss, match=r"same_question refused"):
                await c.post("/chat", json={"q": questions[2]})

    asyncio.run(run())


def test_requests_lists_what_the_code_sent_in_order_with_status(tmp_path: Path) -> None:
    with client(tmp_path, "record") as c:
        c.post("/chat", json={"messages": [{"role": "user", "content": "capital of France?"}]})
    question = {"messages": [{"role": "user", "content": "capital of France?"}]}
    with use_cassette(tmp_path, "replay") as cassette, httpx.Client() as c:
        c.post("https://api.example.com/chat", json=question)
        with pytest.raises(CassetteMiss):
            c.get("https://api.example.com/unknown")
    first, second = cassette.requests
    assert (first.method, first.url, first.status) == ("POST", "https://api.example.com/chat", "replayed")
    assert "France" in first.json()["messages"][-1]["content"]
    assert first.headers["content-type"] == "application/json"
    assert (second.method, second.status) == ("GET", "missed")


def _age(path: Path, recorded_at: str) -> None:
    for file in path.glob("*.json"):
        data = json.loads(file.read_text())
        data["meta"]["recorded_at"] = recorded_at
        file.write_text(json.dumps(data))


def test_max_age_warns_fails_when_strict_and_record_missing_re_records(tmp_path: Path) -> None:
    with client(tmp_path, "record") as c:
        c.post("/chat", json={"q": 1})
    _age(tmp_path, "2020-01-01T00:00:00+00:00")
    with client(tmp_path, "replay", max_age="90d") as c, pytest.warns(CassetteAgeWarning, match="days ago"):
        c.post("/chat", json={"q": 1})
    strict = client(tmp_path, "replay", max_age="90d", strict_age=True)
    with pytest.raises(CassetteExpired, match=r"post-chat.*\.json was recorded .* days ago"):
        strict.post("/chat", json={"q": 1})
    with client(tmp_path, "record-missing", max_age="90d") as c:
        c.post("/chat", json={"q": 1})
    recorded_at = json.loads(files(tmp_path))["meta"]["recorded_at"]
    assert not recorded_at.startswith("2020")  # re-recorded
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with client(tmp_path, "replay", max_age="90d") as c:
            c.post("/chat", json={"q": 1})  # fresh: no warning
    with pytest.raises(CassetteError, match="max_age 'soon' is not an age"):
        client(tmp_path, "replay", max_age="soon")


def test_a_response_hook_that_changes_stream_events_in_place_is_checked_after_it(tmp_path: Path) -> None:
    """A hook may edit the events it is given and return the same response: the credential check reads
    what the hook left, not the strings the recording walked before it."""
    key = "sk-proj-" + "a1B2c3D4" * 6
    stream = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n'

    def hook(response: Response) -> Response:
        response.events()[0].data["choices"][0]["delta"]["content"] = f"your key is {key}"
        return response

    inner = httpx.MockTransport(
        lambda _: httpx.Response(200, headers={"content-type": "text/event-stream"}, content=stream)
    )
    transport = CassetteTransport(tmp_path, "record", inner=inner, before_record_response=hook)
    with httpx.Client(transport=transport) as http, pytest.raises(CassetteSecretError):
        http.post("https://api.example.com/v1/chat/completions", json={}).read()
    assert not list(tmp_path.rglob("*.json"))
