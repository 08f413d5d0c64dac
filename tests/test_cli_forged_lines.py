"""A hostile file must not forge what the CLI prints for a reviewer: a line break in a request's method,
URL or headers, or in the file's ``meta``, is refused when the file is read (by replay, ``verify`` and
every command alike, naming the file and the field); and whatever text reaches a table cell or a
heading of ``show`` is printed on its one line, its line breaks and tabs escaped."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteError, CassetteTransport
from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console

URL = "https://api.test/v1/models"
FORGED = "\nget-models-5f1c0e2a9b7d.json  GET  /v1/models  200  -  512"


def run(*argv: str | Path, fancy: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main([str(a) for a in argv], Console(out, err, fancy=fancy, width=300))
    return status, out.getvalue(), err.getvalue()


def write(directory: Path, request: dict[str, Any], meta: dict[str, str] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "version": 1,
        "request": {"method": "GET", "url": URL, **request},
        "responses": [{"status": 200, "headers": {"content-type": "application/json"}, "body": {"ok": 1}}],
    }
    if meta:
        data["meta"] = meta
    file = directory / "get-models-0123456789ab.json"
    file.write_text(json.dumps(data))
    return file


BROKEN = {
    "method": ({"method": "GET" + FORGED}, None, "$.request.method"),
    "method, CRLF": ({"method": "GET\r\nX: y"}, None, "$.request.method"),
    "url": ({"url": "https://api.test/v1/chat\n/completions"}, None, "$.request.url"),
    "url with a space": ({"url": "https://api.test/v1/a b"}, None, "$.request.url"),
    "request header": ({"headers": {"x-note": "a" + FORGED}}, None, "$.request.headers.x-note"),
    "request header name": ({"headers": {"x\nnote": "a"}}, None, "$.request.headers"),
    "recorded_at": ({}, {"recorded_at": "2026-01-01" + FORGED}, "$.meta.recorded_at"),
    "user_agent": ({}, {"user_agent": "sdk/1" + FORGED}, "$.meta.user_agent"),
}


@pytest.mark.parametrize(("request_", "meta", "field"), list(BROKEN.values()), ids=list(BROKEN))
def test_a_line_break_where_the_wire_has_none_is_refused_naming_the_field(
    tmp_path: Path, request_: dict[str, Any], meta: dict[str, str] | None, field: str
) -> None:
    file = write(tmp_path, request_, meta)
    status, out, err = run("verify", tmp_path)
    assert status == 1
    assert file.name in err
    assert field in err
    status, out, err = run("ls", tmp_path)
    assert not any(line.startswith(FORGED.strip()[:16]) for line in (out + err).splitlines())
    replay = httpx.Client(transport=CassetteTransport(tmp_path, mode="replay"))
    with replay, pytest.raises(CassetteError, match=field.replace("$", r"\$").replace(".", r"\.")):
        replay.get(URL)


@pytest.mark.parametrize("fancy", [False, True], ids=["plain", "rich"])
def test_a_table_cell_keeps_to_its_line(tmp_path: Path, fancy: bool) -> None:
    # A file name may hold a line break (Linux allows it): the name is escaped, never a row of its own.
    folder = tmp_path / "cas"
    file = write(folder, {})
    file.rename(folder / ("get-models-0123456789ab" + FORGED.replace("/", "_") + ".json"))
    _, out, _ = run("ls", folder, fancy=fancy)
    (row,) = [line for line in out.splitlines() if "get-models" in line]
    assert "\\n" in row


def test_show_prints_a_heading_on_its_line(tmp_path: Path) -> None:
    file = write(tmp_path / "cas", {})
    named = file.rename(file.with_name("get-models\tx" + FORGED.replace("/", "_") + ".json"))
    status, out, err = run("show", named)
    assert status == 0, err
    first = out.splitlines()[0]
    assert first.startswith(str(named.parent))
    assert "get-models\\tx\\nget-models-5f1c" in first


VCR_YAML = """interactions:
- request:
    body: null
    headers: {}
    method: "GET\\r\\nX-Forged: y"
    uri: https://api.test/v1/models
  response:
    body: {string: '{"ok": 1}'}
    headers:
      content-type: [application/json]
    status: {code: 200, message: OK}
