"""Streams not stored as events, and echoes not stored as text, keep credentials off disk as the others do.

* A JSON array of chunks (Gemini's ``streamGenerateContent`` without ``alt=sse``): what its objects say
  is assembled, so a key the model writes over several chunks is refused, as the same chunks as SSE are.
* An SSE or NDJSON stream kept as bytes (a quoted charset) or as text (a content-type that names no
  stream): its events are parsed and assembled, so a key streamed in pieces is refused.
* A request's credential quoted back in a body kept as bytes: written as ``REDACTED`` in the charset the
  body is written in (UTF-16, UTF-32, EBCDIC); inside compressed data, where it cannot be rewritten in
  place, the recording is refused.
* ``convert --from vcr`` and ``--from llama-stack`` write such an echo as ``REDACTED``, as recording does.

Each has a control: ordinary traffic of the same shape records as before. Every fake credential is
assembled at run time.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import random
import string
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.cli import main
from httpx_cassette.cli.console import Console


def fake_key(seed: int = 0) -> str:
    """An OpenAI-shaped key; none of `pieces` holds an anchor of a known format."""
    rng = random.Random(seed)
    return "sk-" + "proj-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(48))


def pieces(key: str) -> list[str]:
    return ["Your key is ", key[:2], key[2:8], key[8:24], key[24:40], key[40:], "."]


_RNG = random.Random(7)
AZURE_KEY = "".join(_RNG.choice("0123456789abcdef") for _ in range(31)) + "7"  # no known format


def record(directory: Path, handler: Any, method: str = "POST", url: str = "/v1/x", **kw: Any) -> None:
    transport = CassetteTransport(directory, mode="record", inner=httpx.MockTransport(handler))
    with httpx.Client(transport=transport, base_url="https://api.example.com") as client:
        client.request(method, url, **kw)


def stored(directory: Path) -> dict[str, Any]:
    [file] = directory.glob("*.json")
    response: dict[str, Any] = json.loads(file.read_text())["responses"][0]
    return response


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), Console(out, err, fancy=False))
    return status, out.getvalue(), err.getvalue()


def hand_written(directory: Path, response: dict[str, Any]) -> Path:
    """A cassette file holding ``response``, as a pull request may commit one."""
    directory.mkdir(parents=True, exist_ok=True)
    cassette = {"version": 1, "request": {"method": "POST", "url": "https://api.example.com/v1/x"}}
    (directory / "post-x-000000000000.json").write_text(json.dumps({**cassette, "responses": [response]}))
    return directory


# -- a JSON array of chunks -------------------------------------------------------------------------


def gemini_chunk(text: str) -> dict[str, Any]:
    content = {"parts": [{"text": text}], "role": "model"}
    return {"candidates": [{"content": content, "index": 0}], "modelVersion": "gemini-2.0-flash"}


def gemini_array(texts: list[str]) -> bytes:
    return ("[" + ",\r\n".join(json.dumps(gemini_chunk(t)) for t in texts) + "]").encode()


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=UTF-8", 'application/json; charset="utf-8"']
)
def test_a_json_array_of_chunks_with_a_key_in_pieces_is_refused(tmp_path: Path, content_type: str) -> None:
    body = gemini_array(pieces(fake_key()))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    with pytest.raises(CassetteSecretError, match="assemble"):
        record(tmp_path, handler, url="/v1beta/models/gemini-2.0-flash:streamGenerateContent")
    assert list(tmp_path.rglob("*.json")) == []


def test_scan_flags_a_json_array_of_chunks_with_a_key_in_pieces(tmp_path: Path) -> None:
    chunks = [gemini_chunk(t) for t in pieces(fake_key(1))]
    cassette = hand_written(tmp_path / "c", {"status": 200, "headers": {}, "body": chunks})
    status, _, err = run("scan", str(cassette))
    assert status == 1
    assert "OpenAI API key" in err


def test_an_ordinary_json_array_of_records_is_recorded(tmp_path: Path) -> None:
    records = [
        {"id": f"rec_{i:04d}", "name": f"item {i}", "tags": ["a", "b"], "owner": "alice", "score": i}
        for i in range(50)
    ]
    records.append({"id": "models/gemini-2.0-flash", "displayName": "Gemini", "description": "fast"})
    events = [  # records with a `type` are assembled as chunks might be: nothing in them is a secret
        {"id": str(2_000_000 + i), "type": "PushEvent", "actor": {"login": f"user{i}"}, "public": True}
        for i in range(30)
    ]
    records = events + records

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=records)

    record(tmp_path, handler, method="GET", url="/v1/records")
    assert stored(tmp_path)["body"] == records


# -- a stream kept as bytes or as text ---------------------------------------------------------------


def chat_sse(texts: list[str]) -> bytes:
    chunks = [
        {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": t}}]}
        for t in texts
    ]
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"


def ollama_ndjson(texts: list[str]) -> bytes:
    lines = [{"model": "m", "message": {"role": "assistant", "content": t}, "done": False} for t in texts]
    lines.append({"model": "m", "message": {"role": "assistant", "content": ""}, "done": True})
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


STREAMS = {
    'SSE, charset="utf-8"': (chat_sse, 'text/event-stream; charset="utf-8"'),
    "SSE, charset=utf-16": (chat_sse, "text/event-stream; charset=utf-16"),
    "SSE as text/plain": (chat_sse, "text/plain"),
    "SSE with no content-type": (chat_sse, None),
    "SSE as application/octet-stream": (chat_sse, "application/octet-stream"),
    'NDJSON, charset="utf-8"': (ollama_ndjson, 'application/x-ndjson; charset="utf-8"'),
}


@pytest.mark.parametrize("shape", list(STREAMS))
def test_a_stream_not_stored_as_events_with_a_key_in_pieces_is_refused(tmp_path: Path, shape: str) -> None:
    make, content_type = STREAMS[shape]
    charset = "utf-16" if content_type and "utf-16" in content_type else "utf-8"
    body = make(pieces(fake_key(2))).decode().encode(charset)

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": content_type} if content_type else {}
        return httpx.Response(200, content=body, headers=headers)

    with pytest.raises(CassetteSecretError, match="assemble"):
        record(tmp_path, handler, json={"stream": True})
    assert list(tmp_path.rglob("*.json")) == []


def test_scan_flags_a_stream_kept_as_base64_with_a_key_in_pieces(tmp_path: Path) -> None:
    encoded = base64.b64encode(chat_sse(pieces(fake_key(3)))).decode()
    headers = {"content-type": 'text/event-stream; charset="utf-8"'}
    cassette = hand_written(tmp_path / "c", {"status": 200, "headers": headers, "base64": encoded})
    status, _, err = run("scan", str(cassette))
    assert status == 1
    assert "OpenAI API key" in err


@pytest.mark.parametrize(
    "content_type",
    ['text/event-stream; charset="utf-8"', "text/plain", 'application/x-ndjson; charset="utf-8"'],
)
def test_an_ordinary_stream_not_stored_as_events_is_recorded(tmp_path: Path, content_type: str) -> None:
    texts = ["Hello", ", ", "how can I help", " today? Ask about ", "sk", "ating or ", "keys", "."]
    body = ollama_ndjson(texts) if "ndjson" in content_type else chat_sse(texts)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": content_type})

    record(tmp_path, handler, json={"stream": True})
    response = stored(tmp_path)
    kept = base64.b64decode(response["base64"]) if "base64" in response else response["text"].encode()
    assert kept == body
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client:
        assert client.post("https://api.example.com/v1/x", json={"stream": True}).content == body


# -- an echo in a body kept as bytes -----------------------------------------------------------------


def denied(key: str) -> str:
    return f"Access denied due to invalid subscription key {key}. Make sure to provide a valid key."


@pytest.mark.parametrize("charset", ["utf-16", "utf-16-le", "utf-32", "cp500"])
def test_an_echo_in_another_charset_is_written_redacted(tmp_path: Path, charset: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        text = denied(request.headers["api-key"])
        return httpx.Response(
            401, content=text.encode(charset), headers={"content-type": f"text/plain; charset={charset}"}
        )

    record(tmp_path, handler, headers={"api-key": AZURE_KEY}, json={"a": 1})
    response = stored(tmp_path)
    assert base64.b64decode(response["base64"]).decode(charset) == denied("REDACTED")
    assert AZURE_KEY not in (tmp_path / next(tmp_path.glob("*.json")).name).read_text()


def test_an_echo_in_a_utf16_json_body_with_no_charset_is_written_redacted(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # json.loads reads UTF-16 by its NULs
        body = json.dumps({"error": {"message": denied(request.headers["api-key"])}}).encode("utf-16-le")
        return httpx.Response(401, content=body, headers={"content-type": "application/json"})

    record(tmp_path, handler, headers={"api-key": AZURE_KEY}, json={"a": 1})
    response = stored(tmp_path)
    kept = base64.b64decode(response["base64"]) if "base64" in response else response["text"].encode()
    assert AZURE_KEY not in kept.decode("utf-16-le")
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client:
        answer = client.post("https://api.example.com/v1/x", headers={"api-key": "x"}, json={"a": 1})
    assert json.loads(answer.content)["error"]["message"] == denied("REDACTED")


def test_an_echo_inside_compressed_data_is_refused(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:  # a gzip file: no content-encoding undoes it
        body = gzip.compress(denied(request.headers["api-key"]).encode())
        return httpx.Response(200, content=body, headers={"content-type": "application/gzip"})

    with pytest.raises(CassetteSecretError, match="echoes a credential its request carried") as refused:
        record(tmp_path, handler, headers={"api-key": AZURE_KEY}, json={"a": 1})
    assert AZURE_KEY not in str(refused.value)
    assert list(tmp_path.rglob("*.json")) == []


@pytest.mark.parametrize("charset", ["utf-16", "utf-32"])
def test_an_ordinary_401_in_another_charset_is_recorded(tmp_path: Path, charset: str) -> None:
    text = denied("that you sent") + " Ask your administrator for the key to the 'Contoso' resource."

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            401, content=text.encode(charset), headers={"content-type": f"text/plain; charset={charset}"}
        )

    record(tmp_path, handler, headers={"api-key": AZURE_KEY}, json={"a": 1})
    assert base64.b64decode(stored(tmp_path)["base64"]) == text.encode(charset)


# -- converting other recorders' files ---------------------------------------------------------------


def vcr_cassette(body: str) -> str:
    yaml = pytest.importorskip("yaml")
    uri = "https://myres.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-06-01"
    interaction = {
        "request": {
            "body": '{"messages": []}',
            "headers": {"api-key": [AZURE_KEY], "Content-Type": ["application/json"]},
            "method": "POST",
            "uri": uri,
        },
        "response": {
            "body": {"string": body},
            "headers": {"Content-Type": ["application/json"]},
            "status": {"code": 401, "message": "Unauthorized"},
        },
    }
    text: str = yaml.safe_dump({"interactions": [interaction], "version": 1})
    return text


def test_convert_from_vcr_writes_an_echoed_credential_redacted(tmp_path: Path) -> None:
    source = tmp_path / "test_chat.yaml"
    source.write_text(vcr_cassette(json.dumps({"error": {"code": "401", "message": denied(AZURE_KEY)}})))
    status, _, err = run("convert", "--from", "vcr", str(source), str(tmp_path / "out"))
    assert (status, err) == (0, "")
    [file] = (tmp_path / "out").glob("*.json")
    assert AZURE_KEY not in file.read_text()
    assert json.loads(file.read_text())["responses"][0]["body"]["error"]["message"] == denied("REDACTED")
    assert run("scan", str(tmp_path / "out"))[0] == 0


def test_convert_from_vcr_refuses_an_echo_it_cannot_rewrite(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    source = tmp_path / "test_chat.yaml"
    cassette = yaml.safe_load(vcr_cassette(""))
    response = cassette["interactions"][0]["response"]
    response["body"]["string"] = gzip.compress(denied(AZURE_KEY).encode())  # !!binary
    response["headers"]["Content-Type"] = ["application/gzip"]
    source.write_text(yaml.safe_dump(cassette))
    status, _, err = run("convert", "--from", "vcr", str(source), str(tmp_path / "out"))
    assert status == 1
    assert f"refusing to convert {source}" in err
    assert AZURE_KEY not in err
    assert list((tmp_path / "out").rglob("*.json")) == []


def llama_stack_401(request: dict[str, Any]) -> dict[str, Any]:
    message = denied(AZURE_KEY)
    stored_request = {
        "method": "POST",
        "url": "http://localhost:8321/v1/v1/chat/completions",
        "headers": {},
        "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        "endpoint": "/v1/chat/completions",
        "model": "m",
        **request,
    }
    data = {
        "status_code": 401,
        "body": {"code": "401", "message": message},
        "message": f"Error code: 401 - {message}",
    }
    response = {"body": None, "is_streaming": False, "is_exception": True, "exception_data": data}
    return {"test_id": "tests/test_chat.py::test_hi", "request": stored_request, "response": response}


@pytest.mark.parametrize("where", ["headers", "extra_headers"])
def test_convert_from_llama_stack_writes_an_echoed_credential_redacted(tmp_path: Path, where: str) -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "extra_headers": {"api-key": AZURE_KEY},
    }
    raw = llama_stack_401({"headers": {"api-key": AZURE_KEY}} if where == "headers" else {"body": body})
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / ("a" * 64 + ".json")).write_text(json.dumps(raw))
    status, _, err = run("convert", "--from", "llama-stack", str(tmp_path / "src"), str(tmp_path / "ours"))
    assert (status, err) == (0, "")
    written = "".join(p.read_text() for p in (tmp_path / "ours").rglob("*.json"))
    assert AZURE_KEY not in written
    assert denied("REDACTED") in written
    assert run("convert", "--to", "llama-stack", str(tmp_path / "ours"), str(tmp_path / "back"))[0] == 0
    assert AZURE_KEY not in "".join(p.read_text() for p in (tmp_path / "back").rglob("*.json"))


# -- two parts of a stream's text interleaved ------------------------------------------------------------


def _interleaved(shape: str, key: str) -> list[dict[str, Any]]:
    """Each piece of ``key``'s block or message, with a piece of another one between every two."""
    events: list[dict[str, Any]] = []
    for a, b in zip(pieces(key), [" x ", " y ", " z ", " w ", " v ", " u ", " t "], strict=True):
        if shape == "anthropic":
            events += [
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": a}},
                {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": b}},
            ]
        else:
            kind = "response.output_text.delta"
            events += [
                {"type": kind, "item_id": "msg_1", "output_index": 1, "content_index": 0, "delta": a},
                {"type": kind, "item_id": "msg_2", "output_index": 2, "content_index": 0, "delta": b},
            ]
    return events


@pytest.mark.parametrize("shape", ["anthropic", "responses"])
def test_a_key_in_pieces_of_one_of_two_interleaved_texts_is_refused(tmp_path: Path, shape: str) -> None:
    """Anthropic content blocks by their index, Responses outputs by theirs: each text is whole apart, as
    a client assembles it, not only all of them in arrival order."""
    key = fake_key(3)
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in _interleaved(shape, key))
    headers = {"content-type": "text/event-stream"}
    with pytest.raises(CassetteSecretError):
        record(tmp_path, lambda request: httpx.Response(200, content=body.encode(), headers=headers))
    assert list(tmp_path.glob("*.json")) == []
