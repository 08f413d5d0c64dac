"""A zlib stream with a small window starts with 0x18 to 0x68, not 0x78; every client's deflate decoder
reads it, so the scanner does too: recording refuses a key inside it, and ``scan`` flags a file with one.
"""

from __future__ import annotations

import base64
import json
import random
import string
import zlib
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.cli import main as cli_main


def aws_key_id(seed: int) -> str:
    rng = random.Random(seed)
    return "AKIA" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def deflated(data: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(wbits=wbits)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize("wbits", [9, 12, 14, 15])
def test_a_key_in_a_small_window_zlib_request_body_is_refused(tmp_path: Path, wbits: int) -> None:
    body = deflated(json.dumps({"note": aws_key_id(wbits)}).encode(), wbits)
    assert body[0] == ((wbits - 8) << 4 | 8)  # 0x18 for wbits 9, ... 0x78 for 15
    upstream = httpx.MockTransport(lambda _: httpx.Response(200, json={"ok": True}))
    transport = CassetteTransport(tmp_path, mode="record", inner=upstream)
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteSecretError):
        client.post("https://api.example.com/v1/x", content=body, headers={"content-encoding": "deflate"})
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize("header", ["content-encoding", "Content-Encoding"])
@pytest.mark.parametrize("wbits", [9, 14])
def test_a_key_in_a_small_window_zlib_response_body_is_flagged(
    tmp_path: Path, wbits: int, header: str
) -> None:
    body = deflated(json.dumps({"note": aws_key_id(wbits)}).encode(), wbits)
    response = {"status": 200, "headers": {header: "deflate"}, "base64": base64.b64encode(body).decode()}
    cassette = {"version": 1, "request": {"method": "GET", "url": "https://api.example.com/v1/x"}}
    (tmp_path / "x.json").write_text(json.dumps({**cassette, "responses": [response]}))
    assert cli_main(["scan", str(tmp_path)]) == 1
