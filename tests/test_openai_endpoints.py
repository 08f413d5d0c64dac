"""Every OpenAI endpoint a user calls, recorded from the real local server through the OpenAI SDK, replayed
with the server stopped, and compared with what the SDK parsed live: the Responses API (streamed, the
stream helper, plain), raw and streaming responses, embeddings, models and cursor pages, error statuses,
the SDK's own retry loop, mid-stream errors and transport failures. Binary and multipart endpoints live in
test_binary_multipart.py."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import openai
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpx_cassette import CassetteTransport
from tests.roundtrip_helpers import (
    API_KEY,
    dump,
    outcome,
    outcome_async,
    raised,
    record_then_replay,
    record_then_replay_async,
)
from tests.servers.openai_app import create_app

MESSAGES = [{"role": "user", "content": "tell me about cassettes"}]


def client(lib: ModuleType, transport: CassetteTransport, url: str, **options: Any) -> openai.OpenAI:
    options.setdefault("max_retries", 0)
    timeout = options.pop("timeout", 5.0)
    http = lib.Client(transport=transport, timeout=timeout)
    return openai.OpenAI(base_url=url + "/v1", api_key=API_KEY, http_client=http, **options)


def aclient(lib: ModuleType, transport: CassetteTransport, url: str, **options: Any) -> openai.AsyncOpenAI:
    options.setdefault("max_retries", 0)
    timeout = options.pop("timeout", 5.0)
    http = lib.AsyncClient(transport=transport, timeout=timeout)
    return openai.AsyncOpenAI(base_url=url + "/v1", api_key=API_KEY, http_client=http, **options)


# ------------------------------------------------------------------------------------ Responses API


def test_responses_stream_and_stream_helper_replay(tmp_path: Path, httpx_lib: ModuleType) -> None:
    def calls(transport: CassetteTransport, url: str) -> dict[str, Any]:
        c = client(httpx_lib, transport, url)
        events = dump(list(c.responses.create(model="gpt-4o", input="stream me", stream=True)))
        with c.responses.stream(model="gpt-4o", input="help me") as stream:
            helper_events = dump(list(stream))
            final = stream.get_final_response()
        return {"events": events, "helper": helper_events, "final": dump(final), "text": final.output_text}

    rt = record_then_replay(tmp_path, create_app(), calls)
    assert rt.live["text"] == "Echo: help me"
    assert [e["type"] for e in rt.live["events"]][-1] == "response.completed"
    assert rt.replayed == rt.live
    [helper_file, create_file] = sorted(rt.files(), key=lambda f: f["request"]["body"]["input"])
    stored = create_file["responses"][0]
    assert "done" not in stored, "the Responses API sends no [DONE]; replay must not add one"
    assert all(e["event"] == e["__data__"]["type"] for e in stored["body"])
    assert stored["body"][-1]["__type__"] == (
        "openai.types.responses.response_completed_event.ResponseCompletedEvent"
    )
    assert helper_file["request"]["body"]["stream"] is True


async def test_responses_stream_and_helper_replay_async(tmp_path: Path, httpx_lib: ModuleType) -> None:
    async def calls(transport: CassetteTransport, url: str) -> dict[str, Any]:
        c = aclient(httpx_lib, transport, url)
        events = dump([e async for e in await c.responses.create(model="gpt-4o", input="hi", stream=True)])
        async with c.responses.stream(model="gpt-4o", input="helper") as stream:
            helper_events = dump([e async for e in stream])
            final = await stream.get_final_response()
        return {"events": events, "helper": helper_events, "final": dump(final)}

    rt = await record_then_replay_async(tmp_path, create_app(), calls)
    assert rt.live["final"]["output"][0]["content"][0]["text"] == "Echo: helper"
    assert rt.replayed == rt.live


def test_stream_helper_without_completed_fails_the_same_on_replay(tmp_path: Path) -> None:
    """A stream cut before `response.completed` is replayed as cut: nothing is invented."""

    def call(transport: CassetteTransport, url: str) -> Any:
        with client(httpx, transport, url).responses.stream(
            model="gpt-4o", input="cut short", metadata={"truncate_after": "5"}
        ) as stream:
            seen = [e.type for e in stream]
            return seen, outcome(stream.get_final_response)

    rt = record_then_replay(tmp_path, create_app(), call)
    seen, final = rt.live
    assert len(seen) == 5
    assert final["str"] == "Didn't receive a `response.completed` event."
    assert rt.replayed == rt.live


def test_responses_and_chat_raw_and_streaming_responses(tmp_path: Path, httpx_lib: ModuleType) -> None:
    """`with_raw_response` / `with_streaming_response`: headers and request ids come back as recorded."""

    def calls(transport: CassetteTransport, url: str) -> dict[str, Any]:
        c = client(httpx_lib, transport, url)
        raw = c.responses.with_raw_response.create(model="gpt-4o", input="raw please")
        parsed = raw.parse()
        with c.chat.completions.with_streaming_response.create(model="gpt-4o", messages=MESSAGES) as resp:
            completion = resp.parse()
            chat_ids = (resp.request_id, completion._request_id, resp.headers["openai-processing-ms"])
        with c.chat.completions.with_streaming_response.create(
            model="gpt-4o", messages=MESSAGES, stream=True
        ) as resp:
            lines = list(resp.iter_lines())
        return {
            "response": (dump(parsed), raw.request_id, parsed._request_id, raw.status_code),
            "chat": (dump(completion), *chat_ids),
            "stream_lines": lines,
        }

    rt = record_then_replay(tmp_path, create_app(), calls)
    _, request_id, parsed_id, status = rt.live["response"]
    assert request_id is not None
    assert request_id.startswith("req_")
    assert parsed_id == request_id
    assert status == 200
    assert [line for line in rt.live["stream_lines"] if line][-1] == "data: [DONE]"
    assert rt.replayed == rt.live


async def test_raw_response_async(tmp_path: Path) -> None:
    async def call(transport: CassetteTransport, url: str) -> Any:
        raw = await aclient(httpx, transport, url).responses.with_raw_response.create(
            model="gpt-4o", input="x"
        )
        return dump(raw.parse()), raw.request_id, dict(raw.headers)["openai-version"]

    rt = await record_then_replay_async(tmp_path, create_app(), call)
    assert rt.live[1].startswith("req_")
    assert rt.replayed == rt.live


# ------------------------------------------------------------------------------- embeddings, models


def test_embeddings_are_stored_exactly_as_the_sdk_sent_them(tmp_path: Path, httpx_lib: ModuleType) -> None:
    def call(transport: CassetteTransport, url: str) -> Any:
        c = client(httpx_lib, transport, url)
        default = c.embeddings.create(model="text-embedding-3-small", input=["one", "two"])
        floats = c.embeddings.create(
            model="text-embedding-3-small", input=["one", "two"], encoding_format="float"
        )
        return dump(default), dump(floats)

    rt = record_then_replay(tmp_path, create_app(), call)
    default, floats = rt.live
    assert default["data"] == floats["data"]
    assert len(default["data"][0]["embedding"]) == 8
    assert rt.replayed == rt.live
    by_format = {f["request"]["body"]["encoding_format"]: f for f in rt.files()}
    assert sorted(by_format) == ["base64", "float"]  # the SDK's silent base64 is kept, and keyed apart
    assert isinstance(by_format["base64"]["responses"][0]["body"]["data"][0]["embedding"], str)


async def test_embeddings_async(tmp_path: Path) -> None:
    async def call(transport: CassetteTransport, url: str) -> Any:
        return dump(
            await aclient(httpx, transport, url).embeddings.create(model="text-embedding-3-large", input="a")
        )

    rt = await record_then_replay_async(tmp_path, create_app(), call)
    assert len(rt.live["data"][0]["embedding"]) == 8  # a real result: the helper fails if both raise
    assert (len(rt.recorder.cassette.recorded), len(rt.replayer.cassette.played)) == (1, 1)
    assert rt.replayed == rt.live


def test_models_list_retrieve_and_missing(tmp_path: Path, httpx_lib: ModuleType) -> None:
    def call(transport: CassetteTransport, url: str) -> Any:
        c = client(httpx_lib, transport, url)
        return (
            [m.id for m in c.models.list()],
            dump(c.models.retrieve("gpt-4o")),
            outcome(lambda: c.models.retrieve("gpt-9")),
        )

    rt = record_then_replay(tmp_path, create_app(), call)
    ids, model, missing = rt.live
    assert ids[0] == "gpt-4o"
    assert model["owned_by"] == "system"
    assert missing["raised"] == "openai.NotFoundError"
    assert rt.replayed == rt.live


def test_cursor_pages_are_distinct_requests(tmp_path: Path, httpx_lib: ModuleType) -> None:
    def call(transport: CassetteTransport, url: str) -> Any:
        c = client(httpx_lib, transport, url)
        for i in range(5):
            c.files.create(file=(f"batch-{i}.jsonl", f'{{"n": {i}}}\n'.encode()), purpose="batch")
        return [f.id for f in c.files.list(limit=2)]

    rt = record_then_replay(tmp_path, create_app(), call)
    assert len(rt.live) == 5
    assert len(set(rt.live)) == 5
    assert rt.replayed == rt.live
    pages = sorted(
        f["request"]["url"].split("?", 1)[1] for f in rt.files() if f["request"]["method"] == "GET"
    )
    assert pages == sorted(["limit=2", f"limit=2&after={rt.live[1]}", f"limit=2&after={rt.live[3]}"])


# ------------------------------------------------------------------------------------------- errors

ERROR_CLASSES = {
    400: "openai.BadRequestError",
    401: "openai.AuthenticationError",
    404: "openai.NotFoundError",
    429: "openai.RateLimitError",
    500: "openai.InternalServerError",
}


@pytest.mark.parametrize("status", sorted(ERROR_CLASSES))
def test_error_statuses_raise_the_same_sdk_error(tmp_path: Path, httpx_lib: ModuleType, status: int) -> None:
    def call(transport: CassetteTransport, url: str) -> Any:
        c = client(httpx_lib, transport, url)
        return outcome(lambda: c.chat.completions.create(model=f"error-{status}", messages=MESSAGES))

    rt = record_then_replay(tmp_path, create_app(), call)
    assert len(rt.replayer.cassette.played) == 1  # the replayed error came from the recording
    assert rt.live["raised"] == ERROR_CLASSES[status]
    assert rt.live["status_code"] == status
    assert rt.live["request_id"].startswith("req_")
    assert rt.live["body"]["message"]
    assert rt.replayed == rt.live


async def test_error_statuses_async(tmp_path: Path) -> None:
    async def call(transport: CassetteTransport, url: str) -> Any:
        c = aclient(httpx, transport, url)
        return [
            await outcome_async(lambda s=status: c.responses.create(model=f"error-{s}", input="x"))
            for status in sorted(ERROR_CLASSES)
        ]

    rt = await record_then_replay_async(tmp_path, create_app(), call)
    assert [r["raised"] for r in rt.live] == [ERROR_CLASSES[s] for s in sorted(ERROR_CLASSES)]
    assert rt.replayed == rt.live


class Sleeps(list[float]):
    """Stands in for the SDK's sleep: records what it was asked to wait, waits nothing."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.append(seconds)


