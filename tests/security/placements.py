"""Where a credential can sit in a request or a response, each with how to send it for real and how
to plant it by hand in a cassette file.

A `Placement` sends one secret through a real client (the OpenAI SDK, or a plain httpx / httpx2
client) to the local OpenAI-wire server, whose echo endpoint sends request parts back and whose
canned endpoint answers any header, content type or encoding. Secrets are random, made at run time.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import secrets
import string
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, quote_plus

import httpx

from tests.servers.echo import Canned

Outcome = Literal["redacted", "refused"]


# -- secrets --------------------------------------------------------------------------------------


def _mixed(make: Callable[[], str]) -> str:
    """A value of ``make`` with upper case, lower case and digits (what a random key has)."""
    while True:
        value = make()
        if (
            any(c.isupper() for c in value)
            and any(c.islower() for c in value)
            and any(c.isdigit() for c in value)
        ):
            return value


def hex32() -> str:
    """An Azure-OpenAI-style key: 32 hex characters."""
    while True:
        value = secrets.token_hex(16)
        if not value.isdigit() and not value.isalpha():
            return value


def token() -> str:
    """A long base64url token with no known prefix."""
    return _mixed(lambda: secrets.token_urlsafe(32).replace("-", "x").replace("_", "y"))


def openai_key() -> str:
    return "sk-" + "proj-" + token()


def aws_key_id() -> str:
    return "AKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def password() -> str:
    """A password with spaces (form-encoded as ``+`` or ``%20``)."""
    return f"correct horse {secrets.token_hex(5)} staple"


# -- cassette files planted by hand ----------------------------------------------------------------


def cassette(
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A cassette file (our format) with ``request`` / ``response`` fields on top of a plain exchange."""
    base = {
        "method": "POST",
        "url": "https://api.test/v1/echo/x",
        "headers": {"content-type": "application/json"},
    }
    return {
        "version": 1,
        "request": {**base, **(request or {})},
        "responses": [{"status": 200, **(response or {})}],
        "meta": meta or {"recorder": "hand"},
    }


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


Plant = Callable[[str], tuple[dict[str, Any], bytes | None]]  # -> (file JSON, side file bytes or None)


def in_request(**fields: Callable[[str], Any]) -> Plant:
    return lambda s: (cassette(request={k: make(s) for k, make in fields.items()}), None)


def in_response(**fields: Callable[[str], Any]) -> Plant:
    return lambda s: (cassette(response={k: make(s) for k, make in fields.items()}), None)


# -- placements -----------------------------------------------------------------------------------


@dataclass
class Ctx:
    """What a placement sends through: ``sdk()`` (the OpenAI SDK) or ``client()`` (httpx or httpx2),
    both over a `CassetteTransport` into the test's cassette directory, and the server's canned table."""

    sdk: Callable[..., Any]
    client: Callable[..., Any]
    canned: dict[str, Canned]
    replies: dict[str, str]  # what the chat endpoint answers to a user message


@dataclass
class Placement:
    name: str
    make: Callable[[], str]
    send: Callable[[Ctx, str], None]
    outcome: Outcome
    plant: Plant
    libraries: bool = False  # sent through plain httpx and httpx2 clients instead of the SDK
    options: dict[str, Any] = field(default_factory=dict)


def sdk_get(path: str, **options: Any) -> Callable[[Ctx, str], None]:
    """GET through the SDK; ``options`` values are callables of the secret (query, headers...)."""

    def send(ctx: Ctx, secret: str) -> None:
        sdk = ctx.sdk()
        sdk.get(path, cast_to=httpx.Response, options={k: v(secret) for k, v in options.items()})

    return send


def sdk_post(path: str, body: Callable[[str], Any]) -> Callable[[Ctx, str], None]:
    def send(ctx: Ctx, secret: str) -> None:
        ctx.sdk().post(path, cast_to=httpx.Response, body=body(secret))

    return send


def sdk_chat(content: Callable[[str], str], **extra: Callable[[str], Any]) -> Callable[[Ctx, str], None]:
    def send(ctx: Ctx, secret: str) -> None:
        messages = [{"role": "user", "content": content(secret)}]
        kwargs = {k: v(secret) for k, v in extra.items()}
        ctx.sdk().chat.completions.create(model="gpt-4o-mini", messages=messages, **kwargs)

    return send


