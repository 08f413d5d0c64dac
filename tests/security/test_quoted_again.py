"""Credentials written the way text quotes text: behind a percent or JSON escape, in JSON escaped once
more or HTML-escaped, in JSON used as a key, in text pasted into a query parameter. Each was written to
disk by recording and passed by ``scan`` alike (a differential fuzz of the two); each is now refused."""

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
from httpx_cassette.storage.scan import scan_directory
from tests.security.placements import cassette
from tests.security.test_names_and_urls import flagged

_RANDOM = random.Random(1531)


def _chars(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(_RANDOM.choice(alphabet) for _ in range(n))


KEY = "sk-proj-" + _chars(48)
GITHUB = "ghp_" + _chars(36)
TOKEN = _chars(40)


def _refused(path: Path, answer: httpx.Response, **request: Any) -> list[httpx.Request]:
    """Record one GET (with ``request``'s arguments); it must be refused. What reached the upstream."""
    sent: list[httpx.Request] = []

    def upstream(incoming: httpx.Request) -> httpx.Response:
        sent.append(incoming)
        return answer

    transport = CassetteTransport(path, mode="record", inner=httpx.MockTransport(upstream))
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteSecretError):
        client.get("https://api.test/v1/x", **request).read()
    assert not list(path.glob("*.json"))
    return sent


BODIES = {
    "percent-encoded JSON in a field": {"state": "%7B%22key%22%3A%20%22" + KEY + "%22%7D"},
    "a percent escape before a token": {"note": "q=%7B%22token%22%3A%20%22" + GITHUB + "%22%7D done"},
    "a JSON escape before a key": {"log": "{\\u0022key\\u0022: \\u0022" + KEY + "\\u0022}"},
    "JSON escaped once more": {"error": {"message": 'bad body: {\\"api_key\\": \\"' + TOKEN + '\\"}'}},
    "HTML-escaped JSON": {"html": '<div data-config="{&quot;api_key&quot;:&quot;' + TOKEN + '&quot;}">'},
    "JSON as a key": {"cache": {json.dumps({"user": "bob", "password": TOKEN}): "hit"}},
    "a settings file quoted in JSON text": {
        "log": 'loaded {"env": "DEBUG=1\\nDB_PASSWORD=' + TOKEN + '\\n"}'
    },
    "a record whose name and value an object parts": {
        "content": "```json\n"
        + json.dumps({"name": "DB_PASSWORD", "labels": {"env": "prod"}, "value": TOKEN})
    },
    "a record with a brace in a string between its name and value": {
        "content": "```json\n" + json.dumps({"Name": "DB_PASSWORD", "tags": ["}", "{x"], "Value": TOKEN})
    },
    "a name/value record in a code block": {
        "content": "Set it:\n```json\n" + json.dumps({"Name": "DB_PASSWORD", "Value": TOKEN}) + "\n```"
    },
}


@pytest.mark.parametrize("body", list(BODIES.values()), ids=list(BODIES))
def test_a_credential_quoted_again_in_a_response_is_refused(tmp_path: Path, body: Any) -> None:
    _refused(tmp_path / "c", httpx.Response(200, json=body))
    assert flagged(tmp_path / "planted", cassette(response={"body": body}))


QUERIES = {
    "connection string": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey="
    + TOKEN
    + ";EndpointSuffix=x",
    "header line": "Authorization: Bearer " + TOKEN,
    "env line": "DB_PASSWORD=" + TOKEN,
    "form": "a=1&api_key=" + TOKEN,
    "JSON holding a header line": json.dumps({"note": "X-Api-Key: " + TOKEN}),
    "a URL whose query holds a connection string": "https://idp.example/cb?dsn=Server=db;Password=" + TOKEN,
    "a link and then a settings line": "https://docs.example/page\nDB_PASSWORD=Tr0ub4dor-and-3-horses",
}


