"""A body in a content-encoding nothing here can undo (brotli or zstd with their packages missing) is
stored as it came, with its header; the scanner cannot read it, and what was not read is not called
clean: recording refuses it, saying why, and `scan` reports it as not checked."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import httpx
import pytest
from httpx._decoders import SUPPORTED_DECODERS

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.storage.scan import scan_directory

brotli = pytest.importorskip("brotli")


class _Streamed(httpx.BaseTransport):
    """A server's answer as the network gives it: compressed, not read yet."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "application/json", "content-encoding": "br"}
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(self.body))


def test_a_body_nothing_here_can_decode_is_not_called_clean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = brotli.compress(json.dumps({"note": "nothing secret"}).encode())
    monkeypatch.delitem(SUPPORTED_DECODERS, "br")  # httpx without brotli
    monkeypatch.setitem(sys.modules, "brotli", None)  # and the scanner without it
    transport = CassetteTransport(tmp_path, mode="record", inner=_Streamed(body))
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteSecretError) as refused:
        client.get("https://api.test/v1/x").read()
    assert "content-encoding 'br'" in str(refused.value)
    assert "not checked" in str(refused.value)
    assert list(tmp_path.iterdir()) == []
    planted = {
        "version": 1,
        "request": {"method": "GET", "url": "https://api.test/v1/x"},
        "responses": [
            {"status": 200, "headers": {"content-encoding": "br"}, "base64": base64.b64encode(body).decode()}
        ],
    }
    (tmp_path / "x.json").write_text(json.dumps(planted))
    assert [finding.masked for finding in scan_directory(tmp_path)] == ["not checked"]
