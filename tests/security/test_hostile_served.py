"""What a hostile file says must read one way to every reader, and serve only what a server could send.

Header names that differ only in case, a JSON body or a stream under a charset clients read otherwise
(UTF-7), a recorded failure whose type or message holds terminal escapes, a 1xx as a final response or a
body on a 204: refused at load. Instant replay never lets an SDK sleep what a file says before a retry,
and ``show`` reads a long streamed word in linear time.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteTransport
from httpx_cassette.cli import main
from tests.security.test_served import SSE, URL, _bent, _refused

AWS_KEY_ID = "AKIA" + "QWERTYUIOPASDFGH"


def _utf7(text: str) -> str:
    """``text`` with each character as its own UTF-7 run: ASCII a UTF-7 client reads as ``text``."""
    runs = (base64.b64encode(c.encode("utf-16-be")).decode().rstrip("=") for c in text)
    return "".join(f"+{run}-" for run in runs)


def _replayed(path: Path, **options: Any) -> httpx.Response:
    with httpx.Client(transport=CassetteTransport(path, mode="replay", **options)) as client:
        response = client.get(URL)
        response.read()
        return response


# -- header names given twice ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {  # `text` checked against the first content-type, served with the last one
            "headers": {
                "content-type": "text/plain; charset=utf-8",
                "Content-Type": "text/plain; charset=utf-7",
            },
            "body": None,
            "text": "note " + _utf7(AWS_KEY_ID),
        },
        {"headers": {"x-a": "1", "X-A": "2"}},
        {"headers": {"Retry-After": "1", "retry-after": "2"}},
    ],
)
def test_a_header_given_twice_in_two_cases_is_refused(tmp_path: Path, fields: dict[str, Any]) -> None:
    file = _bent(tmp_path, **fields)
    message = _refused(tmp_path)
    assert message.startswith(f"broken cassette file {file}: ")
    assert "is given twice, in two cases" in message


def test_a_request_header_given_twice_in_two_cases_is_refused(tmp_path: Path) -> None:
    _bent(tmp_path, request={"headers": {"content-type": "application/json", "Content-Type": "text/plain"}})
    assert _refused(tmp_path).endswith(
        "is given twice, in two cases: keep one of them - at `$.request.headers`"
    )


def test_a_header_in_another_case_is_read_by_show_as_by_replay(tmp_path: Path, capsys: Any) -> None:
    file = _bent(tmp_path, headers={"Content-Type": "application/json"})
    assert _replayed(tmp_path).headers["content-type"] == "application/json"
    assert main(["show", str(file)]) == 0
    assert "── response 1 of 1: 200, application/json" in capsys.readouterr().out


# -- charsets of decoded bodies ----------------------------------------------------------------


JSON_UTF7 = {"content-type": "application/json; charset=utf-7"}
SSE_UTF7 = {"content-type": "text/event-stream; charset=utf-7"}
NDJSON_UTF16 = {"content-type": "application/x-ndjson; charset=utf-16"}


@pytest.mark.parametrize(
    ("fields", "allowed"),
    [
        ({"headers": JSON_UTF7, "body": {"note": _utf7(AWS_KEY_ID)}}, "application/json"),
        (
            {"headers": {"content-type": "text/plain; charset=UTF-7"}, "body": {"n": 1}},
            "text/plain; charset=UTF8",
        ),
        (
            {"headers": {"Content-Type": "application/json; charset=utf-16"}, "body": 1},
            "text/plain; charset=latin1",
        ),
        (
            {"headers": {"content-type": "application/json; charset=no-such-one"}, "body": 1},
            "a/b; charset=us-ascii",
        ),
        ({"headers": {"content-type": 'application/json; charset="utf-8"'}, "body": 1}, "a/b; charset=utf-8"),
        (
            {"headers": SSE_UTF7, "is_streaming": True, "body": [{"__data__": {"note": _utf7(AWS_KEY_ID)}}]},
            "text/event-stream; charset=iso-8859-15",
        ),
        (
            {
                "headers": NDJSON_UTF16,
                "is_streaming": True,
                "stream_format": "ndjson",
                "body": [{"__data__": 1}],
            },
            "application/x-ndjson; charset=windows-1252",
        ),
    ],
)
def test_a_decoded_body_under_a_charset_clients_read_otherwise_is_refused(
    tmp_path: Path, fields: dict[str, Any], allowed: str
) -> None:
    # The bytes served are UTF-8; a client reads them in the declared charset: under UTF-7 `+AEE-` is "A",
    # and the key `scan` never saw in the JSON is what the client gets.
    file = _bent(tmp_path, **fields)
    message = _refused(tmp_path)
    assert message.startswith(f"broken cassette file {file}: ")
    said = "its events are" if fields.get("is_streaming") else "its `body` is"
    assert f"{said} served as UTF-8 but the content-type says" in message
    assert "store the body as base64" in message
    # Under no charset, or one that reads ASCII as ASCII, the same body is served as stored.
    data = json.loads(file.read_text())
    data["responses"][0]["headers"] = {"content-type": allowed}
    file.write_text(json.dumps(data))
    replayed = _replayed(tmp_path)
    assert replayed.headers["content-type"] == allowed
    assert replayed.content if fields.get("is_streaming") else replayed.json() == fields["body"]


@pytest.mark.parametrize(
    ("ctype", "content"),
    [
        ("application/json; charset=utf-7", b'{"note": "' + _utf7("hello").encode() + b'"}'),
        ("text/event-stream; charset=utf-16", 'data: {"n": 1}\n\n'.encode("utf-16")),
        ("application/x-ndjson; charset=utf-7", b'{"n": 1}\n'),
    ],
)
def test_a_body_under_such_a_charset_is_recorded_as_bytes_and_replayed_exactly(
    tmp_path: Path, ctype: str, content: bytes
) -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": ctype}, content=content)

    transport = CassetteTransport(tmp_path, mode="record", inner=httpx.MockTransport(upstream))
    with httpx.Client(transport=transport) as client:
        assert client.get(URL).content == content
    [file] = tmp_path.glob("*.json")
    [stored] = json.loads(file.read_text())["responses"]
    assert base64.b64decode(stored["base64"]) == content
    assert "body" not in stored
    assert not stored.get("is_streaming")
    replayed = _replayed(tmp_path)
    assert replayed.content == content
    assert replayed.headers["content-type"] == ctype


# -- recorded failures -------------------------------------------------------------------------

ESCAPES = "\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2K\x1b[1A\x1b[31mall tests passed\x1b[0m"


@pytest.mark.parametrize(
    ("error", "said"),
    [
        ({"type": "ReadTimeout\x1b[8m", "message": "boom"}, "is not an exception class name"),
        ({"type": "httpx.ReadTimeout", "message": "boom"}, "is not an exception class name"),
        ({"type": "", "message": "boom"}, "is not an exception class name"),
        ({"type": "ReadTimeout", "message": "boom " + ESCAPES}, "holds control characters"),
        ({"type": "ReadTimeout", "message": "boom\r\nall tests passed"}, "holds control characters"),
        ({"type": "ReadTimeout", "message": "boom \u202egnp.exe"}, "bidi controls"),
        ({"type": "ReadTimeout", "message": "boom \x9b31m"}, "holds control characters"),
    ],
)
@pytest.mark.parametrize("status", [0, 200])
def test_a_failure_a_terminal_would_act_on_is_refused(
    tmp_path: Path, error: dict[str, str], said: str, status: int
) -> None:
    file = _bent(tmp_path, status=status, error=error, **({"body": None} if status == 0 else {}))
    message = _refused(tmp_path)
    assert message.startswith(f"broken cassette file {file}: ")
    assert said in message
    assert "\x1b" not in message
    assert "\u202e" not in message


class _Cut(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b"partial "
        raise httpx.ReadError("peer said:\n\t" + ESCAPES)


def test_a_failure_recorded_mid_body_is_stored_printable_and_replays(tmp_path: Path) -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/plain"}, stream=_Cut())

    transport = CassetteTransport(tmp_path, mode="record", inner=httpx.MockTransport(upstream))
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.ReadError):
        client.get(URL)
    [file] = tmp_path.glob("*.json")
    stored = json.loads(file.read_text())["responses"][0]["error"]
    assert stored == {
        "type": "ReadError",
        "message": "peer said:\n\t" + ESCAPES.replace("\x1b", "\\x1b").replace("\x07", "\\x07"),
    }
    with pytest.raises(httpx.ReadError) as info:  # newlines and tabs are fine
        _replayed(tmp_path)
    assert str(info.value) == stored["message"]


# -- statuses --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [100, 101, 103, 199])
def test_an_informational_status_is_no_final_response(tmp_path: Path, status: int) -> None:
    _bent(tmp_path, status=status)
    assert f"status {status} is informational, never a final response" in _refused(tmp_path)


@pytest.mark.parametrize("status", [204, 304])
@pytest.mark.parametrize(
    "fields",
    [
        {},  # the recording's JSON body
        {"body": None, "text": "x", "headers": {"content-type": "text/plain"}},
        {"body": None, "base64": "eA=="},
        {"headers": SSE, "is_streaming": True, "body": [{"__data__": {"n": 1}}]},
        {"headers": SSE, "is_streaming": True, "body": [], "done": True},
    ],
)
def test_a_body_on_a_response_that_has_none_is_refused(
    tmp_path: Path, status: int, fields: dict[str, Any]
) -> None:
    file = _bent(tmp_path, status=status, **fields)
    assert f"a {status} response has no body, this one holds one" in _refused(tmp_path)
    # Without one (a stream of no events and no [DONE], an empty text), it replays.
    data = json.loads(file.read_text())
    response = data["responses"][0]
    for name in ("body", "text", "base64", "done"):
        response.pop(name, None)
    response.update({"body": []} if response.get("is_streaming") else {"text": ""})
    file.write_text(json.dumps(data))
    replayed = _replayed(tmp_path)
    assert (replayed.status_code, replayed.content) == (status, b"")


# -- retries in instant replay -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (400, {"x-should-retry": "true", "retry-after-ms": "3000"}),
        (400, {"X-Should-Retry": "true"}),
        (403, {"Retry-After-Ms": "120000"}),  # 408, 409, 429, 5xx and `retry-after`: tests/test_transport.py
    ],
)
def test_instant_replay_never_lets_an_sdk_sleep_before_a_retry(
    tmp_path: Path, status: int, headers: dict[str, str]
) -> None:
    _bent(tmp_path, status=status, headers={"content-type": "application/json", **headers})
    assert _replayed(tmp_path).headers["retry-after-ms"] == "0.001"
    recorded = headers.get("retry-after-ms", headers.get("Retry-After-Ms"))
    if recorded is not None:  # paced replay keeps what was recorded
        assert _replayed(tmp_path, replay_timing="recorded").headers["retry-after-ms"] == recorded
    _bent(tmp_path, status=400)  # nothing an SDK retries: served as recorded
    assert "retry-after-ms" not in _replayed(tmp_path).headers


def test_the_openai_sdk_retries_a_recorded_should_retry_400_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    openai = pytest.importorskip("openai")
    completion = {"id": "c", "object": "chat.completion", "created": 0, "model": "m", "choices": []}
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json=completion))
    recorder = CassetteTransport(tmp_path, mode="record", inner=upstream)
    sdk = openai.OpenAI(api_key="test", base_url="https://api.test/v1", max_retries=0)
    sdk.with_options(http_client=httpx.Client(transport=recorder)).chat.completions.create(
        model="m", messages=[]
    )
    [file] = tmp_path.glob("*.json")
    data = json.loads(file.read_text())
    headers = {"content-type": "application/json", "x-should-retry": "true", "retry-after-ms": "3000"}
    error = {"status": 400, "headers": headers, "body": {"error": {"message": "nope", "type": "invalid"}}}
    data["responses"] = [error] * 3
    file.write_text(json.dumps(data))

    sleeps: list[float] = []
    monkeypatch.setattr("openai._base_client.time.sleep", sleeps.append)
    replayer = httpx.Client(transport=CassetteTransport(tmp_path, mode="replay"))
    with pytest.raises(openai.BadRequestError):
        sdk.with_options(http_client=replayer, max_retries=2).chat.completions.create(model="m", messages=[])
    assert len(sleeps) == 2
    assert max(sleeps) < 0.001


# -- show --------------------------------------------------------------------------------------


def test_show_reads_one_long_streamed_word_in_linear_time(tmp_path: Path, capsys: Any) -> None:
    word = "A" * (8 << 20)  # textwrap alone: ~20 s, and 4 times that for each doubling
    delta = {"choices": [{"index": 0, "delta": {"content": "see " + word + " end"}}]}
    file = _bent(tmp_path, headers=SSE, is_streaming=True, body=[{"__data__": delta}], done=True)
    started = time.perf_counter()
    assert main(["show", str(file)]) == 0
    assert time.perf_counter() - started < 8
    lines = capsys.readouterr().out.splitlines()
    start = lines.index("text:") + 1
    shown = lines[start : next(i for i in range(start, len(lines)) if not lines[i].startswith("  "))]
    assert shown[0] == "  see"
    assert shown[-1].endswith(" end")
    assert all(len(line) <= 100 for line in shown)
    assert "".join(line[2:] for line in shown[1:]).removesuffix(" end") == word
