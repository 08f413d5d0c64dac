"""The SSE parser and synthesizer: every wire rule, and agreement with the SDKs' own decoders."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from openai._streaming import SSEDecoder as OpenAIDecoder

from httpx_cassette.core.sse import ServerSentEvent, SSEParser, encode_event

try:
    from anthropic._streaming import SSEDecoder as _AnthropicDecoder

    AnthropicDecoder: Any = _AnthropicDecoder
except ImportError:  # pragma: no cover - anthropic is optional on Python 3.10
    AnthropicDecoder = None

# Modest example counts by default (the file runs in seconds). A conftest.py can register a "long" profile
# so `--hypothesis-profile=long` works: the pytest plugin loads profiles before test modules are imported,
# so registering it here only serves `settings.load_profile("long")` in a session that imports this file.
try:
    settings.get_profile("long")
except InvalidArgument:
    settings.register_profile("long", max_examples=5_000, deadline=None)


def examples(n: int) -> settings:
    """``n`` examples under the default/CI profiles; under any other profile (e.g. "long") its count rules."""
    if settings.get_current_profile_name() in ("default", "ci"):
        return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    return settings(deadline=None)


Fields = tuple[str, str | None, str | None, int | None]
DECODERS: list[Any] = [OpenAIDecoder] + ([AnthropicDecoder] if AnthropicDecoder is not None else [])


def parse(chunks: list[bytes]) -> list[ServerSentEvent]:
    parser = SSEParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    return events + parser.flush()


def ours(chunks: list[bytes]) -> list[Fields]:
    """Our terminated events, as the tuple the SDK comparison uses."""
    return [(e.data, e.event, e.id, e.retry) for e in parse(chunks) if e.terminated]


def sdk(chunks: list[bytes], decoder: Callable[[], Any] = OpenAIDecoder) -> list[Fields]:
    return [(e.data, e.event, e.id, e.retry) for e in decoder().iter_bytes(iter(chunks))]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def E(
    data: str, event: str | None = None, id: str | None = None, retry: int | None = None
) -> ServerSentEvent:
    return ServerSentEvent(data=data, event=event, id=id, retry=retry)


SAMPLE = (
    b": keep-alive\r\n"
    b'event: message_start\r\ndata: {"a": "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"}\r\n\r\n'
    b"id: 7\rretry: 1500\rdata: line one\rdata: line two\r\r"
    b"data:no-space\ndata:  two spaces\n\n"
    b"event: ping\n\n"
    b"data: [DONE]\n\n"
)
SAMPLE_EVENTS = [
    E('{"a": "h\u00e9llo \u20ac \U0001f600"}', event="message_start"),
    E("line one\nline two", id="7", retry=1500),
    E("no-space\n two spaces", id="7"),
    E("", event="ping", id="7"),
    E("[DONE]", id="7"),
]

# Streams for the differential tests: each rule, and the SDK's quirks.
CORPUS = [
    SAMPLE,
    b"data: hello\n\n",
    b"data: a\ndata: b\ndata:\ndata\n\n",
    b"data: x\r\n\r\ndata: y\r\rdata: z\n\r\n",
    b": only a comment\n\n:another\n\n",
    b"event:\n\nevent: \n\nevent: e\n\n",
    b"id: 1\ndata: a\n\n\n\n",  # a persisting id makes every blank line dispatch
    b"id:\n\nid\n\ndata: after empty id\n\n",
    b"id: a\x00b\ndata: nul id ignored\n\nid: 3\x00\n\n",
    b"retry: 10\n\nretry: x\ndata: r\n\nretry:  +5\n\nretry: 1_000\n\nretry: -3\n\n",
    b"\xef\xbb\xbfdata: bom\n\ndata: after\n\n",
    b"data: a\n\ndata: unterminated\n",
    b"data: a\n\ndata: no newline",
    b"foo: bar\nbar\n\ndata: x\nfoo\n\n",
    b"data: [DONE]\n\n",
    b"\n\n\r\r\r\n",
    b"",
    # whole one-line data events (the parser's fast path), after an id, a comment, a multi-line event
    b'data: {"n": 1}\n\ndata:{"n": 2}\n\ndata: a: b\n\ndata:  two\n\n',
    b"id: 9\n\ndata: a\n\ndata: b\n\n: c\n\ndata: d\ndata: e\n\ndata: f\n\n\n\ndata: g\n\n",
]


# --- line endings, chunking, decoding -----------------------------------------------------------------------


def test_sample_stream() -> None:
    assert parse([SAMPLE]) == SAMPLE_EVENTS


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_each_line_ending(ending: bytes) -> None:
    stream = ending.join([b"event: e", b"data: a", b"data: b", b"", b"data: c", b"", b""])
    assert parse([stream]) == [E("a\nb", event="e"), E("c")]


def test_split_at_every_offset() -> None:
    for cut in range(len(SAMPLE) + 1):
        assert parse(split(SAMPLE, [cut])) == SAMPLE_EVENTS, cut


def test_split_at_every_pair_of_offsets() -> None:
    sample = SAMPLE[:90]
    expected = parse([sample])
    for a in range(len(sample) + 1):
        for b in range(a, len(sample) + 1):
            assert parse(split(sample, [a, b])) == expected, (a, b)


def test_one_byte_chunks() -> None:
    assert parse([bytes([b]) for b in SAMPLE]) == SAMPLE_EVENTS


def test_cr_lf_split_across_chunks_is_one_line_ending() -> None:
    # With an id set, a spurious extra blank line would dispatch an extra empty event.
    chunks = [b"id: 1\r", b"\ndata: a\r", b"", b"\n\r", b"\n"]
    assert parse(chunks) == [E("a", id="1")]
    assert ours(chunks) == sdk(chunks)
    # CR, CR | LF: a line ending, a blank line, then an LF that ends nothing (the SDK agrees; Anthropic's
    # older splitter would see an extra blank line here, which is why its differential tests avoid lone CR).
    chunks = [b"id: 1\ndata: a\r\r", b"\n"]
    assert parse(chunks) == [E("a", id="1")]
    assert ours(chunks) == sdk(chunks)


def test_utf8_split_inside_character() -> None:
    stream = "data: h\u00e9llo \u20ac \U0001f600\n\n".encode()
    for cut in range(len(stream) + 1):
        assert parse(split(stream, [cut])) == [E("h\u00e9llo \u20ac \U0001f600")]


def test_invalid_utf8_is_replaced_not_raised() -> None:
    stream = b"data: \xff\xfe ok\ndata: \xe2\x82\n\ndata: cut \xf0\x9f"
    assert parse([stream]) == [
        E("\ufffd\ufffd ok\n\ufffd"),
        ServerSentEvent(data="cut \ufffd", terminated=False),
    ]
    with pytest.raises(UnicodeDecodeError):  # what the SDK does instead
        sdk([stream])


def test_bom_is_not_stripped_like_the_sdk() -> None:
    stream = b"\xef\xbb\xbfdata: first\n\ndata: second\n\n"
    assert parse([stream]) == [E("second")]
    assert ours([stream]) == sdk([stream])


# --- fields -------------------------------------------------------------------------------------------------


def test_comments_and_unknown_fields_are_ignored() -> None:
    assert parse([b": hi\n:\nfoo: 1\nfoo\n\n"]) == []
    assert parse([b"data: a\n: inside\nfoo: 1\n\n"]) == [E("a")]


def test_one_leading_space_stripped() -> None:
    assert parse([b"data:a\ndata: b\ndata:  c\ndata\ndata:\ndata: \n\n"]) == [E("a\nb\n c\n\n\n")]


def test_colon_in_value_is_kept() -> None:
    assert parse([b'data: {"k": "v:w"}\nevent: a:b\n\n']) == [E('{"k": "v:w"}', event="a:b")]


def test_empty_event_name_is_none() -> None:
    assert parse([b"event:\ndata: x\n\n"]) == [E("x")]
    assert parse([b"event:\n\n"]) == []  # nothing truthy: no dispatch


def test_event_without_data_gives_empty_data() -> None:
    assert parse([b"event: ping\n\n"]) == [E("", event="ping")]


def test_id_persists_after_dispatch_like_the_sdk() -> None:
    stream = b"id: 1\ndata: a\n\ndata: b\n\n\nid: 2\n\nid:\n\ndata: c\n\n"
    expected = [E("a", id="1"), E("b", id="1"), E("", id="1"), E("", id="2"), E("c", id="")]
    assert parse([stream]) == expected
    assert ours([stream]) == sdk([stream])


def test_id_with_nul_is_ignored() -> None:
    assert parse([b"id: 1\nid: 2\x003\ndata: a\n\n"]) == [E("a", id="1")]


def test_retry_is_an_int_or_ignored() -> None:
    stream = b"retry: 100\ndata: a\n\nretry: soon\ndata: b\n\nretry: 5\n\n"
    assert parse([stream]) == [E("a", retry=100), E("b"), E("", retry=5)]


def test_done_sentinel_is_plain_data() -> None:
    assert parse([b'data: {"x": 1}\n\ndata: [DONE]\n\n']) == [E('{"x": 1}'), E("[DONE]")]


# --- end of stream ------------------------------------------------------------------------------------------


def test_trailing_event_without_blank_line_is_unterminated() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\n\ndata: b\nevent: e\n") == [E("a")]
    last = parser.flush()
    assert last == [ServerSentEvent(data="b", event="e", terminated=False)]
    assert encode_event(last[0]) == b"event: e\ndata: b\n"
    assert sdk([b"data: a\n\ndata: b\nevent: e\n"]) == [("a", None, None, None)]  # the SDK drops it
    assert sdk([b"data: a\n\n" + encode_event(last[0])]) == [("a", None, None, None)]  # and again on replay


def test_trailing_line_without_newline_counts() -> None:
    assert parse([b"data: a\n\nretry: 3"]) == [E("a"), ServerSentEvent(data="", retry=3, terminated=False)]


def test_flush_reports_only_what_came_after_the_last_dispatch() -> None:
    assert parse([b"id: 1\ndata: a\n\n"]) == [E("a", id="1")]  # the persisting id alone is not an event
    assert parse([b"id: 1\ndata: a\n\n: comment\nfoo: x\n"]) == [E("a", id="1")]
    assert parse([b"data: a\n\nevent:\n"]) == [E("a")]
    assert parse([b"id: 1\ndata: a\n\nevent:\n"]) == [
        E("a", id="1"),
        ServerSentEvent(data="", id="1", terminated=False),
    ]


def test_flush_resets_the_parser() -> None:
    parser = SSEParser()
    parser.feed(b"id: 9\ndata: a\n\ndata: partial")
    parser.flush()
    assert parser.feed(b"data: b\n\n") == [E("b")]  # no stale id, no stale partial line
    assert parser.flush() == []


# --- encoding -----------------------------------------------------------------------------------------------


def test_encode_event_exact_bytes() -> None:
    full = ServerSentEvent(data='{"a": 1}\n\nlast', event="delta", id="42", retry=3000)
    assert encode_event(full) == b'event: delta\ndata: {"a": 1}\ndata: \ndata: last\nid: 42\nretry: 3000\n\n'
    assert encode_event(E("")) == b"data: \n\n"
    assert encode_event(E("caf\u00e9", event="")) == "data: caf\u00e9\n\n".encode()
    assert encode_event(E(" lead", id="")) == b"data:  lead\nid: \n\n"


@pytest.mark.parametrize(
    "bad",
    [E("a\rb"), E("a", event="x\ny"), E("a", event="x\r"), E("a", id="1\n"), E("a", id="1\x00")],
)
def test_encode_rejects_what_cannot_round_trip(bad: ServerSentEvent) -> None:
    with pytest.raises(ValueError, match="SSE"):
        encode_event(bad)


def test_sample_round_trips() -> None:
    wire = b"".join(encode_event(e) for e in SAMPLE_EVENTS)
    assert parse([wire]) == SAMPLE_EVENTS
    assert sdk([wire]) == ours([SAMPLE])


# --- differential against the SDK decoders ------------------------------------------------------------------


def chunkings(stream: bytes) -> Iterator[list[bytes]]:
    yield [stream]
    yield [bytes([b]) for b in stream]
    yield split(stream, [len(stream) // 2])
    yield split(stream, list(range(0, len(stream), 3)))
    yield split(stream, list(range(0, len(stream), 7)))


@pytest.mark.parametrize("stream", CORPUS)
def test_same_events_as_openai(stream: bytes) -> None:
    for chunks in chunkings(stream):
        assert ours(chunks) == sdk(chunks, OpenAIDecoder)


@pytest.mark.parametrize("stream", CORPUS)
def test_same_events_when_chunks_are_whole_events(stream: bytes) -> None:
    # How LLM APIs send a stream, and what takes the parser's fast path: a chunk ending at an event's end.
    chunks = [event + b"\n\n" for event in stream.split(b"\n\n")]
    chunks[-1] = chunks[-1][:-2]
    assert ours(chunks) == sdk(chunks, OpenAIDecoder)
    assert parse(chunks) == parse([stream])


@pytest.mark.skipif(AnthropicDecoder is None, reason="anthropic not installed")
@pytest.mark.parametrize("stream", CORPUS)
def test_same_events_as_anthropic(stream: bytes) -> None:
    for chunks in chunkings(stream):
        assert ours(chunks) == sdk(chunks, AnthropicDecoder)


# --- properties ---------------------------------------------------------------------------------------------


def line_text(exclude: str) -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8", exclude_characters=exclude), max_size=12)


@st.composite
def event_lists(draw: st.DrawFn) -> list[ServerSentEvent]:
    """Events a parser can report: ids only ever go from None to set (the SDK never unsets them)."""
    events: list[ServerSentEvent] = []
    last_id: str | None = None
    for _ in range(draw(st.integers(0, 6))):
        last_id = draw(st.none() | line_text("\r\n\0")) or last_id
        event = ServerSentEvent(
            data=draw(line_text("\r")),
            event=draw(st.none() | line_text("\r\n").filter(bool)),
            id=last_id,
            retry=draw(st.none() | st.integers(-(2**70), 2**70)),
        )
        events.append(event)
    unterminated = draw(st.booleans())
    if events and unterminated:
        events[-1] = msgspec.structs.replace(events[-1], terminated=False)
    return events


@st.composite
def chunked(draw: st.DrawFn, stream: bytes) -> list[bytes]:
    cuts = draw(st.lists(st.integers(0, len(stream)), max_size=8))
    return split(stream, cuts)


@examples(150)
@given(events=event_lists(), data=st.data())
def test_events_round_trip_through_any_chunking(events: list[ServerSentEvent], data: st.DataObject) -> None:
    wire = b"".join(encode_event(e) for e in events)
    assert parse(data.draw(chunked(wire))) == events


@examples(100)
@given(events=event_lists(), data=st.data())
def test_sdks_read_our_bytes_as_the_same_events(events: list[ServerSentEvent], data: st.DataObject) -> None:
    chunks = data.draw(chunked(b"".join(encode_event(e) for e in events)))
    expected = [(e.data, e.event, e.id, e.retry) for e in events if e.terminated]
    for decoder in DECODERS:
        assert sdk(chunks, decoder) == expected


@examples(150)
@given(stream=st.binary(max_size=300), data=st.data())
def test_never_raises_on_arbitrary_bytes(stream: bytes, data: st.DataObject) -> None:
    events = parse(data.draw(chunked(stream)))
    assert all(e.terminated for e in events[:-1])
    assert parse([stream]) == events


# Wire-like streams: field lines, odd lines and every line ending, glued together in random order.
PIECES = [
    "data: x", "data:y", "data:  z", "data", "data:", "event: e", "event:", "id: 1", "id:", "id: a\0b",
    "retry: 5", "retry: x", ": c", "foo: bar", "\ufeffdata: bom", "data: \u00e9\u20ac\U0001f600",
    "data: [DONE]",
]  # fmt: skip
ENDINGS = ["\n", "\r\n", "\r", "\n\n", "\r\n\r\n", "\r\r"]


@examples(200)
@given(
    parts=st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(ENDINGS)), max_size=12),
    tail=st.sampled_from(["", "data: tail"]),
    data=st.data(),
)
def test_random_wire_streams_match_the_sdks(
    parts: list[tuple[str, str]], tail: str, data: st.DataObject
) -> None:
    stream = ("".join(p + e for p, e in parts) + tail).encode()
    chunks = data.draw(chunked(stream))
    assert ours(chunks) == sdk(chunks, OpenAIDecoder)
    # Anthropic's older line splitter sees a spurious blank line when a chunk boundary falls between the
    # CR CR and the LF of CR CR LF; it agrees everywhere else.
    if AnthropicDecoder is not None and not cr_cr_lf_split(chunks):
        assert ours(chunks) == sdk(chunks, AnthropicDecoder)


def cr_cr_lf_split(chunks: list[bytes]) -> bool:
    stream, at = b"".join(chunks), 0
    for chunk in chunks[:-1]:
        at += len(chunk)
        if stream[at - 2 : at + 1] == b"\r\r\n":
            return True
    return False
