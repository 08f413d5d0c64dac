"""Whether a recording needs the full secret check: a few C-level tests over its distinct strings and
keys, run before the walk with paths that reports each finding. Most LLM traffic passes it clean, so a
recording's check costs about a millisecond; anything that may hold a credential gets the full check.
"""

from __future__ import annotations

import re
from collections.abc import Set
from typing import Any

import msgspec
from msgspec import UNSET

from httpx_cassette.core.budget import MAX_NESTED
from httpx_cassette.core.decoded import base64_inside
from httpx_cassette.core.embedded import (
    code_secrets,
    embedded_json,
    form_pairs,
    formish,
    inline_secrets,
    json_pairs,
    maybe_json,
)
from httpx_cassette.core.escapes import unescaped
from httpx_cassette.core.places import may_hold_url
from httpx_cassette.core.secrets import (
    any_secret_name,
    assigned_secrets,
    connection_secrets,
    secret_value,
)
from httpx_cassette.core.streamed import said_in_body
from httpx_cassette.core.strings import Strings, distinct, of_events
from httpx_cassette.model.cassette import Request, Response, builtins

__all__ = ["FORM_TYPE", "clean_json_body", "distinct_parts", "may_hold_secret"]

# Every known format needs one of these literally (one search each, not one regex of alternatives:
# Python's re tries every branch at every position).
_ANCHORS = (
    *(
        "sk-",
        "earer",
        "asic",
        "AKIA",
        "ASIA",
        "ABIA",
        "ACCA",
        "eyJ",
        "AIza",
        "github_pat_",
        "xox",
        "hf_",
        "gsk_",
        "ek_",
    ),
    *("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "PRIVATE KEY", "://", "xapp-"),
    *("k_live_", "k_test_", "glpat-", "npm_", "pypi-", "SG."),
    *("ya29.", "GOCSPX-", "xai-", "pplx-", "r8_", "tvly-", "pcsk_", "lsv2_", "csk-", "hvs.", "hvb.", "hvr."),
    "dapi",
)
# Each a pattern of one literal: `re` finds one 1.3 to 1.8 times faster than `in` does in long text (a
# stream's transcript, a conversation), and every recording searches for dozens.
_ANCHOR_SEARCHES = tuple(re.compile(re.escape(anchor)).search for anchor in _ANCHORS)
# Formats whose prefix alone is common ("sk_" in "task_id", "pa-" in "spa-"): their shape, searched from
# the prefix (`re` skips to it in C).
_SHAPES = (re.compile(r"sk_[0-9a-f]{48}"), re.compile(r"pa-[\w-]{40}"))
FORM_TYPE = "application/x-www-form-urlencoded"
# Keys the scanner reads otherwise than by their name: a body's coding or file, a user agent, an echoed
# object of headers, a stream's events written out (their pieces assembled).
_SPECIAL_KEYS = ("base64", "multipart", "body_file", "user_agent", "origin", "headers", "__data__")


def may_hold_secret(
    found: set[Any], head_keys: set[Any], body_keys: set[Any], pieces: Set[str] = frozenset()
) -> bool:
    """Whether a recording can hold a secret outside its own headers, from its distinct strings and
    keys (those of JSON inside its strings included, see `httpx_cassette.core.strings`): a known format,
    a URL or a form anywhere, a body stored as base64 or in a side file, an echoed ``headers`` object, a
    secret-named field (which may then hold a secret value), base64 of text anywhere in a string, a
    ``"name": "value"`` pair with a secret name in text that is not whole JSON, or a string that reads
    as a form with a secret-named field; and the same, at any depth, in the values of such forms
    (decoded, and the JSON in them), as the scanner judges a form's values. ``pieces``: strings of
    ``found`` another of them holds whole (`httpx_cassette.core.strings.Strings`)."""
    if any(key in head_keys or key in body_keys for key in _SPECIAL_KEYS):
        return True
    if any_secret_name(body_keys) or any_secret_name(head_keys):
        return True
    seen: set[Any] = set()
    todo, skip, depth = found, pieces, 0
    while todo:
        depth += 1
        if depth >= MAX_NESTED - 2:  # as deep as the scanner reads: it reports the rest as not checked
            return True
        joined = "\0".join(skip)  # the pieces' own text, joined once
        # The tests of one string at a time take only strings of `_ALONE`+ characters or with one of
        # `_ONE_BY_ONE`: a stream's pieces (" word" by " word") seldom are, and then need no look.
        each = todo - skip if skip and _none_one_by_one(skip, joined) else todo
        if _strings_may_hold(todo, skip, joined, each):
            return True
        seen |= todo
        # A form written into a string (an event's data, a multipart field): its names are keys too,
        # its values strings (``q=%41%4B%49%41...`` shows no anchor until decoded).
        forms = [form_pairs(s) for s in each if type(s) is str and "=" in s and formish(s)]
        names = {name for pairs in forms for name, _ in pairs}
        if any_secret_name(names) or any(name in names for name in _SPECIAL_KEYS):
            return True
        values = {value for pairs in forms for _, value in pairs}
        values.update(reading for s in each if type(s) is str for reading in unescaped(s))  # escapes undone
        jsons = [data for value in values if maybe_json(value) and (data := embedded_json(value))]
        inside = _assembled(distinct(jsons))  # a response logged in one: its stream assembled
        if any(key in inside.keys for key in _SPECIAL_KEYS) or any_secret_name(inside.keys):
            return True
        todo, skip = (values | inside.found) - seen, frozenset()  # a value is shorter than its form
    return False


_ONE_BY_ONE = '":;='  # what a string needs, or `_ALONE`+ characters, for a test of it alone
# The shortest string a test of one string at a time can flag without one of `_ONE_BY_ONE`: a quoted
# header line, ``Cookie s=`` and an 8-character value (a pair in code needs 20, base64 24).
_ALONE = 15


def _none_one_by_one(pieces: Set[str], joined: str) -> bool:
    """Whether no string of ``pieces`` (``joined``: their text) would be tested alone (forms too)."""
    return max(map(len, pieces)) < _ALONE and not any(char in joined for char in _ONE_BY_ONE)


def _strings_may_hold(found: set[Any], pieces: Set[str], joined: str, each: set[Any]) -> bool:
    """The tests of `may_hold_secret` on strings alone; ``joined``: the text of ``pieces``; ``each``:
    those of ``found`` tested one by one."""
    rest = found - pieces if pieces else found
    text = "\0".join(map(str, rest))  # NUL: no pattern spans two strings
    # A NUL inside a string: text a client may read as UTF-16 or UTF-32, as the scanner then does
    if text.count("\0") != max(len(rest) - 1, 0):
        return True
    # An anchor or a shape in a piece is in the string that holds it: half a stream's text is pieces.
    if any(search(text) for search in _ANCHOR_SEARCHES) or any(shape.search(text) for shape in _SHAPES):
        return True
    if pieces:  # the tests below are not all a substring's (a path "standing on its own")
        text = f"{text}\0{joined}"
    # A form's content-type in any case; a URL, written out or percent-encoded (`has_url`'s rule).
    if FORM_TYPE in text.lower() or may_hold_url(text):
        return True
    # Distinct strings only: base64 (anywhere in one, as the scanner reads it) needs 24+ characters, a
    # pair in code 20+ (`KEY=` and a 16-character token), a quoted header line 15+, a JSON pair a quote,
    # a connection string `;` and `=`.
    strings = [
        s for s in each if type(s) is str and (len(s) >= _ALONE or '"' in s or (";" in s and "=" in s))
    ]
    if any(base64_inside(s) or _secret_pair(s) for s in strings):
        return True
    # A .env or YAML file, or one line of it (a prompt quoting `password: ...`).
    texts = [s for s in each if type(s) is str and (":" in s or "=" in s)]
    return any(assigned_secrets(s) or inline_secrets(s) for s in texts)


def _secret_pair(text: str) -> bool:  # or a connection string's secret setting ("AccountKey=...;")
    pairs = json_pairs(text)
    return any(secret_value(k, v) for k, v in pairs) or bool(connection_secrets(text) or code_secrets(text))


def distinct_parts(value: Response, body: Strings | None) -> tuple[set[Any], set[Any], set[Any], Set[str]]:
    """The distinct strings of a stored response, the keys of its own fields, and the keys of its body;
    ``body``: the distinct strings of its stream's events, when already known (one walk per recording).
    A stream stored otherwise (a JSON array of chunks, SSE or NDJSON text) adds what it says assembled
    (`httpx_cassette.core.streamed`): a key split over its chunks shows no anchor in any one of them.
    Last, the pieces of ``body`` (`Strings.pieces`)."""
    # Offsets are numbers (a response with anything else there is refused as unwritable), one per event.
    # Its headers apart: a `headers` key is then one inside its strings (an echo, JSON in an error). Its
    # text is a body, read with the body (its stream assembled once, by its content-type).
    own = msgspec.structs.replace(value, body=UNSET, text=UNSET, offsets_ms=UNSET, headers={})
    head = _assembled(distinct(builtins(own)))
    if body is None:
        events = value.events()
        data = None if events or value.body is UNSET else builtins(value.body)
        # A stream not stored as events (a JSON array of chunks, SSE or NDJSON text): what it says, whole
        said = [] if events else said_in_body(data, value.text, value.headers)
        body = of_events(events) if events else distinct([data, value.text, said])
    body = _assembled(body)
    found = body.found | head.found | value.headers.keys() | set(value.headers.values())
    return found, head.keys | value.headers.keys(), body.keys, body.pieces


def _assembled(strings: Strings) -> Strings:
    """``strings`` and what each object it holds with a ``status`` and a stream for a body says, as the
    scanner reads it (`Strings.held`): a key split over the chunks of a response logged inside another."""
    found, keys, held = strings.found, strings.keys, strings.held
    while held:
        said = [piece for one in held for piece in said_in_body(*one)]
        inner = distinct(said)
        found, keys, held = found | inner.found, keys | inner.keys, inner.held
    return strings._replace(found=found, keys=keys, held=())


def clean_json_body(value: Request) -> bool:
    """Whether a stored request has a JSON body that cannot hold a secret (`may_hold_secret` over its
    strings and keys): then the rest of the request alone needs the full check. A chat request's body
    is its whole conversation, walked here at C speed before the request is sent."""
    if value.body is UNSET:
        return False
    body = _assembled(distinct(builtins(value.body)))
    return not may_hold_secret(body.found, set(), body.keys)
