"""A chat chunk that repeats the one before but for its text is recorded from its bytes alone
(`httpx_cassette.core.repeats`): that must store, walk and assemble exactly what decoding every event
does, whatever else a chunk changes, however its text is written, and a credential anywhere in a
chunk must still be refused."""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.core import events as events_module
from httpx_cassette.core.prefilter import may_hold_secret
from httpx_cassette.core.repeats import Template
from httpx_cassette.core.scan import SecretScanner
from httpx_cassette.core.strings import of_events
from tests.test_capture_bulk import chunks_of, record, view


def chunk(text: str, **changes: Any) -> dict[str, Any]:
    """An OpenAI chat completion chunk carrying ``text``; ``changes`` replace its fields."""
    data: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-mini",
        "system_fingerprint": "fp_1",
        "choices": [{"index": 0, "delta": {"content": text}, "logprobs": None, "finish_reason": None}],
    }
    data.update(changes)
    return data


def compact(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()


def fake_key(seed: int) -> str:
    rng = random.Random(seed)
    return "sk-" + "proj-" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(48))


TEXTS = st.text(max_size=8) | st.sampled_from(
    ['"', "\\", "a\nb", "\u2028", "</", "é", "\x7f", "\x00", "", '{"api_key": "k"}', "[1]"]
)


@st.composite
def events(draw: st.DrawFn) -> bytes:
    """One event's data: mostly the chunk with another text, else a chunk changed in any way that must
    not pass as a repeat (a field, an escape, spacing, a duplicate key, a finish, a tool call)."""
    text = draw(TEXTS)
    kinds = ["field", "escape", "spaced", "spaced text", "duplicate", "other", "done"]
    kind = draw(st.sampled_from(["text"] * 6 + kinds))
    if kind == "text":
        return compact(chunk(text))
    if kind == "field":
        name = draw(st.sampled_from(["id", "model", "system_fingerprint", "created", "object", "usage"]))
        value = draw(st.sampled_from(["chatcmpl-2", fake_key(1), 7, None, {"total_tokens": 3}, "x", "\0"]))
        return compact(chunk(text, **{name: value}))
    if kind == "escape":  # the same text written as re-encoding does not write it
        written = json.dumps(text + "/", ensure_ascii=True).replace("/", "\\/")
        return compact(chunk("\0")).replace(b'"\\u0000"', written.encode())
    if kind == "spaced":
        return json.dumps(chunk(text)).encode()
    if kind == "spaced text":  # only around the text: the bytes before and after it are the template's
        spaced = draw(st.sampled_from([" ", "\t", " \t "]))  # no line end: one data line
        literal = json.dumps(text, ensure_ascii=False)
        return compact(chunk("\0")).replace(b'"\\u0000"', (spaced + literal + spaced[::-1]).encode())
    if kind == "duplicate":  # a second content: the last one is the data
        return compact(chunk(text)).replace(b'"content":', b'"content":"hidden","content":', 1)
    if kind == "other":
        choice = draw(
            st.sampled_from(
                [
                    {"index": 0, "delta": {"role": "assistant", "content": text}},
                    {"index": 1, "delta": {"content": text}},
                    {"index": 0, "delta": {"content": text}, "finish_reason": "stop"},
                    {"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": text}}]}},
                    {"index": 0, "text": text, "delta": {"content": text}},
                    {"index": True, "delta": {"content": text}},
                ]
            )
        )
        return compact(chunk(text, choices=[choice]))
    return b"[DONE]"


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(events(), min_size=1, max_size=30),
    cuts=st.lists(st.integers(0, 4000), max_size=6),
    digest_at=st.sampled_from([None, 0, 200, 700, 2000]),  # batches of one event to several
)
def test_repeated_chunks_record_what_decoding_every_event_records(
    values: list[bytes], cuts: list[int], digest_at: int | None
) -> None:
    stream = b"".join(b"data: " + value + b"\n\n" for value in values)
    chunks = chunks_of(stream, cuts)
    fast, walked = record(chunks, general=False, as_json=True, digest_at=digest_at)
    general, _ = record(chunks, general=True)
    assert view(fast) == view(general)
    written = [msgspec.json.encode(e.data) for e in fast.events()]
    assert written == [msgspec.json.encode(e.data) for e in general.events()]
    assert walked is not None
    assert walked[:2] == of_events(general.events())[:2]  # the strings the credential check reads
    # A piece a substring search may leave out is held whole by a string it does not leave out
    kept = [text for text in walked.found - walked.pieces if type(text) is str]
    assert all(any(piece in text for text in kept) for piece in walked.pieces)


