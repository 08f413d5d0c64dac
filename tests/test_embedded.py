"""Values inside values (`httpx_cassette.core.embedded`) and the transcript the secret check reads
(`httpx_cassette.core.transcript`): each finder on its own, and what a hostile shape does to them."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from httpx_cassette.core.embedded import (
    embedded_base64,
    embedded_json,
    formish,
    header_line_secrets,
    json_pairs,
    maybe_json,
    texts_of_bytes,
)
from httpx_cassette.core.scan import SecretScanner
from httpx_cassette.core.transcript import Assembler, transcript_of
from httpx_cassette.model.cassette import Event

OPENAI = "sk-" + "proj-" + "Ab3dEf6hIj9kLm2nOp5q" * 2


def test_json_in_a_string_is_found_with_whitespace_around_it_and_nothing_else_is() -> None:
    assert embedded_json(' \n{"password": "x"}\r\n') == {"password": "x"}
    assert embedded_json('[{"a": 1}]') == [{"a": 1}]
    for text in ("{not json}", '{"a": 1', "plain text", "{}x", "[1, 2", ""):
        assert embedded_json(text) is None
    assert maybe_json("  {")
    assert maybe_json("[")
    assert not maybe_json("x{")


def test_pairs_are_read_from_json_cut_short_and_unescaped_when_whole() -> None:
    assert json_pairs('{"id": "c1", "api_key": "abc\\u0041def') == [("id", "c1"), ("api_key", "abcAdef")]
    assert json_pairs('log line: "token" : "x\\"y"') == [("token", 'x"y')]
    assert json_pairs("no pairs: here") == []


def test_base64_of_text_decodes_and_random_ids_do_not() -> None:
    text = base64.encodebytes(f"KEY={OPENAI}\n".encode() * 3).decode()  # MIME line breaks
    assert embedded_base64(text) == f"KEY={OPENAI}\n".encode() * 3
    urlsafe = base64.urlsafe_b64encode(b"\xfb\xef" + OPENAI.encode()).decode()
    assert embedded_base64(urlsafe) is None  # decodes, but not to text
    assert embedded_base64(base64.b64encode(gzip.compress(OPENAI.encode())).decode()) is not None
    for text in ("chatcmpl-58f93992d5d45edae0b1af76c90c8", "0123456789abcdef0123456789abcdef", "short"):
        assert embedded_base64(text) is None


def test_bytes_read_as_text_in_any_charset_keep_ascii_visible() -> None:
    assert OPENAI in texts_of_bytes(f"key: {OPENAI}".encode("utf-16"))[0]
    assert OPENAI in texts_of_bytes(f"key: {OPENAI}".encode("utf-16-be"))[0]
    assert texts_of_bytes(f"caf\xe9 {OPENAI}".encode("latin-1")) == [f"caf\xe9 {OPENAI}"]
    # Binary with NUL bytes in it: the latin-1 reading keeps an ASCII run whole whatever else is tried.
    binary = b"\x00\x01" * 100 + OPENAI.encode()
    assert any(OPENAI in text for text in texts_of_bytes(binary))


def test_a_form_is_text_with_an_equals_sign_and_no_spaces() -> None:
    assert formish("access_token=abc&expires=1")
    assert not formish("a sentence = with spaces")
    assert not formish("plain")


def _chunk(**delta: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": delta}]}


def test_the_transcript_joins_text_tool_arguments_and_asides() -> None:
    events = [
        Event(data=_chunk(content="sk-pr")),
        Event(data=_chunk(content="oj-abc")),
        Event(data=_chunk(reasoning_content="thinking ")),
        Event(data=_chunk(reasoning_content="aloud")),
        Event(data=_chunk(tool_calls=[{"index": 0, "function": {"name": "f", "arguments": '{"a":'}}])),
        Event(data=_chunk(tool_calls=[{"index": 0, "function": {"arguments": " 1}"}}])),
        Event(data="[DONE]", raw=True),
    ]
    transcript = transcript_of(events)
    assert transcript.text == "sk-proj-abc"
    assert transcript.tool_calls[0].arguments == '{"a": 1}'
    assert transcript.said() == ["sk-proj-abc", '{"a": 1}', "thinking aloud"]


@pytest.mark.parametrize(
    "data",
    [
        {"choices": [{"index": [1], "delta": {"content": "x"}}]},  # an unhashable index
        {"choices": [{"index": "1", "delta": {"content": "x"}}]},  # an index of another type
        {"choices": [{"delta": {"tool_calls": ["not an object"]}}]},
        {"choices": [{"delta": {"tool_calls": [{"function": "not an object"}]}}]},
        {"type": "content_block_delta", "delta": "not an object"},
        {"type": "response.output_item.added", "item": ["x"]},
        {"choices": "not a list", "done": True, "message": 5, "type": 7},
    ],
)
def test_a_hostile_shape_neither_breaks_the_transcript_nor_the_scan(data: Any) -> None:
    assembler = Assembler()
    assembler.add(data)
    assembler.add(_chunk(content="still read"))
    assert "still read" in assembler.result.text
    body = [{"__data__": data}, {"__data__": _chunk(content=OPENAI)}]
    assert SecretScanner().scan({"responses": [{"body": body}]})  # the key is still found


def test_a_key_split_over_events_is_found_once_and_a_whole_one_not_twice() -> None:
    pieces = [OPENAI[i : i + 5] for i in range(0, len(OPENAI), 5)]
    split = [{"__data__": _chunk(content=piece)} for piece in pieces]
    (finding,) = SecretScanner().scan({"body": split})
    assert "assemble" in finding.path
    assert finding.kind == "OpenAI API key"
    whole = [{"__data__": _chunk(content=f"key {OPENAI}")}, {"__data__": _chunk(content=" ok")}]
    (finding,) = SecretScanner().scan({"body": whole})
    assert finding.path == "$.body[0].__data__.choices[0].delta.content"


def test_json_inside_json_inside_base64_is_read_to_the_bottom() -> None:
    auth = base64.b64encode(f"user:{OPENAI}".encode()).decode()
    config = base64.b64encode(json.dumps({"auths": {"r.io": {"auth": auth}}}).encode()).decode()
    findings = SecretScanner().scan({"data": {".dockerconfigjson": config}})
    assert [f.path for f in findings if f.kind == "OpenAI API key"] == [
        '$.data[".dockerconfigjson"] (base64-decoded).auths["r.io"].auth (base64-decoded)'
    ]
    nested = json.dumps({"arguments": json.dumps({"password": "correct horse battery"})})
    (finding,) = SecretScanner().scan({"text": nested})
    assert finding.path == "$.text (its JSON).arguments (its JSON).password"


@pytest.mark.parametrize(
    "line",
    [
        "SET-COOK\u0130E: sid=Zq8vT2mN9xK4pL7w",  # the dotted capital I a case-blind match reads as "i"
        "Set-Cook\u0131e: sid=Zq8vT2mN9xK4pL7w",  # and the dotless small one
        "COO\u212aIE: sid=Zq8vT2mN9xK4pL7w",  # the Kelvin sign, a capital K to a case-blind match
        "set-cookie: sid=Zq8vT2mN9xK4pL7w",
    ],
)
def test_a_cookie_header_line_is_found_in_any_case_a_case_blind_match_reads(line: str) -> None:
    # The quick look before the pattern lowers the text: it must let through all the pattern matches.
    assert header_line_secrets(line) == [(line.split(":")[0], "Zq8vT2mN9xK4pL7w")]
