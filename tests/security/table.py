"""The credential placements of issue 12 part 2: each a place a secret hides, in a request or a
response, how to send it for real, and how to plant it by hand (see placements.py)."""

from __future__ import annotations

import base64
import json
import secrets
import zlib
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from tests.conftest import HAS_HTTPX2
from tests.security.placements import (
    Canned,
    Ctx,
    Placement,
    aws_key_id,
    b64,
    canned,
    cassette,
    chat_reply,
    gzipped,
    hex32,
    in_request,
    in_response,
    json_field,
    openai_key,
    password,
    plain,
    query,
    response_header,
    sdk_chat,
    sdk_get,
    sdk_post,
    token,
)

__all__ = ["PLACEMENTS"]

JSON_TYPE = ("content-type", "application/json")
FORM = {"content-type": "application/x-www-form-urlencoded"}


TEXT = ("content-type", "text/plain")
SSE = ("content-type", "text/event-stream")


def _tool_call(arguments: dict[str, Any]) -> dict[str, Any]:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "login", "arguments": json.dumps(arguments)},
    }
    return {"role": "assistant", "tool_calls": [call]}


def _form_json(secret: str) -> str:
    return "payload=" + quote_plus(json.dumps({"type": "block_actions", "token": secret}))


def _latin1_json(secret: str) -> bytes:
    return json.dumps({"note": "caf\xe9", "password": secret}, ensure_ascii=False).encode("latin-1")


def _env_b64(secret: str) -> str:
    return base64.encodebytes(f"DEBUG=1\nOPENAI_API_KEY={secret}\n".encode()).decode("ascii")


def _packed(coding: str, secret: str) -> bytes:
    """A JSON body holding ``secret``, compressed as ``coding`` (deflate: raw, as some servers send it)."""
    body = json.dumps({"messages": [{"role": "user", "content": f"use {secret} " * 20}]}).encode()
    if coding == "br":
        return bytes(__import__("brotli").compress(body))
    if coding == "zstd":
        return bytes(__import__("zstandard").ZstdCompressor().compress(body))
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(body) + packer.flush()


def _encoded_url(secret: str) -> str:
    return quote(f"https://files.test/y?key={secret}", safe="")


def _pieces(text: str) -> list[str]:
    return [text[i : i + 4] for i in range(0, len(text), 4)]


def _split_stream(text: str) -> bytes:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}}]}
    events = []
    for piece in _pieces(text):
        chunk["choices"][0]["delta"] = {"content": piece}
        events.append(b"data: " + json.dumps(chunk).encode() + b"\n\n")
    return b"".join(events) + b"data: [DONE]\n\n"


def digits() -> str:
    return str(secrets.randbelow(9 * 10**11) + 10**11)


def _expect_connect_error(ctx: Ctx, secret: str) -> None:
    """The failing transport's ConnectError (httpx's or httpx2's) is recorded, then raised as it was."""
    with ctx.client(userinfo=f"a:{quote(secret, safe='')}") as client:
        errors = (httpx.ConnectError, *((__import__("httpx2").ConnectError,) if HAS_HTTPX2 else ()))
        with pytest.raises(errors):
            client.get("/v1/echo/e")