def test_429_then_200_replays_through_the_sdk_retry_loop(
    tmp_path: Path, httpx_lib: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps = Sleeps()

    def call(transport: CassetteTransport, url: str) -> Any:
        if transport.cassette.mode == "replay":
            monkeypatch.setattr("openai._base_client.time.sleep", sleeps)
        raw = client(httpx_lib, transport, url, max_retries=2).chat.completions.with_raw_response.create(
            model="flaky-429", messages=MESSAGES
        )
        return dump(raw.parse()), raw.retries_taken, raw.request_id

    rt = record_then_replay(tmp_path, create_app(), call)
    assert rt.live[1] == 1
    assert rt.replayed == rt.live
    [recorded] = rt.files()
    assert [r["status"] for r in recorded["responses"]] == [429, 200]
    assert recorded["responses"][0]["headers"]["retry-after-ms"] == "10"  # stored as the server sent it
    assert sleeps == [pytest.approx(1e-6)]  # replay told the SDK to wait a microsecond
    assert [index for _, index in rt.replayer.cassette.played] == [0, 1]


async def test_429_then_200_async(
    tmp_path: Path, httpx_lib: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    sleeps = Sleeps()

    async def call(transport: CassetteTransport, url: str) -> Any:
        if transport.cassette.mode == "replay":
            monkeypatch.setattr("openai._base_client.anyio.sleep", sleeps.asleep)
        c = aclient(httpx_lib, transport, url, max_retries=3)
        return dump(await c.responses.create(model="flaky-429", input="retry", metadata={"fail_times": "2"}))

    rt = await record_then_replay_async(tmp_path, create_app(), call)
    assert rt.live["status"] == "completed"
    assert rt.replayed == rt.live
    assert sleeps == [pytest.approx(1e-6)] * 2


def test_mid_stream_error_replays_as_the_same_api_error(tmp_path: Path, httpx_lib: ModuleType) -> None:
    def call(transport: CassetteTransport, url: str) -> Any:
        stream = client(httpx_lib, transport, url).chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True, metadata={"error_after": "2"}
        )
        got: list[Any] = []
        try:
            for chunk in stream:
                got.append(dump(chunk))
        except openai.APIError as exc:
            return got, raised(exc)
        return got, None

    rt = record_then_replay(tmp_path, create_app(), call)
    chunks, error = rt.live
    assert len(chunks) == 2
    assert error["raised"] == "openai.APIError"
    assert error["body"]["code"] == "stream_error"
    assert rt.replayed == rt.live
    [stored] = rt.files()
    assert stored["responses"][0]["body"][-1]["__data__"]["error"]["type"] == "server_error"


async def test_mid_stream_error_event_in_responses_api_async(tmp_path: Path) -> None:
    async def call(transport: CassetteTransport, url: str) -> Any:
        c = aclient(httpx, transport, url)
        stream = await c.responses.create(
            model="gpt-4o", input="x", stream=True, metadata={"error_after": "3"}
        )
        return dump([e async for e in stream])

    rt = await record_then_replay_async(tmp_path, create_app(), call)
    assert [e["type"] for e in rt.live] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "error",
    ]
    assert rt.replayed == rt.live


