"""Fuzzing the two places where a wrong answer is silent: the whole SSE record -> file -> replay chain, and
the key canonicalizer (with the miss diff that explains it).

Thousands of cases by default, derandomized so CI sees the same ones each run (a few seconds). A long,
random run for fuzzing sessions: ``HYPOTHESIS_PROFILE=long pytest tests/test_fuzz.py`` (25x the cases).
"""

from __future__ import annotations

import itertools
import json
import os
from typing import Any

import httpx
import msgspec
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openai._streaming import SSEDecoder

from httpx_cassette import KeyOptions, Request, canonical_form, key_of
from httpx_cassette.core.capture import Capture
from httpx_cassette.core.miss import compare
from httpx_cassette.core.replay import prepare
from httpx_cassette.core.sse import ServerSentEvent, SSEParser, encode_event
from httpx_cassette.http.library import library_by_name
from httpx_cassette.model.cassette import CassetteFile
from httpx_cassette.storage.codec import decode_file, encode_file

LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"
settings.register_profile(
    "long", max_examples=5_000, deadline=None
)  # what conftest registers, for `--hypothesis-profile`


def fuzz(cases: int) -> settings:
    """``cases`` derandomized examples; 25 times as many, random, under ``HYPOTHESIS_PROFILE=long``."""
    return settings(
        max_examples=cases * 25 if LONG else cases,
        derandomize=not LONG,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- SSE: record -> file -> replay shows the SDK what it saw live -----------------------------------------

# JSON-ish payloads, with the numbers and strings where JSON parsers disagree.
ODD_JSON = [
    "1e400", "-0", "-0.0", "1E5", "18446744073709551616", "0.1000000000000000055511151231257827", '"\\ud800"',
    '{"a":1,"a":2}', " [ 1 , 2 ] ", "NaN", '"[DONE]"', "{}", "null", "", "{", '{"a": "\\u00e9\\n"}',
]  # fmt: skip
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
DATA = st.one_of(
    JSON_VALUES.map(json.dumps),
    st.sampled_from(ODD_JSON),
    st.sampled_from(["[DONE]", "[DONE] more", "[DONE]\n"]),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
)
NAME = st.sampled_from(["data", "data", "data", "event", "id", "retry", "", "Data", "\ufeffdata", "data "])
SEPARATOR = st.sampled_from([": ", ":", ":  ", ""])
ENDING = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def wire_streams(draw: st.DrawFn) -> bytes:
    """A stream of field lines, comments, blank lines and every line ending; maybe a BOM, maybe no end."""
    lines: list[str] = []
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.integers(0, 9))
        if kind < 6:
            name = draw(NAME)
            value = (
                draw(DATA)
                if name.strip("\ufeff ").lower() == "data"
                else draw(st.sampled_from(["x", "7", " 5", "a\0b", ""]))
            )
            lines.append(name + draw(SEPARATOR) + value)
        elif kind < 8:
            lines.append("")  # dispatch
        else:
            lines.append(draw(st.sampled_from([": keep-alive", ":", "junk"])))
    text = "".join(line + draw(ENDING) for line in lines)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no final line ending, or no final blank line
    prefix = "\ufeff" if draw(st.integers(0, 7)) == 0 else ""
    return (prefix + text).encode()


def chunks_of(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(stream) + 1) for c in cuts})
    return [stream[a:b] for a, b in itertools.pairwise([0, *points, len(stream)]) if b > a]


def sdk_view(chunks: list[bytes]) -> list[Any]:
    """What ``openai.Stream`` makes of these bytes: each event's name and parsed data, until ``[DONE]``
    or the first data that is not JSON (where the SDK raises)."""
    seen: list[Any] = []
    for sse in SSEDecoder().iter_bytes(iter(chunks)):
        if sse.data.startswith("[DONE]"):
            seen.append("[DONE]")
            break
        try:
            seen.append((sse.event, json.loads(sse.data)))
        except ValueError as exc:
            seen.append(("raises", type(exc).__name__))
            break
    return seen


def record_and_replay(chunks: list[bytes]) -> list[bytes]:
    """The pure recording path (Capture), through the file format on disk, to the bytes replay serves."""
    capture = Capture(200, [("content-type", "text/event-stream")], library_by_name("httpx").decoder(""), 0.0)
    for chunk in chunks:
        capture.feed(chunk)
    response = capture.finish(truncated=False)
    data = encode_file(
        CassetteFile(request=Request(method="POST", url="https://x/v1/s"), responses=[response])
    )
    stored = decode_file(data, "fuzz.json").responses[0]
    return prepare(stored).chunks


@fuzz(1000)
@given(stream=wire_streams(), cuts=st.lists(st.integers(0, 1000), max_size=6))
def test_replayed_streams_look_the_same_to_the_sdk(stream: bytes, cuts: list[int]) -> None:
    chunks = chunks_of(stream, cuts)
    assert sdk_view(record_and_replay(chunks)) == sdk_view(chunks)


