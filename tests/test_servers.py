"""The OpenAI test server (tests/servers) driven through the real OpenAI SDK over httpx, httpx2 and async.

Besides checking that the SDK parses what the server sends, raw bodies are validated against the SDK's
pydantic models with no unknown fields, so the wire format stays the real one.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

import httpx
import httpx2
import openai
import pydantic
import pytest
from openai.types import CreateEmbeddingResponse, Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionFunctionToolParam
from openai.types.responses import Response, ResponseStreamEvent

from tests.servers.openai_app import CREATED, OpenAIApp, create_app
from tests.servers.runner import LiveServer, openai_server_fixture

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

API_KEY = "sk-test-fake-key"
CHAT = "/v1/chat/completions"
WEATHER_TOOL: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer"},
                "metric": {"type": "boolean"},
            },
            "required": ["city", "days", "metric"],
        },
    },
}


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer[OpenAIApp]]:
    yield from openai_server_fixture()


@pytest.fixture(scope="module", params=["httpx", "httpx2"])
def client(request: pytest.FixtureRequest, server: LiveServer[OpenAIApp]) -> Iterator[openai.OpenAI]:
    # The SDK's annotations name httpx2 only; at run time it takes an httpx client as well.
    http_client: Any = httpx.Client() if request.param == "httpx" else httpx2.Client()
    with openai.OpenAI(
        base_url=server.base_url, api_key=API_KEY, http_client=http_client, max_retries=0
    ) as c:
        yield c


@pytest.fixture
async def aclient(server: LiveServer[OpenAIApp]) -> AsyncIterator[openai.AsyncOpenAI]:
    http_client: Any = httpx.AsyncClient()
    async with openai.AsyncOpenAI(
        base_url=server.base_url, api_key=API_KEY, http_client=http_client, max_retries=0
    ) as c:
        yield c


@pytest.fixture(scope="module")
def raw(server: LiveServer[OpenAIApp]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as c:
        yield c


def user(text: str) -> list[Any]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


def assert_exact(value: object, where: str = "$") -> None:
    """Every field the server sent is one the SDK's models know (no ``model_extra`` anywhere)."""
    if isinstance(value, pydantic.BaseModel):
        assert not value.model_extra, f"{where}: unknown fields {sorted(value.model_extra)}"
        for name in type(value).model_fields:
            assert_exact(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_exact(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_exact(item, f"{where}.{key}")


def sse_data(body: str) -> list[tuple[str | None, str]]:
    """(event, data) pairs of an SSE body."""
    out = []
    for block in body.split("\n\n"):
        if not block:
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        assert set(fields) <= {"event", "data"}, block
        out.append((fields.get("event"), fields["data"]))
    return out


# ------------------------------------------------------------------------------------- chat completions


def test_chat_non_streaming(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=user("hello world"))
    completion = raw.parse()
    assert completion.choices[0].message.content == "Echo: hello world"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.created == CREATED
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 3
    assert completion.usage.prompt_tokens == 4
    assert completion._request_id is not None
    assert completion._request_id.startswith("req_")
    assert raw.headers["content-type"] == "application/json"
    assert_exact(ChatCompletion.model_validate(raw.http_response.json()))


def test_chat_is_deterministic(client: openai.OpenAI) -> None:
    a = client.chat.completions.create(model="gpt-4o", messages=user("same"))
    b = client.chat.completions.create(model="gpt-4o", messages=user("same"))
    c = client.chat.completions.create(model="gpt-4o", messages=user("other"))
    assert a.model_dump() == b.model_dump()
    assert a._request_id == b._request_id
    assert a.id != c.id
    assert a._request_id != c._request_id


def test_chat_streaming(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=user("stream me please"),
        stream=True,
        stream_options={"include_usage": True},
    )
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    assert stream.response.headers["x-request-id"].startswith("req_")
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    contents = [c.choices[0].delta.content for c in chunks[1:-2]]
    assert contents == ["Echo:", " stream", " me", " please"]
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 4
    assert len({c.id for c in chunks}) == 1


@pytest.mark.parametrize("n_chunks", [20, 200, 2000])
def test_chat_stream_chunk_count(client: openai.OpenAI, n_chunks: int) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o", messages=user("count"), stream=True, metadata={"n_chunks": str(n_chunks)}
    )
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert len(pieces) == n_chunks
    whole = client.chat.completions.create(
        model="gpt-4o", messages=user("count"), metadata={"n_chunks": str(n_chunks)}
    )
    assert "".join(pieces) == whole.choices[0].message.content


def test_chat_knobs_from_headers(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o", messages=user("a b c d e f"), stream=True, extra_headers={"x-mock-n-chunks": "2"}
    )
    assert [c.choices[0].delta.content for c in stream][1:3] == ["Echo:", " a b c d e f"]


def test_chat_bad_knob_is_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="gpt-4o", messages=user("x"), metadata={"n_chunks": "many"})
    assert info.value.body == {
        "message": "Invalid value for knob 'n_chunks': 'many'.",
        "type": "invalid_request_error",
        "param": "n_chunks",
        "code": None,
    }


