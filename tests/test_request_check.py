"""A request's JSON body (a whole conversation) is first checked by the C-speed pre-check over its
distinct strings and keys, and walked value by value only when that says it may hold a credential: what
the walk of the whole request finds, the check of a recording still finds, and a request holding one is
refused before it is sent."""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.core.scan import SecretScanner
from httpx_cassette.model.cassette import Request, builtins


def _token(seed: int, n: int = 40) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


KEY = "sk-" + "proj-" + _token(1, 48)
_FRAGMENTS = [
    KEY,
    "ghp_" + _token(2, 36),
    "AKIA" + _token(3, 16).upper(),
    "see https://user:" + _token(4, 12) + "@db.example.com/x",
    "/v1/x?api_key=" + _token(5, 24),
    base64.b64encode(KEY.encode()).decode(),
    KEY.encode("utf-16-le").decode(),
    "password: " + _token(6, 20),
    "API_KEY=" + _token(7, 32),
    "AccountKey=" + _token(8, 40) + ";EndpointSuffix=core.windows.net",
    'note {"token": "' + _token(9, 24) + '"',
    "a=1&client_secret=" + _token(10, 24),
    "Authorization: Bearer " + _token(11, 32),
    "Summarize this article about the weather.",
    "You are a helpful assistant.",
    "x",
    "",
]
_NAMES = ["content", "text", "input", "api_key", "password", "query", "headers", "metadata", "name"]


@st.composite
def bodies(draw: st.DrawFn) -> Any:
    """A chat request's JSON with fragments anywhere: message contents, named fields, nested objects,
    lists, keys."""
    messages = [
        {
            "role": draw(st.sampled_from(["system", "user", "assistant"])),
            "content": draw(st.sampled_from(_FRAGMENTS)),
        }
        for _ in range(draw(st.integers(0, 4)))
    ]
    body: dict[str, Any] = {"model": "gpt-4o-mini", "messages": messages}
    for _ in range(draw(st.integers(0, 3))):
        value: Any = draw(st.sampled_from(_FRAGMENTS))
        shape = draw(st.sampled_from(["plain", "list", "nested", "key", "json"]))
        if shape == "list":
            value = [value]
        elif shape == "nested":
            value = {draw(st.sampled_from(_NAMES)): value}
        elif shape == "json":
            value = json.dumps({draw(st.sampled_from(_NAMES)): value})
        if shape == "key":
            body[value or "k"] = 1
        else:
            body[draw(st.sampled_from(_NAMES))] = value
    return body


@settings(max_examples=600, derandomize=True, deadline=None)
@given(body=bodies())
def test_the_check_of_a_request_finds_what_walking_all_of_it_finds(body: Any) -> None:
    request = Request(method="POST", url="https://api.openai.com/v1/chat/completions", body=body)
    scanner = SecretScanner()
    assert scanner.scan_struct(request, "$.request") == scanner.scan(builtins(request), "$.request")


@pytest.mark.parametrize("fragment", [f for f in _FRAGMENTS[:13]])
def test_a_request_whose_conversation_holds_a_credential_is_refused_before_it_is_sent(
    tmp_path: Path, fragment: str
) -> None:
    sent: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True})

    transport = CassetteTransport(tmp_path, mode="record", inner=httpx.MockTransport(upstream))
    conversation = [{"role": "user", "content": f"Hello {i}"} for i in range(50)]
    conversation.insert(25, {"role": "user", "content": fragment})
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteSecretError):
        client.post("https://api.openai.com/v1/chat/completions", json={"messages": conversation})
    assert sent == []
    assert not list(tmp_path.glob("*.json"))
