"""Five SDKs behind one call: build a client (own HTTP client or the SDK's default), make one chat call.

Used by the miss matrix, in this process and inside pytester runs of the plugin. An SDK that is not
installed is skipped by the tests (`installed`); none is imported before a test asks for it.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

KEY = "test-key-not-a-secret"
# Looks like an OpenAI key to the secret scanner: a response holding it must be refused.
LEAKED = "sk-proj-" + "A1b2C3d4" * 6


@dataclass(frozen=True)
class Sdk:
    name: str
    build: Callable[[str, Any, bool], Any]  # (server url, http client or None for the default, async)
    call: Callable[[Any, str, bool], Any]  # (client, text to send, async): the result, or a coroutine
    libraries: tuple[str, ...]  # the HTTP libraries the SDK takes a client of


def _own(http: Any, name: str) -> dict[str, Any]:
    return {name: http} if http is not None else {}


def _openai(url: str, http: Any, is_async: bool) -> Any:
    import openai

    cls = openai.AsyncOpenAI if is_async else openai.OpenAI
    return cls(base_url=f"{url}/v1", api_key=KEY, **_own(http, "http_client"))


def _anthropic(url: str, http: Any, is_async: bool) -> Any:
    import anthropic

    cls = anthropic.AsyncAnthropic if is_async else anthropic.Anthropic
    return cls(base_url=url, api_key=KEY, **_own(http, "http_client"))


def _groq(url: str, http: Any, is_async: bool) -> Any:
    import groq

    cls = groq.AsyncGroq if is_async else groq.Groq
    return cls(base_url=url, api_key=KEY, **_own(http, "http_client"))


def _cohere(url: str, http: Any, is_async: bool) -> Any:
    import cohere

    cls = cohere.AsyncClientV2 if is_async else cohere.ClientV2
    return cls(base_url=url, api_key=KEY, **_own(http, "httpx_client"))


def _mistral(url: str, http: Any, is_async: bool) -> Any:
    from mistralai.client import Mistral

    return Mistral(api_key=KEY, server_url=url, **_own(http, "async_client" if is_async else "client"))


def _messages(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def _chat_completions(client: Any, text: str, is_async: bool) -> Any:
    return client.chat.completions.create(model="m", messages=_messages(text))


def _anthropic_call(client: Any, text: str, is_async: bool) -> Any:
    return client.messages.create(model="claude-m", max_tokens=8, messages=_messages(text))


def _cohere_call(client: Any, text: str, is_async: bool) -> Any:
    return client.chat(model="command-m", messages=_messages(text))


def _mistral_call(client: Any, text: str, is_async: bool) -> Any:
    chat = client.chat
    return (chat.complete_async if is_async else chat.complete)(model="mistral-m", messages=_messages(text))


SDKS = {
    "openai": Sdk("openai", _openai, _chat_completions, ("httpx", "httpx2")),
    "anthropic": Sdk("anthropic", _anthropic, _anthropic_call, ("httpx2",)),  # 2.x refuses httpx clients
    "groq": Sdk("groq", _groq, _chat_completions, ("httpx",)),
    "cohere": Sdk("cohere", _cohere, _cohere_call, ("httpx",)),
    "mistralai": Sdk("mistralai", _mistral, _mistral_call, ("httpx",)),
}


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def http_client(library: str, transport: Any, is_async: bool) -> Any:
    module = importlib.import_module(library)
    return (module.AsyncClient if is_async else module.Client)(transport=transport)


class Upstream:
    """What the local server received: each request body's text, in order."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def saw(self, text: str) -> int:
        """How many requests carried ``text`` (each case sends a text of its own)."""
        return sum(text in body for body in self.bodies)


def leaking_app(upstream: Upstream) -> Starlette:
    """Answers every request with a 200 JSON body; one whose body says "secret" gets a credential back."""

    async def any_request(request: Request) -> JSONResponse:
        text = (await request.body()).decode(errors="replace")
        upstream.bodies.append(text)
        body = {"id": "r1", "object": "chat.completion", "choices": [], "note": "fine"}
        if "secret" in text:
            body["note"] = LEAKED
        return JSONResponse(body)

    return Starlette(routes=[Route("/{path:path}", any_request, methods=["GET", "POST"])])


def cases() -> Iterator[tuple[str, str, bool]]:
    """(sdk, library, async) for every SDK and HTTP library it takes, sync and async."""
    for name, sdk in SDKS.items():
        for library in sdk.libraries:
            for is_async in (False, True):
                yield name, library, is_async


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
