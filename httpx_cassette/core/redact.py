"""What never reaches disk: secret headers, URL passwords, secret-named query parameters and body fields
(by the rules of `httpx_cassette.core.secrets`), transport-only headers, body fields a user names, and
secret values a user maps to placeholders.

Redaction runs before a request is keyed and before anything is written, so a replayed request
(redacted the same way) still finds its recording. Placeholders work both ways, like Ruby VCR's
``filter_sensitive_data``: the secret is written as its placeholder, and replayed responses get the
secret back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import msgspec
from msgspec import UNSET

from httpx_cassette.core.embedded import embedded_json, formish, header_pair, maybe_json
from httpx_cassette.core.fields import field_texts
from httpx_cassette.core.lenient import written_again
from httpx_cassette.core.origin import leads_elsewhere
from httpx_cassette.core.placeholders import Placeholders
from httpx_cassette.core.places import redact_url, redact_urls_in_text, scrub_free_text
from httpx_cassette.core.secrets import (
    REDACTED,
    any_secret_name,
    field_name,
    hashed,
    random_token,
    secret_value,
)
from httpx_cassette.core.strings import Strings, distinct, of_events
from httpx_cassette.model.body import media_type
from httpx_cassette.model.cassette import Part, Request, Response
from httpx_cassette.model.jsonpath import (  # one path syntax for ignoring and for redacting
    apply_at,
    parse_path,
)

__all__ = [
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY_PARAMS",
    "Redaction",
    "map_values",
    "redact_url",
    "response_headers",
]

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "api-key",
        "x-api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
        "set-cookie2",
        "openai-organization",
        "openai-project",
    }
)

# Bodies are stored decoded, so these would lie about the stored body; the rest is per-connection.
TRANSPORT_HEADERS = frozenset(
    {"content-encoding", "content-length", "transfer-encoding", "connection", "keep-alive"}
)

# Examples only: any parameter whose name `secret_named` calls secret is redacted (`redact_url`).
SECRET_QUERY_PARAMS = frozenset({"api-key", "api_key", "key", "token", "access_token", "sig"})


def response_headers(
    headers: Iterable[tuple[str, str]], drop: frozenset[str] = SECRET_HEADERS | TRANSPORT_HEADERS
) -> dict[str, str]:
    """Response headers worth storing: lower-cased, secrets and transport headers dropped, the values of
    other secret-named headers (``x-session-token``, ``*-secret``, ``*-key``) as ``REDACTED``."""
    kept: dict[str, list[str]] = {}
    for name, value in headers:
        lower = name.lower()
        if lower not in drop:
            kept.setdefault(lower, []).append(value)
    # Each occurrence, and each part of one a proxy joined already, is judged alone: joined, "tok, tok"
    # holds a space, so it would not look like a token.
    return {
        k: REDACTED
        if any(secret_value(k, p) for v in values for p in (v, *v.split(",")))
        else ", ".join(values)
        for k, values in kept.items()
    }


def kept_request_headers(headers: Mapping[str, str], keep: Iterable[str]) -> dict[str, str]:
    """Only the request headers named in ``keep``, lower-cased. A secret one (a known secret header, a
    secret name, or a random token as its value) is kept as its slow hash (`hashed`, salted with its
    name), so it still counts in the key (``match_headers``) but never reaches disk."""
    kept = {name: headers[name] for name in keep if name in headers}
    return {k: hashed(v, k) if _secret_header(k, v) else v for k, v in kept.items()}


def _secret_header(name: str, value: str) -> bool:
    if name in SECRET_HEADERS or any(secret_value(name, p) for p in (value, *value.split(","))):
        return True  # each comma-separated part too: a header sent twice arrives joined
    return name != "content-type" and random_token(value) is not None  # a multipart boundary is random


def _names_secrets(keys: set[Any]) -> bool:
    """Whether data with these keys may hold a secret-named field: headers echoed as pairs name theirs
    in values, not keys."""
    return "headers" in keys or any_secret_name(keys)


def _redacted(_: Any) -> str:
    return REDACTED


def map_values(value: Any, change: Callable[[str], str], number: Callable[[int], Any] | None = None) -> Any:
    """``value`` with ``change`` applied to every string in it (dictionary keys included), ``number``
    (if any) to every whole number."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [map_values(v, change, number) for v in value]
    if isinstance(value, dict):
        return {
            change(k) if isinstance(k, str) else k: map_values(v, change, number) for k, v in value.items()
        }
    if number is not None and isinstance(value, int) and not isinstance(value, bool):
        return number(value)
    return value


