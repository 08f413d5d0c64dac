"""Text whose escapes hide a credential: a settings file or a form percent-encoded whole, or shown in a
web page with HTML character references, or written as a string literal escaping characters by their
number, pasted into a prompt or a tool's result. Recording refuses it
(the pre-check does not call it clean) and ``scan`` finds it in a file written by hand; text with
escapes and nothing behind them records as it is."""

from __future__ import annotations

import html
import json
import random
import string
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.storage.scan import scan_directory

_RANDOM = random.Random(35)
TOKEN = "".join(_RANDOM.choice(string.ascii_letters + string.digits) for _ in range(32))
KEY = "sk-proj-" + TOKEN + TOKEN
ENV = f"APP_ENV=prod\nDB_PASSWORD={TOKEN}\n"
FORM = f"user=alice&client_secret={TOKEN}"


def _each(template: str, text: str) -> str:
    """``text`` with every character but letters and digits written as ``template`` writes its code."""
    return "".join(c if c.isalnum() else template.format(ord(c)) for c in text)


HIDDEN = {
    "a .env percent-encoded whole": quote(ENV, safe=""),
    "one line, its = escaped": f"DB_PASSWORD%3D{TOKEN}",
    "a .env percent-encoded twice": quote(quote(ENV, safe=""), safe=""),
    "a form percent-encoded whole": "body: " + quote(FORM, safe=""),
    "a key with its dash escaped": "key " + KEY.replace("-", "%2D"),
    "a .env as numeric references": _each("&#{};", ENV),
    "a .env as hex references": _each("&#x{:x};", ENV),
    "a .env as named references": ENV.replace("=", "&equals;").replace("\n", "&NewLine;"),
    "a key behind a reference": "key: sk&#45;proj&#45;" + TOKEN + TOKEN,
    "a .env as \\x escapes in code": "s = '" + _each("\\x{:02x}", ENV) + "'",
    "a key behind \\u escapes": 'key = "sk\\u002dproj\\u002d' + TOKEN + TOKEN + '"',
    "a .env with a URL line first, percent-encoded whole": quote(
        f"API_BASE=https://api.example.com\n{ENV}", safe=""
    ),
    "the same with quote's default safe slash": quote(f"API_BASE=https://api.example.com\n{ENV}"),
    "a form with a redirect URL, encoded whole": quote(
        f"redirect_uri=https://app.example/cb&{FORM}", safe=""
    ),
    "a notebook cut short, its code quoted": '{"cells": [{"source": ["client = OpenAI(api_key=\\"'
    + TOKEN
    + '\\")\\n"]}, ... [truncated]',
    "a header line form-encoded in prose": "fix: " + quote_plus(f"Authorization: Bearer {TOKEN}"),
    "JSON form-encoded in prose": "see " + quote_plus(json.dumps({"api_key": TOKEN, "model": "m"})),
    "code quoted in a log line as it is": '{"log": "client = OpenAI(api_key="' + TOKEN + '")"}',
    "a .env with a URL line, encoded as encodeURI does": quote(
        f"API_BASE=https://api.example/v1\n{ENV}", safe=":/"
    ),
    "a URL whose query delimiters are encoded": "callback: https://app.test/cb%3Faccess_token%3D" + TOKEN,
    "a DSN whose @ is encoded": "dsn: postgres://u:" + TOKEN + "%40db.test/x",
    "a .env line escaped in octal": "s = 'DB_PASSWORD\\075" + TOKEN + "'",
    "a .env line escaped as JS and Rust do": 's = "DB_PASSWORD\\u{3d}' + TOKEN + '"',
    "HTML escaped, then percent-encoded": quote(_each("&#{};", ENV)),
}


def _record(path: Path, answer: Any, sent: Any = None) -> bool:
    """Record one exchange; True when recording refused it."""
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    try:
        with httpx.Client(transport=CassetteTransport(path, mode="record", inner=upstream)) as client:
            client.post("https://api.test/v1/chat/completions", json=sent or {"model": "m"}).read()
    except CassetteSecretError:
        return True
    return False