@st.composite
def runs(draw: st.DrawFn) -> list[bytes]:
    """A stream that is mostly the template with another text (batches of it are taken whole, by
    `Template.run_in`), with now and then anything else `events` makes."""
    values = [compact(chunk(draw(TEXTS)))]
    for _ in range(draw(st.integers(0, 40))):
        odd = draw(st.integers(0, 9))
        if odd == 0:
            values.append(draw(events()))
        elif odd == 1:  # bytes before the text as long as the template's, but others
            values.append(compact(chunk(draw(TEXTS), id=draw(st.sampled_from(["chatcmpl-2", "chatcmpl-1"])))))
        else:
            values.append(compact(chunk(draw(TEXTS))))
    return values


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=runs(),
    cuts=st.lists(st.integers(0, 4000), max_size=6),
    digest_at=st.sampled_from([0, 200, 700, 2000]),
    by_event=st.booleans(),
)
def test_batches_of_repeated_chunks_record_what_decoding_every_event_records(
    values: list[bytes], cuts: list[int], digest_at: int, by_event: bool
) -> None:
    wire = [b"data: " + value + b"\n\n" for value in values]
    stream = b"".join(wire)
    chunks = wire if by_event else chunks_of(stream, cuts)
    fast, walked = record(chunks, general=False, as_json=True, digest_at=digest_at)
    general, _ = record(chunks, general=True)
    assert view(fast) == view(general)
    assert [msgspec.json.encode(e.data) for e in fast.events()] == [
        msgspec.json.encode(e.data) for e in general.events()
    ]
    assert walked is not None
    assert walked[:2] == of_events(general.events())[:2]


def test_a_batch_of_repeated_chunks_is_taken_in_one_go() -> None:
    # After the template's first batch, each batch of chunks that only change their text is one split
    wire = [b"data: " + compact(chunk(f" w{i}")) + b"\n\n" for i in range(600)]
    with mock.patch.object(Template, "text_of", autospec=True, side_effect=Template.text_of) as text_of:
        response, walked = record(wire, general=False, as_json=True, digest_at=2_000)
    assert text_of.call_count < 12  # the first batch's, none after
    assert [e.parsed() for e in response.events()] == [json.loads(value[6:]) for value in wire]
    assert walked is not None
    assert "".join(f" w{i}" for i in range(600)) in walked.found


def test_a_run_that_the_stream_s_last_events_follow_is_still_taken_in_one_go() -> None:
    # The first chunk makes the template (a first batch is parsed at once); the rest comes as one batch
    wire = [compact(chunk(f" w{i}")) for i in range(600)]
    wire += [compact(chunk("", choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]))]
    wire += [compact(chunk("", choices=[], usage={"total_tokens": 9})), b"[DONE]"]
    chunks = [b"data: " + value + b"\n\n" for value in wire]
    with mock.patch.object(Template, "text_of", autospec=True, side_effect=Template.text_of) as text_of:
        fast, walked = record(chunks, general=False, as_json=True)
    assert text_of.call_count <= 3  # the finish and the usage chunk; not the 599 repeats
    general, _ = record(chunks, general=True)
    assert view(fast) == view(general)
    assert walked is not None
    assert walked[:2] == of_events(general.events())[:2]


