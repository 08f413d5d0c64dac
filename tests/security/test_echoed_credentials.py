"""What a request carried and its recording drops (an API key header, a cookie, a URL's password, a secret
query parameter) is kept off disk when the server sends it back: a 401 quoting the key, a debug echo, a
transport error quoting the header. Also credential headers quoted in any text (a header dump, an error
message): the value after an Authorization scheme, a session cookie.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.cli import main as cli_main


def token(seed: int, alphabet: str = string.ascii_letters + string.digits, size: int = 32) -> str:
    """A random token of no known format, built at run time."""
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(size))


def record(directory: Path, handler: Any, **request: Any) -> None:
    transport = CassetteTransport(directory, mode="record", inner=httpx.MockTransport(handler))
    with httpx.Client(transport=transport) as client:
        client.request(**{"method": "GET", "url": "https://api.example.com/v1/things", **request})


def written(directory: Path) -> str:
    return "\n".join(f.read_text() for f in directory.rglob("*.json"))


ECHOED_BY = {
    "x-api-key header": lambda s: {"headers": {"x-api-key": s}},
    "api-key header, 32 hex": lambda s: {"headers": {"api-key": s}},
    "bearer header": lambda s: {"headers": {"authorization": f"Bearer {s}"}},
    "token scheme": lambda s: {"headers": {"authorization": f"Token {s}"}},
    "cookie": lambda s: {"headers": {"cookie": f"lang=en; sessionid={s}"}},
    "url password": lambda s: {"url": f"https://bob:{s}@api.example.com/v1/things"},
    "query parameter": lambda s: {"url": f"https://api.example.com/v1/things?api_key={s}"},
}


@pytest.mark.parametrize("how", list(ECHOED_BY))
def test_a_401_quoting_what_the_request_carried_is_stored_redacted(tmp_path: Path, how: str) -> None:
    secret = token(len(how), string.hexdigits.lower()[:16] if "hex" in how else string.ascii_letters)
    secret += "7"  # a digit: token-like in every alphabet

    def handler(request: httpx.Request) -> httpx.Response:
        quoted = f"The API key {secret} is not valid (sent as {quote(secret)})"
        return httpx.Response(401, json={"error": {"message": quoted}}, headers={"x-echo": secret})

    record(tmp_path, handler, **ECHOED_BY[how](secret))
    text = written(tmp_path)
    assert secret not in text
    assert quote(secret) not in text
    assert "The API key REDACTED is not valid" in text
    assert cli_main(["scan", str(tmp_path)]) == 0


def test_a_transport_error_quoting_the_header_is_stored_redacted(tmp_path: Path) -> None:
    secret = token(1)

    def handler(request: httpx.Request) -> httpx.Response:  # h11 on a key read with its newline
        raise httpx.LocalProtocolError(f"Illegal header value b'{request.headers['api-key']}\\n'")

    with pytest.raises(httpx.LocalProtocolError):
        record(tmp_path, handler, headers={"api-key": secret})
    assert secret not in written(tmp_path)
    assert "Illegal header value b'REDACTED\\\\n'" in written(tmp_path)
    with (
        httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client,
        pytest.raises(httpx.LocalProtocolError) as replayed,
    ):
        client.get("https://api.example.com/v1/things", headers={"api-key": "another"})
    assert secret not in str(replayed.value)


def test_a_stream_echoing_the_key_is_stored_redacted(tmp_path: Path) -> None:
    secret = token(2)
    events = [{"choices": [{"index": 0, "delta": {"content": f"your key is {secret}"}}]}]
    body = b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events) + b"data: [DONE]\n\n"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    record(
        tmp_path, handler, method="POST", json={"stream": True}, headers={"authorization": f"Bearer {secret}"}
    )
    assert secret not in written(tmp_path)
    assert "your key is REDACTED" in written(tmp_path)


def test_a_value_mapped_to_a_placeholder_keeps_its_placeholder(tmp_path: Path) -> None:
    secret = token(3)
    upstream = httpx.MockTransport(lambda request: httpx.Response(401, text=f"bad key {secret}"))
    transport = CassetteTransport(tmp_path, mode="record", inner=upstream, placeholders={"<KEY>": secret})
    with httpx.Client(transport=transport) as client:
        client.get("https://api.example.com/v1/things", headers={"x-api-key": secret})
    assert "bad key <KEY>" in written(tmp_path)


def test_short_and_ordinary_values_are_left_alone(tmp_path: Path) -> None:
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"lang": "en", "user": "bob"}))
    transport = CassetteTransport(tmp_path, mode="record", inner=upstream)
    with httpx.Client(transport=transport) as client:
        client.get("https://bob:pw@api.example.com/v1/things", headers={"cookie": "lang=en"})
    assert json.loads(next(tmp_path.glob("*.json")).read_text())["responses"][0]["body"] == {
        "lang": "en",
        "user": "bob",
    }


HEADER_LINES = {
    "set-cookie in an error": "illegal header line: bytearray(b'Set-Cookie session={}')",
    "cookie dump": "Cookie: lang=en-US; sessionid={}; theme=dark",
    "authorization token scheme": "Authorization: Token {}",
    "proxy authorization": "Proxy-Authorization: Basic {}",
}


@pytest.mark.parametrize("shape", list(HEADER_LINES))
def test_a_credential_header_quoted_in_text_is_refused_and_flagged(tmp_path: Path, shape: str) -> None:
    secret = token(len(shape))
    text = HEADER_LINES[shape].format(secret)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"debug": text})

    with pytest.raises(CassetteSecretError):
        record(tmp_path / "recorded", handler)
    (tmp_path / "by_hand").mkdir()
    cassette = {
        "version": 1,
        "request": {"method": "GET", "url": "https://api.example.com/v1/things"},
        "responses": [{"status": 200, "headers": {}, "body": {"debug": text}}],
    }
    (tmp_path / "by_hand" / "x.json").write_text(json.dumps(cassette))
    assert cli_main(["scan", str(tmp_path / "by_hand")]) == 1


@pytest.mark.parametrize(
    "text",
    [
        "The Authorization header carries your key; cookies keep the session.",
        "Use the authorization code flow with the authorization server https://example.com/oauth2/Token9",
        "Set-Cookie: theme=dark; Path=/; HttpOnly",
        "Authorization: Bearer <YOUR_TOKEN>",
    ],
)
def test_ordinary_text_about_headers_records(tmp_path: Path, text: str) -> None:
    record(tmp_path, lambda request: httpx.Response(200, json={"answer": text}))
    assert text in written(tmp_path)


def chat_stream(*texts: str) -> bytes:
    chunks = [
        {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": t}}]}
        for t in texts
    ]
    return b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"


# Where a rewrite of each string cannot reach an echoed value: nothing is written, the test is told.
UNREACHABLE = {
    "over several stream events": lambda s: chat_stream(" it is ", s[:5], s[5:12], s[12:], " ok"),
    "in JSON written in a string, a letter escaped": lambda s: chat_stream(
        '{"echo": "\\u00' + f"{ord(s[0]):x}" + s[1:] + '"}'
    ),
    "as a number": lambda s: json.dumps({"account": int(s)}).encode(),
}


SAID = {
    "over several stream events": "sent over several stream events",
    "in JSON written in a string, a letter escaped": "in JSON written inside a string",
    "as a number": "as a JSON number",
}


@pytest.mark.parametrize("where", list(UNREACHABLE))
def test_an_echo_no_string_rewrite_reaches_is_refused(tmp_path: Path, where: str) -> None:
    secret = "4" + token(3, string.digits, 23) if where == "as a number" else token(3) + "7"
    content_type = "application/json" if where == "as a number" else "text/event-stream"
    body = UNREACHABLE[where](secret)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=body)

    with pytest.raises(CassetteSecretError, match="cannot be rewritten in place") as caught:
        record(tmp_path, handler, headers={"x-api-key": secret})
    message = str(caught.value)
    assert secret not in message
    assert SAID[where] in message  # where it is
    assert 'placeholders={"<NAME>": value}' in message  # what to do when the value is no secret
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize(
    ("cookie", "body"),
    [
        ("tz=Europe/Berlin", lambda v: chat_stream(" in ", v[:6], v[6:], " time")),  # a locale, in pieces
        ("uid=10000042", lambda v: json.dumps({"id": int(v)}).encode()),  # an id, as a number
        ("session=test-key", lambda v: chat_stream(" use ", v[:4], v[4:])),  # a short fake value
    ],
)
def test_a_value_that_only_happens_to_be_one_the_request_carried_records(
    tmp_path: Path, cookie: str, body: Any
) -> None:
    # A cookie's value counts as one the request carried; one that is no token, met by coincidence
    # where no rewrite reaches, is left as it is rather than stopping the recording.
    value = cookie.partition("=")[2]
    content_type = "application/json" if value.isdigit() else "text/event-stream"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=body(value))

    record(tmp_path, handler, headers={"cookie": cookie})
    assert list(tmp_path.rglob("*.json"))


def test_a_number_that_only_holds_the_key_s_digits_records(tmp_path: Path) -> None:
    # Only a number that is the key is one: a timestamp holding its digits somewhere is not.
    secret = token(4, string.digits, 8)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"created": int("17" + secret), "ratio": float("0." + secret)})

    record(tmp_path, handler, headers={"x-api-key": secret})
    assert f"17{secret}" in written(tmp_path)


def test_a_key_holding_a_shorter_value_the_request_carried_is_refused_split(tmp_path: Path) -> None:
    # The key holds the account id a cookie carries, which is no credential itself: the key is still
    # looked for, whole, in what the stream says.
    account, key = "acct4821", "acct4821." + token(5)

    def handler(request: httpx.Request) -> httpx.Response:
        body = chat_stream(" here: ", key[:5], key[5:20], key[20:])
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    with pytest.raises(CassetteSecretError, match="sent over several stream events"):
        record(tmp_path, handler, headers={"x-api-key": key, "cookie": f"account={account}"})
    assert not list(tmp_path.rglob("*.json"))