@pytest.mark.parametrize("text", list(QUERIES.values()), ids=list(QUERIES))
def test_a_credential_in_text_pasted_into_a_query_parameter_is_refused_before_sending(
    tmp_path: Path, text: str
) -> None:
    assert _refused(tmp_path / "c", httpx.Response(200, json={}), params={"q": text}) == []
    url = str(httpx.URL("https://api.test/v1/x", params={"q": text}))
    assert flagged(tmp_path / "planted", cassette(request={"url": url}))


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/v1/files/xoxb"), ("GET", "/v1/tokens/glpat-abcdefgh"), ("XOXB", "/v1/zzz")]
)
def test_a_file_name_with_its_key_never_reads_as_a_credential(tmp_path: Path, method: str, path: str) -> None:
    # The slug, a dash and the key's hex (`xoxb-1a2b...`), or a method before them
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.request(method, f"https://api.test{path}")
    assert scan_directory(tmp_path) == []
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client:
        assert client.request(method, f"https://api.test{path}").json() == {"ok": True}


def test_a_file_name_never_makes_a_credential_the_url_did_not_hold(tmp_path: Path) -> None:
    # Lower case and dashes made `xoxb-...` (a Slack token to `scan`) of a path segment no rule flags
    segment = "XOXB_" + _chars(16, string.ascii_lowercase + string.digits)
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.get(f"https://api.test/v1/files/{segment}")
    [file] = tmp_path.glob("*.json")
    assert segment.lower()[5:] not in file.name
    assert scan_directory(tmp_path) == []
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay")) as client:
        assert client.get(f"https://api.test/v1/files/{segment}").json() == {"ok": True}


ORDINARY = {
    "a task definition's environment": (
        'Here is the container:\n```json\n"environment": [\n  {"name": "NODE_ENV", "value": "production"},\n'
        '  {"name": "IMAGE_TAG", "value": "v2024.05.17-build42"}\n],\n"secrets": [\n'
        '  {"name": "DB_PASSWORD",\n'
        '   "valueFrom": "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db"}\n]\n```'
    ),
    "a login form's schema": (
        '```json\n[\n  {"label": "Username", "value": "jane.doe.example2024"},\n'
        '  {"label": "Password", "type": "password", "placeholder": "Enter password"}\n]\n```'
    ),
}


@pytest.mark.parametrize("text", list(ORDINARY.values()), ids=list(ORDINARY))
def test_a_value_is_named_by_its_own_object_in_text_not_by_the_next_one(tmp_path: Path, text: str) -> None:
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.post(
            "https://api.test/v1/chat/completions", json={"messages": [{"role": "user", "content": text}]}
        )
    assert scan_directory(tmp_path) == []


def test_urls_nested_in_query_values_are_read_once_each_and_recorded(tmp_path: Path) -> None:
    # A redirect chain quoted in a prompt: each inner URL is judged as a URL, layer by layer, not read
    # again whole with every rule at each level (which reported the 24th as not checked)
    url = "https://example.com/done"
    for i in range(30):
        url = str(httpx.URL(f"https://example.com/step{i}", params={"u": url}))
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.post("https://api.test/v1/chat/completions", json={"messages": [{"content": f"see {url}"}]})
    assert scan_directory(tmp_path) == []


NESTED = {
    # a connection string in the fragment of a URL held by a parameter (`#dsn=Server=...;Password=...`)
    "in a nested URL's fragment": "https://b.example/cb#dsn=" + quote("Server=db;Password=" + TOKEN, safe=""),
    # a URL percent-encoded twice in a parameter: decoded once by the query, once more as a URL
    "in a URL percent-encoded twice": quote("https://b.example/cb?dsn=" + quote("Password=" + TOKEN + ";")),
}


@pytest.mark.parametrize("inner", list(NESTED.values()), ids=list(NESTED))
def test_a_connection_string_in_a_nested_url_is_refused(tmp_path: Path, inner: str) -> None:
    text = "see https://a.example/login?next=" + quote(inner, safe="")
    _refused(tmp_path / "c", httpx.Response(200, json={"output": text}))
    assert flagged(tmp_path / "planted", cassette(response={"body": {"output": text}}))


def test_a_form_encoded_in_a_relative_urls_query_value_is_read_as_one_value(tmp_path: Path) -> None:
    # urllib3's error quoting a path: `q`'s value is a form (decoding the query first would part it)
    text = "Max retries exceeded with url: /v1/x?q=abcdefgh%26api_key%3D" + TOKEN
    _refused(tmp_path / "c", httpx.Response(200, json={"output": text}))
    assert flagged(tmp_path / "planted", cassette(response={"body": {"output": text}}))
