"""URLs in free text that hid their parameters from the URL rules: a path with a query standing on its
own (urllib3's "Max retries exceeded with url: /v1/x?api_key=...", a ``Link`` or ``Refresh`` header, a
page named in a message) and an apostrophe inside a query (``?q=what's+new&api_key=...``), which httpx
and aiohttp send as it is.

Each is recorded through the public API (refused, or stored redacted) and planted by hand, where
`scan_directory` must flag it; a message naming such a request masks it. Ordinary paths with parameters
are kept as they are. Fake credentials are built at run time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from httpx_cassette import CassetteSecretError, CassetteTransport, use_cassette
from httpx_cassette.core.shown import shown
from httpx_cassette.storage.scan import scan_directory
from tests.security.placements import cassette, hex32, token


def _record(path: Path, response: httpx.Response) -> None:
    upstream = httpx.MockTransport(lambda request: response)
    with httpx.Client(transport=CassetteTransport(path, mode="record", inner=upstream)) as client:
        client.get("https://api.test/v1/items")


def _flagged(path: Path, planted: dict[str, Any]) -> list[str]:
    path.mkdir(parents=True)
    (path / "planted.json").write_text(json.dumps(planted))
    return [finding.masked for finding in scan_directory(path)]


def test_a_failed_requests_call_stores_its_error_without_the_query_secrets(tmp_path: Path) -> None:
    """urllib3 names the URL without its scheme and host: the error message is redacted as the URL is."""
    secret = token()
    with use_cassette(tmp_path, mode="record"), pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:9/v1/data?api_key={secret}&page=2", timeout=5)
    [file] = tmp_path.glob("*.json")
    stored = file.read_text()
    assert secret not in stored
    assert "api_key=REDACTED&page=2" in json.loads(stored)["responses"][0]["error"]["message"]
    assert scan_directory(tmp_path) == []


def _link(secret: str) -> httpx.Response:
    return httpx.Response(
        200, json={}, headers={"link": f'</v1/items?page=2&access_token={secret}>; rel="next"'}
    )


def _refresh(secret: str) -> httpx.Response:
    return httpx.Response(200, json={}, headers={"refresh": f"0; url=/callback?code={secret}"})


def _text(secret: str) -> httpx.Response:
    return httpx.Response(200, text=f"Open /reset?token={secret} to continue.")


def _apostrophe(secret: str) -> httpx.Response:
    return httpx.Response(200, text=f"see https://api.test/search?q=what's+new&api_key={secret} for more")


CASES = {"Link header": _link, "Refresh header": _refresh, "text": _text, "apostrophe": _apostrophe}


@pytest.mark.parametrize("make", CASES.values(), ids=list(CASES))
def test_parameters_of_a_url_in_text_are_judged(tmp_path: Path, make: Any) -> None:
    secret = hex32()
    with pytest.raises(CassetteSecretError):
        _record(tmp_path / "recorded", make(secret))
    assert not (tmp_path / "recorded").exists() or list((tmp_path / "recorded").iterdir()) == []
    response = make(secret)
    headers = {k: v for k, v in response.headers.items() if k not in ("content-length", "content-type")}
    body = {"text": response.text} if "text/plain" in response.headers["content-type"] else {"body": {}}
    planted = cassette(
        response={"headers": {"content-type": response.headers["content-type"], **headers}, **body}
    )
    assert _flagged(tmp_path / "planted", planted)
    assert secret not in shown(
        response.headers.get("link", "") + response.headers.get("refresh", "") + response.text
    )


def test_ordinary_paths_with_parameters_are_kept(tmp_path: Path) -> None:
    text = "Next: /v1/items?page=2&limit=50, or /search?q=what's+new#results. Ratio 3/4?x=1 is fine."
    link = '</v1/items?page=2&per_page=100>; rel="next"'
    _record(tmp_path, httpx.Response(200, text=text, headers={"link": link}))
    [file] = tmp_path.glob("*.json")
    stored = json.loads(file.read_text())["responses"][0]
    assert stored["text"] == text
    assert stored["headers"]["link"] == link
    assert scan_directory(tmp_path) == []
