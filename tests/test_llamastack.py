"""llama-stack recording directories replay through the OpenAI SDK as they are, and cassettes recorded
with ``format="llama-stack"`` are files llama-stack's recorder reads; conversion both ways is lossless.

The fixtures in ``tests/fixtures/llamastack`` are written by ``generate.py`` there (llama-stack's file
shape, invented data); ``../shared/seeds`` holds real recordings when it is present.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import openai
import pytest

from httpx_cassette import CassetteError, CassetteMiss, CassetteTransport
from httpx_cassette.cli import main as cli_main
from httpx_cassette.cli.console import Console
from httpx_cassette.formats.llamastack import convert_directory, recording_name
from tests.servers.openai_app import OpenAIApp
from tests.servers.runner import LiveServer

FIXTURES = Path(__file__).parent / "fixtures" / "llamastack"
TEST = "tests/integration/inference/test_fixtures.py::"
SHARED_A, SHARED_B = TEST + "test_shared[a]", TEST + "test_shared[b]"
# What the SDK method is for each endpoint llama-stack records.
METHODS = {
    "/v1/chat/completions": "chat.completions.create",
    "/v1/completions": "completions.create",
    "/v1/embeddings": "embeddings.create",
    "/v1/models": "models.list",
}


def recordings(folder: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for file in sorted(folder.glob("*.json")):
        raw = json.loads(file.read_text())
        if "url" in raw["request"]:  # not the tool-call recording
            yield file, raw


def fixture(test: str) -> dict[str, Any]:
    return next(raw for _, raw in recordings(FIXTURES) if raw["test_id"] == TEST + test)


def client_for(lib: ModuleType, transport: CassetteTransport, *, is_async: bool, base_url: str = "") -> Any:
    http_client = lib.AsyncClient(transport=transport) if is_async else lib.Client(transport=transport)
    cls = openai.AsyncOpenAI if is_async else openai.OpenAI
    return cls(base_url=base_url or "http://anything/v1", api_key="x", http_client=http_client)


def method_of(client: Any, endpoint: str) -> Any:
    target = client
    for name in METHODS[endpoint].split("."):
        target = getattr(target, name)
    return target


async def call(client: Any, endpoint: str, kwargs: dict[str, Any], *, is_async: bool) -> Any:
    """The parsed result of the SDK call: an object, or the list of objects of a stream or page."""
    result = method_of(client, endpoint)(**kwargs)
    if endpoint == "/v1/models":  # a page
        return [model async for model in result] if is_async else list(result)
    if not is_async:
        return result if hasattr(result, "model_dump") else list(result)
    result = await result
    return result if hasattr(result, "model_dump") else [item async for item in result]


def stored_data(raw: dict[str, Any]) -> Any:
    body = raw["response"]["body"]
    return [item["__data__"] for item in body] if isinstance(body, list) else body["__data__"]


def dumped(result: Any) -> Any:
    return (
        [item.model_dump(mode="json") for item in result]
        if isinstance(result, list)
        else result.model_dump(mode="json")
    )


SHAPES = {  # fixture test -> what its response is
    "test_chat_stream[txt=vllm/llama-3.1-8b]": "chat chunk list",
    "test_chat_completion[txt=azure/gpt-4o-mini]": "ChatCompletion",
    "test_completion[txt=openai/gpt-3.5-turbo-instruct]": "Completion",
    "test_embeddings[emb=ollama/all-minilm]": "CreateEmbeddingResponse",
    "test_models[txt=openai/gpt-4o-mini]": "list of Model objects",
    "test_completion_stream[txt=openai/gpt-3.5-turbo-instruct]": "Completion chunk list",
}


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("test", list(SHAPES), ids=list(SHAPES.values()))
async def test_every_shape_replays_as_stored(httpx_lib: ModuleType, is_async: bool, test: str) -> None:
    raw = fixture(test)
    transport = CassetteTransport(FIXTURES, mode="replay")
    client = client_for(httpx_lib, transport, is_async=is_async)
    result = await call(client, raw["request"]["endpoint"], raw["request"]["body"], is_async=is_async)
    assert dumped(result) == stored_data(raw)
    assert len(transport.cassette.played) == 1


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_recorded_exception_raises_the_same_sdk_error(httpx_lib: ModuleType, is_async: bool) -> None:
    raw = fixture("test_unknown_model[txt=openai/gpt-5-nonexistent]")
    recorded = raw["response"]["exception_data"]
    client = client_for(httpx_lib, CassetteTransport(FIXTURES, mode="replay"), is_async=is_async)
    with pytest.raises(openai.NotFoundError) as caught:
        await call(client, "/v1/chat/completions", raw["request"]["body"], is_async=is_async)
    assert (caught.value.status_code, caught.value.body) == (404, recorded["body"])
    # The text is the SDK's own (its wording changed between versions); it names the recorded error.
    assert recorded["body"]["message"] in str(caught.value)


def test_the_stored_request_is_bridged_to_what_the_sdk_sends(httpx_lib: ModuleType) -> None:
    """Doubled /v1/v1 path, POST-stored model lists, nested extra_body, the embeddings default, hosts."""
    transport = CassetteTransport(FIXTURES, mode="replay")
    client = client_for(httpx_lib, transport, is_async=False)
    stream = fixture("test_chat_stream[txt=vllm/llama-3.1-8b]")
    assert "extra_body" in stream["request"]["body"]
    assert stream["request"]["url"] == "http://localhost:8000/v1/v1/chat/completions"
    sent = client.chat.completions.with_raw_response.create(**stream["request"]["body"])
    assert json.loads(sent.http_request.content)["guided_choice"] == ["Yes", "No"]  # merged on the wire
    models = fixture("test_models[txt=openai/gpt-4o-mini]")["request"]
    assert models["method"] == "POST"
    assert client.models.with_raw_response.list().http_request.method == "GET"
    embeddings = fixture("test_embeddings[emb=ollama/all-minilm]")["request"]
    assert "encoding_format" not in embeddings["body"]
    sent = client.embeddings.with_raw_response.create(**embeddings["body"])
    assert json.loads(sent.http_request.content)["encoding_format"] == "base64"
    assert len(transport.cassette.played) == 3


def test_a_chunk_list_is_served_as_a_data_only_sse_stream_ending_with_done(httpx_lib: ModuleType) -> None:
    raw = fixture("test_chat_stream[txt=vllm/llama-3.1-8b]")
    body = {k: v for k, v in raw["request"]["body"].items() if k != "extra_body"} | {
        "guided_choice": ["Yes", "No"]
    }
    with httpx_lib.Client(transport=CassetteTransport(FIXTURES, mode="replay")) as client:
        response = client.post("http://anything/v1/chat/completions", json=body)
    assert response.headers["content-type"] == "text/event-stream"
    events = response.text.split("\n\n")
    assert events == [
        *(f"data: {json.dumps(d, separators=(',', ':'))}" for d in stored_data(raw)),
        "data: [DONE]",
        "",
    ]


def test_ids_and_timestamps_replay_exactly_as_stored(httpx_lib: ModuleType) -> None:
    raw = fixture("test_chat_completion[txt=azure/gpt-4o-mini]")
    client = client_for(httpx_lib, CassetteTransport(FIXTURES, mode="replay"), is_async=False)
    completion = client.chat.completions.create(**raw["request"]["body"])
    assert (completion.id, completion.created) == (raw["response"]["body"]["__data__"]["id"], 0)
    assert completion.id.startswith("rec-")


def ping(client: Any) -> str:
    completion = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "ping"}]
    )
    return str(completion.choices[0].message.content)


def test_recordings_of_one_request_replay_in_file_name_order_without_a_scope(httpx_lib: ModuleType) -> None:
    shared = [raw for _, raw in recordings(FIXTURES) if raw["test_id"] in (SHARED_A, SHARED_B)]
    answers = [raw["response"]["body"]["__data__"]["choices"][0]["message"]["content"] for raw in shared]
    assert sorted(answers) == ["pong from a", "pong from b"]
    client = client_for(httpx_lib, CassetteTransport(FIXTURES, mode="replay"), is_async=False)
    assert [ping(client), ping(client), ping(client)] == [*answers, answers[-1]]  # then the last repeats


@pytest.mark.parametrize("scope", [SHARED_A, SHARED_B])
def test_a_scope_replays_only_that_tests_recordings(httpx_lib: ModuleType, scope: str) -> None:
    client = client_for(httpx_lib, CassetteTransport(FIXTURES, mode="replay", scope=scope), is_async=False)
    expected = "pong from " + scope[-2]
    assert [ping(client), ping(client)] == [expected, expected]


def test_one_tests_recording_in_our_format_beside_another_tests_llama_stack_file_is_no_clash(
    httpx_lib: ModuleType, tmp_path: Path
) -> None:
    # A file of ours and a llama-stack file of one request are refused only when some test would replay
    # both (a copy added beside a reviewed file would decide what replays); per test, they never meet.
    shutil.copytree(FIXTURES, tmp_path, dirs_exist_ok=True)
    answer = {"id": "x", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini"}
    choice = {"index": 0, "message": {"role": "assistant", "content": "new pong"}, "finish_reason": "stop"}
    upstream = httpx_lib.MockTransport(
        lambda _: httpx_lib.Response(200, json={**answer, "choices": [choice]})
    )
    recorder = CassetteTransport(tmp_path, mode="record", scope=SHARED_A, inner=upstream)
    assert ping(client_for(httpx_lib, recorder, is_async=False)) == "new pong"
    assert list(tmp_path.glob("post-chat-completions-*.json"))  # written in our format
    for scope, expected in ((SHARED_A, "new pong"), (None, "new pong")):
        replayer = CassetteTransport(tmp_path, mode="replay", scope=scope)
        assert ping(client_for(httpx_lib, replayer, is_async=False)) == expected
    status = cli_main(["verify", str(tmp_path)], console=Console(out=io.StringIO(), err=io.StringIO()))
    assert status == 0


def test_a_scope_with_no_recording_of_the_request_says_whose_there_are(httpx_lib: ModuleType) -> None:
    transport = CassetteTransport(FIXTURES, mode="replay", scope=TEST + "test_other")
    with pytest.raises(CassetteMiss) as caught:
        ping(client_for(httpx_lib, transport, is_async=False))
    assert str(caught.value).startswith(
        f"no recording in scope '{TEST}test_other' (only for other tests: {SHARED_A}, {SHARED_B})"
        f" for POST /v1/chat/completions in cassette {FIXTURES}"
    )


def test_the_directory_is_read_once_then_every_request_is_served_from_memory(parsed_files: list[str]) -> None:
    parsed = parsed_files
    import httpx

    client = client_for(httpx, CassetteTransport(FIXTURES, mode="replay"), is_async=False)
    ping(client)
    files = sorted(file.name for file in FIXTURES.glob("*.json"))
    assert sorted(parsed) == files  # the tool-call recording too: read, then skipped
    for _ in range(5):
        ping(client)
        list(client.models.list())
    assert len(parsed) == len(files)


def test_fixture_names_are_the_hashes_llama_stack_looks_up() -> None:
    found = [(file.name, recording_name(raw)) for file, raw in recordings(FIXTURES)]
    assert len(found) == 9
    assert [name for name, _ in found] == [expected for _, expected in found]


def test_conversion_to_ours_and_back_gives_the_same_files(tmp_path: Path) -> None:
    ours, back = tmp_path / "ours", tmp_path / "back"
    written = convert_directory(FIXTURES, ours, to="ours")
    assert len(written) == 8  # one file per distinct request: the two shared recordings are one
    assert all(json.loads(file.read_bytes())["responses"] for file in written)
    again = convert_directory(ours, back, to="llama-stack")
    originals = {file.name: file.read_bytes() for file, _ in recordings(FIXTURES)}
    assert sorted(file.name for file in again) == sorted(originals)
    assert {file.name: file.read_bytes() for file in back.iterdir()} == originals


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_a_converted_directory_replays_like_the_original(
    tmp_path: Path, httpx_lib: ModuleType, is_async: bool
) -> None:
    convert_directory(FIXTURES, tmp_path, to="ours")
    for test in SHAPES:
        raw = fixture(test)
        client = client_for(httpx_lib, CassetteTransport(tmp_path, mode="replay"), is_async=is_async)
        result = await call(client, raw["request"]["endpoint"], raw["request"]["body"], is_async=is_async)
        assert dumped(result) == stored_data(raw)


def test_convert_refuses_to_write_into_its_source(tmp_path: Path) -> None:
    with pytest.raises(CassetteError) as caught:
        convert_directory(FIXTURES, FIXTURES, to="ours")
    assert str(caught.value) == f"cannot convert {FIXTURES} into itself: name another directory to write to"
    with pytest.raises(CassetteError) as caught:
        convert_directory(tmp_path / "missing", tmp_path / "out", to="ours")
    assert str(caught.value) == f"cannot convert {tmp_path / 'missing'}: it is not a directory of recordings"


def write_recording(folder: Path, response: dict[str, Any], body: dict[str, Any]) -> None:
    recording = {
        "test_id": TEST + "test_failure",
        "request": {
            "method": "POST",
            "url": "https://api.openai.com/v1/v1/chat/completions",
            "headers": {},
            "body": body,
            "endpoint": "/v1/chat/completions",
            "model": body["model"],
        },
        "response": response,
        "id_normalization_mapping": {},
    }
    folder.mkdir(exist_ok=True)
    (folder / recording_name(recording)).write_text(json.dumps(recording, indent=2) + "\n")


def test_an_exception_without_a_status_is_a_connection_error_even_after_chunks(
    tmp_path: Path, httpx_lib: ModuleType
) -> None:
    chunk = fixture("test_chat_stream[txt=vllm/llama-3.1-8b]")["response"]["body"][1]
    failure = {"category": "unknown", "type": "RemoteProtocolError", "message": "peer closed connection"}
    stream = {"model": "m", "messages": [{"role": "user", "content": "a"}], "stream": True}
    write_recording(
        tmp_path,
        {
            "body": [chunk],
            "is_streaming": True,
            "is_exception": True,
            "exception_data": failure,
            "exception_message": "peer closed connection",
        },
        stream,
    )
    plain = {"model": "m", "messages": [{"role": "user", "content": "b"}]}
    write_recording(
        tmp_path,
        {
            "body": None,
            "is_streaming": False,
            "is_exception": True,
            "exception_data": failure,
            "exception_message": "peer closed connection",
        },
        plain,
    )
    client = client_for(httpx_lib, CassetteTransport(tmp_path, mode="replay"), is_async=False)
    got = []
    with pytest.raises(openai.APIConnectionError):
        got.extend(chunk.model_dump(mode="json") for chunk in client.chat.completions.create(**stream))
    assert got == [chunk["__data__"]]
    with pytest.raises(openai.APIConnectionError) as caught:
        client.with_options(max_retries=0).chat.completions.create(**plain)
    assert type(caught.value.__cause__).__name__ == "RemoteProtocolError"


# -- recording llama-stack files ---------------------------------------------------------------------


def calls(client: Any) -> dict[str, Any]:
    """One call of each kind llama-stack records, plus a retried 429, an error and a Responses stream."""
    outcome: dict[str, Any] = {}
    messages = [{"role": "user", "content": "tell me about cassettes"}]
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    outcome["chunks"] = dumped(list(stream))
    outcome["completion"] = dumped(client.chat.completions.create(model="gpt-4o-mini", messages=messages))
    outcome["embeddings"] = dumped(client.embeddings.create(model="text-embedding-3-small", input=["a", "b"]))
    outcome["models"] = dumped(list(client.models.list()))
    outcome["after 429"] = dumped(client.chat.completions.create(model="flaky-429", messages=messages))
    try:
        client.with_options(max_retries=0).chat.completions.create(model="error-404", messages=messages)
    except openai.NotFoundError as exc:
        outcome["404"] = (type(exc).__name__, exc.status_code, exc.body, str(exc))
    events = client.responses.create(model="gpt-4o-mini", input="hello", stream=True)
    outcome["responses stream"] = dumped(list(events))
    return outcome


def llama_stack_lookup(base_url: str, endpoint: str, kwargs: dict[str, Any], test_id: str | None) -> str:
    """The hash llama-stack's recorder looks a recording up by: its SDK base URL plus the endpoint, the
    SDK call's keyword arguments and the test id (none for a models list at /v1/models)."""
    path = (base_url.rstrip("/") + endpoint).split("://", 1)[1].split("/", 1)[1]
    hashed: dict[str, Any] = {"method": "POST", "endpoint": "/" + path, "body": kwargs}
    if "/" + path not in ("/api/tags", "/v1/models"):
        hashed["test_id"] = test_id
    return hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()


