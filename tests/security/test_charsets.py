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


# -- every reading is judged: one that is JSON hides none of the others -------------------------------

UTF7_JSON = "application/json; charset=utf-7"


def _json_twice(key: str) -> bytes:
    """JSON in UTF-8 and in UTF-7 alike, the key whole only in the UTF-8 reading: UTF-7 reads ``+sk`` as
    the start of a base64 run, and what follows the run as text."""
    return json.dumps({"id": "file-1", "note": "+" + key}).encode()


def test_a_body_json_in_two_charsets_holds_the_key_for_the_client_that_reads_utf8() -> None:
    key = openai_key()
    response = httpx.Response(200, content=_json_twice(key), headers={"content-type": UTF7_JSON})
    assert response.json()["note"] == "+" + key  # what an SDK reads: json ignores the charset
    assert key not in response.text  # what the declared charset reads: JSON too, and clean
    assert json.loads(response.text)["id"] == "file-1"


@pytest.mark.parametrize("stored", ["base64", "body_file"])
def test_scan_flags_a_key_in_any_reading_of_a_body_not_only_the_first_json_one(
    tmp_path: Path, stored: str
) -> None:
    key = openai_key()
    response: dict[str, object] = {"status": 200, "headers": {"content-type": UTF7_JSON}}
    if stored == "base64":
        response["base64"] = base64.b64encode(_json_twice(key)).decode()
    else:
        (tmp_path / "get-file-000000000000.0.bin").write_bytes(_json_twice(key))
        response["body_file"] = "get-file-000000000000.0.bin"
    file = cassette(request={"method": "GET", "url": "https://api.example.com/v1/files/file-1"})
    file["responses"] = [response]
    (tmp_path / "get-file-000000000000.json").write_text(json.dumps(file))
    findings = scan_directory(tmp_path)
    assert {f.kind for f in findings} == {"OpenAI API key"}
    assert key not in "".join(map(str, findings))


def test_recording_refuses_a_key_in_any_reading_of_a_body_and_writes_nothing(tmp_path: Path) -> None:
    key = openai_key()
    upstream = httpx.MockTransport(
        lambda request: httpx.Response(200, content=_json_twice(key), headers={"content-type": UTF7_JSON})
    )
    transport = CassetteTransport(tmp_path, mode="record", inner=upstream)
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteSecretError):
        client.get("https://api.example.com/v1/files/file-1")
    assert not list(tmp_path.rglob("*.json"))
