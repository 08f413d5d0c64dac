"""What every replay contender replays: one live exchange per scenario, recorded by each of them.

Each scenario is one OpenAI chat completion call made through the SDK against the test suite's
server. httpx_cassette, vcrpy and cassetter each record it in their own format (all through the SDK
on an httpx client); the floor and respx get the live response's status, headers and bytes, prebuilt.
The exact request the SDK sent is kept too, for the transport-level scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai

from httpx_cassette import CassetteTransport

API_KEY = "sk-bench-fake-key"
# Per-connection headers: the floor's own Response sets content-length, the rest is the wire's business.
_HOP_HEADERS = {
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "date",
    "server",
}


@dataclass(frozen=True)
class Scenario:
    """One chat completion call: streamed with ``n_chunks`` content chunks, or not streamed."""

    name: str
    stream: bool
    n_chunks: int

    @property
    def slug(self) -> str:
        return self.name.replace(" ", "-")

    def sdk_kwargs(self) -> dict[str, Any]:
        return {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "Tell me a story about a cassette."}],
            "stream": self.stream,
            "metadata": {"n_chunks": str(self.n_chunks)},  # in the body, so every scenario has its own key
        }


SCENARIOS = (
    Scenario("stream 20", True, 20),
    Scenario("stream 200", True, 200),
    Scenario("stream 2000", True, 2000),
    Scenario("non-stream", False, 20),
)


@dataclass(frozen=True)
class Recorded:
    """One scenario's live exchange and where each contender stored it."""

    scenario: Scenario
    base_url: str  # the SDK's base URL when recording (vcrpy and cassetter match on it)
    url: str
    request_headers: list[tuple[str, str]]  # exactly what the SDK sent
    request_body: bytes
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    ours: Path  # an httpx_cassette directory
    vcrpy: Path  # a vcrpy YAML cassette
    cassetter: Path  # a cassetter YAML cassette

    @property
    def chunks(self) -> list[bytes]:
        """The body as one chunk per SSE event (what httpx_cassette serves), or one chunk."""
        if not self.scenario.stream:
            return [self.body]
        return [event + b"\n\n" for event in self.body.split(b"\n\n") if event]


def _sdk_call(http_client: Any, base_url: str, scenario: Scenario) -> None:  # openai types httpx2 only
    client = openai.OpenAI(base_url=base_url, api_key=API_KEY, max_retries=0, http_client=http_client)
    result: Any = client.chat.completions.create(**scenario.sdk_kwargs())
    if scenario.stream:
        for _ in result:
            pass
    http_client.close()


def record(base_url: str, root: Path, scenario: Scenario) -> Recorded:
    """Make the scenario's call live once per recorder, plus once raw for the prebuilt bytes."""
    import cassetter
    import vcr  # type: ignore[import-untyped]

    sent: list[httpx.Request] = []
    ours = root / "httpx_cassette" / scenario.slug
    with_hook = httpx.Client(
        transport=CassetteTransport(ours, mode="record"), event_hooks={"request": [sent.append]}
    )
    _sdk_call(with_hook, base_url, scenario)
    request = sent[0]

    vcrpy = root / "vcrpy" / f"{scenario.slug}.yaml"
    with vcr.VCR(record_mode="all").use_cassette(str(vcrpy)):
        _sdk_call(httpx.Client(), base_url, scenario)
    cassetter_file = root / "cassetter" / f"{scenario.slug}.yaml"
    with cassetter.use_cassette(cassetter_file, record_mode="all"):
        _sdk_call(httpx.Client(), base_url, scenario)

    with httpx.Client() as raw:
        live = raw.send(httpx.Request("POST", request.url, headers=request.headers, content=request.content))
    headers = [(k, v) for k, v in live.headers.multi_items() if k.lower() not in _HOP_HEADERS]
    return Recorded(
        scenario=scenario,
        base_url=base_url,
        url=str(request.url),
        request_headers=list(request.headers.multi_items()),
        request_body=request.content,
        status=live.status_code,
        headers=headers,
        body=live.content,
        ours=ours,
        vcrpy=vcrpy,
        cassetter=cassetter_file,
    )


def record_all(base_url: str, root: Path) -> dict[str, Recorded]:
    return {s.name: record(base_url, root, s) for s in SCENARIOS}
