"""What differential fuzzing of recording against ``scan`` found: each case records through the public API
and checks the file on disk, then checks that ``scan`` agrees on a hand-written copy."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.storage.scan import scan_directory

_RANDOM = random.Random(11)


def _chars(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_RANDOM.choice(alphabet) for _ in range(n))


KEY = "sk-proj-" + _chars(48)
AKIA = "AKIA" + _chars(16, string.ascii_uppercase + string.digits)
TOKEN = _chars(40)


def _record(path: Path, answer: httpx.Response, url: str = "https://api.test/v1/x") -> bool:
    """Record one exchange; True when recording refused it."""
    upstream = httpx.MockTransport(lambda request: answer)
    try:
        with httpx.Client(transport=CassetteTransport(path, mode="record", inner=upstream)) as client:
            client.get(url).read()
    except CassetteSecretError:
        return True
    return False


def _on_disk(path: Path, secret: str) -> bool:
    return any(secret in f.read_text() for f in path.glob("*.json"))


@pytest.mark.parametrize(
    "name", ["dbpassword", "ACCESSTOKEN", "accesstoken", "masterkey", "idtoken", "passwds"]
)
def test_names_written_run_together_are_secret_names(tmp_path: Path, name: str) -> None:
    refused = _record(tmp_path, httpx.Response(200, json={name: TOKEN}))
    assert not refused
    assert not _on_disk(tmp_path, TOKEN)
    assert json.loads(next(tmp_path.glob("*.json")).read_text())["responses"][0]["body"][name] == "REDACTED"


@pytest.mark.parametrize("escape", ["\\n", "\\t", "\\r"])
def test_a_key_right_after_a_json_escape_in_text_is_found(tmp_path: Path, escape: str) -> None:
    # JSON text that is not whole JSON (a page with inline JSON): the escape's letter is no word before it.
    page = f'<script>var x = {{"note": "line{escape}{KEY}"}};</script>'
    assert _record(tmp_path / "r", httpx.Response(200, text=page, headers={"content-type": "text/html"}))
    assert not _on_disk(tmp_path / "r", KEY)


@pytest.mark.parametrize(
    "body",
    [
        {"db": "Uid=sa;Pwd=" + _chars(10)},  # a short connection string
        {"q": "q=" + "".join(f"%{ord(c):02X}" for c in AKIA)},  # a form value, fully percent-encoded
        {"Type": "SecureString", "Value": TOKEN},  # AWS SSM, with no name beside it
        {"text": KEY.encode("utf-16-le").decode()},  # UTF-16 in a string: NULs between the letters
        {"text": "note: " + KEY.encode("utf-32-be").decode()},
    ],
)
def test_the_prefilter_lets_through_what_the_scan_would_flag(tmp_path: Path, body: dict[str, Any]) -> None:
    # Recording checks a response only when the prefilter says it may hold a secret: it must not pass
    # one that `scan` then flags on disk.
    refused = _record(tmp_path, httpx.Response(200, json=body))
    if not refused:
        assert scan_directory(tmp_path) == []
        assert all(
            value not in next(tmp_path.glob("*.json")).read_text()
            for value in body.values()
            if len(value) > 12
        )


@pytest.mark.parametrize(
    "link",
    [
        "https://github.com/org/repo/commit/" + _chars(40, "0123456789abcdef"),
        "https://docs.google.com/document/d/"
        + _chars(44, string.ascii_letters + string.digits + "-_")
        + "/edit",
    ],
)
def test_a_link_in_a_models_answer_is_no_credential(tmp_path: Path, link: str) -> None:
    # A long id in the path of a URL written in text is what such links hold: the request never went there.
    chunk = {"choices": [{"index": 0, "delta": {"content": f"See {link} for the change."}}]}
    sse = b"data: " + json.dumps(chunk).encode() + b"\n\ndata: [DONE]\n\n"
    answer = httpx.Response(200, content=sse, headers={"content-type": "text/event-stream"})
    assert not _record(tmp_path, answer)
    assert scan_directory(tmp_path) == []


def test_a_random_token_in_the_request_path_is_still_refused(tmp_path: Path) -> None:
    url = "https://api.telegram.org/bot7123456789:AAH" + _chars(32) + "/getMe"
    assert _record(tmp_path, httpx.Response(200, json={}), url)


@pytest.mark.parametrize(
    "segment",
    ["bot" + _chars(32, "0123456789abcdef"), "bot" + "gh" + "p_" + _chars(36)],
)
def test_a_token_glued_to_a_word_in_the_request_path_is_refused(tmp_path: Path, segment: str) -> None:
    # /bot<token>/: the word would hide the token from the hex test and the pattern's look-behind.
    assert _record(tmp_path, httpx.Response(200, json={}), f"https://api.telegram.org/{segment}/getMe")
    assert not list(tmp_path.glob("*.json"))
