"""A body is read in the charset a client reads it in. A content-type clients parse two ways (spaces
around "=", RFC 8187 ``charset*=``, a quoted parameter holding ``;charset=``, a charset given twice) is
never taken for UTF-8 text; a body stored as base64 is also read in the charset it declares (UTF-16
with no byte-order mark, EBCDIC) and as UTF-32 when its NULs say so. Fake credentials are built at run
time."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteError, CassetteSecretError, CassetteTransport
from httpx_cassette.model.body import charset_of
from httpx_cassette.storage.scan import scan_directory
from tests.security.placements import cassette, openai_key

AMBIGUOUS = [
    "text/plain; charset = utf-16le",
    "text/plain; charset*=utf-8''utf-16le",
    'text/plain; x="a;charset=utf-8"; charset=utf-16le',
    "text/plain; charset=utf-8; charset=utf-16le",
]


@pytest.mark.parametrize("content_type", AMBIGUOUS)
def test_a_content_type_clients_read_two_ways_is_no_utf8_text(tmp_path: Path, content_type: str) -> None:
    assert charset_of(content_type) == ""
    key = openai_key()
    upstream = httpx.MockTransport(
        lambda request: httpx.Response(
            200, content=key.encode("utf-16-le"), headers={"content-type": content_type}
        )
    )
    transport = CassetteTransport(tmp_path / "recorded", mode="record", inner=upstream)
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteSecretError):
        client.get("https://api.example.com/v1/key")
    # Planted by hand as text, it is refused at load: `scan` and the client would read it differently.
    planted = tmp_path / "planted"
    planted.mkdir()
    text = key.encode("utf-16-le").decode("utf-8")  # ASCII in UTF-16 is valid UTF-8, NULs between
    file = cassette(request={"method": "GET", "url": "https://api.example.com/v1/key"})
    file["responses"][0].update(headers={"content-type": content_type}, text=text)
    (planted / "get-v1-key-000000000000.json").write_text(json.dumps(file))
    with (
        httpx.Client(transport=CassetteTransport(planted, mode="replay")) as client,
        pytest.raises(CassetteError),
    ):
        client.get("https://api.example.com/v1/key")


def test_ordinary_content_types_keep_their_charset() -> None:
    assert charset_of("text/plain") == "utf-8"
    assert charset_of("application/json; charset=UTF-8") == "utf-8"
    assert charset_of("text/html;charset=iso-8859-1") == "iso-8859-1"
    assert charset_of("text/event-stream; charset=utf-8; boundary=x") == "utf-8"


ENCODINGS = {
    "utf-16le, no byte-order mark, CJK around it": ("utf-16-le", "text/plain; charset=utf-16le", "漢字" * 40),
    "utf-16be, no byte-order mark, CJK around it": ("utf-16-be", "text/plain; charset=utf-16be", "漢字" * 40),
    "utf-32le, no byte-order mark": ("utf-32-le", "text/plain", "note: "),
    "EBCDIC": ("cp500", "text/plain; charset=ibm500", "note: "),
}


@pytest.mark.parametrize(("codec", "content_type", "around"), ENCODINGS.values(), ids=list(ENCODINGS))
def test_a_body_kept_as_base64_is_read_in_its_charset(
    tmp_path: Path, codec: str, content_type: str, around: str
) -> None:
    key = openai_key()
    data = f"{around} {key} {around}".encode(codec)
    upstream = httpx.MockTransport(
        lambda request: httpx.Response(200, content=data, headers={"content-type": content_type})
    )
    transport = CassetteTransport(tmp_path / "recorded", mode="record", inner=upstream)
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteSecretError):
        client.get("https://api.example.com/v1/key")
    planted = tmp_path / "planted"
    planted.mkdir()
    file = cassette(
        response={"headers": {"content-type": content_type}, "base64": base64.b64encode(data).decode()}
    )
    (planted / "x.json").write_text(json.dumps(file))
    assert scan_directory(planted)
