"""Credentials that text hid from the check, each read as a client reads it:

* JSON only Python's json module reads (``NaN``, ``Infinity``, what ``json.dumps`` writes by default; a
  byte-order mark; a lone surrogate escape) is stored as text, byte for byte, but judged (and redacted)
  as the structure httpx's ``.json()`` and the SDKs parse, not only by its ``"name": "value"`` pairs;
* a data URI (``data:text/plain;base64,...``: a file sent to a model) is decoded as bare base64 is;
* base64 of UTF-16 or UTF-32 text (PowerShell's ``-EncodedCommand``) is read as text;
* a URL whose slashes JSON escapes (``mysql:\\/\\/app:pw@db``, PHP's json_encode in a page), and a known
  format behind a ``\\u`` escape in JSON that is not whole, are judged unescaped.

Each has its control: ordinary traffic of the same shape still records. Fake credentials are built at
run time.
"""

from __future__ import annotations

import base64
import io
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console
from tests.security.placements import cassette, hex32, openai_key, token

URL = "https://api.example.com"
REDACTED = "REDACTED"

Handler = Callable[[httpx.Request], httpx.Response]


def _record(tmp_path: Path, handler: Handler, call: Callable[[httpx.Client], Any]) -> str:
    """Record one exchange into ``tmp_path / "c"``; every file written, as text."""
    transport = CassetteTransport(tmp_path / "c", mode="record", inner=httpx.MockTransport(handler))
    with httpx.Client(transport=transport, base_url=URL) as client:
        call(client)
    return _disk(tmp_path / "c")


def _disk(directory: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(directory.rglob("*")) if p.is_file())


def _refused(tmp_path: Path, handler: Handler, call: Callable[[httpx.Client], Any]) -> CassetteSecretError:
    with pytest.raises(CassetteSecretError) as caught:
        _record(tmp_path, handler, call)
    assert not (tmp_path / "c").exists() or _disk(tmp_path / "c") == ""
    return caught.value


def _json_reply(body: str | bytes, content_type: str = "application/json") -> Handler:
    content = body.encode() if isinstance(body, str) else body
    return lambda request: httpx.Response(200, content=content, headers={"content-type": content_type})


def _get(client: httpx.Client) -> None:
    client.get("/v1/config")


def _scan(directory: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["scan", str(directory)], Console(out, err, fancy=False))
    return status, out.getvalue() + err.getvalue()


def _plant(tmp_path: Path, response: dict[str, Any]) -> Path:
    directory = tmp_path / "planted"
    directory.mkdir()
    file = cassette(request={"method": "GET", "url": f"{URL}/v1/config"}, response=response)
    (directory / "get-v1-config-000000000000.json").write_text(json.dumps(file))
    return directory


# -- 1: JSON only Python's json module reads -------------------------------------------------------

CONSTANTS = ["NaN", "Infinity", "-Infinity"]


@pytest.mark.parametrize("constant", CONSTANTS)
def test_a_nan_body_is_redacted_by_its_structure_and_keeps_its_constants(
    tmp_path: Path, constant: str
) -> None:
    password, listed, number = token(), hex32(), 83920174551
    body = (
        f'{{"env": [{{"name": "DB_PASSWORD", "value": "{password}"}}], "api_keys": ["{listed}"],'
        f' "password": {number}, "score": {constant}}}'
    )
    assert httpx.Response(200, content=body.encode()).json()["api_keys"] == [listed]  # what clients read
    stored = _record(tmp_path, _json_reply(body), _get)
    for secret in (password, listed, str(number)):
        assert secret not in stored
    text = json.loads(stored)["responses"][0]["text"]
    assert json.loads(text)["env"][0]["value"] == REDACTED
    assert json.loads(text)["api_keys"] == [REDACTED]
    assert json.loads(text)["password"] == REDACTED
    assert f'"score":{constant}' in text  # written back as Python writes it: a client reads it as before
    replay = CassetteTransport(tmp_path / "c", mode="replay")
    with httpx.Client(transport=replay, base_url=URL) as client:
        assert client.get("/v1/config").json()["password"] == REDACTED


