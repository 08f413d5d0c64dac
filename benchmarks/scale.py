"""A cassette directory at test-suite scale: 10,000 recorded interactions.

The directory is recorded through httpx_cassette itself (record mode over an httpx.MockTransport that
answers like the API: mostly JSON completions, every tenth a 20-event stream). Then: a fresh
transport replaying one request (what the first request of a test costs), and one transport
replaying every interaction once (what a whole suite costs). vcrpy and cassetter are measured on
fewer interactions, both as one cassette per test and as one cassette holding them all.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from httpx_cassette import CassetteTransport

URL = "https://api.openai.com/v1/chat/completions"
HEADERS = [("content-type", "application/json"), ("authorization", "Bearer sk-bench-fake-key")]


def request_body(i: int) -> bytes:
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": f"Question {i}: what is {i} plus {i}?"},
        ],
        "stream": i % 10 == 0,
    }
    return json.dumps(body).encode()


def _answer(request: httpx.Request) -> httpx.Response:
    """The upstream: a completion echoing the question, streamed (20 events) when asked."""
    body = json.loads(request.content)
    text = f"The answer to {body['messages'][-1]['content']!r} is below."
    base = {"id": "chatcmpl-bench", "created": 1700000000, "model": "gpt-4o-mini"}
    if not body["stream"]:
        message = {"role": "assistant", "content": text, "refusal": None}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
        usage = {"prompt_tokens": 20, "completion_tokens": 12, "total_tokens": 32}
        completion = {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
        return httpx.Response(200, json=completion)
    events = []
    for n in range(20):
        delta = {"index": 0, "delta": {"content": f" word{n}"}, "logprobs": None, "finish_reason": None}
        events.append(
            b"data: " + json.dumps({**base, "object": "chat.completion.chunk", "choices": [delta]}).encode()
        )
    events.append(b"data: [DONE]")
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=b"\n\n".join(events) + b"\n\n"
    )


def _request(i: int) -> httpx.Request:
    return httpx.Request("POST", URL, headers=HEADERS, content=request_body(i))


def record_directory(path: Path, n: int) -> float:
    """Record ``n`` interactions into ``path``; returns the seconds it took."""
    transport = CassetteTransport(path, mode="record", inner=httpx.MockTransport(_answer))
    start = time.perf_counter()
    for i in range(n):
        response = transport.handle_request(_request(i))
        response.read()
        response.close()
    return time.perf_counter() - start


def _replay_one(transport: Any, request: httpx.Request) -> bytes:
    response = transport.handle_request(request)
    body: bytes = response.read()
    response.close()
    return body


def _parsed(body: bytes) -> Any:
    """JSON values of a body or of each event: replay writes compact JSON, the upstream may not."""
    if not body.startswith(b"data: "):
        return json.loads(body)
    return [e for e in body.split(b"\n\n") if e == b"data: [DONE]"] + [
        json.loads(e[6:]) for e in body.split(b"\n\n") if e and e != b"data: [DONE]"
    ]


@dataclass
class ScaleResult:
    n: int
    record_s: float
    first_ms: list[float] = field(default_factory=list)  # new transport + first replay, one per round
    all_s: list[float] = field(default_factory=list)  # every interaction once, one per round
    peers: dict[str, dict[str, float]] = field(default_factory=dict)  # peer -> measure -> seconds
    peer_n: int = 0


def measure_ours(path: Path, n: int, rounds: int) -> ScaleResult:
    result = ScaleResult(n, record_directory(path, n))
    expected = _replay_one(httpx.MockTransport(_answer), _request(n // 2))
    for r in range(rounds):
        # A request from somewhere in the directory, different each round (no cache helps: new transport).
        request = _request((n // 2 + r * 7919) % n)
        start = time.perf_counter()
        transport = CassetteTransport(path, mode="replay")
        _replay_one(transport, request)
        result.first_ms.append((time.perf_counter() - start) * 1000)
    if _parsed(_replay_one(CassetteTransport(path, mode="replay"), _request(n // 2))) != _parsed(expected):
        raise AssertionError("httpx_cassette replayed a different body at scale")
    for _ in range(rounds):
        todo = [_request(i) for i in range(n)]
        transport = CassetteTransport(path, mode="replay")
        start = time.perf_counter()
        for request in todo:
            _replay_one(transport, request)
        result.all_s.append(time.perf_counter() - start)
    return result


# ------------------------------------------------------------------------------------------- peers


def _vcrpy(file: Path, mode: str, body: bool) -> AbstractContextManager[Any]:
    import vcr  # type: ignore[import-untyped]

    match_on = ["method", "scheme", "host", "port", "path", "query", *(["body"] if body else [])]
    context: AbstractContextManager[Any] = vcr.VCR(record_mode=mode, match_on=match_on).use_cassette(
        str(file)
    )
    return context


def _cassetter(file: Path, mode: str, body: bool) -> AbstractContextManager[Any]:
    import cassetter

    match_on: list[Any] = ["method", "uri", *(["body"] if body else [])]
    return cassetter.use_cassette(file, record_mode=mode, match_on=match_on)


PEERS: dict[str, Callable[[Path, str, bool], AbstractContextManager[Any]]] = {
    "vcrpy": _vcrpy,
    "cassetter": _cassetter,
}


def _peer_record(context: AbstractContextManager[Any], indices: range) -> None:
    # Built inside the context: cassetter wraps non-default transports when a client is created.
    with context, httpx.Client(transport=httpx.MockTransport(_answer)) as client:
        for i in indices:
            client.send(_request(i)).read()


def _timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


PEER_SAMPLE = 100  # requests replayed from the one big cassette: each costs a scan of all n (vcrpy)


def measure_peer(name: str, root: Path, n: int) -> dict[str, float]:
    """Seconds to replay n one-interaction cassettes; to open one n-interaction cassette; and per request
    replayed from it (sampled on PEER_SAMPLE requests spread over it: a full pass is quadratic for vcrpy)."""
    use = PEERS[name]
    files = [root / name / f"test_{i}.yaml" for i in range(n)]
    for i, file in enumerate(files):
        _peer_record(use(file, "all", False), range(i, i + 1))
    one = root / name / "all.yaml"
    _peer_record(use(one, "all", True), range(n))
    real = httpx.HTTPTransport()
    todo = [_request(i) for i in range(n)]

    def per_test() -> None:
        for file, request in zip(files, todo, strict=True):
            with use(file, "none", False):
                _replay_one(real, request)

    sample = todo[:: max(1, n // PEER_SAMPLE)]

    def replay_sample() -> None:
        for request in sample:
            _replay_one(real, request)

    found = {"per_test_s": _timed(per_test)}
    context = use(one, "none", True)
    found["open_one_s"] = _timed(context.__enter__)
    try:
        found["one_each_s"] = _timed(replay_sample) / len(sample)
    finally:
        context.__exit__(None, None, None)
    return found


def summary(result: ScaleResult) -> dict[str, float]:
    return {"first_ms": statistics.median(result.first_ms), "all_s": statistics.median(result.all_s)}
