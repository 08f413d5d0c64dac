"""The credentials a request carried that its recording does not keep, kept off disk when they come back.

A request's API key header, cookie, proxy credentials, URL password and secret query parameters are
dropped or redacted when it is stored. A server may send one back: a 401 that quotes the key ("The API
key 1f2e... is not valid"), a debug endpoint echoing the request, a transport error quoting a header
line (h11's "Illegal header value b'<key>\\n'"). The scanner cannot tell such a value from text when
it has no known format, but the recording knows it exactly: each one is written as ``REDACTED``
wherever it appears in the response (headers, body, events, error message).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

import msgspec
from msgspec import UNSET

from httpx_cassette.core.embedded import declared_charset
from httpx_cassette.core.findings import Finding, mask
from httpx_cassette.core.places import decoded_bytes
from httpx_cassette.core.prefilter import distinct_parts
from httpx_cassette.core.redact import SECRET_HEADERS, map_values
from httpx_cassette.core.request import LiveRequest
from httpx_cassette.core.scan_bytes import unpacked_texts
from httpx_cassette.core.secrets import REDACTED, secret_value, token_like
from httpx_cassette.core.strings import Strings
from httpx_cassette.core.transcript import transcript_of
from httpx_cassette.errors import CassetteSecretError
from httpx_cassette.model.cassette import Event, Response
from httpx_cassette.model.served import header_value

__all__ = ["carried", "scrubbed", "scrubbed_data"]

MIN_LENGTH = 8  # shorter values ("en", "1") would redact ordinary text wherever it appears
_ENCODER = msgspec.json.Encoder()


def carried(request: LiveRequest, dropped: Iterable[str] = (), mapped: Iterable[str] = ()) -> frozenset[str]:
    """The credentials in a live ``request``'s headers and URL that its recording does not keep: secret
    headers (``dropped``: more header names never stored) whole, after their scheme, and decoded from
    Basic; each cookie's value; the URL's password and secret query parameters. What holds a value the
    user ``mapped`` to a placeholder is left to the placeholder, which replay puts back."""
    names = SECRET_HEADERS | {name.lower() for name in dropped}
    found: set[str] = set()
    raw = request.headers
    headers: Iterable[tuple[str, str]] = raw.multi_items() if hasattr(raw, "multi_items") else raw.items()
    for name, value in headers:
        lower, value = name.lower(), value.strip()
        if lower in ("cookie", "cookie2"):
            found.update(part.partition("=")[2].strip() for part in value.split(";"))
        elif lower in names or secret_value(lower, value):  # a random id header (a trace) is no secret
            found.add(value)
            scheme, _, credentials = value.partition(" ")
            found.add(credentials.strip())
            if scheme.lower() == "basic":
                found.update(_basic(credentials.strip()))
    url = str(request.url)
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # a URL httpx sent but urllib cannot split (a bad port): its query still counts
        parts, password = urlsplit(url.partition("#")[0].partition("@")[2] or url), None
    found.add(password or "")
    found.update(
        v for k, v in parse_qsl(parts.query, keep_blank_values=True) if secret_value(k, v, query=True)
    )
    mapped = [m for m in mapped if m]
    return frozenset(
        v for v in found if len(v) >= MIN_LENGTH and v != REDACTED and not any(m in v for m in mapped)
    )


def _basic(credentials: str) -> list[str]:
    """``user:password`` and the password, from Basic credentials."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return []
    return [decoded, decoded.partition(":")[2]]


_ECHOED = "echoes a credential its request carried"