def test_a_known_format_behind_an_escape_in_a_nan_body_is_refused(tmp_path: Path) -> None:
    key = openai_key()
    body = f'{{"note": "\\u0073{key[1:]}", "score": NaN}}'
    assert httpx.Response(200, content=body.encode()).json()["note"] == key
    error = _refused(tmp_path, _json_reply(body), _get)
    assert "OpenAI API key" in str(error)


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda body: "\ufeff" + body, id="byte-order mark"),
        pytest.param(lambda body: body[:-1] + ', "file": "\\udcff"}', id="lone surrogate"),
    ],
)
def test_other_json_only_python_reads_is_redacted_by_its_structure(
    tmp_path: Path, wrap: Callable[[str], str]
) -> None:
    listed = hex32()
    body = wrap(f'{{"api_keys": ["{listed}"], "model": "gpt-4o"}}')
    assert httpx.Response(200, content=body.encode()).json()["api_keys"] == [listed]
    stored = _record(tmp_path, _json_reply(body), _get)
    assert listed not in stored
    assert REDACTED in stored


def test_a_nan_request_body_is_redacted_before_it_is_keyed(tmp_path: Path) -> None:
    secret = token()
    sent: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(200, json={"ok": True})

    payload = {"credentials": {"client_secret": secret}, "temperature": float("nan")}
    content = json.dumps(payload).encode()  # what an SDK built on json.dumps sends
    stored = _record(
        tmp_path,
        handler,
        lambda c: c.post("/v1/x", content=content, headers={"content-type": "application/json"}),
    )
    assert sent == [content]  # the live request is untouched
    assert secret not in stored
    replay = CassetteTransport(tmp_path / "c", mode="replay")
    with httpx.Client(transport=replay, base_url=URL) as client:  # redacted the same way: found again
        assert client.post("/v1/x", content=content, headers={"content-type": "application/json"}).json()


def test_a_nan_stream_event_is_redacted_by_its_structure(tmp_path: Path) -> None:
    listed = hex32()
    stream = f'data: {{"api_keys": ["{listed}"], "score": NaN}}\n\ndata: [DONE]\n\n'
    stored = _record(tmp_path, _json_reply(stream, "text/event-stream"), lambda c: c.get("/v1/config").read())
    assert listed not in stored
    assert REDACTED in stored


def test_a_nan_body_stored_as_bytes_is_judged_by_its_structure(tmp_path: Path) -> None:
    password = token()
    body = f'{{"env": [{{"name": "DB_PASSWORD", "value": "{password}"}}], "score": NaN}}'
    reply = _json_reply(body.encode("utf-16-le"), "application/json; charset=utf-16-le")
    assert "value" in str(_refused(tmp_path, reply, _get))
    planted = _plant(
        tmp_path,
        {
            "headers": {"content-type": "application/json; charset=utf-16-le"},
            "base64": base64.b64encode(body.encode("utf-16-le")).decode(),
        },
    )
    status, output = _scan(planted)
    assert status == 1, output


def test_scan_finds_a_number_under_a_secret_name_in_a_stored_nan_text(tmp_path: Path) -> None:
    planted = _plant(
        tmp_path,
        {"headers": {"content-type": "application/json"}, "text": '{"password": 83920174551, "score": NaN}'},
    )
    status, output = _scan(planted)
    assert status == 1, output
    assert "password" in output


def test_an_ordinary_nan_body_records_byte_for_byte(tmp_path: Path) -> None:
    body = (
        '{"id": "chatcmpl-9x8YzQ2", "model": "gpt-4o-mini", "scores": [0.5, NaN, Infinity], "token": " Hi"}'
    )
    stored = _record(tmp_path, _json_reply(body), _get)
    assert json.loads(stored)["responses"][0]["text"] == body
    replay = CassetteTransport(tmp_path / "c", mode="replay")
    with httpx.Client(transport=replay, base_url=URL) as client:
        assert client.get("/v1/config").content == body.encode()


# -- 2: data URIs ------------------------------------------------------------------------------------


def _chat_with_file(data: str) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is wrong with my config?"},
                    {"type": "file", "file": {"filename": "config.env", "file_data": data}},
                ],
            }
        ],
    }


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