version: 1
"""


def test_convert_refuses_a_vcrpy_method_with_a_line_break_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(VCR_YAML)
    status, _, err = run("convert", tmp_path / "c.yaml", tmp_path / "out", "--from", "vcr")
    assert status == 1
    assert "$.request.method" in err
    assert not any(line.startswith("X-Forged") for line in err.splitlines()), err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def _file(directory: Path, name: str, request: dict[str, Any], response: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    data = {"version": 1, "request": {"method": "GET", "url": URL, **request}, "responses": [response]}
    file = directory / name
    file.write_text(json.dumps(data))
    return file


SSE = {"status": 200, "headers": {"content-type": "text/event-stream"}, "is_streaming": True}
MORE = {
    "an event's name": (
        {},
        {**SSE, "body": [{"event": "x" + FORGED, "__data__": {}}]},
        "$.responses[0].body[0]",
    ),
    "an event's id": ({}, {**SSE, "body": [{"id": "1" + FORGED, "__data__": {}}]}, "$.responses[0].body[0]"),
    "a multipart name": (
        {"method": "POST", "multipart": [{"name": "f" + FORGED, "value": "v"}]},
        {"status": 200, "body": {}},
        "$.request.multipart[0].name",
    ),
}


@pytest.mark.parametrize(("request_", "response", "field"), list(MORE.values()), ids=list(MORE))
def test_a_line_break_in_a_stream_or_a_form_field_is_refused(
    tmp_path: Path, request_: dict[str, Any], response: dict[str, Any], field: str
) -> None:
    _file(tmp_path, "get-models-0123456789ab.json", request_, response)
    status, _, err = run("verify", tmp_path)
    assert status == 1
    assert field in err
    assert not any(line.startswith(FORGED.strip()[:16]) for line in err.splitlines())


def test_show_prints_a_multi_line_failure_on_its_line(tmp_path: Path) -> None:
    failure = {"status": 0, "error": {"type": "ConnectError", "message": "refused" + FORGED}}
    file = _file(tmp_path, "get-models-0123456789ab.json", {}, failure)
    status, out, err = run("show", file)
    assert status == 0, err
    assert not any(line.startswith(FORGED.strip()[:16]) for line in out.splitlines())
    assert "failed: ConnectError: refused\\nget-models-5f1c" in out


@pytest.mark.parametrize("command", ["verify", "ls", "scan"])
def test_a_file_name_with_a_line_break_is_named_on_one_line(tmp_path: Path, command: str) -> None:
    # git stores such names: every message naming the file keeps to its line
    name = "get-models" + FORGED.replace("/", "_") + "0123456789ab.json"
    broken = (
        {"status": 700}
        if command != "scan"
        else {"status": 200, "body": {"api_key": "Q7vX2mK9pL4sN8wR3tY6uB1c"}}
    )
    _file(tmp_path, name, {}, broken)
    status, out, err = run(command, tmp_path)
    assert status == 1
    assert "get-models\\nget-models-5f1c" in out + err
    assert not any(line.startswith(FORGED.strip()[:16]) for line in (out + err).splitlines())


def test_diff_names_a_changed_file_on_one_line(tmp_path: Path) -> None:
    name = "x" + FORGED.replace("/", "_") + ".json"
    _file(tmp_path / "a", name, {}, {"status": 200, "body": {"ok": True}})
    _file(tmp_path / "b", name, {}, {"status": 200, "body": {"ok": False}})
    _, out, err = run("diff", tmp_path / "a", tmp_path / "b")
    assert "changed " in out
    assert not any(line.startswith(FORGED.strip()[:16]) for line in (out + err).splitlines())


def test_show_prints_a_tool_call_whose_arguments_have_lines_on_one_line(tmp_path: Path) -> None:
    # A model's pretty-printed arguments (or a hostile file's) must not start lines of their own
    arguments = json.dumps({"a": "x" + FORGED}, indent=2)
    call = {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "get", "arguments": arguments},
    }
    chunks = [
        {"id": "c1", "choices": [{"index": 0, "delta": {"tool_calls": [call]}}]},
        {"id": "c1", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
    ]
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    headers = {"content-type": "text/event-stream"}
    upstream = httpx.MockTransport(lambda _: httpx.Response(200, content=body.encode(), headers=headers))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.post("https://api.openai.com/v1/chat/completions", json={"model": "m", "stream": True}).read()
    (file,) = tmp_path.glob("*.json")
    _, out, _ = run("show", file)
    assert not any(line.startswith(FORGED.strip()[:16]) for line in out.splitlines())
    assert '  get({\\n  "a": "x\\nget-models-5f1c' in out