def scrubbed(response: Response, secrets: frozenset[str], walked: Strings | None = None) -> Response:
    """``response`` with each of ``secrets`` (and its percent-encoded form) written as ``REDACTED``
    wherever it appears; the very object when none does. Its distinct strings are searched, as the
    scan reads them (`_left_in`); ``walked``: its stream events' distinct strings, when known (a
    2,000-event stream repeats most of its text). One still there after the rewrite (over several
    events, in JSON written inside a string, as a number) is refused: `CassetteSecretError`.

    A body kept as bytes (base64, or text with NULs) is searched as a client reads it too: in each
    charset it may be read in and through each compression layer (`unpacked_texts`). A secret found
    there is rewritten in the charset it is written in (UTF-16, UTF-32, the declared one); one that is
    still there after that (inside compressed data, in a charset no bytes can be matched in) cannot be
    written as ``REDACTED`` in place: `CassetteSecretError`, and nothing is written."""
    if not secrets:
        return response
    forms = _forms(secrets)
    # "Bearer <key>" holds "<key>": searching the shortest forms finds every one
    needles = [n for n in forms if not any(other != n and other in n for other in forms)]
    body = decoded_bytes(response.base64) if isinstance(response.base64, str) else b""
    nul_text = response.text if isinstance(response.text, str) and "\x00" in response.text else None
    charset = declared_charset(header_value(response.headers, "content-type")) if body else ""
    seen = _left_in(response, needles, walked) or any(n.encode() in body for n in needles)
    if not seen and _read_in(needles, body, nul_text, charset) is None:
        return response
    ordered = sorted(forms, key=len, reverse=True)
    change = _change(ordered)
    changes: dict[str, Any] = {"headers": {k: change(v) for k, v in response.headers.items()}}
    if response.body is not UNSET:
        events = response.events()
        changes["body"] = [_event(e, change) for e in events] if events else map_values(response.body, change)
    if isinstance(response.text, str):
        text = change(response.text)
        if nul_text is not None:  # UTF-16 or UTF-32 a client may read it as (json.loads sniffs it)
            text = _rewritten(text.encode("utf-8", "surrogatepass"), ordered, "").decode("utf-8", "replace")
            _refuse_unwritten(needles, b"", text, "", _ECHOED)
        changes["text"] = text
    if body:
        body = _rewritten(body, ordered, charset)
        _refuse_unwritten(needles, body, None, charset, _ECHOED)
        changes["base64"] = base64.b64encode(body).decode()
    if response.error is not None:
        changes["error"] = msgspec.structs.replace(response.error, message=change(response.error.message))
    result = msgspec.structs.replace(response, **changes)
    # What the rewrite could not reach is refused when it looks like a credential; a value that only
    # happens to be one a request carried (a locale cookie, a short fake key, an id) is left, as before.
    # Every spelling is looked for: a key may hold a shorter value the request carried (a cookie's
    # account id) that is no credential itself, and stood for it among the needles.
    if left := _left_in(result, sorted(f for f in forms if _credential_like(f))):
        _refuse_left(result, left)
    return result


# A JSON number: a credential of digits only is echoed as one, where no string rewrite reaches it.
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def _credential_like(value: str) -> bool:
    """A token (16+ characters of two kinds), or 16+ digits: a value worth refusing a recording over."""
    return token_like(value) or (value.isdigit() and len(value) >= 16)


def _as_number(needle: str, as_json: str) -> bool:
    return re.search(rf"(?<![\w.+-]){re.escape(needle)}(?![\w.+-])", as_json) is not None


def _left_in(response: Response, needles: list[str], walked: Strings | None = None) -> str | None:
    """The first of ``needles`` that ``response`` holds: in any of its strings and keys, in JSON written
    inside them, in what its stream says assembled (a value sent over many events), or as a number;
    ``walked``: its stream events' distinct strings, when known."""
    if not needles:
        return None
    found, _, _, pieces = distinct_parts(response, walked)
    text = "\0".join(map(str, found - pieces))  # a piece is in the string that holds it whole
    numbers = [n for n in needles if _NUMBER.fullmatch(n)]
    as_json = _ENCODER.encode(response).decode("utf-8", "replace") if numbers else ""
    for needle in needles:
        if needle in text or (needle in numbers and _as_number(needle, as_json)):
            return needle
    return None


def _refuse_left(response: Response, left: str) -> None:
    """Raise `CassetteSecretError` for an echoed credential a rewrite of each string cannot reach, saying
    where it is and what to do."""
    events = response.events()
    if events and left in "\0".join(transcript_of(events).said()):
        where = "sent over several stream events"
    elif _NUMBER.fullmatch(left) and _as_number(left, _ENCODER.encode(response).decode("utf-8", "replace")):
        where = "as a JSON number"
    else:
        where = "in JSON written inside a string"
    raise CassetteSecretError(
        f"refusing to record: the response {_ECHOED} (a credential header, a cookie, a URL password or key),"
        f" {mask(left)}, {where}, where it cannot be rewritten in place; nothing was written (the caller got"
        " the live response). Keep the server from sending it back; or, if the value is no secret (a fake"
        ' key a test sends), give it a placeholder: placeholders={"<NAME>": value}, which replay puts back',
        [Finding(None, "$.response", f"the response {_ECHOED}, {where}", mask(left))],
    )


def scrubbed_data(data: Any, secrets: frozenset[str]) -> Any:
    """JSON-like ``data`` (what another recorder stored of a response: a llama-stack file's) with each of
    ``secrets`` and its percent-encoded form written as ``REDACTED`` in every string, as `scrubbed`
    writes them in a response; ``data`` itself when there is none."""
    if not secrets:
        return data
    return map_values(data, _change(sorted(_forms(secrets), key=len, reverse=True)))


def _forms(secrets: frozenset[str]) -> set[str]:
    """Every spelling (`_spellings`) of each of ``secrets``."""
    return {form for secret in secrets for form in _spellings(secret)}


