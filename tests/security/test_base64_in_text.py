"""base64 anywhere in text is read as a whole base64 string is: a Kubernetes Secret's ``data:`` values in
YAML (a tool's result, a file from GitHub's contents API or served raw), an e-mail's base64 MIME part
(Gmail's ``format=raw``, a ``message/rfc822`` body), a blob pasted after a sentence, base64 of base64.
Each run that decodes to text or compressed data is read as bytes, so base64 in what it decodes to is
read in turn. Recording refuses a key in any of them, ``scan`` flags it in a file, and ordinary traffic
(ids, hashes, images, random tokens) still records. Every fake credential is assembled at run time."""

from __future__ import annotations

import base64
import email.message
import email.policy
import gzip
import json
import os
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.storage.scan import scan_directory
from tests.security.placements import openai_key

KEY = openai_key()
URL = "https://api.example.com/v1/x"


def b64(data: str | bytes) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def _letter(text: str) -> str:
    return f"Hello,\n\nyour new API key for the production project is {text} - keep it safe.\nGrüße\n"


def _manifest(key: str) -> str:
    config = b64(json.dumps({"openai": {"api_key": key}}))
    return (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-config\ntype: Opaque\ndata:\n"
        f"  config.json: {config}\n  region: {b64('eu-west-1 and some more words')}\n"
    )


def _mime(key: str) -> bytes:
    message = email.message.EmailMessage(policy=email.policy.SMTP)
    message["Subject"], message["From"], message["To"] = "Your API key", "a@example.com", "b@example.com"
    message.set_content(_letter(key) * 3, cte="base64")  # 76-column lines: the key spans two
    return message.as_bytes()


def _tool_result(content: str) -> dict[str, Any]:
    message = {"role": "tool", "tool_call_id": "c1", "content": content}
    return {"model": "gpt-4o-mini", "messages": [message]}


def _contents(key: str, width: int = 60, newline: str = "\n") -> dict[str, str]:
    """A file from GitHub's contents API: base64 wrapped at ``width`` columns."""
    wrapped = newline.join(textwrap.wrap(b64(_letter(key) * 2), width)) + newline
    return {"name": "key.txt", "path": "key.txt", "encoding": "base64", "content": wrapped}


# (what the request sends, what the response is): each holds KEY in base64 inside text.
CASES: dict[str, tuple[dict[str, Any] | None, httpx.Response]] = {
    "kubectl get secret -o yaml, as a tool's result": (_tool_result(_manifest(KEY)), httpx.Response(200)),
    "the same file from GitHub's contents API": (
        None,
        httpx.Response(200, json={"encoding": "base64", "content": b64(_manifest(KEY))}),
    ),
    "the same file served raw": (None, httpx.Response(200, text=_manifest(KEY))),
    "an e-mail as Gmail's format=raw": (
        None,
        httpx.Response(200, json={"id": "18c", "raw": base64.urlsafe_b64encode(_mime(KEY)).decode()}),
    ),
    "an e-mail as a message/rfc822 body": (
        None,
        httpx.Response(200, content=_mime(KEY), headers={"content-type": "message/rfc822"}),
    ),
    "a blob pasted after a sentence": (
        {"messages": [{"role": "user", "content": "What does this decode to?\n" + b64(_letter(KEY))}]},
        httpx.Response(200),
    ),
    "base64 of base64 in a JSON string": (
        None,
        httpx.Response(200, json={"content": b64(b64(_letter(KEY)))}),
    ),
    "gzip in base64 in a YAML block scalar": (
        None,
        httpx.Response(
            200,
            text="data:\n  blob: |\n"
            + "".join(
                f"    {line}\n"
                for line in base64.encodebytes(gzip.compress(_letter(KEY).encode())).decode().split()
            ),
        ),
    ),
    "a URL's path segment in an answer": (
        None,
        httpx.Response(
            200,
            json={
                "text": "See /v1/share/"
                + base64.urlsafe_b64encode(_letter(KEY).encode()).decode().rstrip("=")
                + "/view"
            },
        ),
    ),
    # Wrapped base64 in a string literal nothing parses as a whole: its line breaks are escapes (``\n``,
    # ``\r\n``, ``\\n``), whose ``n`` must not start the next line's run.
    "wrapped base64 in JSONP": (
        None,
        httpx.Response(
            200,
            text=f"callback({json.dumps(_contents(KEY))});",
            headers={"content-type": "application/javascript"},
        ),
    ),
    "wrapped base64 in a page's embedded state": (
        None,
        httpx.Response(
            200,
            text=f"<script>window.__DATA__ = {json.dumps(_contents(KEY, 76))};</script>",
            headers={"content-type": "text/html"},
        ),
    ),
    "wrapped base64 in a repr in an error message, CRLF": (
        None,
        httpx.Response(
            500, text=f"ValueError: cannot decode {_contents(KEY, 76, chr(13) + chr(10))['content']!r}"
        ),
    ),
    "wrapped base64 in JSON quoted in an error message, twice escaped": (
        None,
        httpx.Response(
            502,
            text="upstream said: " + json.dumps({"error": "bad body: " + json.dumps(_contents(KEY))}),
        ),
    ),
}


