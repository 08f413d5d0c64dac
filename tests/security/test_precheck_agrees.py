"""The pre-check a recording runs before its full secret check must never call clean what ``scan`` then
flags in the written file: each case here is a way it once did (a differential fuzz of recording
against ``scan``), for responses and for request bodies alike. Each records through the public API and
either is refused or leaves a file ``scan`` finds clean, with the credential nowhere on disk."""

from __future__ import annotations

import html
import json
import random
import string
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.storage.scan import scan_directory

_RANDOM = random.Random(31)


def _chars(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_RANDOM.choice(alphabet) for _ in range(n))


KEY = "sk-proj-" + _chars(48)
TOKEN = _chars(40)
HEX = _chars(40, "0123456789abcdef")
PIECES = [KEY[:1]] + [KEY[i : i + 4] for i in range(1, len(KEY), 4)]  # "s", "k-pr", ...: no anchor alone
CHUNKS = [{"choices": [{"index": 0, "delta": {"content": piece}}]} for piece in PIECES]
SSE = "".join("data: " + json.dumps(chunk) + "\n\n" for chunk in CHUNKS)


def _record(path: Path, answer: httpx.Response, body: Any = None) -> bool:
    """Record one exchange (a POST of ``body`` as JSON when given); True when recording refused it."""
    upstream = httpx.MockTransport(lambda request: answer)
    try:
        with httpx.Client(transport=CassetteTransport(path, mode="record", inner=upstream)) as client:
            if body is None:
                client.get("https://api.test/v1/x").read()
            else:
                client.post("https://api.test/v1/x", json=body).read()
    except CassetteSecretError:
        return True
    return False


def _agrees(path: Path, refused: bool, secret: str) -> None:
    if not refused:
        assert scan_directory(path) == []
        assert all(secret not in file.read_text() for file in path.glob("*.json"))


RESPONSES = {
    # a response logged inside another: its stream's pieces are assembled by the scanner
    "status object holding SSE text": {"status": "completed", "text": SSE},
    "status object holding chunks": {"job": {"status": "done", "body": CHUNKS}},
    # the same written into a string HTML-escaped, or JSON-quoted again: read with its escapes undone
    "status object HTML-escaped in a string": {"log": html.escape(json.dumps({"status": 200, "text": SSE}))},
    "status object quoted again in a string": {"log": json.dumps(json.dumps({"status": 200, "text": SSE}))},
    # events written out as stored (`__data__`) anywhere but the stream itself
    "stored events in a JSON body": {"debug": {"events": [{"__data__": chunk} for chunk in CHUNKS]}},
    # a form with a user agent field, whose value the scanner reads as free text
    "form with a user_agent": {"note": "sdk=py&user_agent=" + HEX},
}


@pytest.mark.parametrize("body", list(RESPONSES.values()), ids=list(RESPONSES))
def test_a_response_the_precheck_passes_is_clean_for_scan(tmp_path: Path, body: Any) -> None:
    refused = _record(tmp_path, httpx.Response(200, json=body))
    _agrees(tmp_path, refused, KEY if "user_agent" not in str(body) else HEX)
    assert refused


@pytest.mark.parametrize("body", list(RESPONSES.values()), ids=list(RESPONSES))
def test_a_request_body_the_precheck_passes_is_clean_for_scan(tmp_path: Path, body: Any) -> None:
    refused = _record(tmp_path, httpx.Response(200, json={"ok": True}), body={"model": "m", **body})
    _agrees(tmp_path, refused, KEY if "user_agent" not in str(body) else HEX)
    assert refused


def test_an_echoed_headers_object_in_a_text_body_is_checked(tmp_path: Path) -> None:
    # JSON answered as text: its `headers` object is read as headers (a random token in one is flagged)
    echo = json.dumps({"headers": {"X-Upstream-Session": TOKEN}})
    refused = _record(tmp_path, httpx.Response(200, text=echo, headers={"content-type": "text/plain"}))
    _agrees(tmp_path, refused, TOKEN)
    assert refused


@pytest.mark.parametrize("value", ["Cookie s=Q1rDlCQ9", "x Cookie:a=12345a78"])
def test_a_short_cookie_line_is_judged_as_scan_judges_it(tmp_path: Path, value: str) -> None:
    refused = _record(tmp_path, httpx.Response(200, json={"content": value}))
    _agrees(tmp_path, refused, value.split("=")[-1])


@pytest.mark.parametrize("text", ["=" * 24, "#" + "=" * 60, "-" * 10 + "=" * 40])
def test_a_line_of_equals_signs_is_recorded_and_clean(tmp_path: Path, text: str) -> None:
    # Read as a form, `=====` was a field holding a form holding a form...: "not checked" past 24 levels
    assert not _record(tmp_path, httpx.Response(200, json={"content": text}))
    assert scan_directory(tmp_path) == []
    assert not _record(tmp_path / "request", httpx.Response(200, json={}), body={"content": text})
    assert scan_directory(tmp_path / "request") == []


def test_forms_nested_past_what_the_scanner_reads_are_refused_not_written(tmp_path: Path) -> None:
    chain = "a=" * 40 + "b"  # a form whose value is a form... 40 deep: the scanner stops at 24
    refused = _record(tmp_path, httpx.Response(200, json={"content": chain}))
    assert refused or scan_directory(tmp_path) == []
