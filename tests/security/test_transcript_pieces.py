"""A credential the model streams in pieces, in any field a stream sends piece by piece: recording is
refused with nothing written, and `scan_directory` (what ``httpx-cassette scan`` runs) flags the same
stream written by hand.

Each family is one shape of event (`httpx_cassette.core.transcript.Assembler` finds them by shape, not
by name): chat chunks with a string anywhere under ``delta``, Responses API events with a ``delta``,
Anthropic ``content_block_delta`` events, ollama lines (compact, spaced or with CRLF endings), Gemini
candidates' parts, Cohere's ``delta.message``, Bedrock Converse's ``contentBlockDelta``, and events of no
shape it knows (every string by its path).
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.cli import main as cli_main
from httpx_cassette.core.events import EventRecorder, stored_data
from httpx_cassette.core.ndjson import to_stored_line
from httpx_cassette.core.sse import ServerSentEvent
from httpx_cassette.core.strings import Walker
from httpx_cassette.core.transcript import Assembler, transcript_of
from httpx_cassette.model.cassette import Event
from httpx_cassette.storage.scan import scan_directory

SSE = "text/event-stream"
NDJSON = "application/x-ndjson"


def fake_key(seed: int = 0) -> str:
    """An OpenAI-shaped key built at run time: no credential-shaped literal sits in the source."""
    rng = random.Random(seed)
    return "sk-" + "proj-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(48))


def pieces_of(key: str) -> list[str]:
    """The key in pieces none of which is a credential on its own: "sk", "-proj-", then random runs."""
    return [key[:2], key[2:8], key[8:20], key[20:40], key[40:]]


# -- the families: a piece -> one event's data --------------------------------------------------------


def chat(**delta: Any) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}


def responses(kind: str) -> Callable[[str], dict[str, Any]]:
    def event(piece: str) -> dict[str, Any]:
        where = {"item_id": "it_1", "output_index": 0, "content_index": 0, "summary_index": 0}
        return {"type": kind, "sequence_number": 1, **where, "delta": piece}

    return event


def anthropic(kind: str, field: str) -> Callable[[str], dict[str, Any]]:
    return lambda piece: {"type": "content_block_delta", "index": 0, "delta": {"type": kind, field: piece}}


RESPONSES_DELTAS = [
    "response.reasoning_summary_text.delta",
    "response.reasoning_text.delta",
    "response.refusal.delta",
    "response.custom_tool_call_input.delta",
    "response.output_audio_transcript.delta",
    "response.code_interpreter_call_code.delta",
    "response.mcp_call_arguments.delta",
    "response.some_future_thing.delta",  # the next event type: assembled by its shape
]

SSE_FAMILIES: dict[str, Callable[[str], dict[str, Any]]] = {
    "chat function_call.arguments": lambda p: chat(function_call={"arguments": p}),
    "chat audio.transcript": lambda p: chat(audio={"transcript": p}),
    "chat tool_calls[].custom.input": lambda p: chat(tool_calls=[{"index": 0, "custom": {"input": p}}]),
    "chat content parts": lambda p: chat(content=[{"type": "text", "text": p}]),
    "chat a path no API sends yet": lambda p: chat(future={"deep": [{"text": p}]}),
    **{kind: responses(kind) for kind in RESPONSES_DELTAS},
    "anthropic a delta type no API sends yet": anthropic("future_delta", "future"),
}

OLLAMA_FAMILIES: dict[str, Callable[[str], dict[str, Any]]] = {
    "ollama message.thinking": lambda p: {
        "model": "qwen3",
        "message": {"role": "assistant", "content": "", "thinking": p},
        "done": False,
    },
    "ollama generate thinking": lambda p: {"model": "qwen3", "response": "", "thinking": p, "done": False},
}


def sse_body(datas: list[Any], *, named: bool) -> list[bytes]:
    """One chunk per event; ``named``: with an ``event:`` line (the general parser), else plain
    ``data:`` lines (the bulk path, walked while parsed)."""
    chunks = []
    for data in datas:
        name = f"event: {data.get('type', 'message')}\n" if named else ""
        chunks.append(f"{name}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode())
    return chunks


def ndjson_body(datas: list[Any], *, style: str) -> list[bytes]:
    """One chunk per line: compact (stored as objects), spaced (Python's json.dumps default) or with CRLF
    endings (both stored as text)."""
    compact = style == "compact"
    end = "\r\n" if style == "crlf" else "\n"
    return [(json.dumps(d, separators=(",", ":") if compact else None) + end).encode() for d in datas]


def record(directory: Path, chunks: list[bytes], content_type: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": content_type}, content=iter(chunks))

    transport = CassetteTransport(directory, mode="record", inner=httpx.MockTransport(handler))
    with httpx.Client(transport=transport, base_url="https://api.example.com") as client:
        client.post("/v1/stream", json={"stream": True})


def assert_refused(directory: Path, chunks: list[bytes], content_type: str) -> None:
    with pytest.raises(CassetteSecretError, match="OpenAI API key"):
        record(directory, chunks, content_type)
    assert not [f for f in directory.rglob("*") if f.is_file()]  # nothing written


def write_by_hand(directory: Path, events: list[dict[str, Any]], content_type: str) -> None:
    response: dict[str, Any] = {
        "status": 200,
        "headers": {"content-type": content_type},
        "is_streaming": True,
        "body": events,
    }
    if content_type == NDJSON:
        response["stream_format"] = "ndjson"
    cassette = {
        "version": 1,
        "request": {"method": "POST", "url": "https://api.example.com/v1/stream", "body": {"stream": True}},
        "responses": [response],
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "by_hand.json").write_text(json.dumps(cassette))


def assert_flagged(directory: Path) -> None:
    (finding,) = scan_directory(directory)
    assert finding.kind == "OpenAI API key"
    assert "the text its events assemble" in finding.path


@pytest.fixture(params=range(3))
def key(request: pytest.FixtureRequest) -> str:
    return fake_key(request.param)


# -- recording refuses, scan flags ---------------------------------------------------------------------


@pytest.mark.parametrize("named", [False, True], ids=["data lines", "named events"])
@pytest.mark.parametrize("family", list(SSE_FAMILIES))
def test_a_key_streamed_in_pieces_over_sse_is_refused_and_flagged(
    tmp_path: Path, family: str, named: bool
) -> None:
    key = fake_key(len(family))
    datas = [SSE_FAMILIES[family](piece) for piece in pieces_of(key)]
    assert_refused(tmp_path / "recorded", sse_body(datas, named=named), SSE)
    events = [{"event": d.get("type", "message"), "__data__": d} if named else {"__data__": d} for d in datas]
    write_by_hand(tmp_path / "by_hand", events, SSE)
    assert_flagged(tmp_path / "by_hand")


@pytest.mark.parametrize("family", list(OLLAMA_FAMILIES))
def test_a_key_streamed_in_pieces_over_compact_ndjson_is_refused_and_flagged(
    tmp_path: Path, family: str, key: str
) -> None:
    datas = [OLLAMA_FAMILIES[family](piece) for piece in pieces_of(key)]
    datas.append({"model": "qwen3", "message": {"role": "assistant", "content": "ok"}, "done": True})
    assert_refused(tmp_path / "recorded", ndjson_body(datas, style="compact"), NDJSON)
    write_by_hand(tmp_path / "by_hand", [{"__data__": d} for d in datas], NDJSON)
    assert_flagged(tmp_path / "by_hand")
    assert cli_main(["scan", str(tmp_path / "by_hand")]) == 1


def ollama_content(piece: str) -> dict[str, Any]:
    return {"model": "llama3", "message": {"role": "assistant", "content": piece}, "done": False}


@pytest.mark.parametrize("style", ["spaced", "crlf"])
def test_a_key_streamed_in_pieces_over_ndjson_kept_as_text_is_refused(tmp_path: Path, style: str) -> None:
    datas = [ollama_content(piece) for piece in pieces_of(fake_key())]
    assert_refused(tmp_path, ndjson_body(datas, style=style), NDJSON)


@pytest.mark.parametrize("style", ["spaced", "crlf"])
def test_a_key_streamed_in_pieces_over_ndjson_kept_as_text_is_flagged(tmp_path: Path, style: str) -> None:
    lines = ndjson_body([ollama_content(piece) for piece in pieces_of(fake_key())], style=style)
    events = [{"__data__": line.decode().removesuffix("\n"), "raw": True} for line in lines]
    write_by_hand(tmp_path, events, NDJSON)
    assert_flagged(tmp_path)


# -- the transcript itself -----------------------------------------------------------------------------


@pytest.mark.parametrize("style", ["spaced", "crlf"])
def test_ndjson_lines_kept_as_text_are_assembled(style: str, key: str) -> None:
    # What recording walks (`httpx_cassette.core.strings.of_events`) and `show` prints.
    lines = ndjson_body([ollama_content(piece) for piece in pieces_of(key)], style=style)
    events = [Event(data=line.decode().removesuffix("\n"), raw=True) for line in lines]
    assert transcript_of(events).text == key
    assert key in transcript_of(events).said()


def test_anthropic_deltas_are_assembled_by_shape(key: str) -> None:
    start = {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "name": "f"}}
    events = [
        *(anthropic("text_delta", "text")(piece) for piece in pieces_of(key)),
        *(anthropic("thinking_delta", "thinking")(piece) for piece in pieces_of(key)),
        start,
        *({**anthropic("input_json_delta", "partial_json")(p), "index": 1} for p in ['{"a": "', key, '"}']),
        *(anthropic("citations_future_delta", "quote")(piece) for piece in pieces_of(key)),
    ]
    transcript = transcript_of([Event(data=e) for e in events])
    assert transcript.text == key
    assert [(c.name, c.arguments) for c in transcript.tool_calls] == [("f", '{"a": "' + key + '"}')]
    # The text, the call's arguments, then each block's pieces by path: its text whole (blocks may come
    # interleaved), its thinking, the citation.
    assert transcript.said() == [key, '{"a": "' + key + '"}', key, key, key]


def test_chat_tool_calls_keep_their_index_and_legacy_function_calls_their_name(key: str) -> None:
    first, second = pieces_of(key), pieces_of(key[::-1])
    events = [chat(role="assistant", content="")]
    for a, b in zip(first, second, strict=True):  # two calls, interleaved
        calls = [{"index": 1, "function": {"arguments": b}}, {"index": 0, "function": {"arguments": a}}]
        events.append(chat(tool_calls=calls))
    events += [chat(function_call={"name": "legacy", "arguments": piece}) for piece in first]
    transcript = transcript_of([Event(data=e) for e in events])
    assert [(c.name, c.arguments) for c in transcript.tool_calls] == [
        (None, key[::-1]),
        (None, key),
        ("legacy", key),
    ]
    assert "assistant" in transcript.said()


def test_responses_deltas_are_kept_apart_by_item_and_index(key: str) -> None:
    events = []
    for piece in pieces_of(key):
        for summary in (0, 1):
            event = responses("response.reasoning_summary_text.delta")(piece if summary else "x")
            events.append({**event, "summary_index": summary})
    said = transcript_of([Event(data=e) for e in events]).said()
    assert said == ["xxxxx", key]


@pytest.mark.parametrize(
    "data",
    [
        '{"a":' * 100_000 + "1" + "}" * 100_000,  # text nested deeper than msgspec decodes
        '{"a": "\ud800"}',  # a lone surrogate (UTF-8 cannot encode it)
        '{"a": "\\ud800"}',  # the same, escaped
        "  [1, 2]",  # JSON, not an object
        "{not json",
        {"choices": [{"delta": {"x": [[[[[[[[[[[["deep"]]]]]]]]]]]]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": [1], "custom": {"input": "x"}}]}}]},
        {"choices": [{"delta": {"function_call": {"arguments": 5, "name": ["x"]}}}]},
        {"choices": [{"delta": "text"}, {"delta": 5}]},
        {"type": "response.x.delta", "output_index": [1], "delta": "x"},
        {"type": "response.x.delta", "delta": {"nested": ["x", {"y": None}]}},
        {"type": "content_block_delta", "delta": {"type": "x", "x": ["not a str"]}},
        {"done": False, "message": {"content": 5, "tool_calls": "x", "thinking": ["y"]}},
        {"done": True, "message": {"tool_calls": [{"function": {"arguments": [[[[]]]]}}]}, "thinking": 1},
        {"done": False, "message": "text", "response": None},
    ],
    ids=lambda value: repr(value)[:48],
)
def test_a_hostile_shape_never_breaks_the_transcript(data: Any) -> None:
    assembler = Assembler()
    assembler.add(data)
    assembler.add(chat(content="still read"))
    assert "still read" in assembler.result.text
    assert all(isinstance(text, str) for text in assembler.result.said())


def test_an_event_nested_deeper_than_msgspec_decodes_is_kept_as_text() -> None:
    # msgspec raises RecursionError there, not DecodeError: the recorder must keep the text, not fail.
    deep = "[" * 100_000 + "]" * 100_000
    recorder = EventRecorder()
    recorder.add_plain([deep.encode()], [0.0], Walker())
    recorder.add(ServerSentEvent(data=deep, event="x"), 0.0)
    assert [(e.raw, e.data) for e in recorder.events] == [(True, deep), (True, deep)]
    assert stored_data(deep.encode()).raw
    assert to_stored_line(deep.encode()).raw


# -- the other LLM APIs: Gemini, Cohere, Bedrock Converse, and shapes no family names ----------------------


def gemini(*parts: dict[str, Any]) -> dict[str, Any]:
    candidate = {"content": {"parts": list(parts), "role": "model"}, "index": 0}
    return {
        "candidates": [candidate],
        "usageMetadata": {"promptTokenCount": 7},
        "modelVersion": "gemini-2.5-flash",
    }


def gemini_partial_args(piece: str) -> dict[str, Any]:
    # Vertex AI's streamed function-call arguments (`streamFunctionCallArguments`).
    arg = {"jsonPath": "$.api_token", "stringValue": piece, "willContinue": True}
    return gemini({"functionCall": {"partialArgs": [arg], "willContinue": True}})


def cohere(kind: str, **message: Any) -> dict[str, Any]:
    return {"type": kind, "index": 0, "delta": {"message": message}}


def bedrock(delta: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return {"contentBlockDelta": {"delta": delta, "contentBlockIndex": index}}


OTHER_FAMILIES: dict[str, Callable[[str], dict[str, Any]]] = {
    "gemini text": lambda p: gemini({"text": p}),
    "gemini thought": lambda p: gemini({"text": p, "thought": True}),
    "gemini functionCall.partialArgs": gemini_partial_args,
    "gemini executableCode": lambda p: gemini({"executableCode": {"language": "PYTHON", "code": p}}),
    "cohere v2 content-delta": lambda p: cohere("content-delta", content={"text": p}),
    "cohere v2 thinking": lambda p: cohere("content-delta", content={"thinking": p}),
    "cohere v2 tool-call-delta": lambda p: cohere(
        "tool-call-delta", tool_calls={"function": {"arguments": p}}
    ),
    "cohere v2 tool-plan-delta": lambda p: cohere("tool-plan-delta", tool_plan=p),
    "bedrock contentBlockDelta text": lambda p: bedrock({"text": p}),
    "bedrock toolUse.input": lambda p: bedrock({"toolUse": {"input": p}}, index=1),
    "bedrock reasoningContent": lambda p: bedrock({"reasoningContent": {"text": p}}),
    "bedrock event-stream payload": lambda p: {"delta": {"text": p}, "contentBlockIndex": 0, "p": "abcdefgh"},
    # Shapes no family names: every string by its path (and by the event's type, when it has one).
    "hugging face tgi token.text": lambda p: {"index": 1, "token": {"id": 7, "text": p, "special": False}},
    "cohere v1 text-generation": lambda p: {"is_finished": False, "event_type": "text-generation", "text": p},
    "watsonx results[].generated_text": lambda p: {"results": [{"generated_text": p, "stop_reason": "none"}]},
    "workers ai response": lambda p: {"response": p},
    "ai sdk text-delta": lambda p: {"type": "text-delta", "id": "0", "delta": p},
}


def six_pieces(key: str) -> list[str]:
    """The key in 6-character pieces after some text, as a model streams it."""
    return ["Your key is ", *(key[i : i + 6] for i in range(0, len(key), 6))]


def framed(datas: list[dict[str, Any]], framing: str) -> list[bytes]:
    """``data`` lines (the bulk path), named events or CRLF line endings (Gemini's; both the general
    parser), one chunk per event."""
    if framing == "crlf":
        return [f"data: {json.dumps(d)}\r\n\r\n".encode() for d in datas]
    return sse_body(datas, named=framing == "named events")


@pytest.mark.parametrize("framing", ["data lines", "named events", "crlf"])
@pytest.mark.parametrize("family", list(OTHER_FAMILIES))
def test_a_key_other_llm_apis_stream_in_pieces_is_refused_and_flagged(
    tmp_path: Path, family: str, framing: str
) -> None:
    datas = [OTHER_FAMILIES[family](piece) for piece in six_pieces(fake_key(len(family)))]
    assert_refused(tmp_path / "recorded", framed(datas, framing), SSE)
    write_by_hand(tmp_path / "by_hand", [{"__data__": d} for d in datas], SSE)
    assert_flagged(tmp_path / "by_hand")


def test_a_key_in_a_gemini_stream_is_flagged_by_the_scan_command(tmp_path: Path) -> None:
    datas = [gemini({"text": piece}) for piece in six_pieces(fake_key())]
    write_by_hand(tmp_path, [{"__data__": d} for d in datas], SSE)
    assert cli_main(["scan", str(tmp_path)]) == 1


ORDINARY = ["The capital", " of France", " is Paris", ", on the", " Seine."]


@pytest.mark.parametrize("framing", ["data lines", "crlf"])
@pytest.mark.parametrize("family", list(OTHER_FAMILIES))
def test_ordinary_text_in_other_llm_shapes_records_and_is_assembled(
    tmp_path: Path, family: str, framing: str
) -> None:
    datas = [OTHER_FAMILIES[family](piece) for piece in ORDINARY]
    record(tmp_path, framed(datas, framing), SSE)
    (file,) = tmp_path.rglob("*.json")
    assert scan_directory(tmp_path) == []
    stored = json.loads(file.read_text())["responses"][0]["body"]
    said = transcript_of([Event(data=event["__data__"]) for event in stored]).said()
    assert "".join(ORDINARY) in said


def test_gemini_cohere_and_bedrock_streams_are_assembled_as_text_and_tool_calls(key: str) -> None:
    gemini_events = [
        gemini({"text": "Hello"}, {"text": " there", "thoughtSignature": "c2ln"}),
        gemini({"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}),
        {"candidates": [{"content": {"parts": [{"text": "."}]}, "finishReason": "STOP"}]},
    ]
    transcript = transcript_of([Event(data=e) for e in gemini_events])
    assert transcript.text == "Hello there."
    assert [(c.name, c.arguments) for c in transcript.tool_calls] == [("get_weather", '{"city":"Paris"}')]
    assert transcript.finish_reason == "STOP"
    assert transcript.usage == {"promptTokenCount": 7}

    start = {"function": {"name": "lookup", "arguments": ""}, "id": "call_1", "type": "function"}
    cohere_events = [
        cohere("message-start", role="assistant", content=[], tool_plan="", tool_calls=[]),
        cohere("content-start", content={"type": "text", "text": ""}),
        *(cohere("content-delta", content={"text": piece}) for piece in ORDINARY),
        cohere("tool-call-start", tool_calls=start),
        *(
            cohere("tool-call-delta", tool_calls={"function": {"arguments": p}})
            for p in ['{"q": "', key, '"}']
        ),
        {"type": "message-end", "delta": {"finish_reason": "TOOL_CALL", "usage": {"tokens": {"output": 9}}}},
    ]
    transcript = transcript_of([Event(data=e) for e in cohere_events])
    assert transcript.text == "".join(ORDINARY)
    assert [(c.id, c.name, c.arguments) for c in transcript.tool_calls] == [
        ("call_1", "lookup", '{"q": "' + key + '"}')
    ]
    assert transcript.finish_reason == "TOOL_CALL"

    bedrock_events = [
        {"messageStart": {"role": "assistant"}},
        *(bedrock({"text": piece}) for piece in ORDINARY),
        {
            "contentBlockStart": {
                "start": {"toolUse": {"toolUseId": "t1", "name": "f"}},
                "contentBlockIndex": 1,
            }
        },
        *(bedrock({"toolUse": {"input": p}}, index=1) for p in ['{"a": "', key, '"}']),
        {"messageStop": {"stopReason": "tool_use"}},
        {"metadata": {"usage": {"inputTokens": 3, "outputTokens": 9}, "metrics": {"latencyMs": 80}}},
    ]
    transcript = transcript_of([Event(data=e) for e in bedrock_events])
    assert transcript.text == "".join(ORDINARY)
    assert [(c.id, c.name, c.arguments) for c in transcript.tool_calls] == [
        ("t1", "f", '{"a": "' + key + '"}')
    ]
    assert (transcript.finish_reason, transcript.usage) == ("tool_use", {"inputTokens": 3, "outputTokens": 9})


def test_events_of_no_known_shape_are_assembled_by_path_and_type(key: str) -> None:
    # Interleaved text and reasoning (the AI SDK's UI stream) stay apart by the events' type; a value
    # every event repeats (an id) is said once.
    events = []
    for text, thought in zip(pieces_of(key), pieces_of(key[::-1]), strict=True):
        events += [
            {"type": "text-delta", "id": "0", "delta": text},
            {"type": "reasoning-delta", "id": "0", "delta": thought},
        ]
    said = transcript_of([Event(data=e) for e in events]).said()
    assert key in said
    assert key[::-1] in said
    assert said.count("0") == 2  # one a type: "text-delta" events' "id", and "reasoning-delta" events'
    assert "00000" not in said


# -- text events: LangServe's JSON strings (`data: "Hel"`) and plain text (`data: lo`) ----------------


@pytest.mark.parametrize("as_json", [True, False], ids=["json strings", "plain text"])
def test_a_key_streamed_in_pieces_over_text_events_is_refused_and_flagged(
    tmp_path: Path, key: str, as_json: bool
) -> None:
    pieces = six_pieces(key)
    lines = [json.dumps(piece) if as_json else piece for piece in pieces]
    assert_refused(tmp_path / "recorded", [f"data: {line}\n\n".encode() for line in lines], SSE)
    events = [{"__data__": piece} if as_json else {"__data__": piece, "raw": True} for piece in pieces]
    write_by_hand(tmp_path / "by_hand", events, SSE)
    assert_flagged(tmp_path / "by_hand")


def test_ordinary_text_events_record_and_are_assembled_once(tmp_path: Path) -> None:
    chunks = [f"data: {json.dumps(piece)}\n\n".encode() for piece in ORDINARY]
    record(tmp_path, [*chunks, b"data: ping\n\n", b"data: ping\n\n"], SSE)
    assert scan_directory(tmp_path) == []
    events = [Event(data=piece) for piece in ORDINARY]
    assert "".join(ORDINARY) in transcript_of(events).said()
    assert transcript_of([Event(data="ping", raw=True)] * 3).said() == ["ping"]  # a repeat is said once


@pytest.mark.parametrize("index", [[0], {"i": 0}], ids=["list", "object"])
def test_a_key_streamed_under_an_index_no_dict_can_key_is_flagged(tmp_path: Path, index: Any) -> None:
    """The OpenAI SDK yields every piece whatever the index; the transcript reads them too."""
    key = fake_key(7)
    datas = [{"id": "c1", "choices": [{"index": index, "delta": {"content": p}}]} for p in pieces_of(key)]
    assert_refused(tmp_path / "recorded", sse_body(datas, named=False), SSE)
    write_by_hand(tmp_path / "by_hand", [{"__data__": d} for d in datas], SSE)
    assert_flagged(tmp_path / "by_hand")
