"""Header names in any case: a client reads ``Content-Type`` as ``content-type``, and so does ``scan``
(a hand-written file's charset and content-encoding count however their names are written)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from httpx_cassette.cli import main as cli_main

HIDDEN = b"Issued +AEEASwBJAEE-QWERTYUIOPASDFGH today"  # UTF-7 for "Issued AKIAQWERTYUIOPASDFGH today"


@pytest.mark.parametrize("name", ["content-type", "Content-Type", "CONTENT-TYPE"])
def test_a_charset_under_a_header_name_in_any_case_is_read(tmp_path: Path, name: str) -> None:
    assert "AKIA" in HIDDEN.decode("utf-7")
    assert b"AKIA" not in HIDDEN
    response = {
        "status": 200,
        "headers": {name: "text/plain; charset=utf-7"},
        "base64": base64.b64encode(HIDDEN).decode(),
    }
    cassette = {"version": 1, "request": {"method": "GET", "url": "https://api.example.com/v1/x"}}
    (tmp_path / "x.json").write_text(json.dumps({**cassette, "responses": [response]}))
    assert cli_main(["scan", str(tmp_path)]) == 1


def test_a_transport_error_with_control_characters_is_stored_escaped_and_replays(tmp_path: Path) -> None:
    """A failure is stored as a file may hold it (the loader refuses control characters in it)."""
    import httpx

    from httpx_cassette import CassetteTransport

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused \x1b]52;c;AAAA\x07 at\r the proxy")

    recorder = CassetteTransport(tmp_path, mode="record", inner=httpx.MockTransport(handler))
    with httpx.Client(transport=recorder) as client, pytest.raises(httpx.ConnectError):
        client.get("https://api.example.com/v1/x")
    with (
        httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client,
        pytest.raises(httpx.ConnectError) as replayed,
    ):
        client.get("https://api.example.com/v1/x")
    assert "\x1b" not in str(replayed.value)
    assert "refused" in str(replayed.value)