def test_chat_raw_wire_format(raw: httpx.Client) -> None:
    body = {
        "model": "gpt-4o",
        "messages": user("wire"),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    events = sse_data(raw.post(CHAT, json=body).text)
    assert events[-1] == (None, "[DONE]")
    for event, data in events[:-1]:
        assert event is None
        assert_exact(ChatCompletionChunk.model_validate(json.loads(data)))
    tool_body = {**body, "tools": [WEATHER_TOOL]}
    for _, data in sse_data(raw.post(CHAT, json=tool_body).text)[:-1]:
        assert_exact(ChatCompletionChunk.model_validate(json.loads(data)))
    del tool_body["stream"], tool_body["stream_options"]
    assert_exact(ChatCompletion.model_validate(raw.post(CHAT, json=tool_body).json()))


def test_chat_tools_streaming(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o", messages=user("Paris"), tools=[WEATHER_TOOL], stream=True
    )
    chunks = list(stream)
    first = chunks[0].choices[0].delta
    assert first.role == "assistant"
    assert first.tool_calls is not None
    assert first.tool_calls[0].id is not None
    assert first.tool_calls[0].id.startswith("call_")
    assert first.tool_calls[0].function is not None
    assert first.tool_calls[0].function.name == "get_weather"
    pieces = [
        c.choices[0].delta.tool_calls[0].function.arguments or ""
        for c in chunks[1:-1]
        if c.choices[0].delta.tool_calls and c.choices[0].delta.tool_calls[0].function
    ]
    assert len(pieces) > 3
    assert json.loads("".join(pieces)) == {"city": "Paris", "days": 1, "metric": True}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_chat_tools_stream_helper(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model="gpt-4o", messages=user("Oslo"), tools=[WEATHER_TOOL], metadata={"n_chunks": "5"}
    ) as stream:
        deltas = [e.arguments_delta for e in stream if e.type == "tool_calls.function.arguments.delta"]
        final = stream.get_final_completion()
    assert deltas[0] == ""  # the first chunk names the function, with empty arguments
    assert len(deltas[1:]) == 5
    assert all(deltas[1:])
    calls = final.choices[0].message.tool_calls
    assert calls is not None
    assert calls[0].type == "function"
    assert json.loads(calls[0].function.arguments) == {"city": "Oslo", "days": 1, "metric": True}


def test_chat_tools_non_streaming(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model="gpt-4o", messages=user("Rome"), tools=[WEATHER_TOOL])
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments)["city"] == "Rome"
    plain = client.chat.completions.create(
        model="gpt-4o", messages=user("Rome"), tools=[WEATHER_TOOL], tool_choice="none"
    )
    assert plain.choices[0].message.content == "Echo: Rome"


# ------------------------------------------------------------------------------------- other endpoints


def test_embeddings(client: openai.OpenAI) -> None:
    default = client.embeddings.with_raw_response.create(model="text-embedding-3-small", input=["a", "b"])
    assert isinstance(default.http_response.json()["data"][0]["embedding"], str)  # the SDK asked for base64
    decoded = default.parse()
    floats = client.embeddings.create(
        model="text-embedding-3-small", input=["a", "b"], encoding_format="float"
    )
    assert [e.embedding for e in decoded.data] == [e.embedding for e in floats.data]
    assert len(floats.data[0].embedding) == 8
    assert floats.data[0].embedding != floats.data[1].embedding
    assert floats.usage.prompt_tokens == 2
    sized = client.embeddings.create(model="text-embedding-3-small", input="a", dimensions=32)
    assert len(sized.data[0].embedding) == 32
    assert sized.data[0].embedding[:8] == floats.data[0].embedding
    assert_exact(CreateEmbeddingResponse.model_validate(floats.to_dict()))