# ------------------------------------------------------------------------------- transport failures


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def collect_stream(c: openai.OpenAI, metadata: dict[str, str]) -> Any:
    got: list[Any] = []
    try:
        for chunk in c.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, stream=True, metadata=metadata
        ):
            got.append(dump(chunk))
    except openai.APIConnectionError as exc:
        return got, raised(exc)
    return got, None


def test_connection_refused_is_replayed(tmp_path: Path, httpx_lib: ModuleType) -> None:
    url = closed_port_url()

    def call(transport: CassetteTransport) -> Any:
        return outcome(
            lambda: client(httpx_lib, transport, url).chat.completions.create(model="m", messages=MESSAGES)
        )

    live = call(CassetteTransport(tmp_path, mode="record"))
    assert live["raised"] == "openai.APIConnectionError"
    assert live["cause"].startswith(f"{httpx_lib.__name__}.ConnectError: ")
    assert call(CassetteTransport(tmp_path, mode="replay")) == live


@pytest.mark.parametrize(
    ("metadata", "timeout", "error", "cause"),
    [
        pytest.param(
            {"n_chunks": "4", "delay_ms": "1500"},  # the first event at once, the next after the timeout
            0.3,
            "openai.APITimeoutError",
            "ReadTimeout",
            id="read-timeout",
        ),
        pytest.param(
            {"n_chunks": "6", "abort_after": "3"},
            5.0,
            "openai.APIConnectionError",
            "RemoteProtocolError",
            id="cut",
        ),
    ],
)
def test_stream_failures_are_replayed(
    tmp_path: Path, httpx_lib: ModuleType, metadata: dict[str, str], timeout: float, error: str, cause: str
) -> None:
    def call(transport: CassetteTransport, url: str) -> Any:
        return collect_stream(client(httpx_lib, transport, url, timeout=timeout), metadata)

    rt = record_then_replay(tmp_path, create_app(), call)
    chunks, failure = rt.live
    assert chunks, "the events before the failure reached the caller"
    assert failure["raised"] == error
    assert failure["cause"].startswith(f"{httpx_lib.__name__}.{cause}: ")
    assert rt.replayed == rt.live


