"""Issue 12 part 3: placeholders and options do exactly what they say, through the public API and the
local server (echo and canned endpoints, see tests/servers/echo.py)."""

from __future__ import annotations

import base64
import gzip
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from httpx_cassette import CassetteError, CassetteMiss, CassetteTransport, use_cassette
from httpx_cassette.storage.scan import scan_directory
from tests.conftest import LIBRARIES
from tests.security.placements import assert_absent
from tests.servers.echo import Canned
from tests.servers.openai_app import OpenAIApp, create_app
from tests.servers.runner import LiveServer


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer[OpenAIApp]]:
    with LiveServer(create_app()) as live:
        yield live


def record_and_replay(path: Path, server: LiveServer[OpenAIApp], lib: Any, send: Any, **options: Any) -> Any:
    """``send(client)`` recorded, then replayed; both answers must be the same. Returns the answer."""
    answers = []
    for mode in ("record", "replay"):
        transport = CassetteTransport(path, mode=mode, **options)
        with lib.Client(transport=transport, base_url=server.url) as client:
            answers.append(send(client))
    assert answers[0] == answers[1]
    return answers[0]


def stored(path: Path) -> dict[str, Any]:
    [file] = path.glob("*.json")
    return json.loads(file.read_text())


@pytest.fixture(params=LIBRARIES)
def lib(request: pytest.FixtureRequest) -> Any:
    return __import__(request.param)


# -- overlapping placeholders, and placeholder text in the traffic -------------------------------------


def test_the_longest_secret_wins_and_a_placeholder_is_never_rewritten(
    server: LiveServer[OpenAIApp], tmp_path: Path, lib: Any
) -> None:
    org_key = "org-secret-" + secrets.token_hex(4).upper()
    placeholders = {"<ORG_KEY>": org_key, "<O>": "ORG"}
    body = {"input": f"{org_key} and ORG"}
    answer = record_and_replay(
        tmp_path, server, lib, lambda c: c.post("/v1/echo/o", json=body).json(), placeholders=placeholders
    )
    assert answer["body"] == body  # replay puts every secret back, exactly
    text = json.dumps(stored(tmp_path))
    assert "<ORG_KEY> and <O>" in text
    assert "<<O>_KEY>" not in text
    assert org_key not in text


def test_placeholder_text_in_a_response_is_refused_at_write_time(
    server: LiveServer[OpenAIApp], tmp_path: Path
) -> None:
    server.app.canned["natural"] = Canned(
        b'{"note": "see <O> below"}', [("content-type", "application/json")]
    )
    transport = CassetteTransport(tmp_path, mode="record", placeholders={"<O>": "ORG"})
    with (
        httpx.Client(transport=transport, base_url=server.url) as client,
        pytest.raises(CassetteError) as info,
    ):
        client.get("/v1/canned/natural")
    assert "already holds the text '<O>', which is one of your placeholders" in str(info.value)
    assert "'<<O>>'" in str(info.value)  # what to do next
    assert list(tmp_path.glob("*.json")) == []


# -- the forms a secret takes ------------------------------------------------------------------------


def test_a_numeric_secret_is_hidden_and_replayed_as_a_number(
    server: LiveServer[OpenAIApp], tmp_path: Path, lib: Any
) -> None:
    account = secrets.randbelow(9 * 10**11) + 10**11
    body = {"account": account, "label": f"acct {account}"}
    answer = record_and_replay(
        tmp_path,
        server,
        lib,
        lambda c: c.post("/v1/echo/n", json=body).json(),
        placeholders={"<ACCT>": str(account)},
    )
    assert answer["body"] == body
    assert isinstance(answer["body"]["account"], int)
    assert stored(tmp_path)["responses"][0]["body"]["body"] == {"account": "<ACCT>", "label": "acct <ACCT>"}
    assert_absent(tmp_path, str(account))


@pytest.mark.parametrize("encoding", ["plus", "percent"])
def test_a_form_encoded_secret_is_hidden(
    server: LiveServer[OpenAIApp], tmp_path: Path, lib: Any, encoding: str
) -> None:
    team = f"team {secrets.token_hex(3)}/blue"
    quoted = team.replace(" ", "+") if encoding == "plus" else team.replace(" ", "%20")
    content = f"team={quoted.replace('/', '%2F')}&n=1"
    headers = {"content-type": "application/x-www-form-urlencoded"}
    answer = record_and_replay(
        tmp_path,
        server,
        lib,
        lambda c: c.post("/v1/echo/f", content=content, headers=headers).json(),
        placeholders={"<TEAM>": team},
    )
    assert answer["body"] == {"team": team, "n": "1"}
    assert stored(tmp_path)["request"]["text"] == "team=<TEAM>&n=1"
    assert_absent(tmp_path, team)