def chat_reply(reply: Callable[[str], str], *, stream: bool) -> Callable[[Ctx, str], None]:
    """A chat completion (streamed or not) whose answer, not its question, holds the secret."""

    def send(ctx: Ctx, secret: str) -> None:
        question = f"what is in vault {id(ctx)}?"
        ctx.replies[question] = reply(secret)
        messages = [{"role": "user", "content": question}]
        answer = ctx.sdk().chat.completions.create(model="gpt-4o-mini", messages=messages, stream=stream)
        if stream:
            for _ in answer:
                pass

    return send


def canned(
    name: str, response: Callable[[str], Canned], *, stream: bool = False
) -> Callable[[Ctx, str], None]:
    """The SDK reads ``/v1/canned/<name>``, which answers ``response(secret)`` as it is."""

    def send(ctx: Ctx, secret: str) -> None:
        ctx.canned[name] = response(secret)
        ctx.sdk().get(f"/canned/{name}", cast_to=httpx.Response)

    return send


def plain(method: str, path: str, **kwargs: Callable[[str], Any]) -> Callable[[Ctx, str], None]:
    """A request through a plain httpx / httpx2 client; ``kwargs`` values are callables of the secret."""

    def send(ctx: Ctx, secret: str) -> None:
        with ctx.client() as client:
            client.request(method, path, **{k: v(secret) for k, v in kwargs.items()}).read()

    return send


def query(name: str, *, plain_client: bool = False) -> Placement:
    """A secret query parameter, sent by the SDK, or by plain httpx and httpx2 clients."""
    params = lambda s: {name: s, "limit": "10"}  # noqa: E731
    send = plain("GET", "/v1/echo/q", params=params) if plain_client else sdk_get("/echo/q", params=params)
    return Placement(
        f"query {name}" + (" (plain client)" if plain_client else ""),
        token,
        send,
        "redacted",
        in_request(url=lambda s: f"https://api.test/v1/echo/q?limit=10&{quote(name)}={quote(s)}"),
        libraries=plain_client,
    )


def json_field(name: str, make: Callable[[], str], value: Callable[[str], Any] = lambda s: s) -> Placement:
    """A secret-named field in a JSON request body, echoed into the JSON response body too."""
    return Placement(
        f"json field {name}",
        make,
        sdk_post("/echo/j", lambda s: {"input": "hi", name: value(s)}),
        "redacted",
        in_response(body=lambda s: {"data": {name: value(s)}}),
    )


def response_header(
    name: str, make: Callable[[], str], outcome: Outcome = "redacted", *, plain_client: bool = False
) -> Placement:
    """A response header holding the secret, read by the SDK, or by plain httpx and httpx2 clients."""
    tag = f"h-{name}" + ("-plain" if plain_client else "")

    def response(s: str) -> Canned:
        return Canned(b"{}", [("content-type", "application/json"), (name, s)])

    return Placement(
        f"response header {name}" + (" (plain client)" if plain_client else ""),
        make,
        plain_canned(tag, response) if plain_client else canned(tag, response),
        outcome,
        in_response(headers=lambda s: {name: s}),
        libraries=plain_client,
    )


def plain_canned(name: str, response: Callable[[str], Canned]) -> Callable[[Ctx, str], None]:
    """A plain httpx / httpx2 client reads ``/v1/canned/<name>``, which answers ``response(secret)``."""

    def send(ctx: Ctx, secret: str) -> None:
        ctx.canned[name] = response(secret)
        with ctx.client() as client:
            client.get(f"/v1/canned/{name}").read()

    return send


def gzipped(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


# -- checking a directory -------------------------------------------------------------------------


def _blobs(root: Path) -> Iterator[tuple[Path, bytes]]:
    """Every file's bytes, and every base64 body and side file decoded and decompressed."""
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        data = file.read_bytes()
        yield file, data
        encoded: list[bytes] = [data] if file.suffix == ".bin" else []
        if file.suffix == ".json":
            text = data.decode()
            encoded += [base64.b64decode(m) for m in _base64_values(json.loads(text))]
        for raw in encoded:
            yield file, raw
            for wbits in (16 + zlib.MAX_WBITS, zlib.MAX_WBITS):
                with contextlib.suppress(zlib.error):
                    yield file, zlib.decompress(raw, wbits)


def _base64_values(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "base64" and isinstance(v, str):
                yield v
            else:
                yield from _base64_values(v)
    elif isinstance(value, list):
        for item in value:
            yield from _base64_values(item)


def assert_absent(root: Path, secret: str) -> None:
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe=""), json.dumps(secret)[1:-1]}
    for file, blob in _blobs(root):
        for form in forms:
            assert form.encode() not in blob, f"{form!r} leaked into {file}"
