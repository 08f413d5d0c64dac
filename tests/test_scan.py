"""The secret scan: what it finds, what it lets through, refusing a recording with nothing written, and
`scan_directory` for the CLI."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpx_cassette import CassetteSecretError, CassetteTransport, Response
from httpx_cassette.core.scan import Finding, SecretScanner, mask
from httpx_cassette.model.cassette import Event, TransportFailure
from httpx_cassette.storage.scan import scan_directory

# Fakes assembled at run time: no credential-shaped literal sits in the source.
OPENAI = "sk-" + "proj-" + "Ab3dEf6hIj9kLm2nOp5q" * 2
ANTHROPIC = "sk-" + "ant-" + "api03-" + "Zx8cVb7nMq6wEr5tYu4i" * 2
BEARER = "Be" + "arer " + "tok_" + "9fK2pQ7xLm4vRt8s" * 2
AWS_ID = "AKIA" + "IOSFODNN7EXAMPL9"
JWT = (
    "eyJ"
    + "hbGciOiJIUzI1NiJ9"
    + ".eyJ"
    + "zdWIiOiIxMjM0NTY3ODkwIn0"
    + "."
    + "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
RANDOM_HEADER = "Xk9" + "pQ2mZ7vR4tL8wB3nC6yH1jF5"


def kinds(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.path, f.kind) for f in findings]


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (OPENAI, "OpenAI API key"),
        (ANTHROPIC, "Anthropic API key"),
        (BEARER, "bearer token"),
        (AWS_ID, "AWS access key id"),
        (JWT, "JSON Web Token"),
        ("see " + OPENAI + " in the docs", "OpenAI API key"),
    ],
)
def test_known_formats_are_found_anywhere(value: str, kind: str) -> None:
    findings = SecretScanner().scan({"body": {"messages": [{"content": value}]}})
    assert kinds(findings) == [("$.body.messages[0].content", kind)]
    assert value.split()[-1] not in str(findings[0]) or len(value) < 10  # never the value itself


def test_lookalikes_are_not_findings() -> None:
    data = {
        "model": "gpt-4o-mini",
        "text": "task-" + "abcdefghijklmnopqrstuvwxyz012345",  # "sk-" inside a word
        "auth": "Bearer REDACTED",
        "max_tokens": 1000,
        "logprobs": [{"token": "Hello", "logprob": -0.1}],
        "content": [{"type": "thinking", "signature": "EqoBCkgIARABGAIiQL" + "7Zx9Qw7Lm3Np5Rt8Vb2Kd6Hj4F"}],
        "usage": {"input_tokens": 12, "cache_read_input_tokens": 0},
        "next_page_token": "Zx9Qw7Lm3Np5Rt8Vb2Kd6Hj4Fs1Gy0Ce",
        "id": "chatcmpl-" + "0123456789abcdef" * 2,
    }
    assert SecretScanner().scan(data) == []


def test_credential_named_fields() -> None:
    found = SecretScanner().scan(
        {"aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY", "password": "short", "token": "Hi"}
    )
    assert kinds(found) == [
        ("$.aws_secret_access_key", "value of a field named 'aws_secret_access_key'"),
        ("$.password", "value of a field named 'password'"),  # a password is one, whatever it looks like
    ]


def test_random_tokens_in_headers_but_not_ids_or_ordinary_values() -> None:
    headers = {
        "x-request-id": "req_5f1a2b3c4d5e6f708192a3b4c5d6e7f8",
        "request-id": "req_011CV5Jr6jWg9YB6H3b3x5Nq",  # random, but an id header
        "cf-ray": "8f2a1b3c4d5e6f7a-SJC",
        "strict-transport-security": "max-age=31536000; includeSubDomains; preload",
        "openai-version": "2020-10-01",
        "anthropic-organization-id": "27796668-7351-40ac-acc4-024aee8995a5",
        "x-service-info": RANDOM_HEADER,
        "x-service-key": RANDOM_HEADER,
    }
    assert kinds(SecretScanner().scan({"headers": headers})) == [
        ("$.headers.x-service-info", "high-entropy token in a header"),
        ("$.headers.x-service-key", "value of a field named 'x-service-key'"),
    ]
    # Outside headers a random value counts by its name only; a name never switches the rules off.
    assert kinds(SecretScanner().scan({"not_headers": {"x-service-info": RANDOM_HEADER, "x-k": "v"}})) == []
    assert kinds(SecretScanner().scan({"body": {"headers": {"x-service-key": RANDOM_HEADER}}})) == [
        ("$.body.headers.x-service-key", "value of a field named 'x-service-key'")
    ]


def test_allow_list_takes_exact_values_and_patterns() -> None:
    data = {"a": OPENAI, "b": ANTHROPIC, "headers": {"x-k": RANDOM_HEADER}}
    assert SecretScanner([OPENAI, re.compile(r"sk-ant-.*"), RANDOM_HEADER]).scan(data) == []
    assert kinds(SecretScanner([re.compile(r"sk-ant")]).scan(data))[1] == ("$.b", "Anthropic API key")


def test_mask_shows_little() -> None:
    assert mask(OPENAI) == f"sk-pro…({len(OPENAI)} chars)"
    assert mask("abcdefgh") == "ab…(8 chars)"


def test_deep_nesting_is_scanned_without_recursion() -> None:
    data: Any = OPENAI
    for _ in range(5000):
        data = [data]
    assert len(SecretScanner().scan(data)) == 1


def _client(path: Path, mode: str, upstream: Any, **kw: Any) -> httpx.Client:
    transport = CassetteTransport(path, mode=mode, inner=httpx.MockTransport(upstream), **kw)
    return httpx.Client(transport=transport, base_url="https://api.test")


def test_a_request_with_a_credential_is_refused_before_it_is_sent(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={})

    with _client(tmp_path, "record", upstream) as c, pytest.raises(CassetteSecretError) as info:
        c.post("/v1/tools", json={"tool": {"note": OPENAI}})
    assert calls == []
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []
    message = str(info.value)
    assert message.startswith(
        f"refusing to record into cassette {tmp_path}: the request POST https://api.test/v1/tools holds what"
        " looks like a credential, so it was not sent and nothing was written:\n"
        f"  $.request.body.tool.note: OpenAI API key sk-pro…({len(OPENAI)} chars)\n"
    )
    assert 'keep it off disk with redact_json_paths=["tool.note"] (an option of CassetteTransport,' in message
    assert [f.path for f in info.value.findings] == ["$.request.body.tool.note"]  # type: ignore[attr-defined]
    # The remedy it names works:
    with _client(tmp_path, "record", upstream, redact_json_paths=["tool.note"]) as c:
        c.post("/v1/tools", json={"tool": {"note": OPENAI}})
    assert OPENAI.encode() not in next(tmp_path.glob("*.json")).read_bytes()


def test_a_response_with_a_credential_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"note": ANTHROPIC}, headers={"x-service-info": RANDOM_HEADER})

    with _client(tmp_path, "record", upstream) as c, pytest.raises(CassetteSecretError) as info:
        c.get("/v1/keys")
    assert list(tmp_path.iterdir()) == []
    assert str(info.value).splitlines()[1:3] == [
        "  $.responses[0].headers.x-service-info: high-entropy token in a header"
        f" Xk9pQ2…({len(RANDOM_HEADER)} chars)",
        f"  $.responses[0].body.note: Anthropic API key sk-ant…({len(ANTHROPIC)} chars)",
    ]
    assert 'redact_headers=["x-service-info"], redact_json_paths=["note"]' in str(info.value)
    with _client(tmp_path, "record", upstream, allow_secrets=[ANTHROPIC, re.compile(r"Xk9\w+")]) as c:
        assert c.get("/v1/keys").json() == {"note": ANTHROPIC}
    assert len(list(tmp_path.glob("*.json"))) == 1


def test_a_refused_stream_still_reaches_the_caller_and_closes(tmp_path: Path) -> None:
    chunks = [b'data: {"n": 1}\n\n', f'data: {{"note": "{JWT}"}}\n\n'.encode()]

    class Chunks(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield from chunks

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Chunks())

    got: list[bytes] = []
    refused = pytest.raises(CassetteSecretError, match=r"body\[1\]\.__data__\.note")
    with _client(tmp_path, "record", upstream) as c, refused, c.stream("GET", "/v1/events") as r:
        got.extend(r.iter_bytes())
    assert b"".join(got) == b"".join(chunks)
    assert not list(tmp_path.glob("*.json"))


def test_scan_directory_reports_files_paths_and_masks(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "clean.json").write_text(json.dumps({"request": {"method": "GET", "url": "https://x/v1"}}))
    (tmp_path / "sub" / "leaky.json").write_text(
        json.dumps(
            {"request": {"headers": {"authorization": BEARER}}, "responses": [{"body": {"k": AWS_ID}}]}
        )
    )
    (tmp_path / "broken.json").write_text('{"request": {"note": "' + OPENAI + '"\n  trailing garbage')
    (tmp_path / "notes.txt").write_text(OPENAI)  # not a cassette file
    findings = scan_directory(tmp_path)
    broken = "a file that is no JSON (JSON is malformed: expected ',' or '}' (byte 74)), read as text only"
    assert [(f.file.name if f.file else None, f.path, f.kind) for f in findings] == [
        ("broken.json", "$", broken),  # a cassette cut short is not called clean: its bodies were not read
        ("broken.json", "line 1", "OpenAI API key"),
        ("leaky.json", "$.request.headers.authorization", "bearer token"),
        ("leaky.json", "$.responses[0].body.k", "AWS access key id"),
    ]
    assert (
        str(findings[3])
        == f"{tmp_path / 'sub' / 'leaky.json'}: $.responses[0].body.k: AWS access key id AKIAI…(20 chars)"
    )
    assert scan_directory(tmp_path / "sub" / "leaky.json", allow=[AWS_ID, re.compile("Bearer .*")]) == []


def test_the_sdk_neither_retries_nor_wraps_a_refusal(tmp_path: Path) -> None:
    import openai

    calls: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={})

    transport = CassetteTransport(tmp_path, mode="record", inner=httpx.MockTransport(upstream))
    client = openai.OpenAI(
        base_url="https://api.test/v1",
        api_key="test",
        http_client=httpx.Client(transport=transport),
        max_retries=3,
    )
    with pytest.raises(
        CassetteSecretError, match=r"\$\.request\.body\.messages\[0\]\.content: OpenAI API key"
    ):
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": f"my key is {OPENAI}"}]
        )
    assert calls == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "response",
    [
        Response(status=200, headers={"x-custom": "Zx9Qw7Lm3Np5Rt8Vb2Kd6Hj4Fs1Gy0Ce"}, body={"ok": True}),
        Response(status=200, headers={"x-request-id": "req_Zx9Qw7Lm3Np5Rt8Vb2Kd6Hj4F"}, body={"ok": True}),
        Response(status=200, is_streaming=True, body=[Event(data={"text": "no secret here"})] * 50),
        Response(status=200, is_streaming=True, body=[Event(data={"token": JWT})]),
        Response(status=200, body={"nested": {"api_key": "abcdefgh12345678"}}),
        # deep in a long stream, once: in a value, as a field name, as an SSE event name
        Response(
            status=200,
            is_streaming=True,
            body=[Event(data={"n": n, "text": OPENAI if n == 37 else "."}) for n in range(50)],
        ),
        Response(
            status=200,
            is_streaming=True,
            body=[
                Event(data={"client_secret" if n == 12 else "text": f"value-{n}-abcdefgh"}) for n in range(50)
            ],
        ),
        Response(status=200, is_streaming=True, body=[Event(event=BEARER, data={"a": 1})]),
        Response(status=502, error=TransportFailure(type="ReadError", message=f"upstream said {BEARER}")),
    ],
)
def test_the_whole_text_prefilter_finds_what_the_walk_finds(response: Response) -> None:
    scanner = SecretScanner()
    assert scanner.scan_struct(response, "$.responses[0]") == scanner.scan(
        msgspec.to_builtins(response), "$.responses[0]"
    )


_FRAGMENTS = [OPENAI, BEARER, AWS_ID, JWT, "api_key", "password", "hello", "chat.completion.chunk", "gpt-4o"]
# The rules by name and place: echoed headers and queries, a secret object's value, URLs, random tokens.
_FRAGMENTS += [
    "headers",
    "query",
    "code",
    "value",
    "client_secret",
    "x-session-token",
    "base64",
    RANDOM_HEADER,
]
_FRAGMENTS += ["https://ada:pw@db.test/", "https://s3.test/o?X-Amz-Signature=abc", "user_agent"]
# Values inside values: JSON in a string, a pair in text cut short, base64 of text, a form as text.
_FRAGMENTS += [
    json.dumps({"password": "correct horse"}),
    json.dumps([{"note": OPENAI}]),
    '{"api_key": "abcdefgh12345678',
    base64.b64encode(f"DEBUG=1\nKEY={OPENAI}\n".encode()).decode(),
    "access_token=Zx9Qw7Lm3Np5Rt8Vb2Kd",
]
_PIECES = [OPENAI[i : i + 7] for i in range(0, len(OPENAI), 7)] + [" and", "hello"]
_texts = st.lists(st.sampled_from(_FRAGMENTS) | st.text(max_size=12), max_size=3).map(" ".join)
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | _texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_texts, inner, max_size=4),
    max_leaves=12,
)
_events = st.builds(Event, event=st.none() | _texts, data=_json, id=st.none() | _texts, raw=st.booleans())
# A chat completion chunk: a credential streamed piece by piece is whole only once they are joined.
_deltas = st.builds(
    Event, data=st.sampled_from(_PIECES).map(lambda p: {"choices": [{"index": 0, "delta": {"content": p}}]})
)


@settings(suppress_health_check=[HealthCheck.too_slow])  # generation slows on a loaded machine, not the check
@given(
    headers=st.dictionaries(st.sampled_from(["x-a", "x-api-key", "x-request-id"]), _texts, max_size=2),
    events=st.lists(_events | _deltas, max_size=12),
    error=st.none() | st.builds(TransportFailure, type=st.just("ReadError"), message=_texts),
)
def test_the_distinct_strings_prefilter_never_hides_what_the_walk_finds(
    headers: dict[str, str], events: list[Event], error: TransportFailure | None
) -> None:
    response = Response(status=200, headers=headers, is_streaming=True, body=events, error=error)
    scanner = SecretScanner()
    assert scanner.scan_struct(response, "$.responses[0]") == scanner.scan(
        msgspec.to_builtins(response), "$.responses[0]"
    )