def test_recording_in_llama_stack_format_then_replaying(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp], httpx_lib: ModuleType
) -> None:
    scope = "tests/test_mine.py::test_round_trip"
    openai_server.app.reset()
    recorder = CassetteTransport(tmp_path, mode="record", format="llama-stack", scope=scope)
    live = calls(client_for(httpx_lib, recorder, is_async=False, base_url=openai_server.base_url))

    # Files llama-stack's recorder finds: named by the hash it computes from the SDK call, each object
    # validating into its __type__ class, as llama-stack's replay does.
    names = {file.name for file in tmp_path.glob("*.json")}
    messages = [{"role": "user", "content": "tell me about cassettes"}]
    chat = {"model": "gpt-4o-mini", "messages": messages}
    stream = {**chat, "stream": True, "stream_options": {"include_usage": True}}
    base = openai_server.base_url
    expected = {
        llama_stack_lookup(base, "/v1/chat/completions", stream, scope) + ".json",
        llama_stack_lookup(base, "/v1/chat/completions", chat, scope) + ".json",
        llama_stack_lookup(
            base, "/v1/embeddings", {"model": "text-embedding-3-small", "input": ["a", "b"]}, scope
        )
        + ".json",
        llama_stack_lookup(base, "/v1/chat/completions", {"model": "flaky-429", "messages": messages}, scope)
        + ".json",  # the 429, which llama-stack replays: its own recorder sits above the SDK's retries
        llama_stack_lookup(base, "/v1/chat/completions", {"model": "flaky-429", "messages": messages}, scope)
        + ".1.json",  # the retry's answer, replayed second by httpx_cassette
        llama_stack_lookup(base, "/v1/chat/completions", {"model": "error-404", "messages": messages}, scope)
        + ".json",
    }
    assert expected <= names
    ids = "|".join(sorted(model["id"] for model in live["models"]))
    digest = hashlib.sha256(ids.encode()).hexdigest()[:8]
    expected.add(f"models-{llama_stack_lookup(base, '/v1/models', {}, scope)}-{digest}.json")
    ours = sorted(names - expected)
    assert len(ours) == 1
    assert ours[0].startswith("post-responses-")  # named SSE events: kept in our format
    for name in names - {ours[0]}:
        raw = json.loads((tmp_path / name).read_text())
        assert raw["test_id"] == scope
        body = raw["response"]["body"]
        for item in body if isinstance(body, list) else [body] if body else []:
            module, cls = item["__type__"].rsplit(".", 1)
            getattr(importlib.import_module(module), cls).model_validate(item["__data__"])

    for transport in (
        CassetteTransport(tmp_path, mode="replay", scope=scope),
        CassetteTransport(tmp_path, mode="replay"),
    ):
        assert calls(client_for(httpx_lib, transport, is_async=False, base_url="http://elsewhere/v1")) == live