def _error_inner() -> Any:
    """A transport that fails the way a proxy or resolver does: naming the URL, userinfo and all."""

    class Failing(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    return Failing()


PLACEMENTS: list[Placement] = [
    # -- URLs: userinfo, query parameters (any spelling), path segments --
    Placement(
        "url userinfo password",
        password,
        lambda ctx, s: ctx.sdk(userinfo=f"alice:{quote(s, safe='')}").get("/echo/u", cast_to=httpx.Response),
        "redacted",
        in_request(url=lambda s: f"https://alice:{quote(s, safe='')}@api.test/v1/echo/u"),
    ),
    *(
        query(name)
        for name in (
            *("api-key", "apikey", "apiKey", "API_KEY", "client_secret", "password", "subscription-key"),
            *("code", "token", "access_token", "sig", "signature", "X-Amz-Signature", "X-Amz-Security-Token"),
        )
    ),
    Placement(
        "query X-Amz-Credential",
        lambda: f"{aws_key_id()}/20260101/us-east-1/s3/aws4_request",
        sdk_get("/echo/q", params=lambda s: {"X-Amz-Credential": s}),
        "redacted",
        in_request(url=lambda s: f"https://api.test/v1/echo/q?X-Amz-Credential={quote(s, safe='')}"),
    ),
    Placement(
        "path /bot<token>/",
        token,
        lambda ctx, s: ctx.sdk().get(f"/echo/bot123456789:{s}/getMe", cast_to=httpx.Response),
        "refused",
        in_request(url=lambda s: f"https://api.test/v1/echo/bot123456789:{s}/getMe"),
    ),
    Placement(
        "path hex key",
        hex32,
        lambda ctx, s: ctx.sdk().get(f"/echo/keys/{s}", cast_to=httpx.Response),
        "refused",
        in_request(url=lambda s: f"https://api.test/v1/echo/keys/{s}"),
    ),
    # -- secret-named fields in JSON request bodies, echoed into JSON responses --
    json_field("api_key", openai_key),
    json_field("password", password),
    json_field("client_secret", token),
    json_field("secret", hex32),
    json_field("key", token),
    json_field("token", hex32),
    json_field("session_token", token),
    json_field("auth", token, lambda s: {"private_key": s}),
    json_field("credentials", password, lambda s: {"password": s}),
    json_field("headers", hex32, lambda s: {"x-session-token": s, "x-api-key": s}),  # an echoed object
    json_field("pin", digits, lambda s: {"password": int(s) if s.isdigit() else s}),  # a number
    Placement(
        "chat metadata token",
        token,
        sdk_chat(lambda s: "hello", metadata=lambda s: {"session_token": s}),
        "redacted",
        in_request(body=lambda s: {"metadata": {"session_token": s}}),
    ),
    # -- forms and multipart --
    Placement(
        "form password with spaces",
        password,
        plain("POST", "/v1/echo/f", data=lambda s: {"user": "alice", "password": s}),
        "redacted",
        in_request(headers=lambda s: FORM, text=lambda s: f"user=alice&password={quote_plus(s)}"),
        libraries=True,
    ),
    Placement(
        "form client_secret %20-encoded",
        password,
        plain(
            "POST", "/v1/echo/f", headers=lambda s: FORM, content=lambda s: f"client_secret={quote(s)}&a=1"
        ),
        "redacted",
        in_request(headers=lambda s: FORM, text=lambda s: f"client_secret={quote(s)}&a=1"),
        libraries=True,
    ),
    Placement(
        "multipart text field",
        token,
        lambda ctx, s: ctx.sdk().audio.transcriptions.create(
            file=("a.wav", b"RIFF"), model="whisper-1", extra_body={"api_key": s}
        ),
        "redacted",
        in_request(headers=lambda s: {}, multipart=lambda s: [{"name": "api_key", "value": s}]),
    ),
    Placement(
        "multipart password via httpx",
        password,
        plain("POST", "/v1/echo/m", data=lambda s: {"password": s}, files=lambda s: {"f": ("a.txt", b"x")}),
        "redacted",
        in_request(headers=lambda s: {}, multipart=lambda s: [{"name": "password", "value": s}]),
        libraries=True,
    ),
    # -- request headers: telemetry, User-Agent (meta), match_headers (hashed) --
    Placement(
        "request header x-auth-token",
        token,
        sdk_get("/echo/h", headers=lambda s: {"x-auth-token": s}),
        "redacted",
        in_request(headers=lambda s: {"x-auth-token": s}),
    ),
    Placement(
        "match_headers x-amz-security-token",
        token,
        plain("GET", "/v1/echo/h", headers=lambda s: {"x-amz-security-token": s}),
        "redacted",
        in_request(headers=lambda s: {"x-amz-security-token": s}),
        libraries=True,
        options={"match_headers": ["x-amz-security-token"]},
    ),
    Placement(
        "user agent key=",
        hex32,
        lambda ctx, s: ctx.sdk(headers={"User-Agent": f"billing-bot/2.1 key={s}"}).get(
            "/echo/a", cast_to=httpx.Response
        ),
        "redacted",
        lambda s: (cassette(meta={"user_agent": f"billing-bot/2.1 key={s}"}), None),
    ),
    Placement(
        "user agent sk- key",
        openai_key,
        lambda ctx, s: ctx.sdk(headers={"User-Agent": f"tool/1.0 ({s})"}).get(
            "/echo/a", cast_to=httpx.Response
        ),
        "redacted",
        lambda s: (cassette(meta={"user_agent": f"tool/1.0 ({s})"}), None),
    ),
    Placement(
        "echoed header with a random token",
        token,
        sdk_get("/echo/h", headers=lambda s: {"x-upstream-info": s}),
        "refused",  # the response echoes it in an object named headers: no name to go by there either
        in_response(body=lambda s: {"headers": {"x-upstream-info": s}}),
    ),
    # -- response headers --
    response_header("x-session-token", token),
    response_header("x-auth-token", hex32),
    response_header("x-client-secret", password),
    response_header("x-custom-key", hex32),
    response_header("set-cookie2", lambda: "sid=" + token()),
    response_header("set-cookie", lambda: "sid=" + token()),
    response_header("x-upstream-info", token, "refused"),  # no name to go by: a random token is refused
    *(query(name, plain_client=True) for name in ("apiKey", "X-Amz-Signature", "code")),
    response_header("x-session-token", token, plain_client=True),
    response_header("set-cookie2", lambda: "sid=" + token(), plain_client=True),
    response_header("x-upstream-info", token, "refused", plain_client=True),
    # -- free text: known formats are refused, requests before they are sent --
    Placement(
        "chat message with an sk- key",
        openai_key,
        sdk_chat(lambda s: f"my key is {s}, keep it"),
        "refused",
        in_request(body=lambda s: {"messages": [{"role": "user", "content": f"my key is {s}"}]}),
    ),
    Placement(
        "chat answer with an sk- key",
        openai_key,
        chat_reply(lambda s: f"Your key is {s}.", stream=False),
        "refused",
        in_response(body=lambda s: {"choices": [{"message": {"content": f"Your key is {s}."}}]}),
    ),
    Placement(
        "streamed chat answer with a JWT",
        lambda: "eyJ" + token()[:20] + ".eyJ" + token()[:24] + "." + token(),
        chat_reply(lambda s: f"token: {s}", stream=True),
        "refused",
        in_response(is_streaming=lambda s: True, body=lambda s: [{"__data__": {"delta": {"content": s}}}]),
    ),
    Placement(
        "response text with an AWS key id",
        aws_key_id,
        canned("t", lambda s: Canned(f"id {s}".encode(), [("content-type", "text/plain")])),
        "refused",
        in_response(text=lambda s: f"id {s}"),
    ),
    Placement(
        "response JSON URL with userinfo",
        password,
        canned(
            "u",
            lambda s: Canned(json.dumps({"url": f"https://bob:{quote(s)}@db.test/"}).encode(), [JSON_TYPE]),
        ),
        "refused",
        in_response(body=lambda s: {"url": f"https://bob:{quote(s)}@db.test/"}),
    ),
    Placement(
        "response JSON presigned URL",
        token,
        canned(
            "p",
            lambda s: Canned(
                json.dumps({"download": f"https://s3.test/o?X-Amz-Signature={s}"}).encode(), [JSON_TYPE]
            ),
        ),
        "refused",
        in_response(body=lambda s: {"download": f"https://s3.test/o?X-Amz-Signature={s}"}),
    ),
    # -- bodies stored as base64, and side files --
    Placement(
        "gzip request body",
        openai_key,
        plain(
            "POST",
            "/v1/echo/g",
            content=lambda s: gzipped(json.dumps({"note": s})),
            headers=lambda s: {"content-encoding": "gzip", "content-type": "application/octet-stream"},
        ),
        "refused",
        in_request(headers=lambda s: {}, base64=lambda s: b64(gzipped(json.dumps({"note": s})))),
        libraries=True,
    ),
    Placement(
        "latin-1 response text",
        openai_key,
        canned(
            "l",
            lambda s: Canned(
                f"caf\xe9 {s}".encode("latin-1"), [("content-type", "text/plain; charset=latin-1")]
            ),
        ),
        "refused",
        in_response(base64=lambda s: b64(f"caf\xe9 {s}".encode("latin-1"))),
    ),
    Placement(
        "gzip file response",
        token,
        canned(
            "z", lambda s: Canned(gzipped(json.dumps({"api_key": s})), [("content-type", "application/gzip")])
        ),
        "refused",
        in_response(base64=lambda s: b64(gzipped(json.dumps({"api_key": s})))),
    ),
    Placement(
        "binary response in a side file",
        openai_key,
        canned(
            "b",
            lambda s: Canned(
                b"\x00\x01" * 2000 + s.encode() + b"\xff" * 10, [("content-type", "audio/mpeg")]
            ),
        ),
        "refused",
        lambda s: (cassette(response={"body_file": "planted.0.bin"}), b"\x00\x01" * 2000 + s.encode()),
        options={"max_inline_bytes": 1024},
    ),
    # -- streams and errors --
    Placement(
        "stream event field",
        token,
        canned(
            "s",
            lambda s: Canned(
                f'data: {{"client_secret": {{"value": "{s}"}}}}\n\ndata: [DONE]\n\n'.encode(),
                [("content-type", "text/event-stream")],
            ),
        ),
        "redacted",
        in_response(
            is_streaming=lambda s: True, body=lambda s: [{"__data__": {"client_secret": {"value": s}}}]
        ),
    ),
    # -- values inside values: JSON in strings and text bodies, base64 of text, charsets, split streams --
    Placement(
        "JSON response served as text/plain",
        password,
        canned("tj", lambda s: Canned(json.dumps({"user": "ada", "password": s}).encode(), [TEXT])),
        "redacted",
        in_response(headers=lambda s: dict([TEXT]), text=lambda s: json.dumps({"password": s})),
    ),
    Placement(
        "JSON request body sent with no content-type",
        token,
        plain("POST", "/v1/echo/t", content=lambda s: json.dumps({"client_secret": s}).encode()),
        "redacted",
        in_request(headers=lambda s: {}, text=lambda s: json.dumps({"client_secret": s})),
        libraries=True,
    ),
    Placement(
        "form answer served as text/plain",
        hex32,
        canned("tf", lambda s: Canned(f"access_token={s}&expires_in=3600".encode(), [TEXT])),
        "redacted",
        in_response(headers=lambda s: dict([TEXT]), text=lambda s: f"access_token={s}&expires_in=3600"),
    ),
    Placement(
        "form answer with an upper-case content-type",
        hex32,
        canned(
            "tu",
            lambda s: Canned(
                f"access_token={s}".encode(), [("content-type", "Application/X-WWW-Form-Urlencoded")]
            ),
        ),
        "redacted",
        in_response(text=lambda s: f"access_token={s}"),
    ),
    Placement(
        "NDJSON line written with spaces (kept as text)",
        openai_key,
        canned(
            "nd",
            lambda s: Canned(
                (json.dumps({"model": "m", "api_key": s}) + "\n").encode(),
                [("content-type", "application/x-ndjson")],
            ),
        ),
        "redacted",
        in_response(
            is_streaming=lambda s: True,
            stream_format=lambda s: "ndjson",
            body=lambda s: [{"__data__": json.dumps({"api_key": s}), "raw": True}],
        ),
    ),
    Placement(
        "stream event cut short inside its JSON",
        token,
        canned("cut", lambda s: Canned(f'data: {{"id": "c1", "session_token": "{s}'.encode(), [SSE])),
        "refused",
        in_response(
            is_streaming=lambda s: True,
            body=lambda s: [{"__data__": f'{{"session_token": "{s}', "raw": True, "unterminated": True}],
        ),
    ),
    Placement(
        "tool call arguments (JSON in a string)",
        password,
        sdk_post("/echo/j", lambda s: {"messages": [_tool_call({"user": "ada", "password": s})]}),
        "redacted",
        in_response(body=lambda s: {"messages": [_tool_call({"password": s})]}),
    ),
    Placement(
        "form field holding JSON",
        token,
        plain("POST", "/v1/echo/f", content=lambda s: _form_json(s), headers=lambda s: FORM),
        "redacted",
        in_request(headers=lambda s: FORM, text=_form_json),
        libraries=True,
    ),
    Placement(
        "list under a secret name",
        password,
        sdk_post("/echo/j", lambda s: {"input": "hi", "password": [s, s + "2"]}),
        "redacted",
        in_response(body=lambda s: {"data": {"password": [s]}}),
    ),
    Placement(
        "latin-1 JSON response",
        password,
        canned(
            "lj",
            lambda s: Canned(_latin1_json(s), [("content-type", "application/json; charset=iso-8859-1")]),
        ),
        "refused",
        in_response(base64=lambda s: b64(_latin1_json(s))),
    ),
    Placement(
        "UTF-16 text response",
        openai_key,
        canned(
            "u16",
            lambda s: Canned(f"key: {s}".encode("utf-16"), [("content-type", "text/plain; charset=utf-16")]),
        ),
        "refused",
        in_response(base64=lambda s: b64(f"key: {s}".encode("utf-16"))),
    ),
    Placement(
        "base64 of a .env file in a JSON field",
        openai_key,
        canned(
            "env",
            lambda s: Canned(json.dumps({"path": ".env", "content": _env_b64(s)}).encode(), [JSON_TYPE]),
        ),
        "refused",
        in_response(body=lambda s: {"path": ".env", "content": _env_b64(s)}),
    ),
    *(
        Placement(
            f"{coding} request body",
            openai_key,
            plain(
                "POST",
                f"/v1/echo/{coding}",
                content=lambda s, coding=coding: _packed(coding, s),
                headers=lambda s, coding=coding: {
                    "content-encoding": coding,
                    "content-type": "application/json",
                },
            ),
            "refused",
            in_request(headers=lambda s: {}, base64=lambda s, coding=coding: b64(_packed(coding, s))),
        )
        for coding in ("br", "zstd", "deflate")
    ),
    Placement(
        "percent-encoded URL in a JSON string",
        token,
        canned("enc", lambda s: Canned(json.dumps({"next": _encoded_url(s)}).encode(), [JSON_TYPE])),
        "refused",
        in_response(body=lambda s: {"next": _encoded_url(s)}),
    ),
    Placement(
        "key streamed over many events",
        openai_key,
        canned("split", lambda s: Canned(_split_stream(f"Your key is {s}, keep it safe."), [SSE])),
        "refused",
        in_response(
            is_streaming=lambda s: True,
            body=lambda s: [
                {"__data__": {"choices": [{"index": 0, "delta": {"content": piece}}]}}
                for piece in _pieces(f"Your key is {s}, keep it safe.")
            ],
        ),
    ),
    Placement(
        "transport error message with userinfo",
        password,
        lambda ctx, s: _expect_connect_error(ctx, s),
        "redacted",
        in_response(
            status=lambda s: 0,
            error=lambda s: {"type": "ConnectError", "message": f"to http://a:{quote(s)}@h/"},
        ),
        libraries=True,
        options={"inner": _error_inner},
    ),
]