def test_secrets_in_base64_bodies_are_hidden_and_restored(
    server: LiveServer[OpenAIApp], tmp_path: Path, lib: Any
) -> None:
    tenant = "tenant-" + secrets.token_hex(6)
    raw = f"caf\xe9 for {tenant}".encode("latin-1")
    server.app.canned["latin"] = Canned(raw, [("content-type", "text/plain; charset=latin-1")])
    gz = gzip.compress(json.dumps({"tenant": tenant}).encode(), mtime=0)
    headers = {"content-encoding": "gzip", "content-type": "application/octet-stream"}

    def send(client: Any) -> tuple[bytes, int]:
        body = client.get("/v1/canned/latin").content
        return body, client.post("/v1/echo/g", content=gz, headers=headers).status_code

    assert record_and_replay(tmp_path, server, lib, send, placeholders={"<TENANT>": tenant})[0] == raw
    assert_absent(tmp_path, tenant)
    files = [json.loads(f.read_text()) for f in tmp_path.glob("*.json")]
    latin = next(f for f in files if f["request"]["url"].endswith("/latin"))
    assert base64.b64decode(latin["responses"][0]["base64"]) == "caf\xe9 for <TENANT>".encode("latin-1")


def test_meta_user_agent_gets_placeholders(server: LiveServer[OpenAIApp], tmp_path: Path) -> None:
    team = "team-" + secrets.token_hex(5)
    transport = CassetteTransport(tmp_path, mode="record", placeholders={"<TEAM>": team})
    client = openai.OpenAI(
        base_url=server.base_url,
        api_key="test",
        http_client=httpx.Client(transport=transport),
        default_headers={"User-Agent": f"reporter/1.0 ({team})"},
    )
    client.models.list()
    assert stored(tmp_path)["meta"]["user_agent"] == "reporter/1.0 (<TEAM>)"
    assert scan_directory(tmp_path) == []


# -- a header to match on is keyed by its hash -----------------------------------------------------------


def test_a_secret_match_header_is_stored_as_a_hash_and_still_decides_the_key(
    server: LiveServer[OpenAIApp], tmp_path: Path, lib: Any
) -> None:
    first, second = ("Fw" + secrets.token_urlsafe(30) + "9q" for _ in range(2))
    options: dict[str, Any] = {"match_headers": ["x-amz-security-token"]}
    for mode, value in (("record", first), ("record", second)):
        transport = CassetteTransport(tmp_path, mode=mode, **options)
        with lib.Client(transport=transport, base_url=server.url) as client:
            client.get("/v1/echo/t", headers={"x-amz-security-token": value})
    stored_headers = sorted(
        json.loads(f.read_text())["request"]["headers"]["x-amz-security-token"]
        for f in tmp_path.glob("*.json")
    )
    assert len(stored_headers) == 2  # two tokens, two keys
    assert all(h.startswith("scrypt:") for h in stored_headers)
    assert_absent(tmp_path, first)
    assert_absent(tmp_path, second)
    transport = CassetteTransport(tmp_path, mode="replay", **options)
    with lib.Client(transport=transport, base_url=server.url) as client:
        client.get("/v1/echo/t", headers={"x-amz-security-token": first})
        with pytest.raises(CassetteMiss):
            client.get("/v1/echo/t", headers={"x-amz-security-token": "another-" + secrets.token_hex(20)})


# -- a str where a list is expected --------------------------------------------------------------------

LIST_OPTIONS = [
    "ignore_json_paths",
    "match_headers",
    "redact_json_paths",
    "redact_headers",
    "allow_secrets",
    "ignore_hosts",
]


@pytest.mark.parametrize("option", LIST_OPTIONS)
def test_a_string_for_a_list_option_is_refused_by_the_transport_and_use_cassette(
    tmp_path: Path, option: str
) -> None:
    with pytest.raises(TypeError, match=option):
        CassetteTransport(tmp_path, mode="record", **{option: "user"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=option):
        use_cassette(tmp_path, mode="record", **{option: "user"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="placeholders"):
        CassetteTransport(tmp_path, mode="record", placeholders="<A>")  # type: ignore[arg-type]
    assert not tmp_path.joinpath("user").exists()


MARKER_TEST = """
import pytest

@pytest.mark.cassette({option}="user")
def test_it(cassette):
    pass
"""


@pytest.mark.parametrize("option", LIST_OPTIONS)
def test_a_string_for_a_list_option_is_refused_by_the_marker(pytester: pytest.Pytester, option: str) -> None:
    pytester.makepyfile(MARKER_TEST.format(option=option))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*cannot open cassette *: {option} takes a list*"])
