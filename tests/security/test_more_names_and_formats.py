"""Formats and shapes an outside review found stored: the Realtime API's ``ek_`` client secrets, one
line setting a secret name in a string, a URL's parameter read twice."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport

RANDOM = "Zq8xK2mP9vL4nR7tW1yB5cD3"


def _recorded_url(tmp_path: Path, url: str) -> str:
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.get(url)
    [file] = tmp_path.glob("*.json")
    return str(json.loads(file.read_text())["request"]["url"])


def test_a_realtime_client_secret_is_refused(tmp_path: Path) -> None:
    secret = "ek_68af1c2d3e4f5a6b7c8d9e0f1a2b3c4d"
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"value": secret}))
    transport = CassetteTransport(tmp_path, mode="record", inner=upstream)
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteSecretError) as refused:
        client.post("https://api.openai.com/v1/realtime/client_secrets", json={})
    assert "OpenAI ephemeral key" in str(refused.value)
    assert list(tmp_path.iterdir()) == []
    assert _recorded_url(tmp_path / "words", "https://api.example.com/v1/x?q=week_of_the_year") != ""


@pytest.mark.parametrize(
    ("line", "refused"),
    [
        ("password: Xy7pQ2rT9sV4wZ1aB3", True),
        ("My config says password: Xy7pQ2rT9sV4wZ1aB3 but login fails", True),
        ("- api_key: Xy7pQ2rT9sV4wZ1aB3", True),
        ("(password: Xy7pQ2rT9sV4wZ1aB3)", True),
        ("password: changeme", False),
        ("see the password: docs", False),
        ("the password: see the wiki page for it", False),
        ("tokenizer=Xy7pQ2rT9sV4wZ1aB3 is a model name", False),
    ],
)
def test_one_line_setting_a_secret_name_to_a_token_is_refused(
    tmp_path: Path, line: str, refused: bool
) -> None:
    """A prompt quoting a line of a config file, alone or inside a sentence: judged as the lines of a .env
    or YAML file are, a token only."""
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
    transport = CassetteTransport(tmp_path, mode="record", inner=upstream)
    body = {"messages": [{"role": "user", "content": line}]}
    with httpx.Client(transport=transport) as client:
        if refused:
            with pytest.raises(CassetteSecretError, match="value set in a line of text"):
                client.post("https://api.example.com/v1/chat", json=body)
        else:
            client.post("https://api.example.com/v1/chat", json=body)
    assert len(list(tmp_path.glob("*.json"))) == (0 if refused else 1)


def test_a_url_s_secret_parameter_is_one_finding_named_by_the_parameter(tmp_path: Path) -> None:
    """A URL is judged by the URL rules; read again as a form, its whole head became a field's name."""
    from httpx_cassette.storage.scan import scan_directory

    url = "https://api.example.com/v1/x?api_key=DUMMYVALUE123&b=2"
    (tmp_path / "get-x-000000000000.json").write_text(
        json.dumps({"request": {"method": "GET", "url": url}, "responses": []})
    )
    found = scan_directory(tmp_path)
    assert [(f.path, f.kind) for f in found] == [("$.request.url", "secret query parameter 'api_key'")]


def test_a_recording_keyed_with_a_plain_query_value_keeps_replaying(tmp_path: Path) -> None:
    """A name made secret would key its value as REDACTED, and every file that holds it would miss."""
    url = "https://api.example.com/v1/items?session=default&sid=1&ticket=open&hmac=true&page=2"
    stored = _recorded_url(tmp_path, url)
    assert stored == url
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client:
        assert client.get(url).json() == {"ok": True}