def _record(directory: Path, body: dict[str, Any] | None, response: httpx.Response, **options: Any) -> None:
    upstream = httpx.MockTransport(lambda request: response)
    transport = CassetteTransport(directory, mode="record", inner=upstream, **options)
    with httpx.Client(transport=transport) as client:
        if body is None:
            client.get(URL).read()
        else:
            client.post(URL, json=body).read()


@pytest.mark.parametrize("case", list(CASES))
def test_recording_refuses_a_key_in_base64_inside_text(tmp_path: Path, case: str) -> None:
    body, response = CASES[case]
    with pytest.raises(CassetteSecretError) as refused:
        _record(tmp_path, body, response)
    assert "OpenAI API key" in str(refused.value)
    assert "(base64-decoded)" in str(refused.value)
    assert KEY not in str(refused.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("case", list(CASES))
def test_scan_flags_a_key_in_base64_inside_text_in_a_file(tmp_path: Path, case: str) -> None:
    """The interaction recorded with the key allowed (as a file a pull request brings may hold it):
    ``scan`` finds it where recording did."""
    body, response = CASES[case]
    _record(tmp_path, body, response, allow_secrets=[KEY])
    found = scan_directory(tmp_path)
    assert [f.kind for f in found] == ["OpenAI API key"], found
    assert "(base64-decoded)" in found[0].path


def test_a_key_in_base64_in_a_stream_event_is_refused(tmp_path: Path) -> None:
    chunks = ["Decoded, that blob reads:", " " + b64(_letter(KEY))]
    events = [{"choices": [{"index": 0, "delta": {"content": text}}]} for text in chunks]
    sse = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=sse.encode())
    with pytest.raises(CassetteSecretError, match="OpenAI API key"):
        _record(tmp_path, {"model": "m", "stream": True}, response)


def test_ordinary_traffic_with_ids_hashes_images_and_tokens_records(tmp_path: Path) -> None:
    """Runs of the base64 alphabet that are no base64 of text (ids, hashes, a random token, an image, a
    long identifier) decode to noise: nothing is refused, and the file scans clean."""
    text = (
        "chatcmpl-B9MBs8CjcvOU2jLn4n7VSn5Gl7LPp sha256:"
        + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        + " AbstractSingletonProxyFactoryBeanInitializer "
        + base64.urlsafe_b64encode(os.urandom(48)).decode()
        + "\n![chart](data:image/png;base64,"
        + b64(b"\x89PNG\r\n\x1a\n" + os.urandom(3000))
        + ")\n"
        + "/usr/local/lib/python3.11/site-packages/httpx/_transports/default.py"
    )
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
    _record(tmp_path, {"messages": [{"role": "user", "content": text}]}, httpx.Response(200, json=body))
    assert len(list(tmp_path.glob("*.json"))) == 1
    assert scan_directory(tmp_path) == []
