"""What never reaches disk: default secret headers and query parameters, body fields a user names,
placeholders (written to disk, restored on replay), and all of them at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteTransport, Request, Response
from httpx_cassette.core.redact import Redaction
from httpx_cassette.model.cassette import Event

# Fakes built by concatenation, so no credential-shaped literal sits in the source.
ACCOUNT = "acct_" + "7731" * 4
OPENAI_KEY = "sk-" + "proj-" + "T3stK3y" * 5
PASSWORD = "hunter2-" + "pw" * 6
NESTED_KEY = "nested-" + "k9" * 8
SESSION_KEY = "sess-" + "Q7" * 10


def client(path: Path, mode: str, upstream: Any = None, **kw: Any) -> httpx.Client:
    inner = httpx.MockTransport(upstream) if upstream else None
    transport = CassetteTransport(path, mode=mode, inner=inner, **kw)
    return httpx.Client(transport=transport, base_url="https://api.test")


def every_byte(path: Path) -> bytes:
    return b"".join(f.read_bytes() for f in sorted(path.rglob("*")) if f.is_file())


def test_body_paths_are_redacted_in_the_request_and_the_key_still_matches(tmp_path: Path) -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True})

    options = {"redact_json_paths": ["password", "users[*].token"]}
    body = {"password": PASSWORD, "users": [{"token": "t-1", "name": "a"}, {"token": "t-2"}], "q": 1}
    with client(tmp_path, "record", upstream, **options) as c:
        c.post("/v1/login", json=body)
    [file] = tmp_path.glob("*.json")
    stored = json.loads(file.read_text())["request"]["body"]
    assert stored == {
        "password": "REDACTED",
        "users": [{"token": "REDACTED", "name": "a"}, {"token": "REDACTED"}],
        "q": 1,
    }
    other = {
        **body,
        "password": "another-password",
        "users": [{"token": "t-9", "name": "a"}, {"token": "t-8"}],
    }
    with client(tmp_path, "replay", **options) as c:
        assert c.post("/v1/login", json=other).json() == {"ok": True}  # redacted before keying


def test_redaction_reaches_response_bodies_and_stream_events() -> None:
    redaction = Redaction(json_paths=["client_secret.value"])
    plain = Response(status=200, body={"client_secret": {"value": "ek-1", "expires_at": 5}})
    assert redaction.response(plain).body == {"client_secret": {"value": "REDACTED", "expires_at": 5}}
    stream = Response(
        status=200,
        is_streaming=True,
        body=[Event(data={"client_secret": {"value": "ek-2"}}), Event(data="x", raw=True)],
    )
    assert [e.data for e in redaction.response(stream).events()] == [
        {"client_secret": {"value": "REDACTED"}},
        "x",
    ]
    assert plain.body == {"client_secret": {"value": "ek-1", "expires_at": 5}}, "the original is not changed"


def test_placeholders_hide_and_restore() -> None:
    redaction = Redaction(placeholders={"<ACCOUNT>": ACCOUNT, "<UNSET>": ""})
    request = Request(
        method="GET",
        url=f"https://api.test/v1/accounts/{ACCOUNT}/usage?owner={ACCOUNT}%21",
        headers={"x-account": ACCOUNT},
    )
    hidden = redaction.request(request)
    assert hidden.url == "https://api.test/v1/accounts/<ACCOUNT>/usage?owner=<ACCOUNT>%21"
    assert hidden.headers == {"x-account": "<ACCOUNT>"}
    response = Response(
        status=200,
        headers={"x-owner": ACCOUNT},
        body={"id": ACCOUNT, f"by {ACCOUNT}": [f"{ACCOUNT}/a"]},
        error=None,
    )
    stored = redaction.response(response)
    assert stored.body == {"id": "<ACCOUNT>", "by <ACCOUNT>": ["<ACCOUNT>/a"]}
    assert stored.headers == {"x-owner": "<ACCOUNT>"}
    assert redaction.restore(stored) == response


def test_placeholders_in_percent_encoded_urls() -> None:
    secret = "team a/b"
    redaction = Redaction(placeholders={"<TEAM>": secret})
    hidden = redaction.request(Request(method="GET", url="https://api.test/v1/teams/team%20a%2Fb"))
    assert hidden.url == "https://api.test/v1/teams/<TEAM>"


def test_longer_secret_wins_over_one_it_contains() -> None:
    redaction = Redaction(placeholders={"<SHORT>": "abc123", "<LONG>": "abc123xyz"})
    assert redaction.hide("abc123xyz and abc123") == "<LONG> and <SHORT>"


def test_redact_headers_drops_request_and_response_headers(tmp_path: Path) -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={}, headers={"x-session-key": SESSION_KEY, "x-request-id": "r1"})

    with client(
        tmp_path, "record", upstream, match_headers=["x-tenant"], redact_headers=["X-Session-Key", "x-tenant"]
    ) as c:
        c.get("/v1/me", headers={"x-tenant": "tenant-secret"})
    data = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert data["responses"][0]["headers"] == {"content-type": "application/json", "x-request-id": "r1"}
    assert "headers" not in data["request"]  # x-tenant was the only one kept, and it is redacted


class _Events(httpx.SyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks


def test_no_planted_secret_reaches_any_byte_under_the_cassette(tmp_path: Path) -> None:
    """Secrets in request headers, query, body fields, URL path (placeholder), response headers, response
    bodies and stream events: none is on disk after recording, and replay still matches and restores."""

    def upstream(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        headers = {
            "set-cookie": f"session={SESSION_KEY}",
            "openai-organization": "org-" + ACCOUNT,
            "x-session-key": SESSION_KEY,
            "x-owner": ACCOUNT,
        }
        if body.get("stream"):
            chunks = [
                f'data: {{"delta": "account {ACCOUNT}"}}\n\n'.encode(),
                f'data: {{"password": "{PASSWORD}"}}\n\n'.encode(),
                b"data: [DONE]\n\n",
            ]
            headers["content-type"] = "text/event-stream"
            return httpx.Response(200, headers=headers, stream=_Events(chunks))
        return httpx.Response(
            200, headers=headers, json={"echo": body, "owner": ACCOUNT, "password": PASSWORD}
        )

    options: dict[str, Any] = {
        "redact_json_paths": ["password", "nested.api_key", "echo.password", "echo.nested.api_key"],
        "redact_headers": ["x-session-key"],
        "placeholders": {"<ACCOUNT>": ACCOUNT},
    }
    secret_headers = {
        "authorization": f"Bearer {OPENAI_KEY}",
        "x-api-key": OPENAI_KEY,
        "api-key": OPENAI_KEY,
        "cookie": f"session={SESSION_KEY}",
        "openai-organization": "org-" + ACCOUNT,
    }
    query = f"api-key={OPENAI_KEY}&key={OPENAI_KEY}&token={SESSION_KEY}" + (
        f"&access_token={SESSION_KEY}&sig={SESSION_KEY}"
    )
    url = f"/v1/accounts/{ACCOUNT}/chat?{query}"
    body = {"password": PASSWORD, "nested": {"api_key": NESTED_KEY}, "note": f"for {ACCOUNT}"}
    with client(tmp_path, "record", upstream, **options) as c:
        live = c.post(url, json=body, headers=secret_headers).json()
        with c.stream("POST", url, json={**body, "stream": True}, headers=secret_headers) as r:
            live_stream = b"".join(r.iter_bytes())

    on_disk = every_byte(tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 2
    for secret in (ACCOUNT, OPENAI_KEY, PASSWORD, NESTED_KEY, SESSION_KEY):
        assert secret.encode() not in on_disk, secret
    assert b"<ACCOUNT>" in on_disk

    with client(tmp_path, "replay", **options) as c:
        replayed = c.post(url, json=body, headers=secret_headers)
        with c.stream("POST", url, json={**body, "stream": True}, headers=secret_headers) as r:
            replayed_stream = b"".join(r.iter_bytes())
    assert replayed.json() == {
        **live,
        "password": "REDACTED",
        "echo": {**live["echo"], "password": "REDACTED", "nested": {"api_key": "REDACTED"}},
    }
    assert replayed.json()["owner"] == ACCOUNT  # the placeholder is restored on replay
    assert replayed.headers["x-owner"] == ACCOUNT
    assert "x-session-key" not in replayed.headers
    assert "set-cookie" not in replayed.headers
    assert (
        replayed_stream
        == f'data: {{"delta":"account {ACCOUNT}"}}\n\n'.encode()
        + b'data: {"password":"REDACTED"}\n\ndata: [DONE]\n\n'
    )
    assert f"account {ACCOUNT}".encode() in live_stream


def test_placeholder_matches_whatever_value_replay_runs_with(tmp_path: Path) -> None:
    """Record with the real account id, replay in CI with a fake one: the same placeholder, the same key."""

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"path": request.url.path})

    with client(tmp_path, "record", upstream, placeholders={"<ACCOUNT>": ACCOUNT}) as c:
        c.get(f"/v1/accounts/{ACCOUNT}")
    fake = {"<ACCOUNT>": "acct_fake_for_ci"}
    with client(tmp_path, "replay", placeholders=fake, restore_unsealed=True) as c:
        assert c.get("/v1/accounts/acct_fake_for_ci").json() == {"path": "/v1/accounts/acct_fake_for_ci"}
    # By default a value the seal was not made with is not put back: it may be a real one a pull request
    # placed the placeholder for. The request still matches: the key holds the placeholder.
    with client(tmp_path, "replay", placeholders=fake) as c, pytest.warns(UserWarning, match="no seal"):
        assert c.get("/v1/accounts/acct_fake_for_ci").json() == {"path": "/v1/accounts/<ACCOUNT>"}


def test_an_unknown_redact_path_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty JSON path"):
        Redaction(json_paths=["..."])