@pytest.mark.parametrize(
    ("middles", "raw"),
    [
        ([b'"abc', b'def","ghi"'], [True, True]),  # one string split at its comma over two events
        ([b'"a"', b'"b","c"', b'"d'], [False, True, True]),
        ([b'"a\\\\', b'"b"'], [True, False]),
    ],
)
def test_events_that_are_no_json_among_repeats_are_not_taken_for_them(
    middles: list[bytes], raw: list[bool]
) -> None:
    head, tail = compact(chunk("\0")).split(b'"\\u0000"')
    wire = [b"data: " + compact(chunk(f" w{i}")) + b"\n\n" for i in range(60)]
    wire[30:30] = [b"data: " + head + middle + tail + b"\n\n" for middle in middles]  # amid repeats
    fast, walked = record(wire, general=False, as_json=True)
    general, _ = record(wire, general=True)
    assert view(fast) == view(general)
    assert [e.raw for e in fast.events()[30 : 30 + len(raw)]] == raw  # no JSON: kept as the text it is
    assert walked is not None
    assert walked[:2] == of_events(general.events())[:2]


def test_a_chunk_that_changes_a_field_to_one_as_long_is_not_taken_for_a_repeat() -> None:
    wire = [b"data: " + compact(chunk(f" w{i}")) + b"\n\n" for i in range(20)]
    for i in range(8, 20):  # wherever it falls in a batch of repeats
        changed = list(wire)
        changed[i] = wire[i].replace(b"chatcmpl-1", b"chatcmpl-X")
        response, walked = record(changed, general=False, as_json=True, digest_at=1_000)
        assert [e.parsed() for e in response.events()] == [json.loads(value[6:]) for value in changed]
        assert walked is not None
        assert "chatcmpl-X" in walked.found


def test_repeated_chunks_after_a_done_keep_that_done_as_an_event() -> None:
    wire = [b"data: " + compact(chunk(f" w{i}")) + b"\n\n" for i in range(30)]
    wire.insert(12, b"data: [DONE]\n\n")
    for digest_at in (0, 500, 1_000, 3_000):
        fast, _ = record(wire, general=False, as_json=True, digest_at=digest_at)
        general, _ = record(wire, general=True)
        assert view(fast) == view(general)
        assert not fast.done


_FRAGMENTS = [
    fake_key(3),
    "ghp_" + "a1B2" * 9,
    "/v1/x?api_key=" + "Zx9" * 8,
    "/cb?code=" + "Zx9" * 8,  # a path standing on its own only in its piece: "word/cb?..." is none
    base64.b64encode(fake_key(4).encode()).decode(),  # base64 found only where its run starts
    "https://bot:" + "p4ss" * 5 + "@db.example.com/x",
    "Bearer ",
    "password: " + "hunter2" * 3,
    "%3A%2F%2F",
    "application/x-www-form-urlencoded",
    '{"token": "' + "q7" * 12 + '"}',
    " word",
    " the",
    "/",
    "?",
    "=",
    '"',
    ":",
    "\n",
]


@settings(max_examples=1000, derandomize=True, deadline=None)
@given(
    parts=st.lists(st.sampled_from(_FRAGMENTS), min_size=1, max_size=12),
    cuts=st.lists(st.integers(0, 400), max_size=10),
    others=st.lists(st.sampled_from(_FRAGMENTS), max_size=3),
)
def test_a_check_that_leaves_out_the_pieces_finds_what_a_full_scan_finds(
    parts: list[str], cuts: list[int], others: list[str]
) -> None:
    """The credential pre-check reads a stream's pieces only where a substring test needs no more than
    the transcript that holds them: whatever the full scan of every string finds, it still sees."""
    said = "".join(parts)
    points = sorted({c % (len(said) + 1) for c in cuts})
    pieces = {said[a:b] for a, b in zip([0, *points], [*points, len(said)], strict=True) if b > a}
    found: set[Any] = {said, *pieces, *others}
    left_out = pieces - {said, *others}
    if SecretScanner().scan(sorted(found)):
        assert may_hold_secret(found, set(), set(), left_out)


