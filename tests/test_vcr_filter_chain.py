"""vcrpy's request filters under pytest-recording's names: ``vcr_config``'s filters and
``before_record_request``, then a marker's, all apply in that order (fixture's filters, marker's
filters, then the hooks): a marker adds to what the suite keeps off disk, never replaces it. vcrpy's
replacement pairs (``("api_key", "DUMMY")``) record and replay, converted vcrpy cassettes recorded with
them too, and httpx_cassette's own options are taken on ``@pytest.mark.vcr`` / ``vcr_config``.

Driven through pytester against the local OpenAI-wire server, as tests/test_vcr_compat.py is.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from httpx_cassette.cli import main as cli_main
from httpx_cassette.cli.console import Console
from tests.pytester_project import run_vcr as run
from tests.pytester_project import (
    vcr_project,  # noqa: F401 - the `inner` fixture
)


def recordings(root: Path) -> dict[str, dict[str, object]]:
    """Each test's one recording, by the test's folder name."""
    return {f.parent.name: json.loads(f.read_text()) for f in sorted(root.rglob("*.json"))}


CHAIN = """
import httpx
import msgspec
import pytest


def fixture_hook(request):
    return msgspec.structs.replace(request, url=request.url.replace("q=marker", "q=marker-fixturehook"))


def marker_hook(request):
    return msgspec.structs.replace(request, url=request.url + "&markerhook=1")


def after_fixture_hook(request):
    return msgspec.structs.replace(request, url=request.url.replace("fixturehook", "fixturehook-markerhook"))


@pytest.fixture
def vcr_config():
    return {
        "filter_query_parameters": ["tracking", ("q", "fixture")],
        "filter_headers": ["x-request-id"],
        "before_record_request": fixture_hook,
    }


def get(api):
    httpx.get(f"{api}/models/gpt-4o", params={"tracking": "user-42", "other": "o", "q": "live"})


@pytest.mark.vcr
def test_config_only(api):
    get(api)


@pytest.mark.vcr(before_record_request=marker_hook)
def test_marker_hook(api):
    get(api)


@pytest.mark.vcr(filter_post_data_parameters=["x"])
def test_marker_other_filter(api):
    get(api)


@pytest.mark.vcr(
    filter_query_parameters=["other", ("q", "marker")],
    filter_headers=["openai-version"],
    before_record_request=after_fixture_hook,
)
def test_marker_same_keys(api):
    get(api)
"""


def test_a_markers_filters_and_hook_add_to_vcr_configs_in_vcrpys_order(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_chain=CHAIN)
    run(inner, "--record-mode=once").assert_outcomes(passed=4)
    files = recordings(inner.path / "cassettes")
    urls = {name: str(file["request"]["url"]).split("?")[1] for name, file in files.items()}  # type: ignore[index]
    assert urls == {
        "test_config_only": "other=o&q=fixture",
        # the fixture's filters, then the marker's, then the fixture's hook, then the marker's
        "test_marker_hook": "other=o&q=fixture&markerhook=1",
        "test_marker_other_filter": "other=o&q=fixture",
        "test_marker_same_keys": "q=marker-fixturehook-markerhook",
    }
    headers = {name: file["responses"][0]["headers"] for name, file in files.items()}  # type: ignore[index]
    assert not any("x-request-id" in h for h in headers.values())  # the fixture's, whatever the marker says
    assert "openai-version" not in headers["test_marker_same_keys"]
    assert "openai-version" in headers["test_config_only"]
    run(inner, "--record-mode=none").assert_outcomes(passed=4)  # filtered alike on replay: they match


REPLACED = """
import httpx
import pytest


def upper(key, value, request):
    assert request.path == "/v1/chat/completions"
    return value.upper()


@pytest.mark.vcr(
    filter_query_parameters=[("api_key", "DUMMY"), ("lang", upper)],
    filter_post_data_parameters=[("user", "anonymous")],
    filter_headers=[("openai-beta", "assistants=v0")],
)
def test_replaced(api, vcr):
    response = httpx.post(
        f"{api}/chat/completions",
        params={"api_key": "real-key-1", "lang": "abc"},
        headers={"openai-beta": "assistants=v2"},
        json={"model": "m", "user": "alice", "messages": [{"role": "user", "content": "hi"}]},
    )
    assert response.status_code == 200
    assert vcr.requests[-1].json()["user"] == "anonymous"