async def test_failures_are_replayed_async(tmp_path: Path, httpx_lib: ModuleType) -> None:
    refused = closed_port_url()

    async def call(transport: CassetteTransport, url: str) -> Any:
        async def cut() -> list[Any]:
            c = aclient(httpx_lib, transport, url)
            stream = await c.responses.create(
                model="gpt-4o", input="x", stream=True, metadata={"abort_after": "4"}
            )
            return [e.type async for e in stream]

        async def slow() -> Any:
            c = aclient(httpx_lib, transport, url, timeout=0.1)
            return await c.chat.completions.create(
                model="gpt-4o", messages=MESSAGES, metadata={"delay_ms": "400"}
            )

        async def nobody() -> Any:
            return await aclient(httpx_lib, transport, refused).models.list()

        return [await outcome_async(f) for f in (cut, slow, nobody)]

    rt = await record_then_replay_async(tmp_path, create_app(), call)
    assert [r["raised"] for r in rt.live] == [
        "openai.APIConnectionError",
        "openai.APITimeoutError",
        "openai.APIConnectionError",
    ]
    assert [r["cause"].split(":")[0] for r in rt.live] == [
        f"{httpx_lib.__name__}.RemoteProtocolError",
        f"{httpx_lib.__name__}.ReadTimeout",
        f"{httpx_lib.__name__}.ConnectError",
    ]
    assert rt.replayed == rt.live