def _spellings(secret: str) -> set[str]:
    """``secret`` as hiding finds it (`httpx_cassette.core.placeholders`): as written, percent-encoded
    with either case of hex, form-encoded (a space as ``+``)."""
    quoted = quote(secret, safe="")
    lower = re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quoted)
    return {secret, quoted, lower, quote_plus(secret, safe="")}


def _change(ordered: list[str]) -> Callable[[str], str]:
    """What writes each of ``ordered`` (the longest first) as ``REDACTED`` in a string."""

    def change(text: str) -> str:
        for form in ordered:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    return change


# The charsets a secret is rewritten in within a body's bytes (and the one its content-type declares):
# UTF-8, and UTF-16 and UTF-32 as texts_of_bytes reads them (a byte-order mark or the NULs of ASCII).
_CODECS = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")


def _codecs(charset: str) -> list[str]:
    try:
        declared = codecs.lookup(charset).name if charset else ""
    except LookupError:  # a charset Python has no codec for: read as the others
        declared = ""
    extra = declared and declared not in _CODECS and declared not in ("utf-16", "utf-32")
    return [*_CODECS, declared] if extra else list(_CODECS)


def _rewritten(body: bytes, ordered: list[str], charset: str) -> bytes:
    """``body`` with each form (longest first) written as ``REDACTED`` in each charset it is written in."""
    for codec in _codecs(charset):
        for form in ordered:
            try:
                found, redacted = form.encode(codec), REDACTED.encode(codec)
            except (UnicodeError, LookupError):  # a form this charset cannot write
                continue
            if found in body:
                body = body.replace(found, redacted)
    return body


def _read_in(
    needles: list[str], body: bytes, text: str | None, charset: str, names: frozenset[str] = frozenset()
) -> str | None:
    """The first of ``needles`` a client reads in ``body`` (in ``charset`` too) or, for a body stored as
    text with NULs, in ``text`` (`unpacked_texts`: every charset, every compression layer), ``names``
    (placeholders: ``<ORG_KEY>`` holds ``ORG``) left out."""
    if body:
        readings = unpacked_texts(body, [0], charset)[0]
    elif text:
        readings = unpacked_texts(text.encode("utf-8", "surrogatepass"), [0])[0]
    else:
        return None
    texts = [read.text for read in readings]
    if names:
        hidden = re.compile("|".join(re.escape(name) for name in sorted(names, key=len, reverse=True)))
        texts = [hidden.sub("\0", text) for text in texts]
    return next((n for n in needles if any(n in text for text in texts)), None)


def refuse_unhidden(response: Response, hiding: Mapping[str, str]) -> None:
    """After placeholders were written (``hiding``: ``{secret: placeholder}``), raise `CassetteSecretError`
    when a client still reads a secret in the body kept as bytes: where hiding cannot rewrite in place (a
    zip's file, a bzip2 body). Nothing is rewritten here."""
    body = decoded_bytes(response.base64) if isinstance(response.base64, str) else b""
    nul_text = response.text if isinstance(response.text, str) and "\x00" in response.text else None
    if not hiding or not (body or nul_text):
        return
    charset = declared_charset(header_value(response.headers, "content-type")) if body else ""
    needles = sorted(_forms(frozenset(hiding)), key=len, reverse=True)
    names = frozenset(hiding.values())
    _refuse_unwritten(needles, body, nul_text, charset, "holds a placeholder's value", names)


def _refuse_unwritten(
    needles: list[str],
    body: bytes,
    nul_text: str | None,
    charset: str,
    what: str,
    names: frozenset[str] = frozenset(),
) -> None:
    """Raise `CassetteSecretError` when a client still reads one of ``needles`` in the rewritten body;
    ``what``: what the response does with it, for the error ("echoes a credential its request carried")."""
    left = _read_in(needles, body, nul_text, charset, names)
    if left is None:
        return
    kind = (
        f"the response {what} in its body, in a form that cannot be rewritten in place (compressed, or in"
        " a charset its bytes cannot be matched in)"
    )
    finding = Finding(None, "$.response.body", kind, mask(left))
    raise CassetteSecretError(
        f"refusing to record: the response {what}, {mask(left)}, in its body read as a client reads"
        " it (decompressed, or in its charset), where it cannot be rewritten in place; nothing was written"
        " (the caller got the live response). Record without that value, or keep the server from sending"
        " it",
        [finding],
    )


def _event(event: Event, change: Callable[[str], str]) -> Event:
    data = event.parsed()
    changed = map_values(data, change)
    if isinstance(event.data, msgspec.Raw):
        changed = msgspec.Raw(_ENCODER.encode(changed)) if changed != data else event.data
    return msgspec.structs.replace(
        event,
        data=changed,
        event=change(event.event) if event.event else event.event,
        id=change(event.id) if event.id else event.id,
    )
