"""Evidence for issue 12 part 2: every place a credential hides, recorded for real, never reaches disk.

Each `Placement` (see placements.py) sends a fresh random secret through the OpenAI SDK or plain
httpx / httpx2 clients to the local server. Then either recording was refused with
`CassetteSecretError` and nothing was written, or the secret's bytes are in no file under the cassette
directory: not in the JSON, not in side files, not in base64 bodies once decoded and decompressed, in
no encoding (percent, form). Redacted placements replay (redaction happens before keying). And
`scan_directory` (what ``httpx-cassette scan`` runs) flags the secret planted by hand at the same place,
and nothing once the value is ``REDACTED``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import openai
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.cli import main as cli_main
from httpx_cassette.storage.scan import scan_directory
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
    token,
)
from tests.servers.openai_app import OpenAIApp, create_app
from tests.servers.runner import LiveServer

JSON_TYPE = ("content-type", "application/json")
FORM = {"content-type": "application/x-www-form-urlencoded"}


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
    # -- response headers --
    response_header("x-session-token", token),
    response_header("x-auth-token", hex32),
    response_header("x-client-secret", password),
    response_header("x-custom-key", hex32),
    response_header("set-cookie2", lambda: "sid=" + token()),
    response_header("set-cookie", lambda: "sid=" + token()),
    response_header("x-upstream-info", token, "refused"),  # no name to go by: a random token is refused
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


# -- running them -----------------------------------------------------------------------------------

API_KEY = "test-" + "key"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer[OpenAIApp]]:
    with LiveServer(create_app()) as live:
        yield live


def make_ctx(server: LiveServer[OpenAIApp], path: Path, mode: str, lib: str, options: dict[str, Any]) -> Ctx:
    options = dict(options)
    inner = options.pop("inner", None)

    def transport() -> CassetteTransport:
        return CassetteTransport(path, mode=mode, inner=inner() if inner else None, **options)  # type: ignore[arg-type]

    def base(userinfo: str | None) -> str:
        return f"http://{userinfo}@127.0.0.1:{server.port}" if userinfo else server.url

    def sdk(userinfo: str | None = None, headers: dict[str, str] | None = None) -> openai.OpenAI:
        http_client = httpx.Client(transport=transport())
        return openai.OpenAI(
            base_url=base(userinfo) + "/v1",
            api_key=API_KEY,
            max_retries=0,
            http_client=http_client,
            default_headers=headers,
        )

    def client(userinfo: str | None = None) -> Any:
        return __import__(lib).Client(transport=transport(), base_url=base(userinfo))

    return Ctx(sdk=sdk, client=client, canned=server.app.canned, replies=server.app.replies)


def _refusal(exc: BaseException | None) -> CassetteSecretError | None:
    while exc is not None and not isinstance(exc, CassetteSecretError):
        exc = exc.__cause__ or exc.__context__
    return exc


def _blobs(root: Path) -> Iterator[tuple[Path, bytes]]:
    """Every file's bytes, and every base64 body and side file decoded and decompressed."""
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        data = file.read_bytes()
        yield file, data
        encoded: list[bytes] = [data] if file.suffix == ".bin" else []
        if file.suffix == ".json":
            text = data.decode()
            encoded += [base64.b64decode(m) for m in _base64_values(json.loads(text))]
        for raw in encoded:
            yield file, raw
            for wbits in (16 + zlib.MAX_WBITS, zlib.MAX_WBITS):
                with contextlib.suppress(zlib.error):
                    yield file, zlib.decompress(raw, wbits)


def _base64_values(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "base64" and isinstance(v, str):
                yield v
            else:
                yield from _base64_values(v)
    elif isinstance(value, list):
        for item in value:
            yield from _base64_values(item)


def assert_absent(root: Path, secret: str) -> None:
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe=""), json.dumps(secret)[1:-1]}
    for file, blob in _blobs(root):
        for form in forms:
            assert form.encode() not in blob, f"{form!r} leaked into {file}"