def test_models(client: openai.OpenAI) -> None:
    page = client.models.list()
    assert "gpt-4o-mini" in [m.id for m in page.data]
    model = client.models.retrieve("gpt-4o-mini")
    assert model.created == CREATED
    assert_exact(Model.model_validate(model.to_dict()))
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("no-such-model")
    assert info.value.code == "model_not_found"


def test_responses_create(client: openai.OpenAI) -> None:
    raw = client.responses.with_raw_response.create(
        model="gpt-4o", input="hi there", instructions="Be brief."
    )
    response = raw.parse()
    assert response.output_text == "Echo: hi there"
    assert response.status == "completed"
    assert response.instructions == "Be brief."
    assert response.usage is not None
    assert response.usage.output_tokens == 3
    assert_exact(Response.model_validate(raw.http_response.json()))


def test_responses_create_stream(client: openai.OpenAI, raw: httpx.Client) -> None:
    stream = client.responses.create(model="gpt-4o", input=user("one two"), stream=True)
    events = list(stream)
    assert [e.type for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        *["response.output_text.delta"] * 3,
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert deltas == ["Echo:", " one", " two"]
    assert events[-1].type == "response.completed"
    assert events[-1].response.output_text == "Echo: one two"

    wire = sse_data(
        raw.post("/v1/responses", json={"model": "gpt-4o", "input": "one two", "stream": True}).text
    )
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseStreamEvent)
    for event, data in wire:
        parsed = adapter.validate_python(json.loads(data))
        assert parsed.type == event
        assert_exact(parsed)


def test_responses_stream_helper(client: openai.OpenAI) -> None:
    with client.responses.stream(model="gpt-4o", input="helper works", metadata={"n_chunks": "6"}) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert len(deltas) == 6
    assert final.output_text == "".join(deltas) == "Echo: helper works tok3 tok4 tok5"
    assert final.metadata == {"n_chunks": "6"}


# ------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "error_class", "code"),
    [
        (400, openai.BadRequestError, "invalid_value"),
        (401, openai.AuthenticationError, "invalid_api_key"),
        (403, openai.PermissionDeniedError, "unsupported_country_region_territory"),
        (404, openai.NotFoundError, "model_not_found"),
        (409, openai.ConflictError, "conflict"),
        (422, openai.UnprocessableEntityError, "unprocessable_entity"),
        (429, openai.RateLimitError, "rate_limit_exceeded"),
        (500, openai.InternalServerError, None),
        (503, openai.InternalServerError, None),
    ],
)
def test_errors(
    client: openai.OpenAI, status: int, error_class: type[openai.APIStatusError], code: str | None
) -> None:
    with pytest.raises(error_class) as info:
        client.chat.completions.create(model=f"error-{status}", messages=user("boom"))
    error = info.value
    assert error.status_code == status
    assert error.code == code
    assert isinstance(error.body, dict)
    assert set(error.body) == {"message", "type", "param", "code"}
    assert error.request_id is not None
    assert error.request_id.startswith("req_")
    if status == 429:
        assert error.response.headers["retry-after"] == "1"
    # streaming requests fail the same way, before any event
    with pytest.raises(error_class):
        client.chat.completions.create(model=f"error-{status}", messages=user("boom"), stream=True)


def test_errors_on_every_endpoint(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        client.embeddings.create(model="error-429", input="x")
    with pytest.raises(openai.InternalServerError):
        client.responses.create(model="error-500", input="x", stream=True)
    with pytest.raises(openai.AuthenticationError):
        client.models.retrieve("error-401")


def test_flaky_429_recovers_on_retry(client: openai.OpenAI, server: LiveServer[OpenAIApp]) -> None:
    stats = server.app.stats
    before = stats.requests_to(CHAT)
    tag = f"flaky via {type(client._client).__module__}"
    completion = client.with_options(max_retries=1).chat.completions.create(
        model="flaky-429", messages=user(tag)
    )
    assert completion.choices[0].message.content == f"Echo: {tag}"
    assert stats.requests_to(CHAT) == before + 2
    # the counter is per request body: a new body fails first, and a repeat of it then succeeds
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="flaky-429", messages=user(tag + "!"))
    assert info.value.response.headers["retry-after-ms"] == "10"
    assert client.chat.completions.create(model="flaky-429", messages=user(tag + "!")).choices