def test_record_missing_leaves_existing_llama_stack_files_untouched(
    tmp_path: Path, openai_server: LiveServer[OpenAIApp], httpx_lib: ModuleType
) -> None:
    shutil.copytree(FIXTURES, tmp_path, dirs_exist_ok=True)
    before = {file.name: file.read_bytes() for file in tmp_path.glob("*.json")}
    for file in tmp_path.glob("*.json"):
        file.chmod(stat.S_IRUSR)  # a write to any of them would fail
    transport = CassetteTransport(tmp_path, mode="record-missing", format="llama-stack", scope=SHARED_B)
    client = client_for(httpx_lib, transport, is_async=False, base_url=openai_server.base_url)
    assert ping(client) == "pong from b"
    new = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "new"}])
    assert new.choices[0].message.content == "Echo: new"
    after = {file.name: file.read_bytes() for file in tmp_path.glob("*.json") if file.name in before}
    assert after == before
    added = [file for file in tmp_path.glob("*.json") if file.name not in before]
    assert len(added) == 1
    assert json.loads(added[0].read_text())["test_id"] == SHARED_B


# -- the real recordings in ../shared/seeds ------------------------------------------------------------


def same_as_stored(parsed: Any, data: dict[str, Any]) -> bool:
    """Every stored field comes back with its stored value, and the SDK adds nothing else but the
    defaults (null) of fields it knows that the recording predates."""
    full = parsed.model_dump(mode="json")
    return bool(parsed.model_dump(mode="json", exclude_unset=True) == data and _only_nulls_added(full, data))


