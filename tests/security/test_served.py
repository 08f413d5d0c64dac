"""A hostile cassette may only say what an HTTP server could have sent: a real status, real header
names, header values with no line break, one body, strict base64, events that end where they should,
and no more JSON containers than memory can bear. Each is refused at load, naming the file and field,
under every client that replays it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteFormatError, CassetteTransport, use_cassette
from httpx_cassette.storage.codec import MAX_CONTAINERS

URL = "https://api.test/v1/x"
SSE = {"content-type": "text/event-stream"}


def _good(path: Path) -> Path:
    """A real recording: the file the tests then bend."""
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
    with httpx.Client(transport=CassetteTransport(path, mode="record", inner=upstream)) as client:
        client.get(URL)
    [file] = path.glob("*.json")
    return file


def _bent(path: Path, request: dict[str, Any] | None = None, **fields: Any) -> Path:
    """A real recording with its first response's fields replaced (None: left out), and its request's."""
    file = _good(path)
    data = json.loads(file.read_text())
    data["responses"][0].update(fields)
    for name in [name for name, value in fields.items() if value is None]:  # None: left out
        del data["responses"][0][name]
    data["request"].update(request or {})
    file.write_text(json.dumps(data))
    return file


def _refused(path: Path) -> str:
    with (
        pytest.raises(CassetteFormatError) as info,
        httpx.Client(transport=CassetteTransport(path, mode="replay")) as client,
    ):
        client.get(URL)
    return str(info.value)


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"status": -1}, "status -1 is not an HTTP status"),
        ({"status": 1000}, "status 1000 is not an HTTP status"),
        ({"status": 2**64 + 5}, "status"),  # too big for the model's int: refused by the decoder
        ({"status": 0}, "0 only with an `error`"),
        ({"headers": {"x-a": "v\r\nset-cookie: stolen=1"}}, "header 'x-a' holds a line break"),
        ({"headers": {"x-a": "v\x00w"}}, "header 'x-a' holds a line break or control character"),
        ({"headers": {"x a": "v"}}, "'x a' is not an HTTP header name"),
        ({"headers": {"": "v"}}, "'' is not an HTTP header name"),
        ({"headers": {"x:a": "v"}}, "'x:a' is not an HTTP header name"),
        ({"text": "also"}, "a message has one body, this one holds body and text"),
        (
            {"body": None, "text": "+AEEASwBJAEE-", "headers": {"content-type": "text/plain; charset=utf-7"}},
            "`text` is served as UTF-8 but the content-type says",
        ),
        ({"body_file": "x.0.bin"}, "this one holds body and body_file"),
    ],
)
def test_what_no_server_could_send_is_refused_at_load(
    tmp_path: Path, fields: dict[str, Any], said: str
) -> None:
    file = _bent(tmp_path, **fields)
    message = _refused(tmp_path)
    assert message.startswith(f"broken cassette file {file}: ")
    assert said in message


def test_a_status_0_with_an_error_is_a_failure_not_a_response(tmp_path: Path) -> None:
    _bent(tmp_path, status=0, body=None, error={"type": "ConnectError", "message": "refused"})
    with (
        pytest.raises(httpx.ConnectError),
        httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client,
    ):
        client.get(URL)


def test_a_tab_in_a_header_value_is_served(tmp_path: Path) -> None:
    _bent(tmp_path, headers={"x-a": "v\tw", "content-type": "application/json"})
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client:
        assert client.get(URL).headers["x-a"] == "v\tw"


@pytest.mark.parametrize("text", ["b2s= ", "b2s=\nb2s=", "!!!*", "b2s", "a2V5IHNr" + " " + "LXByb2o="])
def test_base64_is_read_strictly_as_scan_reads_it(tmp_path: Path, text: str) -> None:
    # A lenient decoder skips what is not base64: it would serve bytes `scan` never saw.
    _bent(tmp_path, body=None, base64=text)
    assert "`base64` is not base64" in _refused(tmp_path)


@pytest.mark.parametrize("done", [False, True])
def test_an_unterminated_event_before_another_is_refused(tmp_path: Path, done: bool) -> None:
    # Without its blank line it would merge into the next event (or [DONE]) on the client's side.
    events = [{"event": "error", "__data__": "", "raw": True, "unterminated": True}, {"__data__": {"n": 1}}]
    if done:
        events = [*events[1:], {"__data__": {"n": 2}, "unterminated": True}]
    _bent(tmp_path, headers=SSE, is_streaming=True, body=events, done=done)
    assert "only a stream's last event can be unterminated" in _refused(tmp_path)


def test_the_last_event_may_be_unterminated(tmp_path: Path) -> None:
    events = [{"__data__": {"n": 1}}, {"__data__": {"n": 2}, "unterminated": True}]
    _bent(tmp_path, headers=SSE, is_streaming=True, body=events)
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client:
        assert client.get(URL).text == 'data: {"n":1}\n\ndata: {"n":2}\n'


def test_a_file_of_too_many_tiny_containers_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    # Two bytes of JSON become ~60 bytes of Python each: the size cap alone does not bound memory.
    file = _bent(tmp_path, headers=SSE, is_streaming=True, body=[])
    data = json.loads(file.read_text())
    text = json.dumps(data).replace('"body": []', '"body": [' + ",".join(["{}"] * (MAX_CONTAINERS + 1)) + "]")
    file.write_text(text)
    assert f"more than {MAX_CONTAINERS:,} JSON objects and arrays" in _refused(tmp_path)


def test_every_client_gets_the_refusal(tmp_path: Path) -> None:
    requests = pytest.importorskip("requests")
    _bent(tmp_path, headers={"x-a": "v\r\nx-b: injected"})
    with use_cassette(tmp_path, mode="replay"), pytest.raises(CassetteFormatError):
        requests.get(URL, timeout=5)


def test_line_breaks_json_allows_in_strings_are_escaped_in_a_replayed_event(tmp_path: Path) -> None:
    # U+2028, U+2029 and U+0085 end a line for httpx's iter_lines (httpx-sse reads with it): written
    # raw, they would cut an event in two; as escapes, the event is the same JSON.
    text = "a\u2028b\u2029c\x85d"
    body = b"data: " + json.dumps({"choices": [{"delta": {"content": text}}]}).encode() + b"\n\n"
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, headers=SSE, content=body))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.get(URL).read()
    with (
        httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client,
        client.stream("GET", URL) as response,
    ):
        lines = [line for line in response.iter_lines() if line]
    assert len(lines) == 1
    assert json.loads(lines[0].removeprefix("data: "))["choices"][0]["delta"]["content"] == text