"""


def test_vcrpy_replacement_pairs_record_and_replay(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_pairs=REPLACED)
    run(inner, "--record-mode=once").assert_outcomes(passed=1)
    (recording,) = recordings(inner.path / "cassettes").values()
    request = recording["request"]
    # A secret-named parameter was already REDACTED, as a converted vcrpy cassette holds it.
    assert request["url"].endswith("/chat/completions?api_key=REDACTED&lang=ABC")  # type: ignore[index]
    assert request["headers"]["openai-beta"] == "assistants=v0"  # type: ignore[index]
    assert request["body"]["user"] == "anonymous"  # type: ignore[index]
    assert "real-key-1" not in json.dumps(recording)
    run(inner, "--record-mode=none").assert_outcomes(passed=1)


CONVERTED = """
import httpx
import pytest


@pytest.mark.vcr(filter_query_parameters=[("api_key", "DUMMY"), ("lang", "anon")])
def test_query_replaced(api):
    params = {"api_key": "real-key-1", "lang": "de"}
    assert httpx.get(f"{api}/models/gpt-4o", params=params).json()["object"] == "list"
"""
VCR_YAML = """interactions:
- request:
    body: null
    headers: {}
    method: GET
    uri: http://127.0.0.1:9/v1/models/gpt-4o?api_key=DUMMY&lang=anon
  response:
    body: {string: '{"object": "list", "data": []}'}
    headers:
      content-type: [application/json]
    status: {code: 200, message: OK}
version: 1
"""


def test_a_converted_vcrpy_cassette_recorded_with_a_replacement_replays(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_conv=CONVERTED)
    yaml = inner.path / "yaml" / "test_conv" / "test_query_replaced.yaml"
    yaml.parent.mkdir(parents=True)
    yaml.write_text(VCR_YAML)
    converted = inner.path / "cassettes"
    assert cli_main(["convert", str(inner.path / "yaml"), str(converted), "--from", "vcr"], quiet()) == 0
    run(inner, "--record-mode=none").assert_outcomes(passed=1)


def quiet() -> Console:
    return Console(io.StringIO(), io.StringIO())


OWN_OPTIONS = """
import httpx
import pytest

KEY = "sk-proj-" + "Zq4Rw8Xy2Lm6Np0Tv3Bc7Hd1Kf5Gj9Sa"  # looks like a credential: refused unless allowed


@pytest.fixture
def vcr_config():
    return {"redact_json_paths": ["tag"]}


@pytest.mark.vcr(allow_secrets=[KEY])
def test_own(api):
    httpx.post(f"{api}/chat/completions", json={"model": "m", "tag": "t",
               "messages": [{"role": "user", "content": f"the key is {KEY}"}]})
"""


def test_httpx_cassettes_own_options_are_taken_on_the_vcr_marker_and_vcr_config(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile(test_own=OWN_OPTIONS)
    result = run(inner, "--record-mode=once")
    result.assert_outcomes(passed=1)
    assert "VcrConfigWarning" not in result.stdout.str()
    (recording,) = recordings(inner.path / "cassettes").values()
    assert recording["request"]["body"]["tag"] == "REDACTED"  # type: ignore[index]


BASE = """
import httpx
import msgspec
import pytest


def no_session(request):
    return msgspec.structs.replace(request, url=request.url.replace("session=s-42", "session=gone"))


@pytest.fixture
def cassette_config():
    return {"before_record_request": no_session}


@pytest.fixture
def vcr_config():
    return {"filter_query_parameters": ["tracking"]}


@pytest.mark.vcr
def test_both(api):
    httpx.get(f"{api}/models/gpt-4o", params={"session": "s-42", "tracking": "user-42"})
"""


def test_vcr_filters_add_to_the_cassette_config_fixture_s_hook(inner: pytest.Pytester) -> None:
    """A suite's ``cassette_config`` hook keeps running when ``vcr_config`` sets vcrpy's filters: they
    add to it, as a marker's add to ``vcr_config``'s."""
    inner.makepyfile(test_base=BASE)
    run(inner, "--record-mode=all").assert_outcomes(passed=1)
    [stored] = recordings(inner.path / "cassettes").values()
    url = str(stored["request"]["url"])  # type: ignore[index]
    assert "s-42" not in url
    assert "session=gone" in url
    assert "tracking" not in url
