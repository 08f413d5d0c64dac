"""Record a call against a real local server, stop the server, replay the same call: the pieces every
endpoint test repeats. A call's outcome is its result or, when it raises, a comparable summary of the
exception (class, the SDK's error fields, and the HTTP library's exception underneath).

A round trip in which both the live and the replayed call raised fails, with the live exception as its
cause: two equal summaries of one bug (a call the SDK rejects before sending anything, a broken
server, a test calling the wrong thing) would otherwise compare equal and pass. A test that expects an
error wraps the failing call in `outcome` inside its call, and asserts on the summary it gets."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from httpx_cassette import CassetteTransport
from httpx_cassette.core.scan import SecretScanner
from httpx_cassette.core.secrets import any_secret_name
from httpx_cassette.core.strings import distinct
from tests.servers.runner import LiveServer

API_KEY = "sk-never-written"

# Fields SDK errors carry (openai, anthropic, groq): compared when present.
_ERROR_FIELDS = ("message", "status_code", "body", "request_id", "code", "param", "type", "api_message")


class Raised(dict[str, Any]):
    """The summary of an exception that escaped a round trip's call; compares as the dict, keeps the
    exception."""

    exception: BaseException | None = None


def raised(exc: BaseException) -> dict[str, Any]:
    """What a caller can observe about ``exc``: class, error fields, and its cause's class and text."""
    summary: dict[str, Any] = {"raised": f"{type(exc).__module__}.{type(exc).__qualname__}", "str": str(exc)}
    for name in _ERROR_FIELDS:
        if hasattr(exc, name):
            summary[name] = getattr(exc, name)
    cause = exc.__cause__
    # The HTTP library's exception is what replay promises; httpcore's underneath it is not observable API.
    if cause is not None and type(cause).__module__.split(".")[0] in ("httpx", "httpx2"):
        summary["cause"] = f"{type(cause).__module__}.{type(cause).__qualname__}: {cause}"
    return summary


def outcome(call: Callable[[], Any]) -> Any:
    """``call()``'s result, or the summary of what it raised: for a call expected to fail."""
    try:
        return call()
    except Exception as exc:
        return raised(exc)


async def outcome_async(call: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await call()
    except Exception as exc:
        return raised(exc)


def _escaped(exc: Exception) -> Raised:
    """An exception that escaped a round trip's call: summarized like `raised`, the exception kept."""
    summary = Raised(raised(exc))
    summary.exception = exc
    return summary


def _run(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as exc:
        return _escaped(exc)


async def _run_async(call: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await call()
    except Exception as exc:
        return _escaped(exc)


@dataclass
class Roundtrip:
    """The live outcome, the replayed one, and the two transports (for what they played/recorded)."""

    live: Any
    replayed: Any
    recorder: CassetteTransport
    replayer: CassetteTransport

    def __post_init__(self) -> None:
        if isinstance(self.live, Raised) and isinstance(self.replayed, Raised):
            raise AssertionError(
                f"both the live and the replayed call raised, so comparing them proves nothing: {self.live}"
            ) from self.live.exception

    def files(self) -> list[dict[str, Any]]:
        """The cassette's JSON files, parsed, by file name."""
        return [json.loads(f.read_text()) for f in sorted(self.recorder.cassette.path.glob("*.json"))]


def record_then_replay(
    path: Path, app: Any, call: Callable[[CassetteTransport, str], Any], **options: Any
) -> Roundtrip:
    """``call(transport, server_url)`` recorded against ``app`` served live, then replayed with it stopped."""
    with LiveServer(app) as server:
        recorder = CassetteTransport(path, mode="record", **options)
        live = _run(lambda: call(recorder, server.url))
        url = server.url
    replayer = CassetteTransport(path, mode="replay", **options)
    return Roundtrip(live, _run(lambda: call(replayer, url)), recorder, replayer)


async def record_then_replay_async(
    path: Path, app: Any, call: Callable[[CassetteTransport, str], Awaitable[Any]], **options: Any
) -> Roundtrip:
    """The async twin of `record_then_replay`."""
    with LiveServer(app) as server:
        recorder = CassetteTransport(path, mode="record", **options)
        live = await _run_async(lambda: call(recorder, server.url))
        url = server.url
    replayer = CassetteTransport(path, mode="replay", **options)
    return Roundtrip(live, await _run_async(lambda: call(replayer, url)), recorder, replayer)


def dump(objects: Any) -> Any:
    """pydantic models (or lists of them) as plain JSON data, for comparing."""
    if isinstance(objects, list):
        return [dump(o) for o in objects]
    # warnings=False: the SDKs' parsed subclasses (ParsedResponse...) make pydantic warn on every dump
    return objects.model_dump(mode="json", warnings=False) if hasattr(objects, "model_dump") else objects


_SCANNER = SecretScanner()


def innocent(value: Any) -> bool:
    """Generated traffic a recording keeps as it is: no secret name in it, nothing the scanner would
    refuse. (Hypothesis draws from the library's own string constants: "Secret" and "pwd" keys come up.)"""
    if isinstance(value, bytes):
        try:
            value = json.loads(value)
        except ValueError:
            value = value.decode("utf-8", "replace")
    return not any_secret_name(distinct(value).keys) and not _SCANNER.scan(value)
