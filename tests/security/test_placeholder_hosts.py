"""Replay puts a placeholder's secret back only where the API that knew it could have sent it: never
inside a URL to another host, where a redirect, a link or a "next" page would carry it (a cassette is
read back from pull requests, and a follow-up request can go out live in record-missing)."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport

SECRET = "tok-" + "Secret-4f7a9c"
PLACEHOLDERS = {"<TOKEN>": SECRET}


def _recorded(path: Path) -> Path:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"token": SECRET})

    transport = CassetteTransport(
        path, mode="record", placeholders=PLACEHOLDERS, inner=httpx.MockTransport(upstream)
    )
    with httpx.Client(transport=transport) as client:
        client.get("https://api.example.com/start")
    [file] = path.glob("*.json")
    return file


def _replayed(path: Path, **answer: object) -> httpx.Response:
    """A recording edited by hand, replayed with its placeholders put back though no seal proves the
    recording wrote them (``restore_unsealed``: test_placeholder_seals.py has the default): the rule of
    this file is the second line, for what is put back."""
    file = _recorded(path)
    data = json.loads(file.read_text())
    data["responses"][0].update(answer)
    if "base64" in answer:  # one body field per response
        del data["responses"][0]["body"]
    file.write_text(json.dumps(data))
    replay = CassetteTransport(path, mode="replay", placeholders=PLACEHOLDERS, restore_unsealed=True)
    with httpx.Client(transport=replay) as client:
        return client.get("https://api.example.com/start")


@pytest.mark.parametrize(
    "location",
    [
        "https://evil.example/collect?t=<TOKEN>",
        "//evil.example/collect?t=<TOKEN>",
        "https%3A%2F%2Fevil.example%2Fcollect?t=<TOKEN>",
        "https://api.example.com.evil.example/?t=<TOKEN>",
        # Read raw (httpx, urllib3), these are user-info and then evil.example: no reading may differ
        "http://api.example.com%2F@evil.example/steal?t=<TOKEN>",
        "https://api.example.com%3F@evil.example/?t=<TOKEN>",
        "https://api.example.com%23@evil.example/?t=<TOKEN>",
        "https://api.example.com\\@evil.example/?t=<TOKEN>",
        # user-info (requests and aiohttp send it as Basic auth), judged with the secret in place
        "https://<TOKEN>@evil.example/",
        "https://<TOKEN>@api.example.com/",
        # what a lenient parser follows: a browser reads `\` as `/`
        "https:/evil.example/?t=<TOKEN>",
        "/\\evil.example/?t=<TOKEN>",
        # the same host, but not the origin that knew the secret: cleartext, another port, no port
        "http://api.example.com/next?t=<TOKEN>",
        "https://api.example.com:8443/next?t=<TOKEN>",
        "https://api.example.com:99999/next?t=<TOKEN>",
        # a scheme and no host: httpx follows it to the same host under that scheme (cleartext here)
        "http:?t=<TOKEN>",
        "HTTP:#<TOKEN>",
        "wss:?t=<TOKEN>",
    ],
)
def test_a_url_to_another_host_keeps_its_placeholder(tmp_path: Path, location: str) -> None:
    response = _replayed(tmp_path, status=302, headers={"location": location}, body=None)
    assert SECRET not in str(response.headers)
    assert response.headers["location"] == location


@pytest.mark.parametrize(
    "link", ["https://evil.example/page?t=<TOKEN>", "https:\\\\evil.example/page?t=<TOKEN>"]
)
def test_a_link_in_a_body_to_another_host_keeps_its_placeholder(tmp_path: Path, link: str) -> None:
    body = {"next": link, "token": "<TOKEN>"}
    response = _replayed(tmp_path, body=body)
    assert response.json() == {"next": link, "token": SECRET}


@pytest.mark.parametrize(
    "location",
    [
        "https://api.example.com/next?t=<TOKEN>",
        "/next?t=<TOKEN>",
        "https://API.example.com/n?t=<TOKEN>",
        "https://api.example.com:443/n?t=<TOKEN>",
        "https://api.example.com/n?next=%2Fdone&t=<TOKEN>",
    ],
)
def test_the_host_that_knew_the_secret_gets_it_back(tmp_path: Path, location: str) -> None:
    response = _replayed(tmp_path, status=302, headers={"location": location}, body=None)
    assert response.headers["location"] == location.replace("<TOKEN>", SECRET)


@pytest.mark.parametrize(
    "location",
    ["https://evil.example/c?t=<TOKEN>", "http://api.example.com%2F@evil.example/c?t=<TOKEN>"],
)
def test_a_redirect_followed_from_replay_sends_no_secret_elsewhere(tmp_path: Path, location: str) -> None:
    _replayed(tmp_path, status=302, headers={"location": location}, body=None)
    seen: list[str] = []

    def live(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200)

    transport = CassetteTransport(
        tmp_path,
        mode="record-missing",
        placeholders=PLACEHOLDERS,
        restore_unsealed=True,
        inner=httpx.MockTransport(live),
    )
    with (
        httpx.Client(transport=transport, follow_redirects=True) as client,
        pytest.raises(CassetteSecretError, match="refusing to forward"),  # the file's request, not ours
    ):
        client.get("https://api.example.com/start")
    assert seen == []  # neither the secret nor the request went to evil.example


@pytest.mark.parametrize("compressed", [False, True], ids=["binary", "gzip"])
def test_a_body_stored_as_base64_is_judged_by_the_same_rule(tmp_path: Path, compressed: bool) -> None:
    """A body kept as base64 (binary, or compressed with a content-encoding) gets its secret back only
    when it names no URL to another host."""

    def stored(text: str) -> str:
        data = text.encode() + b"\x00\xff"
        return base64.b64encode(gzip.compress(data) if compressed else data).decode()

    headers = {
        "content-type": "application/octet-stream",
        **({"content-encoding": "gzip"} if compressed else {}),
    }
    leaving = _replayed(tmp_path / "a", headers=headers, base64=stored("go https://evil.example/?t=<TOKEN>"))
    assert SECRET.encode() not in leaving.content
    assert b"https://evil.example/?t=<TOKEN>" in leaving.content
    staying = _replayed(tmp_path / "b", headers=headers, base64=stored("token <TOKEN> for /next"))
    assert staying.content == b"token " + SECRET.encode() + b" for /next\x00\xff"


@pytest.mark.parametrize("link", [b"/next", b"https://evil.example/"], ids=["same host", "another host"])
def test_a_body_in_a_side_file_gets_its_secret_back_by_the_same_rule(tmp_path: Path, link: bytes) -> None:
    """A large binary body is kept in a side file, its secret as the placeholder: replay gives back what
    the server sent, unless the body names a URL to another host."""
    body = b"\x00\xff" * 40_000 + b" " + link + b"?t=" + SECRET.encode()
    headers = {"content-type": "application/octet-stream"}
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, content=body, headers=headers))
    recording = CassetteTransport(tmp_path, mode="record", placeholders=PLACEHOLDERS, inner=upstream)
    with httpx.Client(transport=recording) as client:
        client.get("https://api.example.com/blob")
    [side] = tmp_path.glob("*.bin")
    assert SECRET.encode() not in side.read_bytes()
    with httpx.Client(
        transport=CassetteTransport(tmp_path, mode="replay", placeholders=PLACEHOLDERS)
    ) as client:
        replayed = client.get("https://api.example.com/blob").content
    assert replayed == (body if link == b"/next" else body.replace(SECRET.encode(), b"<TOKEN>"))


@pytest.mark.parametrize(
    "link",
    [
        '<https://api.example.com @evil.example/?t=<TOKEN>>; rel="next"',
        '<https://api.example.com"@evil.example/?t=<TOKEN>>; rel="next"',
        '<//evil.example/?t=<TOKEN>>; rel="next"',
        "0; url=https:///evil.example/?t=<TOKEN>",
    ],
)
def test_a_url_inside_a_header_is_judged_by_every_authority_in_it(tmp_path: Path, link: str) -> None:
    """A Link or Refresh header's URL is not at the start of its text, and a URL regex stops at a space or
    a quote that httpx keeps in the user-info: every authority in the text is judged, read leniently."""
    response = _replayed(tmp_path, headers={"link": link})
    assert SECRET not in response.headers["link"]


def test_a_link_header_to_the_same_origin_gets_its_secret_back(tmp_path: Path) -> None:
    response = _replayed(
        tmp_path, headers={"link": '<https://api.example.com/start?page=2&t=<TOKEN>>; rel="next"'}
    )
    assert response.headers["link"] == f'<https://api.example.com/start?page=2&t={SECRET}>; rel="next"'


@pytest.mark.parametrize(
    "text",
    [
        "const token = '<TOKEN>'; // the token",
        "token <TOKEN> // primary",
        "https:\\/\\/api.example.com\\/start?t=<TOKEN>",
        "see https://api.example.com/a//b?t=<TOKEN>",
    ],
)
def test_a_text_naming_no_other_host_gets_its_secret_back(tmp_path: Path, text: str) -> None:
    """A ``//`` that no client follows (a code comment, a path's double slash, JSON's escaped ones)
    names no host: the secret comes back."""
    response = _replayed(tmp_path, body={"note": text})
    assert response.json() == {"note": text.replace("<TOKEN>", SECRET)}