# ----------------------------------------------------------------------- property: Responses streams


def _sse(event: dict[str, Any], named: bool, newline: str) -> str:
    import json

    data = json.dumps(event, ensure_ascii=False)
    return (f"event: {event['type']}{newline}" if named else "") + f"data: {data}{newline}{newline}"


@st.composite
def responses_streams(draw: st.DrawFn) -> tuple[list[bytes], int]:
    """A valid Responses event sequence with random texts, cut at a random point, in random chunks."""
    texts = draw(st.lists(st.lists(st.text(max_size=12), max_size=4), min_size=1, max_size=2))
    base = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "gpt-4o",
        "output": [],
        "tools": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
    }
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": {**base, "status": "in_progress"}},
    ]
    items = []
    for n, pieces in enumerate(texts):
        item = {
            "id": f"msg_{n}",
            "type": "message",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        where = {"item_id": item["id"], "output_index": n, "content_index": 0}
        text = "".join(pieces)
        part = {"type": "output_text", "text": text, "annotations": []}
        events.append({"type": "response.output_item.added", "output_index": n, "item": item})
        events.append({"type": "response.content_part.added", **where, "part": {**part, "text": ""}})
        events += [
            {"type": "response.output_text.delta", **where, "delta": p, "logprobs": []} for p in pieces
        ]
        events.append({"type": "response.output_text.done", **where, "text": text, "logprobs": []})
        events.append({"type": "response.content_part.done", **where, "part": part})
        done = {**item, "status": "completed", "content": [part]}
        events.append({"type": "response.output_item.done", "output_index": n, "item": done})
        items.append(done)
    events.append(
        {"type": "response.completed", "response": {**base, "status": "completed", "output": items}}
    )
    events = [{**e, "sequence_number": i} for i, e in enumerate(events)]
    keep = draw(st.integers(min_value=1, max_value=len(events)))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    named = draw(st.booleans())
    wire = "".join(_sse(e, named, newline) for e in events[:keep]).encode()
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=max(1, len(wire) - 1)), max_size=6)))
    chunks = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True) if wire[a:b]]
    return chunks, keep


def _stream_upstream(chunks: list[bytes]) -> httpx.MockTransport:
    class Chunks(httpx.SyncByteStream):
        def __iter__(self) -> Any:
            yield from chunks

    return httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=Chunks())
    )


def _parse_both_ways(transport: CassetteTransport) -> Any:
    c = openai.OpenAI(
        base_url="https://api.openai.com/v1",
        api_key=API_KEY,
        http_client=httpx.Client(transport=transport),
        max_retries=0,
    )
    events = outcome(lambda: dump(list(c.responses.create(model="gpt-4o", input="p", stream=True))))

    def helper() -> Any:
        with c.responses.stream(model="gpt-4o", input="p") as stream:
            return dump(list(stream)), dump(stream.get_final_response())

    return events, outcome(helper)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(responses_streams())
def test_property_random_responses_streams_replay_as_parsed_live(stream: tuple[list[bytes], int]) -> None:
    chunks, keep = stream
    with tempfile.TemporaryDirectory() as directory:
        live = _parse_both_ways(CassetteTransport(directory, mode="record", inner=_stream_upstream(chunks)))
        replayed = _parse_both_ways(CassetteTransport(directory, mode="replay"))
    assert replayed == live
    events, _ = live
    assert len(events) == keep