@pytest.mark.parametrize("text", list(HIDDEN.values()), ids=list(HIDDEN))
def test_a_response_hiding_a_credential_behind_escapes_is_refused(tmp_path: Path, text: str) -> None:
    assert _record(tmp_path, {"output": text})
    assert not list(tmp_path.glob("*.json"))


@pytest.mark.parametrize("text", list(HIDDEN.values()), ids=list(HIDDEN))
def test_a_prompt_hiding_a_credential_behind_escapes_is_refused(tmp_path: Path, text: str) -> None:
    assert _record(tmp_path, {"ok": True}, {"messages": [{"role": "user", "content": f"fix this: {text}"}]})


@pytest.mark.parametrize("text", list(HIDDEN.values()), ids=list(HIDDEN))
def test_scan_finds_it_in_a_file_written_by_hand(tmp_path: Path, text: str) -> None:
    assert not _record(tmp_path, {"output": "PLACEHOLDER"})
    (file,) = tmp_path.glob("*.json")
    file.write_text(file.read_text().replace("PLACEHOLDER", json.dumps(text)[1:-1]))
    found = scan_directory(tmp_path)
    assert found


CLEAN = {
    "a percentage": "Revenue grew 25% (from 4%20 to 5%30 in the old notation), 100%",
    "a redirect chain": "see " + quote("https://example.com/a?next=" + quote("https://example.com/b?x=1")),
    "an escaped query in prose": "search for name%3Dalice%26page%3D2 and compare",
    "a page's text": html.escape('<a href="/x?a=1&b=2">Tom & Jerry</a> &copy; 2024 &mdash; "quotes"'),
    "a package name with its @ encoded": "see https://www.npmjs.com/package/%40types%2Fnode for types",
    "prose with pluses and an escape": "C++ and a+b: 50%25 off, see /docs?q=a+b%20c",
    "code with escapes": 'print("caf\\u00e9\\n\\x41 \\"done\\"")',
    "JSON with surrogates escaped one by one": '{"\\ud83d\\ude00": 0, "lone": "\\ud800"}',
    "code writing NULs as escapes": "def login(sock, password):\n    password = password.encode()\n"
    '    sock.send(b"\\x00\\x01" + b"\\x00" + password)  # %00 too',
    "a settings line with a placeholder": quote("DB_PASSWORD=changeme\nAPI_KEY=<your key>\n", safe=""),
}


@pytest.mark.parametrize("text", list(CLEAN.values()), ids=list(CLEAN))
def test_escaped_text_with_nothing_behind_it_is_recorded(tmp_path: Path, text: str) -> None:
    assert not _record(tmp_path, {"output": text}, {"messages": [{"role": "user", "content": text}]})
    assert scan_directory(tmp_path) == []
    (file,) = tmp_path.glob("*.json")
    assert json.dumps(text)[1:-1] in file.read_text()


_PARTS = st.sampled_from(
    ['{"', '"}', "\\u", "\\x", "%", "&#", "&#x", ";", "d800", "dc00", "3d", "0a", "=", "\n", "\\"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.one_of(_PARTS, st.text(max_size=4)), max_size=24))
def test_any_escapes_record_or_are_refused(tmp_path: Path, parts: list[str]) -> None:
    # Readings of broken or lone escapes (half a surrogate pair, "%" at the end) are text all the same
    text = "".join(parts)
    path = tmp_path / str(abs(hash(text)))
    if not _record(path, {"output": text}, {"messages": [{"role": "user", "content": text}]}):
        assert scan_directory(path) == []


@pytest.mark.parametrize(
    "body",
    [b'{"a": NaN, "b": " {x \\udfff&quot;null}"}', b'{"a": NaN, "b": "/p?=%7B\\ud800#https://"}'],
    ids=["entity", "url"],
)
def test_json_only_python_reads_with_a_lone_surrogate_records(tmp_path: Path, body: bytes) -> None:
    # Python's json module reads NaN and a lone surrogate; no text holds one, so the body is read as text
    answer = httpx.Response(200, content=body, headers={"content-type": "application/json"})
    upstream = httpx.MockTransport(lambda request: answer)
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.get("https://api.test/v1/x").read()
    assert scan_directory(tmp_path) == []
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client:
        assert client.get("https://api.test/v1/x").content == body