@fuzz(1000)
@given(stream=st.binary(max_size=200), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_any_bytes_are_recorded_without_raising(stream: bytes, cuts: list[int]) -> None:
    chunks = chunks_of(stream, cuts)
    replayed = record_and_replay(chunks)  # never raises, whatever arrives
    try:
        live = sdk_view(chunks)
    except UnicodeDecodeError:  # the SDK crashes on invalid UTF-8 live; nothing to be faithful to
        return
    assert sdk_view(replayed) == live


LINE = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"), max_size=15)


@fuzz(1000)
@given(
    data=st.lists(LINE, min_size=1, max_size=3).map("\n".join),
    event=st.none() | LINE,
    id=st.none() | LINE.filter(lambda s: "\0" not in s),
    retry=st.none() | st.integers(0, 2**40),
    cuts=st.lists(st.integers(0, 500), max_size=4),
)
def test_synthesized_events_parse_back_the_same(
    data: str, event: str | None, id: str | None, retry: int | None, cuts: list[int]
) -> None:
    sse = ServerSentEvent(data=data, event=event or None, id=id, retry=retry)
    wire = encode_event(sse)
    parser = SSEParser()
    parsed = [e for chunk in chunks_of(wire, cuts) for e in parser.feed(chunk)] + parser.flush()
    assert parsed == [sse]
    [seen] = list(SSEDecoder().iter_bytes(iter([wire])))
    assert (seen.data, seen.event, seen.id, seen.retry) == (data, event or None, id, retry)


# -- keys: what must not matter does not, what matters does, and the miss diff agrees ------------------

KEY_TEXT = st.text(max_size=6)
BODIES = st.dictionaries(KEY_TEXT, JSON_VALUES, max_size=5)
QUERY = st.lists(st.tuples(st.sampled_from(["a", "b", "limit", "q", "x y"]), KEY_TEXT), max_size=4)
PATHS = st.sampled_from(["/v1/chat/completions", "/v1/embeddings", "/v1/models", "/", "/v1/a b/é"])


def record(method: str, url: str, body: Any, headers: dict[str, str] | None = None) -> httpx.Request:
    return httpx.Request(method, url, json=body, headers=headers)  # keyed as the live request it is


def reordered(value: Any, rng: Any) -> Any:
    """The same JSON value with every object's keys in another order."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: reordered(v, rng) for k, v in items}
    if isinstance(value, list):
        return [reordered(v, rng) for v in value]
    return value


@fuzz(400)
@given(
    body=BODIES, query=QUERY, path=PATHS, method=st.sampled_from(["GET", "POST", "delete"]), rng=st.randoms()
)
def test_what_must_not_change_the_key_does_not(
    body: dict[str, Any], query: list[tuple[str, str]], path: str, method: str, rng: Any
) -> None:
    first = record(method, httpx.URL("https://api.openai.com" + path, params=query).__str__(), body)
    by_name: dict[str, list[tuple[str, str]]] = {}
    for name, value in query:
        by_name.setdefault(name, []).append((name, value))
    groups = list(by_name.values())
    rng.shuffle(groups)  # other names in another order; one name's values keep theirs
    other_query = [pair for group in groups for pair in group]
    second = record(
        method.upper(),
        str(httpx.URL("http://localhost:8080" + path, params=other_query)),
        reordered(body, rng),
        {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "other",
            "X-Stainless-Retry-Count": "2",
        },
    )
    assert key_of(first) == key_of(second)
    assert compare(canonical_form(first), canonical_form(second)) == []


@fuzz(400)
@given(a=BODIES, b=BODIES, qa=QUERY, qb=QUERY, pa=PATHS, pb=PATHS)
def test_keys_differ_exactly_when_the_miss_diff_finds_a_difference(
    a: dict[str, Any],
    b: dict[str, Any],
    qa: list[tuple[str, str]],
    qb: list[tuple[str, str]],
    pa: str,
    pb: str,
) -> None:
    ra = record("POST", str(httpx.URL("https://api.test" + pa, params=qa)), a)
    rb = record("POST", str(httpx.URL("https://api.test" + pb, params=qb)), b)
    differences = compare(canonical_form(ra), canonical_form(rb))
    assert (key_of(ra) == key_of(rb)) == (differences == [])


@fuzz(200)
@given(
    body=BODIES,
    field=KEY_TEXT.filter(lambda s: s != "" and not set(s) & set(".[]")),
    old=JSON_VALUES,
    new=JSON_VALUES,
)
def test_an_ignored_field_never_changes_the_key(body: dict[str, Any], field: str, old: Any, new: Any) -> None:
    assume(msgspec.json.encode(old) != msgspec.json.encode(new))
    options = KeyOptions(ignore_json_paths=(f"meta.{field}",))
    first = record("POST", "https://api.test/v1/x", {**body, "meta": {field: old}})
    second = record("POST", "https://api.test/v1/x", {**body, "meta": {field: new}})
    assert key_of(first, options) == key_of(second, options)
    assert compare(canonical_form(first, options), canonical_form(second, options)) == []
    assert key_of(first) != key_of(second)  # and without the option it does