@pytest.mark.parametrize(
    "uri",
    [
        pytest.param(lambda env: "data:text/plain;base64," + base64.b64encode(env).decode(), id="base64"),
        pytest.param(
            lambda env: (
                "data:text/plain;charset=utf-8;name=config.env;BASE64," + base64.b64encode(env).decode()
            ),
            id="parameters",
        ),
        pytest.param(
            lambda env: "data:application/octet-stream;base64," + base64.b64encode(env).decode(), id="octet"
        ),
        pytest.param(
            lambda env: "data:text/plain," + "".join(f"%{b:02X}" if chr(b) in "=\n" else chr(b) for b in env),
            id="percent-encoded",
        ),
    ],
)
def test_a_file_sent_as_a_data_uri_is_decoded_and_refused(
    tmp_path: Path, uri: Callable[[bytes], str]
) -> None:
    env = f"# settings\nOPENAI_API_KEY={openai_key()}\nDEBUG=1\n".encode()
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return _ok(request)

    _refused(tmp_path, handler, lambda c: c.post("/v1/chat/completions", json=_chat_with_file(uri(env))))
    assert sent == []  # refused before it was sent


def test_scan_decodes_a_data_uri_in_a_stored_response(tmp_path: Path) -> None:
    env = f"aws_secret_access_key = {token()}\npassword: {token()}\n".encode()
    planted = _plant(tmp_path, {"body": {"url": "data:text/plain;base64," + base64.b64encode(env).decode()}})
    status, output = _scan(planted)
    assert status == 1, output


def test_ordinary_data_uris_record(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40  # binary, past the first sniff
    uris = [
        "data:image/png;base64," + base64.b64encode(png).decode(),
        "data:text/plain;base64,"
        + base64.b64encode(b"Summarise this text, please: it is long.\n" * 3).decode(),
        "data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%2F%3E",
    ]
    for i, uri in enumerate(uris):
        stored = _record(
            tmp_path / str(i),
            _ok,
            lambda c, uri=uri: c.post("/v1/chat/completions", json=_chat_with_file(uri)),
        )
        assert uri in stored


# -- 3: base64 of UTF-16 and UTF-32 text ---------------------------------------------------------------


def _tool_call(arguments: dict[str, Any]) -> Handler:
    message = {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "powershell", "arguments": json.dumps(arguments)},
            }
        ],
    }
    return lambda request: httpx.Response(200, json={"choices": [{"index": 0, "message": message}]})


def _chat(client: httpx.Client) -> None:
    client.post("/v1/chat/completions", json={"model": "gpt-4o"})


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16", "utf-16-be", "utf-32"])
def test_base64_of_utf16_text_holding_a_key_is_refused(tmp_path: Path, codec: str) -> None:
    command = f"$env:OPENAI_API_KEY='{openai_key()}'; python app.py"
    encoded = base64.b64encode(command.encode(codec)).decode()
    error = _refused(tmp_path, _tool_call({"encodedCommand": encoded}), _chat)
    assert "base64-decoded" in str(error)


def test_ordinary_utf16_base64_and_quiet_audio_record(tmp_path: Path) -> None:
    command = "Get-ChildItem -Path C:\\Users -Recurse | Sort-Object Length -Descending | Select -First 10"
    encoded = base64.b64encode(command.encode("utf-16-le")).decode()
    stored = _record(tmp_path / "cmd", _tool_call({"encodedCommand": encoded}), _chat)
    assert encoded in stored
    # 16-bit audio near silence: NUL high bytes as UTF-16 text has, but no text.
    samples = struct.pack("<4000h", *(((i * 7) % 23) - 11 for i in range(4000)))
    wav = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVEfmt " + bytes(16) + b"data" + samples
    audio = base64.b64encode(wav).decode()
    stored = _record(tmp_path / "audio", _tool_call({"input_audio": {"data": audio, "format": "wav"}}), _chat)
    assert audio in stored


# -- 4: JSON escapes in text ---------------------------------------------------------------------------