def test_a_long_chat_stream_decodes_only_the_chunks_that_change(tmp_path: Path) -> None:
    texts = [f" word{i}" for i in range(2_000)]
    wire = [compact(chunk("", **{"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}))]
    wire += [compact(chunk(text)) for text in texts]
    wire += [compact(chunk("", choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}])), b"[DONE]"]
    decoded = mock.Mock(wraps=events_module._decode)
    with (
        mock.patch.object(events_module, "_decode", decoded),
        mock.patch.object(Template, "text_of", autospec=True, side_effect=Template.text_of) as text_of,
    ):
        response, walked = record(
            [b"data: " + value + b"\n\n" for value in wire], general=False, as_json=True, digest_at=2_000
        )
    assert decoded.call_count <= 3  # the role chunk, the first text chunk (the template), the finish
    # Batch by batch (2 kB): the one that makes the template, then runs split in one go, the finish
    # and [DONE] after the last one
    assert text_of.call_count <= 12
    assert [e.parsed() for e in response.events()] == [json.loads(value) for value in wire[:-1]]
    assert walked is not None
    assert "".join(texts) in walked.found  # the transcript, whole


def test_a_stream_of_two_choices_taking_turns_decodes_only_its_first_chunk_of_each() -> None:
    def of(index: int, text: str) -> bytes:
        return compact(chunk(text, choices=[{"index": index, "delta": {"content": text}}]))

    wire = [of(i % 2, f" w{i}") for i in range(1_000)]
    decoded = mock.Mock(wraps=events_module._decode)
    with mock.patch.object(events_module, "_decode", decoded):
        response, walked = record(
            [b"data: " + value + b"\n\n" for value in wire], general=False, as_json=True
        )
    assert decoded.call_count == 2
    assert [e.parsed() for e in response.events()] == [json.loads(value) for value in wire]
    assert walked is not None
    assert "".join(f" w{i}" for i in range(0, 1_000, 2)) in walked.found  # choice 0's text, whole


def serve(wire: list[bytes]) -> httpx.MockTransport:
    body = b"".join(b"data: " + value + b"\n\n" for value in wire)
    return httpx.MockTransport(
        lambda request: httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body)
    )


def read_stream(client: httpx.Client) -> None:
    with client.stream("POST", "https://api.openai.com/v1/chat/completions", json={}) as response:
        for _ in response.iter_bytes():
            pass


@pytest.mark.parametrize(
    "placed",
    [
        "id",  # a field every chunk repeats, changed once mid-stream
        "text",  # one text piece
        "escaped",  # a text piece with its letters written as escapes
        "split",  # the key over many text pieces
    ],
)
def test_a_key_anywhere_in_a_repeating_chat_stream_is_refused(tmp_path: Path, placed: str) -> None:
    key = fake_key(7)
    wire = [compact(chunk(f" t{i}")) for i in range(1_000)]
    if placed == "id":
        wire[500] = compact(chunk(" t500", id=key))
    elif placed == "text":
        wire[500] = compact(chunk(f"use {key} now"))
    elif placed == "escaped":
        wire[500] = compact(chunk("\0")).replace(b'"\\u0000"', json.dumps(key, ensure_ascii=True).encode())
        wire[500] = wire[500].replace(b"sk-", b"\\u0073\\u006b-")
    else:
        wire[400:400] = [compact(chunk(" " + key[:4]))] + [
            compact(chunk(key[i : i + 4])) for i in range(4, len(key), 4)
        ]
    transport = CassetteTransport(tmp_path, mode="record", inner=serve(wire))
    with httpx.Client(transport=transport) as client, pytest.raises(CassetteSecretError):
        read_stream(client)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