def _only_nulls_added(full: Any, stored: Any) -> bool:
    if isinstance(full, dict) and isinstance(stored, dict):
        extra = set(full) - set(stored)
        return all(full[k] is None for k in extra) and all(
            _only_nulls_added(full[k], stored[k]) for k in stored
        )
    if isinstance(full, list) and isinstance(stored, list):
        return len(full) == len(stored) and all(
            _only_nulls_added(a, b) for a, b in zip(full, stored, strict=True)
        )
    return bool(full == stored)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_every_seed_replays_chunk_for_chunk(
    seeds_dir: Path, httpx_lib: ModuleType, is_async: bool
) -> None:
    seeds = list(recordings(seeds_dir))
    assert len(seeds) == 5
    for file, raw in seeds:
        client = client_for(httpx_lib, CassetteTransport(seeds_dir, mode="replay"), is_async=is_async)
        chunks = await call(client, raw["request"]["endpoint"], raw["request"]["body"], is_async=is_async)
        stored = stored_data(raw)
        assert len(chunks) == len(stored), file.name
        assert all(same_as_stored(chunk, data) for chunk, data in zip(chunks, stored, strict=True)), file.name


def test_seeds_convert_losslessly_and_keep_llama_stacks_names(seeds_dir: Path, tmp_path: Path) -> None:
    convert_directory(seeds_dir, tmp_path / "ours", to="ours")
    convert_directory(tmp_path / "ours", tmp_path / "back", to="llama-stack")
    for file, raw in recordings(seeds_dir):
        assert json.loads((tmp_path / "back" / file.name).read_text()) == raw
    # The seed README gives 004's original name: the hash llama-stack computed, which ids are cut from.
    raw = json.loads((seeds_dir / "004_9782941f54cfc091.json").read_text())
    assert recording_name(raw) == "816a62894f78f439f800f50431b565c19c73f68de45ec7f96b1c1fd4a7beb4bc.json"


SECRET = "3f" * 16
AZURE = "https://example.openai.azure.com/openai/deployments"


@pytest.mark.parametrize(
    ("url", "options"),
    [
        (f"{AZURE}/m/chat/completions?api-version=1&api-key={SECRET}", {}),
        (f"{AZURE}/{SECRET}/chat/completions", {"placeholders": {"<DEPLOYMENT>": SECRET}}),
    ],
    ids=["secret parameter", "placeholder"],
)
def test_a_recording_whose_url_holds_a_secret_is_keyed_as_a_live_request_is(
    tmp_path: Path, url: str, options: dict[str, Any]
) -> None:
    """A live request is keyed as stored (``api-key=REDACTED``, a placeholder for its secret); so is a
    llama-stack file's, which holds the URL as it was sent."""
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    completion = fixture("test_chat_completion[txt=azure/gpt-4o-mini]")["response"]["body"]
    recording = {
        "test_id": None,
        "request": {"method": "POST", "url": url, "headers": {}, "body": body, "model": "m"},
        "response": {"body": completion, "is_streaming": False},
    }
    (tmp_path / "0123abcd.json").write_text(json.dumps(recording))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="replay", **options)) as client:
        response = client.post(url, json=body)
    assert response.json() == completion["__data__"]
