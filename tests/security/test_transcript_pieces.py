"""A credential the model streams in pieces, in any field a stream sends piece by piece: recording is
refused with nothing written, and `scan_directory` (what ``httpx-cassette scan`` runs) flags the same
stream written by hand.

Each family is one shape of event (`httpx_cassette.core.transcript.Assembler` finds them by shape, not
by name): chat chunks with a string anywhere under ``delta``, Responses API events with a ``delta``,
Anthropic ``content_block_delta`` events, and ollama lines (compact, spaced or with CRLF endings).
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
    assert transcript.said() == [key, '{"a": "' + key + '"}', key, key]


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