def test_unknown_route_is_openai_error(raw: httpx.Client) -> None:
    response = raw.post("/v1/nope", json={})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Invalid URL (POST /v1/nope)"
    assert response.headers["x-request-id"].startswith("req_")


# ------------------------------------------------------------------------------------- async


async def test_async_client(aclient: openai.AsyncOpenAI) -> None:
    completion = await aclient.chat.completions.create(model="gpt-4o", messages=user("async"))
    assert completion.choices[0].message.content == "Echo: async"
    stream = await aclient.chat.completions.create(
        model="gpt-4o", messages=user("async stream"), stream=True, metadata={"n_chunks": "200"}
    )
    pieces = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
    assert len(pieces) == 200
    embeddings = await aclient.embeddings.create(model="text-embedding-3-small", input="async")
    assert len(embeddings.data[0].embedding) == 8
    async with aclient.responses.stream(model="gpt-4o", input="async responses") as rstream:
        async for _ in rstream:
            pass
        final = await rstream.get_final_response()
    assert final.output_text == "Echo: async responses"
    with pytest.raises(openai.NotFoundError):
        await aclient.chat.completions.create(model="error-404", messages=user("x"))


# ------------------------------------------------------------------------------------- pacing and stats


def test_stream_is_paced(client: openai.OpenAI, server: LiveServer[OpenAIApp]) -> None:
    stats = server.app.stats
    delay = 0.040
    started = time.monotonic()
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=user(f"paced {id(client)}"),
        stream=True,
        metadata={"n_chunks": "5", "delay_ms": str(delay * 1000)},
    )
    request_id = stream.response.headers["x-request-id"]
    first = next(stream)
    at_first = stats.stream(request_id)  # read the moment the first chunk has reached the SDK
    assert first.choices[0].delta.role == "assistant"
    assert at_first is not None
    assert at_first.planned == 8  # role, 5 contents, finish, [DONE]
    assert at_first.sent < at_first.planned
    assert not at_first.finished
    rest = list(stream)
    elapsed = time.monotonic() - started
    assert len(rest) == 6
    final = stats.wait_for_stream_end()
    assert final.request_id == request_id
    assert (final.sent, final.finished, final.completed) == (8, True, True)
    assert elapsed >= 7 * delay * 0.95  # a pause before each event after the first


def test_stats_endpoint_during_stream(server: LiveServer[OpenAIApp], raw: httpx.Client) -> None:
    body = {"model": "gpt-4o", "messages": user("stats"), "stream": True, "metadata": {"delay_ms": "60"}}
    with raw.stream("POST", CHAT, json=body) as response:
        lines = (line for line in response.iter_lines() if line)
        assert next(lines).startswith("data: ")
        mid = raw.get("/_stats").json()  # on a second pooled connection
        assert mid["last_stream"]["request_id"] == response.headers["x-request-id"]
        assert mid["events_sent"] < mid["last_stream"]["planned"] == 5
        assert not mid["last_stream"]["finished"]
        rest = list(lines)
    assert rest[-1] == "data: [DONE]"
    done = raw.get("/_stats").json()["last_stream"]
    assert (done["sent"], done["completed"]) == (5, True)


def test_abort_after_drops_the_connection(
    client: openai.OpenAI, server: LiveServer[OpenAIApp], caplog: Any
) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o", messages=user("abort me now"), stream=True, metadata={"abort_after": "3"}
    )
    got: list[ChatCompletionChunk] = []
    with pytest.raises(openai.APIConnectionError):
        got.extend(stream)
    assert len(got) == 3
    last = server.app.stats.wait_for_stream_end()
    assert (last.sent, last.completed) == (3, False)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_truncate_after_ends_cleanly(client: openai.OpenAI, server: LiveServer[OpenAIApp]) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o", messages=user("cut me short"), stream=True, metadata={"truncate_after": "3"}
    )
    chunks = list(stream)
    assert len(chunks) == 3
    assert all(c.choices[0].finish_reason is None for c in chunks)
    last = server.app.stats.wait_for_stream_end()
    assert (last.sent, last.finished, last.completed) == (3, True, False)


