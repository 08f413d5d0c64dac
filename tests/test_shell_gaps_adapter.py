"""A requests adapter used directly, not through a session, goes through the cassette too.

``session.adapters["http://"].send(prepared)``, ``HTTPAdapter().send(prepared)`` and a subclass whose
``send`` calls ``super().send`` are recorded, replayed, missed and blocked like a session's request;
each request meets the cassette once, also through a session whose mounted adapter is such a subclass.

Every server here runs on 127.0.0.1 and counts what reaches it; replay runs with it stopped.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from httpx_cassette import CassetteMiss, use_cassette
from tests.pytester_project import NATIVE, project
from tests.servers.openai_app import OpenAIApp, create_app
from tests.servers.runner import LiveServer

requests = pytest.importorskip("requests")
HTTPAdapter = requests.adapters.HTTPAdapter

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello from an adapter"}]}
HEADERS = {"authorization": "Bearer sk-test-fake", "content-type": "application/json"}


class Stamping(HTTPAdapter):  # type: ignore[misc]
    """A custom adapter as projects mount them: it changes the request, then lets requests send it."""

    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self.sent += 1
        request.headers["x-stamp"] = "stamped"
        return super().send(request, *args, **kwargs)


@pytest.fixture
def server() -> Iterator[LiveServer[OpenAIApp]]:
    with LiveServer(create_app()) as live:
        yield live


def chat(url: str, stream: bool = False) -> Any:
    body = {**CHAT, "stream": True} if stream else CHAT
    return requests.Request("POST", f"{url}/chat/completions", json=body, headers=HEADERS).prepare()


def stored(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(file.read_text()) for file in sorted(directory.glob("*.json"))]


ADAPTERS: dict[str, Callable[[], Any]] = {
    "HTTPAdapter()": HTTPAdapter,
    "a session's mounted adapter": lambda: requests.Session().adapters["http://"],
    "a subclass": Stamping,
}


@pytest.mark.parametrize("make", list(ADAPTERS.values()), ids=list(ADAPTERS))
def test_an_adapter_used_directly_is_recorded_then_replayed_offline(
    tmp_path: Path, server: LiveServer[OpenAIApp], make: Callable[[], Any]
) -> None:
    adapter = make()
    with use_cassette(tmp_path, mode="record") as recording:
        response = adapter.send(chat(server.base_url), timeout=5)
        live = response.json()
    assert live["object"] == "chat.completion"
    assert response.connection is adapter  # as requests' own build_response sets it
    assert len(recording.recorded) == 1
    assert server.app.stats.requests == 1
    (file,) = stored(tmp_path)
    assert file["meta"]["library"].startswith("requests ")
    server.stop()

    with use_cassette(tmp_path, mode="replay") as replay:
        response = adapter.send(chat(server.base_url), timeout=5)
    assert response.json() == live
    assert response.connection is adapter
    assert len(replay.played) == 1
    assert not replay.misses


def test_an_adapter_used_directly_misses_in_replay_instead_of_reaching_the_network(tmp_path: Path) -> None:
    prepared = requests.Request("GET", "http://127.0.0.1:9/v1/models").prepare()
    with use_cassette(tmp_path, mode="replay") as replay, pytest.raises(CassetteMiss):
        HTTPAdapter().send(prepared, timeout=1)
    assert len(replay.misses) == 1


def test_a_stream_sent_directly_is_recorded_as_read_and_replayed(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    adapter = HTTPAdapter()
    with use_cassette(tmp_path, mode="record") as recording:
        response = adapter.send(chat(server.base_url, stream=True), stream=True, timeout=5)
        live = [line for line in response.iter_lines() if line]
        response.close()
    assert live[-1] == b"data: [DONE]"
    assert len(recording.recorded) == 1
    (file,) = stored(tmp_path)
    assert file["responses"][0]["done"] is True
    server.stop()
    with use_cassette(tmp_path, mode="replay"):
        response = adapter.send(chat(server.base_url, stream=True), stream=True, timeout=5)
        assert [line for line in response.iter_lines() if line] == live


def test_a_mounted_subclass_through_a_session_meets_the_cassette_once(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    """The session's `RoutedAdapter` asks the cassette; what it sends on through the subclass's
    ``super().send`` is not asked again: one recording, one request logged, one replay."""
    adapter = Stamping()
    session = requests.Session()
    session.mount("http://", adapter)
    with use_cassette(tmp_path, mode="record") as recording:
        response = session.send(chat(server.base_url), timeout=5)
        live = response.json()
        assert response.connection is not adapter  # the session's wrapper: an auth retry asks the cassette
        assert response.connection.adapter is adapter
    assert (len(recording.recorded), len(recording.requests), adapter.sent) == (1, 1, 1)
    assert server.app.stats.requests == 1
    assert len(stored(tmp_path)) == 1
    server.stop()
    with use_cassette(tmp_path, mode="replay") as replay:
        assert session.send(chat(server.base_url), timeout=5).json() == live
    assert (len(replay.played), len(replay.requests)) == (1, 1)


def test_a_request_let_through_is_passed_once(tmp_path: Path, server: LiveServer[OpenAIApp]) -> None:
    with use_cassette(tmp_path, mode="replay", ignore_localhost=True) as cassette:
        assert requests.post(chat(server.base_url).url, json=CHAT, timeout=5).status_code == 200
        assert HTTPAdapter().send(chat(server.base_url), timeout=5).status_code == 200
    assert len(cassette.passed) == 2  # once each: through the session, and through the adapter alone
    assert [sent.status for sent in cassette.requests] == ["passed", "passed"]
    assert server.app.stats.requests == 2


def test_an_adapter_sent_from_a_worker_thread_is_served_by_the_block(
    tmp_path: Path, server: LiveServer[OpenAIApp]
) -> None:
    adapter = HTTPAdapter()

    def send() -> Any:
        assert threading.current_thread() is not threading.main_thread()
        return adapter.send(chat(server.base_url), timeout=5).json()

    with use_cassette(tmp_path, mode="record") as recording, ThreadPoolExecutor(1) as pool:
        live = pool.submit(send).result()
    assert len(recording.recorded) == 1
    server.stop()
    with use_cassette(tmp_path, mode="replay") as replay, ThreadPoolExecutor(1) as pool:
        assert pool.submit(send).result() == live
    assert len(replay.played) == 1


def test_the_adapter_hook_is_removed_when_the_last_block_closes(tmp_path: Path) -> None:
    send = HTTPAdapter.send
    with use_cassette(tmp_path, mode="replay"):
        with use_cassette(tmp_path / "inner", mode="replay"):
            assert HTTPAdapter.send is not send
        assert HTTPAdapter.send is not send  # the outer block is still open
    assert HTTPAdapter.send is send


def test_an_adapter_used_directly_under_a_blocked_network_never_reaches_the_server(
    pytester: pytest.Pytester, server: LiveServer[OpenAIApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    project(pytester, server.base_url, monkeypatch)
    pytester.makepyfile(
        """
        import requests
        from requests.adapters import HTTPAdapter

        def test_direct(api):
            prepared = requests.Request("GET", api + "/models").prepare()
            HTTPAdapter().send(prepared, timeout=5)
        """
    )
    result = pytester.runpytest(*NATIVE, "--cassette-block-network")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*NetworkBlocked: network blocked (--cassette-block-network): GET http://127.0.0.1:*/v1/models*"]
    )
    assert server.app.stats.requests == 0
