"""Canonical keys: what makes two requests the same recording, and what does not."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteTransport, KeyOptions, Request, canonical_form, key_of

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}], "stream": True}


def request(
    body: Any = BODY,
    *,
    url: str = "https://api.openai.com/v1/chat/completions",
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    method: str = "POST",
) -> httpx.Request:
    if content is None and body is not None:
        content = json.dumps(body).encode()
    base = {"content-type": "application/json"} if content else {}
    return httpx.Request(method, url, content=content, headers={**base, **(headers or {})})


def key(req: httpx.Request, options: KeyOptions | None = None) -> str:
    return key_of(req, options)


def test_key_is_sha256_hex() -> None:
    k = key(request())
    assert len(k) == 64
    assert int(k, 16) >= 0


def test_json_key_order_does_not_matter() -> None:
    reordered = {"stream": True, "messages": [{"content": "Hi", "role": "user"}], "model": "gpt-4o"}
    assert key(request(reordered)) == key(request())


def test_json_whitespace_does_not_matter() -> None:
    pretty = json.dumps(BODY, indent=4).encode()
    assert key(request(content=pretty)) == key(request())


def test_changed_message_changes_key() -> None:
    changed = {**BODY, "messages": [{"role": "user", "content": "Hello"}]}
    assert key(request(changed)) != key(request())


def test_host_and_scheme_ignored_by_default() -> None:
    azure = request(url="http://my-proxy.internal:8080/v1/chat/completions")
    assert key(azure) == key(request())


def test_host_counts_when_asked() -> None:
    options = KeyOptions(include_host=True)
    azure = request(url="http://my-proxy.internal:8080/v1/chat/completions")
    assert key(azure, options) != key(request(), options)


def test_path_counts() -> None:
    assert key(request(url="https://api.openai.com/v1/completions")) != key(request())


def test_sdk_telemetry_headers_ignored() -> None:
    noisy = request(
        headers={
            "x-stainless-retry-count": "2",
            "x-stainless-os": "Linux",
            "x-stainless-read-timeout": "600",
            "user-agent": "OpenAI/Python 9.9.9",
            "accept-encoding": "gzip, br",
            "authorization": "Bearer sk-test-fake",
        }
    )
    assert key(noisy) == key(request())


def test_semantic_headers_count() -> None:
    assert key(request(headers={"openai-beta": "assistants=v2"})) != key(request())
    assert key(request(headers={"anthropic-beta": "tools-2024"})) != key(request())


def test_content_type_parameters_ignored() -> None:
    with_charset = request(headers={"content-type": "application/json; charset=utf-8"})
    assert key(with_charset) == key(request())


def test_user_match_headers() -> None:
    options = KeyOptions(match_headers=("X-Tenant",))
    a = request(headers={"x-tenant": "a"})
    b = request(headers={"x-tenant": "b"})
    assert key(a, options) != key(b, options)
    assert key(a) == key(b)


def test_query_sorted_by_name_and_repeats_keep_order() -> None:
    a = request(None, method="GET", url="https://x/v1/models?b=2&a=1&a=3")
    b = request(None, method="GET", url="https://x/v1/models?a=1&b=2&a=3")
    c = request(None, method="GET", url="https://x/v1/models?a=3&b=2&a=1")
    assert key(a) == key(b)
    assert key(a) != key(c)
    assert canonical_form(a)["query"] == [("a", "1"), ("a", "3"), ("b", "2")]


def test_pagination_cursor_is_distinct() -> None:
    first = request(None, method="GET", url="https://x/v1/models")
    second = request(None, method="GET", url="https://x/v1/models?after=model-9")
    assert key(first) != key(second)


def test_form_urlencoded_sorted() -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    a = httpx.Request("POST", "https://x/token", content=b"b=2&a=1", headers=form)
    b = httpx.Request("POST", "https://x/token", content=b"a=1&b=2", headers=form)
    assert key(a) == key(b)


def test_multipart_boundary_does_not_matter_but_content_does() -> None:
    def upload(content: bytes, boundary: bytes) -> httpx.Request:
        return httpx.Request(
            "POST",
            "https://x/v1/files",
            data={"purpose": "assistants"},
            files={"file": ("a.jsonl", content, "application/jsonl")},
            headers={"content-type": f"multipart/form-data; boundary={boundary.decode()}"},
        )

    a, b = upload(b'{"x": 1}\n', b"aaaa1111"), upload(b'{"x": 1}\n', b"bbbb2222")
    a.read(), b.read()
    assert a.content != b.content
    assert key(a) == key(b)
    assert key(upload(b'{"x": 2}\n', b"aaaa1111")) != key(a)


def test_multipart_file_contents_hashed_not_stored() -> None:
    req = httpx.Request("POST", "https://x/v1/files", files={"file": ("a.bin", b"SECRET-CONTENT" * 10)})
    assert "SECRET-CONTENT" not in json.dumps(canonical_form(req))
    parts = canonical_form(req)["body"]["multipart"]  # type: ignore[index]
    assert parts[0]["filename"] == "a.bin"
    assert parts[0]["size"] == 140


def test_ignore_json_paths() -> None:
    options = KeyOptions(ignore_json_paths=("metadata.trace_id", "messages[*].id"))
    a = {**BODY, "metadata": {"trace_id": "t-1", "keep": 1}, "messages": [{"id": "a", "content": "Hi"}]}
    b = {**BODY, "metadata": {"trace_id": "t-2", "keep": 1}, "messages": [{"id": "b", "content": "Hi"}]}
    c = {**BODY, "metadata": {"trace_id": "t-2", "keep": 2}, "messages": [{"id": "b", "content": "Hi"}]}
    assert key(request(a), options) == key(request(b), options)
    assert key(request(a), options) != key(request(c), options)
    assert key(request(a)) != key(request(b))


def test_ignore_path_by_index() -> None:
    options = KeyOptions(ignore_json_paths=("messages[0].content",))
    a = {"messages": [{"content": "x"}, {"content": "y"}]}
    b = {"messages": [{"content": "z"}, {"content": "y"}]}
    assert key(request(a), options) == key(request(b), options)


def test_empty_ignore_path_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty JSON path"):
        KeyOptions(ignore_json_paths=("",))


def test_bytes_body() -> None:
    a = httpx.Request("POST", "https://x/upload", content=b"\xff\x00\x01")
    b = httpx.Request("POST", "https://x/upload", content=b"\xff\x00\x02")
    assert key(a) != key(b)
    assert canonical_form(a)["body"] == {"base64_sha256": hashlib.sha256(b"/wAB").hexdigest()}


def test_secret_query_params_redacted_before_keying() -> None:
    a = request(None, method="GET", url="https://x/v1/models?api-key=sk-one&limit=2")
    b = request(None, method="GET", url="https://x/v1/models?api-key=sk-two&limit=2")
    assert key(a) == key(b)
    assert "sk-one" not in json.dumps(canonical_form(a))


def test_large_body_key() -> None:
    big = {"messages": [{"role": "user", "content": "x" * 1_000_000}]}
    assert len(key(request(big))) == 64


# -- what key_of and canonical_form accept ------------------------------------------------------------


def test_live_httpx_request_keys_like_its_stored_form() -> None:
    live = request(url="https://api.openai.com/v1/chat/completions?limit=2")
    stored = Request(
        method="POST",
        url="https://api.openai.com/v1/chat/completions?limit=2",
        headers={"content-type": "application/json"},
        body=BODY,
    )
    assert key_of(live) == key_of(stored)
    assert canonical_form(live) == canonical_form(stored)


def test_live_request_key_is_the_key_a_transport_records_it_under(tmp_path: Any) -> None:
    options = KeyOptions(match_headers=("x-tenant",))
    live = request(headers={"x-tenant": "acme"})
    transport = CassetteTransport(tmp_path, match_headers=["x-tenant"])
    assert key_of(live, options) == transport.key(live)
    assert key_of(live, options) != key_of(request(headers={"x-tenant": "other"}), options)


@pytest.mark.skipif(importlib.util.find_spec("httpx2") is None, reason="httpx2 missing")
def test_live_httpx2_request_is_accepted() -> None:
    import httpx2

    live = httpx2.Request("POST", "https://api.openai.com/v1/chat/completions", json=BODY)
    assert key_of(live) == key(request())
    assert canonical_form(live)["body"] == {"json": BODY}


def test_streamed_request_body_is_read_first() -> None:
    streamed = httpx.Request("POST", "https://x/upload", content=iter([b"\xff\x00", b"\x01"]))
    assert key_of(streamed) == key(httpx.Request("POST", "https://x/upload", content=b"\xff\x00\x01"))


def test_unread_async_body_says_to_read_it() -> None:
    async def body() -> Any:
        yield b"{}"

    streamed = httpx.Request("POST", "https://x/upload", content=body())
    with pytest.raises(TypeError, match=r"await request\.aread\(\)"):
        key_of(streamed)
