"""use_cassette: interception of httpx and httpx2 default transports, against a real local server.

Every test records through the real network stack (a LiveServer on 127.0.0.1) and replays with
nothing listening or with the server's request counter unchanged.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from httpx_cassette import CassetteMiss, CassetteSession, CassetteTransport, use_cassette
from tests.conftest import HAS_HTTPX2
from tests.servers.openai_app import OpenAIApp, create_app
from tests.servers.runner import LiveServer

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello there"}]}


def requests_seen(server: LiveServer[OpenAIApp]) -> int:
    return server.app.stats.requests


def names(path: Path) -> list[str]:
    return sorted(file.name for file in path.glob("*.json"))


def originals() -> list[Any]:
    methods = [httpx.Client._transport_for_url, httpx.AsyncClient._transport_for_url]
    if HAS_HTTPX2:
        import httpx2

        methods += [httpx2.Client._transport_for_url, httpx2.AsyncClient._transport_for_url]
    return methods


# -- the headline: an SDK client built with default settings -------------------------------


def test_openai_default_client_records_then_replays_with_the_server_stopped(tmp_path: Path) -> None:
    server = LiveServer(create_app()).start()
    try:
        with use_cassette(tmp_path, mode="record") as recording:
            client = openai.OpenAI(base_url=server.base_url, api_key="sk-test-fake")
            live = client.chat.completions.create(**CHAT)
            streamed = [
                chunk.choices[0].delta.content
                for chunk in client.chat.completions.create(**CHAT, stream=True)
                if chunk.choices
            ]
    finally:
        server.stop()
    # the SDK built its own client: an httpx2 one (openai 3), which respx.mock would not see
    assert type(client._client._transport).__name__ == "HTTPTransport"
    assert type(client._client._transport).__module__.split(".")[0] == ("httpx2" if HAS_HTTPX2 else "httpx")
    assert len(recording.recorded) == 2
    assert names(tmp_path) == sorted(
        [f"post-chat-completions-{key[:12]}.json" for key, _ in recording.recorded]
    )

    with use_cassette(tmp_path) as replay:  # mode from $HTTPX_CASSETTE_MODE, else replay
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test-fake", max_retries=0)
        again = client.chat.completions.create(**CHAT)
        restreamed = [
            chunk.choices[0].delta.content
            for chunk in client.chat.completions.create(**CHAT, stream=True)
            if chunk.choices
        ]
    assert again.choices[0].message.content == live.choices[0].message.content == "Echo: hello there"
    assert restreamed == streamed == ["", "Echo:", " hello", " there", None]
    assert replay.mode == "replay"
    assert sorted(replay.played) == sorted(recording.recorded)
    assert replay.recorded == []
    assert replay.unused() == []


async def test_async_openai_default_client(openai_server: LiveServer[OpenAIApp], tmp_path: Path) -> None:
    with use_cassette(tmp_path, mode="record") as recording:
        client = openai.AsyncOpenAI(base_url=openai_server.base_url, api_key="sk-test-fake")
        live = await client.embeddings.create(model="text-embedding-3-small", input="abc")
    before = requests_seen(openai_server)
    with use_cassette(tmp_path) as replay:
        again = await client.embeddings.create(model="text-embedding-3-small", input="abc")
    assert again.data[0].embedding == live.data[0].embedding
    assert requests_seen(openai_server) == before
    assert replay.played == [(recording.recorded[0][0], 0)]


# -- what is intercepted, and when -----------------------------------------------------------------


def test_clients_created_before_the_block_are_caught_and_nothing_is_touched_after(
    openai_server: LiveServer[OpenAIApp], httpx_lib: Any, tmp_path: Path
) -> None:
    client = httpx_lib.Client(base_url=openai_server.base_url)
    before = originals()
    with use_cassette(tmp_path, mode="record") as cassette:
        assert originals() != before
        client.post("/chat/completions", json=CHAT)
    assert originals() == before
    assert len(cassette.recorded) == 1
    seen = requests_seen(openai_server)
    with use_cassette(tmp_path) as replay:
        assert client.post("/chat/completions", json=CHAT).json()["choices"][0]["message"]["content"] == (
            "Echo: hello there"
        )
    assert requests_seen(openai_server) == seen
    assert len(replay.played) == 1
    client.post("/chat/completions", json=CHAT)  # outside: reaches the server, nothing recorded
    assert requests_seen(openai_server) == seen + 1
    assert len(names(tmp_path)) == 1


async def test_async_httpx_clients(
    openai_server: LiveServer[OpenAIApp], httpx_lib: Any, tmp_path: Path
) -> None:
    async with httpx_lib.AsyncClient(base_url=openai_server.base_url) as client:
        with use_cassette(tmp_path, mode="record"):
            live = await client.get("/models")
        seen = requests_seen(openai_server)
        with use_cassette(tmp_path) as replay:
            again = await client.get("/models")
    assert again.json() == live.json()
    assert requests_seen(openai_server) == seen
    assert type(again) is httpx_lib.Response
    assert len(replay.played) == 1


def test_leaving_on_an_exception_restores_everything(tmp_path: Path) -> None:
    before = originals()
    with pytest.raises(ZeroDivisionError), use_cassette(tmp_path):
        1 / 0  # noqa: B018
    assert originals() == before


def test_ignore_hosts_and_loopback_pass_through(openai_server: LiveServer[OpenAIApp], tmp_path: Path) -> None:
    url = f"{openai_server.base_url}/models"
    with use_cassette(tmp_path, mode="replay", ignore_hosts=["127.0.0.1"]) as by_host:
        assert httpx.get(url).status_code == 200
    with use_cassette(tmp_path, mode="replay", ignore_localhost=True) as by_loopback:
        assert httpx.get(url.replace("127.0.0.1", "localhost")).status_code == 200
    assert by_host.passed == [f"GET {url}"]
    assert by_loopback.passed == [f"GET {url.replace('127.0.0.1', 'localhost')}"]
    assert by_host.played == by_host.recorded == by_host.misses == []
    assert names(tmp_path) == []


def test_a_recording_transport_inside_a_block_is_not_intercepted_twice(
    openai_server: LiveServer[OpenAIApp], tmp_path: Path
) -> None:
    explicit = httpx.Client(transport=CassetteTransport(tmp_path / "explicit", mode="record"))
    with use_cassette(tmp_path / "block", mode="replay") as block:
        assert explicit.get(f"{openai_server.base_url}/models").status_code == 200
    assert block.misses == []
    assert len(names(tmp_path / "explicit")) == 1


def test_env_var_sets_the_mode(
    openai_server: LiveServer[OpenAIApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPX_CASSETTE_MODE", "record-missing")
    with use_cassette(tmp_path) as cassette:
        httpx.get(f"{openai_server.base_url}/models")
    assert cassette.mode == "record-missing"
    assert len(cassette.recorded) == 1


# -- nesting, threads, tasks -----------------------------------------------------------------------


def test_nested_blocks_the_inner_one_serves(openai_server: LiveServer[OpenAIApp], tmp_path: Path) -> None:
    url = openai_server.base_url
    with use_cassette(tmp_path / "outer", mode="record") as outer:
        httpx.get(f"{url}/models")
        with use_cassette(tmp_path / "inner", mode="record") as inner:
            httpx.get(f"{url}/models/gpt-4o")
        httpx.get(f"{url}/models/gpt-4o-mini")
    assert len(outer.recorded) == 2
    assert len(inner.recorded) == 1
    assert names(tmp_path / "inner") == [f"get-models-gpt-4o-{inner.recorded[0][0][:12]}.json"]


def test_threads_started_inside_the_block_are_covered(
    openai_server: LiveServer[OpenAIApp], tmp_path: Path
) -> None:
    client = httpx.Client(base_url=openai_server.base_url)
    models = ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]
    with use_cassette(tmp_path, mode="record") as cassette, ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda model: client.get(f"/models/{model}"), models))
    assert len(cassette.recorded) == 3
    seen = requests_seen(openai_server)
    with use_cassette(tmp_path) as replay, ThreadPoolExecutor(3) as pool:
        bodies = list(pool.map(lambda model: client.get(f"/models/{model}").json()["id"], models))
    assert bodies == models
    assert len(replay.played) == 3
    assert requests_seen(openai_server) == seen


async def test_concurrent_tasks_with_different_cassettes_stay_apart(
    openai_server: LiveServer[OpenAIApp], tmp_path: Path
) -> None:
    client = httpx.AsyncClient(base_url=openai_server.base_url)
    inside: list[str] = []
    both_inside = asyncio.Event()

    async def fetch(name: str, model: str) -> CassetteSession:
        with use_cassette(tmp_path / name, mode="record") as cassette:
            inside.append(name)
            if len(inside) == 2:
                both_inside.set()
            await both_inside.wait()  # both blocks are open at once from here on
            await client.get(f"/models/{model}")
            await asyncio.sleep(0)
            await client.get(f"/models/{model}-x")
        return cassette

    a, _ = await asyncio.gather(fetch("a", "gpt-4o"), fetch("b", "gpt-4o-mini"))
    assert names(tmp_path / "a") == sorted(
        [
            f"get-models-gpt-4o-{a.recorded[0][0][:12]}.json",
            f"get-models-gpt-4o-x-{a.recorded[1][0][:12]}.json",
        ]
    )
    assert [n.split("-")[2:-1] for n in names(tmp_path / "b")] == [
        ["gpt", "4o", "mini"],
        ["gpt", "4o", "mini", "x"],
    ]
    await client.aclose()


async def test_a_task_started_before_the_block_is_not_intercepted(
    openai_server: LiveServer[OpenAIApp], tmp_path: Path
) -> None:
    client = httpx.AsyncClient(base_url=openai_server.base_url)
    go = asyncio.Event()

    async def outside() -> int:
        await go.wait()
        return (await client.get("/models")).status_code

    task = asyncio.create_task(outside())
    with use_cassette(tmp_path, mode="replay") as cassette:
        go.set()
        assert await task == 200  # would be a CassetteMiss if the block had caught it
    assert cassette.misses == []
    await client.aclose()


def test_a_thread_in_its_own_block_is_served_by_that_block(
    openai_server: LiveServer[OpenAIApp], tmp_path: Path
) -> None:
    url = openai_server.base_url
    opened = threading.Event()
    done = threading.Event()
    results: list[CassetteSession] = []

    def other() -> None:
        with use_cassette(tmp_path / "thread", mode="record") as cassette:
            opened.set()
            httpx.get(f"{url}/models/gpt-4o")
            done.wait(5)
        results.append(cassette)

    thread = threading.Thread(target=other)
    thread.start()
    opened.wait(5)
    with use_cassette(tmp_path / "main", mode="record") as main:
        httpx.get(f"{url}/models")
    done.set()
    thread.join()
    assert len(main.recorded) == 1
    assert len(results[0].recorded) == 1
    assert names(tmp_path / "thread")[0].startswith("get-models-gpt-4o-")


# -- decorator -------------------------------------------------------------------------------------


def test_decorator_on_sync_and_async_functions(openai_server: LiveServer[OpenAIApp], tmp_path: Path) -> None:
    url = openai_server.base_url

    @use_cassette(tmp_path, mode="record-missing")
    def fetch(model: str, *, suffix: str = "") -> str:
        """Docstring kept."""
        return str(httpx.get(f"{url}/models/{model}{suffix}").json()["id"])

    @use_cassette(tmp_path, mode="record-missing")
    async def afetch(model: str) -> str:
        async with httpx.AsyncClient() as client:
            return str((await client.get(f"{url}/models/{model}")).json()["id"])

    assert str(inspect.signature(fetch)) == "(model: 'str', *, suffix: 'str' = '') -> 'str'"
    assert fetch.__doc__ == "Docstring kept."
    assert inspect.iscoroutinefunction(afetch)
    assert fetch("gpt-4o") == "gpt-4o"
    assert asyncio.run(afetch("gpt-4o-mini")) == "gpt-4o-mini"
    seen = requests_seen(openai_server)
    assert fetch("gpt-4o") == "gpt-4o"  # each call is a fresh session: replayed from the file
    assert asyncio.run(afetch("gpt-4o-mini")) == "gpt-4o-mini"
    assert requests_seen(openai_server) == seen
    assert len(names(tmp_path)) == 2


def test_decorator_on_a_generator_function_keeps_the_cassette_open_while_it_runs(
    openai_server: LiveServer[OpenAIApp], tmp_path: Path
) -> None:
    # The block spans the iteration (as vcrpy's does), not only the creation of the generator object.
    url = openai_server.base_url
    closed: list[str] = []

    @use_cassette(tmp_path, mode="record-missing")
    def models(*names: str) -> Any:
        try:
            for name in names:
                extra = yield str(httpx.get(f"{url}/models/{name}").json()["id"])
                if extra:
                    yield str(httpx.get(f"{url}/models/{extra}").json()["id"])
        finally:
            closed.append("closed")
        return "done"

    def consume() -> Any:
        return (yield from models("gpt-4o", "gpt-4o-mini"))

    assert inspect.isgeneratorfunction(models)
    assert list(consume()) == ["gpt-4o", "gpt-4o-mini"]
    assert len(names(tmp_path)) == 2
    seen = requests_seen(openai_server)
    steps = models("gpt-4o", "gpt-4o-mini")
    assert next(steps) == "gpt-4o"
    assert steps.send("gpt-4o-mini") == "gpt-4o-mini"  # send reaches the function
    steps.close()  # close does too, and ends the block
    assert closed == ["closed", "closed"]
    assert requests_seen(openai_server) == seen  # replayed from the files
    with pytest.raises(CassetteMiss):
        list(use_cassette(tmp_path / "empty", mode="replay")(models.__wrapped__)("gpt-4o"))
    assert requests_seen(openai_server) == seen  # the miss never went out


def test_decorator_on_an_async_generator_function_keeps_the_cassette_open_while_it_runs(
    openai_server: LiveServer[OpenAIApp], tmp_path: Path
) -> None:
    url = openai_server.base_url
    log: list[str] = []

    @use_cassette(tmp_path, mode="record-missing")
    async def models(*names: str) -> Any:
        async with httpx.AsyncClient() as client:
            try:
                for name in names:
                    try:
                        extra = yield str((await client.get(f"{url}/models/{name}")).json()["id"])
                    except KeyError as exc:  # thrown in by the caller
                        log.append(f"caught {exc}")
                        yield "recovered"
                        continue
                    if extra:
                        yield str((await client.get(f"{url}/models/{extra}")).json()["id"])
            finally:
                log.append("closed")

    async def scenario() -> None:
        assert inspect.isasyncgenfunction(models)
        assert [m async for m in models("gpt-4o", "gpt-4o-mini", "gpt-4.1-mini")] == [
            "gpt-4o",
            "gpt-4o-mini",
            "gpt-4.1-mini",
        ]
        assert len(names(tmp_path)) == 3
        seen = requests_seen(openai_server)
        steps = models("gpt-4o", "gpt-4.1-mini")
        assert await steps.__anext__() == "gpt-4o"
        assert await steps.asend("gpt-4o-mini") == "gpt-4o-mini"  # asend reaches the function
        assert await steps.__anext__() == "gpt-4.1-mini"
        assert await steps.athrow(KeyError("boom")) == "recovered"  # athrow too
        await steps.aclose()  # and aclose, which ends the block
        assert log == ["closed", "caught 'boom'", "closed"]
        assert requests_seen(openai_server) == seen  # replayed from the files
        empty = use_cassette(tmp_path / "empty", mode="replay")(models.__wrapped__)
        with pytest.raises(CassetteMiss):
            [m async for m in empty("gpt-4o")]
        assert requests_seen(openai_server) == seen  # the miss never went out

    asyncio.run(scenario())


def test_blocks_closing_out_of_order_leave_the_enclosing_block_serving(
    openai_server: LiveServer[OpenAIApp], tmp_path: Path
) -> None:
    # A decorated generator started inside `inner` and finished after `inner` exits: its block closes
    # last, and the block serving afterwards is `outer` (still open), never the closed `inner`.
    url = openai_server.base_url

    @use_cassette(tmp_path / "generator", mode="record")
    def steps() -> Any:
        yield httpx.get(f"{url}/models/gpt-4o").status_code
        yield httpx.get(f"{url}/models/gpt-4o-mini").status_code

    with use_cassette(tmp_path / "outer", mode="record") as outer:
        with use_cassette(tmp_path / "inner", mode="record") as inner:
            running = steps()
            assert next(running) == 200  # the generator's block opens inside `inner`
        assert list(running) == [200]  # `inner` closed first; the generator's block now, out of order
        httpx.get(f"{url}/models/gpt-4.1-mini")
    assert [name.split("-")[2:-1] for name in names(tmp_path / "outer")] == [["gpt", "4", "1", "mini"]]
    assert (len(outer.recorded), len(inner.recorded), names(tmp_path / "inner")) == (1, 0, [])
    assert len(names(tmp_path / "generator")) == 2


async def test_a_task_that_outlives_its_block_is_not_served_by_the_closed_cassette(
    openai_server: LiveServer[OpenAIApp], tmp_path: Path
) -> None:
    client = httpx.AsyncClient(base_url=openai_server.base_url)
    go = asyncio.Event()

    async def later() -> int:
        await go.wait()
        return (await client.get("/models/gpt-4o")).status_code

    with use_cassette(tmp_path / "outer", mode="record") as outer:
        with use_cassette(tmp_path / "inner", mode="record") as inner:
            task = asyncio.create_task(later())  # its context holds both blocks
        go.set()
        assert await task == 200
    assert (len(outer.recorded), len(inner.recorded)) == (1, 0)
    await client.aclose()


# -- misses ----------------------------------------------------------------------------------------


def test_a_miss_is_raised_and_recorded_on_the_session(tmp_path: Path) -> None:
    with pytest.raises(CassetteMiss) as raised, use_cassette(tmp_path) as cassette:
        httpx.get("https://api.example.test/v1/models")
    assert str(raised.value).startswith(
        f"no recording for GET /v1/models in cassette {tmp_path}\n  canonical body: null\n"
    )
    assert cassette.misses == [raised.value]


class SDKError(Exception):
    """What an SDK raises when its transport fails."""


def test_a_miss_an_sdk_wrapped_is_raised_again_when_leaving_the_block(tmp_path: Path) -> None:
    def sdk_call() -> None:
        try:
            httpx.get("https://api.example.test/v1/models")
        except Exception as exc:
            raise SDKError("Connection error.") from exc

    with pytest.raises(CassetteMiss) as raised, use_cassette(tmp_path) as cassette:
        sdk_call()
    message = str(raised.value)
    assert message.startswith(f"no recording for GET /v1/models in cassette {tmp_path}\n")
    assert message.endswith(f"\n  the caller saw it as {__name__}.SDKError: Connection error.")
    assert isinstance(raised.value.__cause__, SDKError)
    assert raised.value.details is cassette.misses[0].details


def test_a_real_sdk_that_wraps_misses(tmp_path: Path) -> None:
    groq = pytest.importorskip("groq")  # its client turns any transport exception into APIConnectionError
    client = groq.Groq(api_key="gsk-test-fake", base_url="https://api.groq.test", max_retries=0)
    with pytest.raises(CassetteMiss) as raised, use_cassette(tmp_path):
        client.chat.completions.create(model="llama", messages=[{"role": "user", "content": "hi"}])
    assert str(raised.value).startswith(
        f"no recording for POST /openai/v1/chat/completions in cassette {tmp_path}"
    )
    assert str(raised.value).endswith("the caller saw it as groq.APIConnectionError: Connection error.")


def test_unused_recordings_are_listed(openai_server: LiveServer[OpenAIApp], tmp_path: Path) -> None:
    with use_cassette(tmp_path, mode="record"):
        httpx.get(f"{openai_server.base_url}/models")
        httpx.get(f"{openai_server.base_url}/models/gpt-4o")
    with use_cassette(tmp_path) as replay:
        httpx.get(f"{openai_server.base_url}/models")
    [unused] = replay.unused()
    assert unused.name.startswith("get-models-gpt-4o-")
    assert json.loads(unused.read_text())["request"]["url"].endswith("/v1/models/gpt-4o")


def test_use_cassette_passes_every_transport_option_through(tmp_path: Path) -> None:
    """A transport keyword given to use_cassette reaches the cassette (here: redaction and scope)."""
    import httpx_cassette

    with httpx_cassette.use_cassette(
        tmp_path, mode="replay", redact_json_paths=["user.email"], scope="tests/test_x.py::test_y"
    ) as session:
        assert session.cassette.scope == "tests/test_x.py::test_y"
        assert session.cassette.redaction.json_paths