# ------------------------------------------------------------------------------------- LiveServer


def test_stop_is_fast_with_open_connections_and_restart_keeps_url() -> None:
    app = create_app()
    server = LiveServer(app).start()
    url = server.url
    idle = httpx.Client(base_url=url)
    reader = httpx.Client(base_url=url)
    try:
        assert idle.get("/v1/models").status_code == 200  # leaves a keep-alive connection in the pool
        body = {"model": "gpt-4o", "messages": user("slow"), "stream": True}
        headers = {"x-mock-delay-ms": "100", "x-mock-n-chunks": "1000"}
        with reader.stream("POST", CHAT, json=body, headers=headers) as response:
            chunks = response.iter_raw()
            assert next(chunks).startswith(b"data: ")
            started = time.monotonic()
            server.stop()
            assert time.monotonic() - started < 1.0
            assert not server.running
            with pytest.raises(httpx.HTTPError):  # the half-read stream was cut
                for _ in chunks:
                    pass
        last = app.stats.last_stream
        assert last is not None
        assert last.finished
        assert not last.completed

        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/v1/models")

        server.start()  # same object, same port
        assert server.url == url
        assert idle.get("/v1/models").status_code == 200  # the pooled connection was dead; a new one is made
        with LiveServer(create_app()) as other:
            assert other.url != url
            assert httpx.get(other.base_url + "/models").status_code == 200
    finally:
        server.stop()
        idle.close()
        reader.close()
    server.stop()  # idempotent


# -- the tool_loop knob and the Gemini server -----------------------------------------------------------


def test_tool_loop_answers_a_tool_result_with_text_and_leaves_other_requests_alone() -> None:
    tools = [{"type": "function", "function": {"name": "shout", "parameters": {"type": "object"}}}]
    call = {"id": "call_1", "type": "function", "function": {"name": "shout", "arguments": "{}"}}
    ask = {"role": "user", "content": "hi"}
    result = [ask, {"role": "assistant", "content": None, "tool_calls": [call]}]
    result.append({"role": "tool", "tool_call_id": "call_1", "content": "HI"})
    with LiveServer(create_app()) as server, httpx.Client(base_url=server.base_url) as client:

        def finish(messages: list[Any], **headers: str) -> tuple[str, str | None]:
            body = {"model": "gpt-4o", "messages": messages, "tools": tools}
            choice = client.post("/chat/completions", json=body, headers=headers).json()["choices"][0]
            return choice["finish_reason"], choice["message"]["content"]

        assert finish([ask], **{"x-mock-tool-loop": "1"}) == ("tool_calls", None)
        assert finish(result, **{"x-mock-tool-loop": "1"}) == ("stop", "Echo: Tool said: HI")
        assert finish(result) == ("tool_calls", None)  # without the knob: a call every time, as before


def test_the_gemini_server_speaks_sse_with_crlf_and_refuses_callers_without_a_key() -> None:
    from tests.servers import gemini_app

    body = {"contents": [{"role": "user", "parts": [{"text": "Say hi"}]}]}
    path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    with LiveServer(gemini_app.create_app()) as server, httpx.Client(base_url=server.url) as client:
        streamed = client.post(path, json=body, headers={"x-goog-api-key": "k"})
        refused = client.post(path, json=body)
        whole = client.post("/v1/models/gemini-2.5-flash:generateContent?key=k", json=body).json()
    assert streamed.headers["content-type"] == "text/event-stream; charset=utf-8"
    events = streamed.text.split("\r\n\r\n")
    assert events[-1] == ""
    chunks = [json.loads(event.removeprefix("data: ")) for event in events[:-1]]
    assert [c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks] == ["Echo:", " Say", " hi"]
    assert [c["candidates"][0].get("finishReason") for c in chunks] == [None, None, "STOP"]
    assert whole["candidates"][0]["content"] == {"parts": [{"text": "Echo: Say hi"}], "role": "model"}
    assert whole["usageMetadata"]["totalTokenCount"] == 5
    assert refused.status_code == 403
    assert refused.json()["error"]["status"] == "PERMISSION_DENIED"