def _page(script: str) -> Handler:
    html = f"<html><script>window.config = {script};</script></html>"
    return lambda request: httpx.Response(
        200, text=html, headers={"content-type": "text/html; charset=utf-8"}
    )


@pytest.mark.parametrize(
    "script",
    [
        '{{"db":"mysql:\\/\\/app:{pw}@db.internal:3306\\/app","debug":true}}',
        '["mysql:\\/\\/app:{pw}@db.internal:3306\\/app"]',  # an item, not a "name": "value" pair
        '{{"db":"mysql:\\u002f\\u002fapp:{pw}@db.internal"}}',
        '{{"cb":"https:\\/\\/app.example.com\\/cb?a=1\\u0026client_secret={pw}"}}',
    ],
)
def test_a_url_password_behind_json_escapes_in_text_is_refused(tmp_path: Path, script: str) -> None:
    password = token()
    error = _refused(tmp_path, _page(script.format(pw=password)), _get)
    assert password[:4] in str(error)


def test_a_known_format_behind_a_unicode_escape_in_json_cut_short_is_refused(tmp_path: Path) -> None:
    key = openai_key()
    page = f'<script>var cfg = {{"note": "\\u0073{key[1:]}", "x": 1'  # cut short: not whole JSON
    _refused(tmp_path, lambda r: httpx.Response(200, text=page, headers={"content-type": "text/html"}), _get)
    planted = _plant(tmp_path, {"headers": {"content-type": "text/html"}, "text": page})
    status, output = _scan(planted)
    assert status == 1, output


def test_scan_finds_an_escaped_url_password_on_disk(tmp_path: Path) -> None:
    text = f'<script>{{"db":"postgres:\\/\\/admin:{token()}@db.example.com:5432\\/app"}}</script>'
    status, output = _scan(_plant(tmp_path, {"headers": {"content-type": "text/html"}, "text": text}))
    assert status == 1, output
    assert "password in a URL" in output


def test_an_escaped_url_in_a_stored_error_message_is_redacted(tmp_path: Path) -> None:
    password = token()

    def failing(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(
            f'config {{"db":"mysql:\\/\\/app:{password}@db.internal\\/app"}}', request=request
        )

    with pytest.raises(httpx.ConnectError):
        _record(tmp_path, failing, _get)
    stored = _disk(tmp_path / "c")
    assert password not in stored
    assert "app:REDACTED@db.internal" in stored


def test_escaped_urls_without_credentials_record(tmp_path: Path) -> None:
    script = (
        '{"cdn":"https:\\/\\/cdn.example.com\\/app.js?v=3","home":"https:\\/\\/example.com\\/",'
        '"title":"Caf\\u00e9 \\u2014 menu","next":"\\/page\\/2?sort=asc"}'
    )
    stored = _record(tmp_path, _page(script), _get)
    assert "cdn.example.com" in stored


def test_a_data_uri_in_a_response_is_decoded_and_refused(tmp_path: Path) -> None:
    env = f"GITHUB_TOKEN={token()}\nDB_PASSWORD={token()}\n".encode()
    data = "data:text/plain;base64," + base64.b64encode(env).decode()
    reply = _json_reply(json.dumps({"output": [{"type": "file", "filename": ".env", "file_data": data}]}))
    _refused(tmp_path, reply, _get)


def test_an_escaped_url_to_another_host_keeps_its_placeholder_on_replay(tmp_path: Path) -> None:
    secret = token()
    page = f'<script>{{"next":"https:\\/\\/evil.example\\/collect?t={secret}","own":"{secret}"}}</script>'
    placeholders = {"<TOKEN>": secret}
    upstream = httpx.MockTransport(
        lambda r: httpx.Response(200, text=page, headers={"content-type": "text/html"})
    )
    record = CassetteTransport(tmp_path / "c", mode="record", placeholders=placeholders, inner=upstream)
    with httpx.Client(transport=record, base_url=URL) as client:
        _get(client)
    assert secret not in _disk(tmp_path / "c")
    replay = CassetteTransport(tmp_path / "c", mode="replay", placeholders=placeholders)
    with httpx.Client(transport=replay, base_url=URL) as client:
        assert secret not in client.get("/v1/config").text  # the page names a URL to another host
