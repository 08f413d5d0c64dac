"""Ignore rules: telemetry and other traffic that is not the test's business, and background threads.

Recorded against the local server, replayed with it stopped: an ignored request is never written, goes
out as usual while recording, and is answered locally (204) or let out in replay, as its rule says.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteMiss, use_cassette
from httpx_cassette.config import CassetteConfig, IgnoreRule
from httpx_cassette.errors import CassetteError
from tests.servers.openai_app import OpenAIApp, create_app
from tests.servers.runner import LiveServer

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}
TRACES = IgnoreRule(method="POST", host="127.0.0.1", path="/v1/traces/*")
OPENAI_INGEST = "https://api.openai.com/v1/traces/ingest"


@pytest.fixture
def server() -> Iterator[LiveServer[OpenAIApp]]:
    with LiveServer(create_app()) as live:
        yield live


def upload_trace(client: httpx.Client, server: LiveServer[OpenAIApp]) -> httpx.Response:
    """What a tracing exporter sends: ids that differ on every run."""
    trace = {"data": [{"id": f"trace_{uuid.uuid4().hex}", "object": "trace"}]}
    return client.post(f"{server.base_url}/traces/ingest", json=trace)


def test_an_ignored_request_goes_out_while_recording_and_is_answered_empty_in_replay(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    with use_cassette(tmp_path, mode="record", ignore=[TRACES]) as recording, httpx.Client() as client:
        live = client.post(f"{server.base_url}/chat/completions", json=CHAT).json()
        uploaded = upload_trace(client, server)
    assert uploaded.status_code == 404  # it reached the server, which has no such route
    assert uploaded.json()["error"]["message"] == "Invalid URL (POST /v1/traces/ingest)"
    assert len(recording.recorded) == 1  # the chat only
    assert recording.ignored == [f"POST {server.base_url}/traces/ingest"]
    urls = [json.loads(file.read_text())["request"]["url"] for file in tmp_path.glob("*.json")]
    assert urls == [f"{server.base_url}/chat/completions"]
    server.stop()
    with use_cassette(tmp_path, mode="replay", ignore=[TRACES]) as replay, httpx.Client() as client:
        assert client.post(f"{server.base_url}/chat/completions", json=CHAT).json() == live
        answered = upload_trace(client, server)
    assert answered.status_code == 204
    assert answered.content == b""
    assert not replay.misses
    assert len(replay.ignored) == 1


def test_a_pass_rule_lets_the_request_out_in_replay(tmp_path: Path, server: LiveServer[OpenAIApp]) -> None:
    rule = IgnoreRule(method="GET", host="127.0.0.1", path="/v1/models", answer="pass")
    with use_cassette(tmp_path, mode="replay", ignore=[rule]) as replay, httpx.Client() as client:
        models = client.get(f"{server.base_url}/models")
    assert models.status_code == 200
    assert models.json()["object"] == "list"
    assert server.app.stats.requests_to("/v1/models") == 1
    assert replay.ignored == [f"GET {server.base_url}/models"]
    assert not list(tmp_path.glob("*.json"))


def test_rules_written_as_text_match_globs_and_methods(tmp_path: Path, server: LiveServer[OpenAIApp]) -> None:
    rules = ["post 127.0.0.* /v1/traces/*"]
    with use_cassette(tmp_path, mode="replay", ignore=rules) as replay, httpx.Client() as client:
        assert upload_trace(client, server).status_code == 204
        with pytest.raises(CassetteMiss):  # a GET is not the rule's business: the cassette's
            client.get(f"{server.base_url}/traces/ingest")
    assert len(replay.ignored) == 1
    assert len(replay.misses) == 1


def test_bad_rules_are_refused_when_the_config_is_built() -> None:
    with pytest.raises(CassetteError, match=r"write METHOD HOST PATH \[empty\|pass\]"):
        CassetteConfig(ignore=("api.openai.com/v1/traces",))  # type: ignore[arg-type]
    with pytest.raises(CassetteError, match="use 'empty' or 'pass'"):
        IgnoreRule.parse("POST api.openai.com /v1/traces/* drop")
    with pytest.raises(TypeError, match="a list of rules"):
        CassetteConfig().override(ignore="POST api.openai.com /v1/traces/*")
    rule = IgnoreRule.parse("POST api.openai.com /v1/traces/* pass")
    assert rule == IgnoreRule(method="POST", host="api.openai.com", path="/v1/traces/*", answer="pass")


# -- the default list of telemetry endpoints -----------------------------------------------------------


def test_the_openai_agents_trace_upload_is_answered_locally_by_default(tmp_path: Path) -> None:
    with use_cassette(tmp_path, mode="replay") as replay, httpx.Client() as client:
        response = client.post(OPENAI_INGEST, json={"data": []}, headers={"authorization": "Bearer sk-x"})
    assert response.status_code == 204
    assert replay.ignored == [f"POST {OPENAI_INGEST}"]


def test_ignore_defaults_false_puts_telemetry_back_in_the_cassette(tmp_path: Path) -> None:
    with (
        use_cassette(tmp_path, mode="replay", ignore_defaults=False) as replay,
        httpx.Client() as client,
        pytest.raises(CassetteMiss),
    ):
        client.post(OPENAI_INGEST, json={"data": []})
    assert not replay.ignored
    assert len(replay.misses) == 1


@pytest.mark.skipif(importlib.util.find_spec("requests") is None, reason="requests is not installed")
def test_langsmith_run_uploads_through_requests_are_ignored_by_default(tmp_path: Path) -> None:
    import requests

    with use_cassette(tmp_path, mode="replay") as replay:
        response = requests.post("https://api.smith.langchain.com/runs/multipart", data=b"x", timeout=1)
    assert response.status_code == 204
    assert len(replay.ignored) == 1


@pytest.mark.skipif(importlib.util.find_spec("aiohttp") is None, reason="aiohttp is not installed")
async def test_telemetry_through_aiohttp_is_ignored_by_default(tmp_path: Path) -> None:
    import aiohttp

    with use_cassette(tmp_path, mode="replay") as replay:
        async with aiohttp.ClientSession() as session, session.post(OPENAI_INGEST, json={}) as response:
            assert response.status == 204
            assert await response.read() == b""
    assert len(replay.ignored) == 1


# -- background threads -------------------------------------------------------------------------------


def test_a_background_exporter_thread_is_served_by_the_block_and_shown_in_the_report(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    def exporter(client: httpx.Client) -> None:
        upload_trace(client, server)

    def run() -> dict[str, object]:
        with httpx.Client() as client:
            answer = client.post(f"{server.base_url}/chat/completions", json=CHAT).json()
            thread = threading.Thread(target=exporter, args=(client,), name="trace-exporter")
            thread.start()
            thread.join()
            return dict(answer)

    with use_cassette(tmp_path, mode="record", ignore=[TRACES]):
        live = run()
    server.stop()
    with use_cassette(tmp_path, mode="replay", ignore=[TRACES]) as replay:
        assert run() == live
    assert dict(replay.other_threads) == {"trace-exporter": 1}
    assert "1 request from other threads" in repr(replay)
    report = replay.report()
    assert "1 played, 0 recorded, 0 missed, 0 passed through, 1 ignored" in report
    assert "1 request from other threads: trace-exporter (1)" in report


# -- the pytest plugin: ini option and marker ---------------------------------------------------------


def test_the_ini_option_and_the_marker_add_rules(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "cassette_ignore =\n    POST example.test /telemetry/*\n"
    )
    pytester.makepyfile(
        """
        import httpx
        import pytest

        def test_ini(cassette):
            response = httpx.post("https://example.test/telemetry/events", json={"id": 1})
            assert response.status_code == 204
            assert cassette.ignored == ["POST https://example.test/telemetry/events"]

        @pytest.mark.cassette(ignore=["GET example.test /health"])
        def test_marker(cassette):
            assert httpx.get("https://example.test/health").status_code == 204
            assert httpx.post("https://example.test/telemetry/x").status_code == 204
            assert len(cassette.ignored) == 2
        """
    )
    result = pytester.runpytest("-p", "no:cassetter", "--cassette-mode=replay")
    result.assert_outcomes(passed=2)


def test_a_bad_ini_rule_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ncassette_ignore =\n    example.test/telemetry\n")
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest("-p", "no:cassetter")
    result.stderr.fnmatch_lines(["*cassette_ignore: ignore rule 'example.test/telemetry': write METHOD*"])


def test_under_a_blocked_network_telemetry_is_answered_and_the_ini_can_turn_the_defaults_off(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        """
        import httpx
        import pytest

        def test_trace_upload_without_a_cassette():
            response = httpx.post("https://api.openai.com/v1/traces/ingest", json={"data": []})
            assert response.status_code == 204

        @pytest.mark.cassette(ignore_defaults=False)
        def test_trace_upload_counted_as_a_request(cassette):
            with pytest.raises(Exception, match="no recording"):
                httpx.post("https://api.openai.com/v1/traces/ingest", json={"data": []})
        """
    )
    blocked = ("-p", "no:cassetter", "--cassette-mode=replay", "--cassette-block-network")
    result = pytester.runpytest(*blocked)
    result.assert_outcomes(passed=1, failed=1)  # the second: its miss was caught, which the plugin reports
    result.stdout.fnmatch_lines(["*no recording for POST /v1/traces/ingest*", "*caught this error*"])
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\ncassette_ignore_defaults = false\n"
    )
    result = pytester.runpytest(*blocked, "-k", "without_a_cassette")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*NetworkBlocked: network blocked*POST https://api.openai.com/v1/traces/ingest*"]
    )