def _same(value: Any) -> Any:
    return value


class Redaction:
    """What a cassette hides, applied to every request before it is keyed and to every recording before
    it is written.

    By default, the value of every secret-named field (`httpx_cassette.core.secrets.secret_value`:
    ``password``, ``client_secret``, ``api_key``, a token-like ``token``...) in JSON bodies, stream
    events, form bodies and multipart text fields is stored as ``"REDACTED"``, unless ``allowed``
    says the value is no secret. URLs in error messages lose their passwords and secret parameters.

    ``json_paths`` are more body fields replaced by ``"REDACTED"`` in requests, responses and each event of
    a stream, in the syntax of ``ignore_json_paths`` (``user``, ``metadata.api_key``, ``messages[*].name``).
    ``headers`` are request and response headers never stored, on top of `SECRET_HEADERS`.
    ``placeholders`` maps a placeholder to a secret value (``{"<ACCOUNT_ID>": os.environ["ACCOUNT_ID"]}``,
    see `Placeholders`): the secret is written as the placeholder wherever it occurs, and replayed
    responses get the secret back. An empty secret hides nothing and is skipped, so
    ``os.environ.get(NAME, "")`` is fine where it is unset.
    """

    def __init__(
        self,
        json_paths: Iterable[str] = (),
        headers: Iterable[str] = (),
        placeholders: Mapping[str, str] | None = None,
        allowed: Callable[[str], bool] | None = None,
    ) -> None:
        self.json_paths = tuple(json_paths)
        self._paths = tuple(parse_path(p) for p in self.json_paths)
        self.headers = frozenset(h.lower() for h in headers)
        self.placeholders = Placeholders(placeholders)
        self._allowed = allowed or (lambda value: False)

    def __bool__(self) -> bool:
        return bool(self._paths or self.headers or self.placeholders)

    # -- strings -------------------------------------------------------------------------------------

    def hide(self, text: str) -> str:
        """``text`` with every secret replaced by its placeholder."""
        return self.placeholders.hide(text)

    def reveal(self, text: str) -> str:
        """``text`` with every placeholder replaced by its secret (for replay)."""
        return self.placeholders.reveal(text)

    def _secret(self, name: str, value: Any, *, query: bool = False) -> bool:
        return secret_value(name, value, query=query) and not self._allowed(str(value))

    def _fields(self, value: Any, parent: str | None = None) -> Any:
        """Secret-named fields as ``REDACTED``, at any depth (objects named ``headers`` too, and JSON
        written into a string)."""
        if isinstance(value, list):
            return [self._fields(v) for v in value]
        if isinstance(value, dict):
            return {k: self._field(parent, str(k), v, value) for k, v in value.items()}
        if isinstance(value, str) and maybe_json(value):
            return self._json_text(value)
        return value

    def _field(self, parent: str | None, key: str, value: Any, siblings: dict[Any, Any]) -> Any:
        name, query = field_name(parent, key, siblings)  # the name the scanner's walk goes on with too
        return self._named(name, value, query)

    def _named(self, name: str, value: Any, query: bool) -> Any:
        if isinstance(value, list):  # the items of a list, nested lists too, are judged by its name
            if name == "headers":  # [["Authorization", "Basic ..."], ...]: a value judged by its header
                return [
                    [v[0], self._named(v[0], v[1], False)] if header_pair(v) else self._named(name, v, query)
                    for v in value
                ]
            return [self._named(name, v, query) for v in value]
        return REDACTED if self._secret(name, value, query=query) else self._fields(value, name)

    def _json_text(self, text: str) -> str:
        """JSON written into a string (a tool call's arguments, a body sent as text, a spaced NDJSON line)
        with its secret-named fields ``REDACTED``; written again, compact, only when one was."""
        inner = embedded_json(text)
        if inner is None:
            return text
        redacted = self._fields(inner)
        return text if redacted == inner else written_again(text, redacted, self._fields)

    def _text(self, text: str, *, form: bool = False, placeholders: bool = True) -> str:
        """A body or stream line kept as text, as stored: a form's secret fields, or the secret-named
        fields of the JSON it holds, ``REDACTED`` (whatever its content-type says); then placeholders,
        unless the caller applies them."""
        if form or formish(text):
            text = self._form(text)
        elif maybe_json(text):
            text = self._json_text(text)
        return self.placeholders.hide_url(text) if placeholders else text

    def _json(
        self, value: Any, change: Callable[[str], str], *, store: bool, fields: bool | None = None
    ) -> Any:
        """``value`` as stored (``store``) or replayed; ``fields``: whether it may hold secret-named fields
        (None: look). Data held as its JSON text is decoded: it is about to change."""
        if isinstance(value, msgspec.Raw):
            value = msgspec.json.decode(value)
        if store:
            for path in self._paths:
                value = apply_at(value, path, _redacted)
            if _names_secrets(distinct(value).keys) if fields is None else fields:
                value = self._fields(value)
        if not self.placeholders:
            return value
        marks = self.placeholders
        if not store and marks.numbers:
            value = self._numbers_back(value)
        return map_values(value, change, marks.hide_number if store else _same)

    def _numbers_back(self, value: Any) -> Any:
        """Values that are exactly the placeholder of a numeric secret, as that number again."""
        if isinstance(value, str):
            number = self.placeholders.reveal_number(value)
            return value if number is None else number
        if isinstance(value, list):
            return [self._numbers_back(v) for v in value]
        if isinstance(value, dict):
            return {k: self._numbers_back(v) for k, v in value.items()}
        return value

    def _form(self, text: str) -> str:
        """A form body with secret fields ``REDACTED`` (every other pair keeps its exact encoding)."""
        pairs = text.split("&")
        for i, pair in enumerate(pairs):
            name, eq, value = pair.partition("=")
            if not eq:
                continue
            plain = unquote_plus(value)
            if self._secret(unquote_plus(name), plain, query=True):
                pairs[i] = f"{name}={REDACTED}"
            elif maybe_json(plain) and (inner := self._json_text(plain)) != plain:  # a field holding JSON
                pairs[i] = f"{name}={quote_plus(inner)}"
        return "&".join(pairs)

    # -- requests and responses ------------------------------------------------------------------------

    def request(self, record: Request) -> Request:
        """The request as it is keyed and stored."""
        changes: dict[str, Any] = {"url": self.placeholders.hide_url(record.url)}
        if self.headers or self.placeholders:
            changes["headers"] = {k: self.hide(v) for k, v in record.headers.items() if k not in self.headers}
        if record.body is not UNSET:
            changes["body"] = self._json(record.body, self.hide, store=True)
        if isinstance(record.text, str):
            form = media_type(record.headers.get("content-type")) == "application/x-www-form-urlencoded"
            changes["text"] = self._text(record.text, form=form)
        if isinstance(record.base64, str):
            changes["base64"] = self.placeholders.hide_base64(record.base64)
        if isinstance(record.multipart, list):
            changes["multipart"] = [self._part(part) for part in record.multipart]
        return msgspec.structs.replace(record, **changes)

    def _part(self, part: Part) -> Part:
        value, encoded = part.value, part.base64
        if value is not None:
            secret = self._secret(part.name, value)
            value = REDACTED if secret else self.hide(self._text(value, placeholders=False))
        if encoded is not None:  # a field that is no UTF-8 text: judged by its name in each reading of it
            secret = any(self._secret(part.name, text) for text in field_texts(encoded, part.content_type))
            value, encoded = (REDACTED, None) if secret else (None, self.placeholders.hide_base64(encoded))
        filename = self.hide(part.filename) if part.filename is not None else None
        return msgspec.structs.replace(part, value=value, filename=filename, base64=encoded)

    def response(self, response: Response, events: Strings | None = None) -> Response:
        """The response as it is written; raises `PlaceholderClash` if it holds a placeholder's text.

        ``events``: the distinct strings of its stream's events, when already walked
        (`httpx_cassette.core.strings.of_events`). A stream with nothing to change keeps its event list:
        the very list, so that a caller can tell the walk still holds for it.
        """
        return self._response(response, self.placeholders.hide_checked, store=True, events=events)

    def restore(self, response: Response, url: str | None = None) -> Response:
        """A stored response as replay serves it: placeholders back to their secrets, except in a text
        that, so restored, names a URL leading away from the origin of the request ``url``
        (`httpx_cassette.core.origin`). A file is read back from pull requests: a redirect, a link or a
        "next" URL it says leads elsewhere must not carry a secret there, and the only origin that ever
        knew it is the one it was sent to."""
        if not self.placeholders:
            return response
        return self._response(response, self._revealer(url), store=False, url=url)

    def with_placeholders(self, placeholders: Mapping[str, str]) -> Redaction:
        """This redaction, putting back only ``placeholders`` (those a response's seal proves)."""
        narrowed = copy.copy(self)
        narrowed.placeholders = Placeholders(placeholders)
        return narrowed

    def restore_bytes(self, body: bytes, url: str | None = None) -> bytes:
        """`restore` for a body kept in a side file."""
        return (
            self.placeholders.reveal_bytes(body, unless=leads_elsewhere(url)) if self.placeholders else body
        )

    def _revealer(self, url: str | None) -> Callable[[str], str]:
        reveal, leaves = self.reveal, leads_elsewhere(url)

        def change(text: str) -> str:
            shown = reveal(text)
            return text if shown != text and leaves(shown) else shown

        return change

    def meta(self, user_agent: str) -> str:
        """A User-Agent as stored: placeholders, then what looks like a credential in it, hidden."""
        return scrub_free_text(self.hide(user_agent))

    def _response(
        self,
        response: Response,
        change: Callable[[str], str],
        *,
        store: bool,
        events: Strings | None = None,
        url: str | None = None,
    ) -> Response:
        stream = response.events()
        fields = None
        if stream and store:
            fields = _names_secrets((of_events(stream) if events is None else events).keys)

        def data(value: Any) -> Any:
            return self._json(value, change, store=store, fields=fields)

        def text(value: str) -> str:  # placeholders are `change`'s to apply
            return self._text(value, placeholders=False) if store else value

        changes: dict[str, Any] = {
            "headers": {k: change(v) for k, v in response.headers.items() if k not in self.headers}
        }
        if response.is_streaming:
            if fields or self._paths or self.placeholders or not store:  # else nothing to change in it
                changes["body"] = [
                    msgspec.structs.replace(
                        event,
                        data=change(text(event.data)) if event.raw else data(event.data),
                        id=change(event.id) if event.id is not None else None,
                    )
                    for event in stream
                ]
        elif response.body is not UNSET:
            changes["body"] = data(response.body)
        if isinstance(response.text, str):
            changes["text"] = change(text(response.text))
        if isinstance(response.base64, str):
            marks = self.placeholders
            changes["base64"] = (
                marks.hide_base64(response.base64, check=True)
                if store
                else marks.reveal_base64(response.base64, unless=leads_elsewhere(url))
            )
        if response.error is not None:
            message = redact_urls_in_text(response.error.message) if store else response.error.message
            changes["error"] = msgspec.structs.replace(response.error, message=change(message))
        return msgspec.structs.replace(response, **changes)