CASES = [
    pytest.param(
        p,
        lib,
        id=f"{p.name} [{lib}]",
        marks=[] if lib == "httpx" or HAS_HTTPX2 else [pytest.mark.skip("httpx2 missing")],
    )
    for p in PLACEMENTS
    for lib in (("httpx", "httpx2") if p.libraries else ("httpx",))
]


@pytest.mark.parametrize(("placement", "lib"), CASES)
def test_the_secret_never_reaches_disk(
    server: LiveServer[OpenAIApp], tmp_path: Path, placement: Placement, lib: str
) -> None:
    secret = placement.make()
    path = tmp_path / "cassette"
    try:
        placement.send(make_ctx(server, path, "record", lib, placement.options), secret)
        outcome = "redacted"
    except Exception as exc:
        if _refusal(exc) is None:
            raise
        outcome = "refused"
    assert outcome == placement.outcome
    if outcome == "refused":
        assert not path.exists() or [p for p in path.rglob("*") if p.is_file()] == []
        return
    assert [p for p in path.rglob("*.json")], "something was recorded"
    assert_absent(path, secret)
    assert scan_directory(path) == []  # what recording wrote, scan finds clean: one set of rules
    requests = server.app.stats.requests
    placement.send(make_ctx(server, path, "replay", lib, placement.options), secret)  # redacted before keying
    assert server.app.stats.requests == requests


@pytest.mark.parametrize("placement", PLACEMENTS, ids=[p.name for p in PLACEMENTS])
def test_scan_flags_the_secret_planted_by_hand(tmp_path: Path, placement: Placement) -> None:
    for value, expected in ((placement.make(), True), ("REDACTED", False)):
        folder = tmp_path / ("leaky" if expected else "clean")
        folder.mkdir()
        data, side = placement.plant(value)
        (folder / "planted.json").write_text(json.dumps(data))
        if side is not None:
            (folder / "planted.0.bin").write_bytes(side)
        findings = scan_directory(folder)
        assert bool(findings) is expected, findings


def test_converted_llama_stack_recordings_keep_no_secret_header(tmp_path: Path) -> None:
    secret = hex32()
    source, converted = tmp_path / "llama", tmp_path / "ours"
    source.mkdir()
    fixture = sorted((Path(__file__).parents[1] / "fixtures" / "llamastack").glob("*.json"))[0]
    recording = json.loads(fixture.read_text())
    recording["request"]["headers"] = {
        "api-key": secret,
        "X-Custom-Key": secret,
        "accept": "application/json",
    }
    (source / fixture.name).write_text(json.dumps(recording))
    assert scan_directory(source) != []  # the raw llama-stack file holds it, and scan says so
    assert cli_main(["convert", str(source), str(converted), "--from", "llama-stack"]) == 0
    assert_absent(converted, secret)
    assert scan_directory(converted) == []
    planted = cassette(response={"origin": {"format": "llama-stack", "rest": {"template": recording}}})
    (converted / "planted.json").write_text(json.dumps(planted))
    assert [f.path for f in scan_directory(converted / "planted.json")] == [
        "$.responses[0].origin.rest.template.request.headers.api-key",
        "$.responses[0].origin.rest.template.request.headers.X-Custom-Key",
    ]


def test_the_cli_scan_flags_every_placement_planted_by_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for number, placement in enumerate(PLACEMENTS):
        folder = tmp_path / f"p{number:02}"
        folder.mkdir()
        data, side = placement.plant(placement.make())
        (folder / "planted.json").write_text(json.dumps(data))
        if side is not None:
            (folder / "planted.0.bin").write_bytes(side)
    assert cli_main(["scan", str(tmp_path)]) == 1
    flagged = {f.file.parent.name for f in scan_directory(tmp_path) if f.file is not None}
    assert flagged == {f"p{n:02}" for n in range(len(PLACEMENTS))}
    assert capsys.readouterr().out.strip().endswith("possible secrets found")
